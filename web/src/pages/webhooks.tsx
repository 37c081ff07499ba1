import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { ConfirmDialog } from "../components/dialog";
import { TextField } from "../components/field";
import { SecretBox } from "../components/secret-box";
import {
  Badge,
  BusyButton,
  Card,
  EmptyState,
  ErrorBanner,
  PageHeader,
  SkeletonRows,
  StatusBadge,
  TableMessage,
  type Tone,
} from "../components/ui";
import { date, dateTime, humanize, relative } from "../format";
import { canWrite } from "../models/session";
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  sendTestEvent,
  WEBHOOK_EVENTS,
  type Webhook,
  type WebhookDelivery,
  type WebhookEvent,
  webhooks,
} from "../models/webhooks";

const DELIVERY_TONES: Record<string, Tone> = {
  pending: "info",
  succeeded: "success",
  failed: "warning",
  dead: "danger",
};

const EVENT_HINTS: Record<WebhookEvent, string> = {
  "alert.raised": "A new security alert",
  "alert.acknowledged": "Someone acknowledged an alert",
  "alert.resolved": "Someone resolved an alert",
  test: "Sent by “Send test”",
};

function DeliveryBadge({ status }: { status: string }) {
  return (
    <Badge tone={DELIVERY_TONES[status] ?? "neutral"} data-testid="delivery-status">
      <span class="badge-dot" aria-hidden="true" />
      {status === "failed" ? "Failed (retrying)" : humanize(status)}
    </Badge>
  );
}

/** `/settings/webhooks`: signed outbound webhooks for alert events. */
export function WebhooksPage() {
  useEffect(() => {
    void webhooks.load();
  }, []);
  return (
    <>
      <PageHeader
        title="Webhooks"
        subtitle="Aegis POSTs signed JSON to your endpoints when alerts are raised, acknowledged or resolved."
      />
      {canWrite.value && <CreateWebhook />}
      <WebhookList />
    </>
  );
}

function CreateWebhook() {
  const url = useSignal("");
  const events = useSignal<WebhookEvent[]>(["alert.raised"]);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});
  const created = useSignal<{ url: string; secret: string } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const u = url.value.trim();
    const next: FieldErrors = {};
    if (!u) next.url = ["Enter the URL to deliver to"];
    if (events.value.length === 0) next.events = ["Choose at least one event"];
    fields.value = next;
    error.value = null;
    if (Object.keys(next).length) return;
    busy.value = true;
    try {
      const ordered = WEBHOOK_EVENTS.filter((ev) => events.value.includes(ev));
      const res = await createWebhook(u, ordered);
      created.value = { url: res.webhook.url, secret: res.secret };
      url.value = "";
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      busy.value = false;
    }
  }

  return (
    <Card title="Add a webhook">
      {created.value && (
        <SecretBox
          label="Signing secret"
          value={created.value.secret}
          testId="webhook-secret"
          warning={`This is the only time the signing secret for ${created.value.url} is shown. Copy it into your receiver's configuration now.`}
        >
          <p class="small muted">
            Verify each delivery: the <code class="mono">X-Aegis-Signature</code> header reads{" "}
            <code class="mono">t=&lt;unix&gt;,v1=&lt;hex&gt;</code>, where the hex is the HMAC-SHA256 of{" "}
            <code class="mono">"&lt;t&gt;.&lt;raw body&gt;"</code> keyed with this secret. Compare in constant
            time and reject old timestamps to stop replays.
          </p>
        </SecretBox>
      )}
      <form class="form" onSubmit={submit} noValidate data-testid="webhook-form">
        <ErrorBanner error={error.value} />
        <TextField
          id="webhook-url"
          label="URL"
          value={url}
          error={fields.value.url}
          placeholder="https://example.com/hooks/aegis"
          autoComplete="off"
          spellcheck={false}
          hint="https only; private and loopback addresses are refused."
        />
        <fieldset class={`field webhook-events-field${fields.value.events ? " field-invalid" : ""}`}>
          <legend class="field-label">Events</legend>
          <div class="check-grid">
            {WEBHOOK_EVENTS.map((ev) => (
              <label key={ev} class="checkbox-field" title={EVENT_HINTS[ev]}>
                <input
                  type="checkbox"
                  value={ev}
                  checked={events.value.includes(ev)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    events.value = on ? [...events.value, ev] : events.value.filter((x) => x !== ev);
                  }}
                />
                <span class="mono">{ev}</span>
              </label>
            ))}
          </div>
          {fields.value.events && (
            <p class="field-error" data-testid="field-error-webhook-events">
              {fields.value.events.join(" ")}
            </p>
          )}
        </fieldset>
        <div class="form-actions">
          <BusyButton type="submit" busy={busy} busyLabel="Creating webhook…">
            Create webhook
          </BusyButton>
        </div>
      </form>
    </Card>
  );
}

function WebhookList() {
  const toDelete = useSignal<Webhook | null>(null);
  const deleting = useSignal(false);
  const deleteError = useSignal<string | null>(null);
  const hooks = webhooks.data.value?.data;
  const writable = canWrite.value;
  const cols = 7;

  async function remove() {
    const h = toDelete.value;
    if (!h) return;
    deleting.value = true;
    deleteError.value = null;
    try {
      await deleteWebhook(h.id);
      toDelete.value = null;
    } catch (e) {
      deleteError.value = errorMessage(e);
    } finally {
      deleting.value = false;
    }
  }

  return (
    <Card title="Webhooks" class="card-flush">
      <ErrorBanner error={webhooks.error.value} onRetry={() => void webhooks.load()} />
      <div class="table-wrap">
        <table class="table" data-testid="webhooks-table">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">Secret</th>
              <th scope="col">Last delivery</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {!hooks && webhooks.loading.value && <SkeletonRows cols={cols} rows={2} />}
            {hooks && hooks.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No webhooks yet">
                  {writable
                    ? "Add one above to receive alerts in your own systems."
                    : "An admin can add webhooks."}
                </EmptyState>
              </TableMessage>
            )}
            {hooks?.map((h) => (
              <WebhookRow
                key={h.id}
                hook={h}
                writable={writable}
                cols={cols}
                onDelete={() => {
                  deleteError.value = null;
                  toDelete.value = h;
                }}
              />
            ))}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={toDelete.value !== null}
        title="Delete this webhook?"
        confirmLabel="Delete webhook"
        busyLabel="Deleting…"
        danger
        busy={deleting.value}
        error={deleteError.value}
        onConfirm={() => void remove()}
        onCancel={() => {
          toDelete.value = null;
        }}
        testId="delete-webhook-dialog"
      >
        <p>
          <code class="mono">{toDelete.value?.url}</code> stops receiving events, including any deliveries
          still being retried. This cannot be undone.
        </p>
      </ConfirmDialog>
    </Card>
  );
}

function WebhookRow({
  hook: h,
  writable,
  cols,
  onDelete,
}: {
  hook: Webhook;
  writable: boolean;
  cols: number;
  onDelete: () => void;
}) {
  const open = useSignal(false);
  const testing = useSignal(false);
  const notice = useSignal<{ tone: "ok" | "error"; text: string } | null>(null);
  const reload = useSignal(0);
  const last = h.lastDelivery;

  async function test() {
    testing.value = true;
    notice.value = null;
    try {
      await sendTestEvent(h.id);
      notice.value = { tone: "ok", text: "Test event queued" };
      open.value = true;
      reload.value++;
      void webhooks.load();
    } catch (e) {
      notice.value = { tone: "error", text: errorMessage(e) };
    } finally {
      testing.value = false;
    }
  }

  return (
    <>
      <tr data-testid={`webhook-row-${h.id}`}>
        <td>
          <code class="mono">{h.url}</code>
        </td>
        <td>
          <div class="webhook-events">
            {h.events.map((ev) => (
              <Badge key={ev} tone="neutral">
                {ev}
              </Badge>
            ))}
          </div>
        </td>
        <td>
          <StatusBadge status={h.status} />
        </td>
        <td>
          <code class="mono">{h.secretPrefix}…</code>
        </td>
        <td>
          {last ? (
            <span title={dateTime(last.createdAt)}>
              <DeliveryBadge status={last.status} />{" "}
              <span class="muted small">
                {last.lastStatusCode !== null ? `HTTP ${last.lastStatusCode} · ` : ""}
                {relative(last.deliveredAt ?? last.createdAt)}
              </span>
            </span>
          ) : (
            <span class="muted">Never</span>
          )}
        </td>
        <td class="muted">{date(h.createdAt)}</td>
        <td class="cell-actions">
          <button
            type="button"
            class="btn btn-sm btn-ghost"
            aria-expanded={open.value}
            aria-controls={`webhook-deliveries-${h.id}`}
            onClick={() => {
              open.value = !open.value;
            }}
          >
            {open.value ? "Hide deliveries" : "Deliveries"}
          </button>
          {writable && (
            <>
              <button
                type="button"
                class="btn btn-sm"
                disabled={testing.value}
                aria-busy={testing.value}
                data-testid={`webhook-test-${h.id}`}
                onClick={() => void test()}
              >
                {testing.value ? "Sending…" : "Send test"}
              </button>
              <button
                type="button"
                class="btn btn-sm btn-danger-outline"
                data-testid={`webhook-delete-${h.id}`}
                aria-label={`Delete webhook ${h.url}`}
                onClick={onDelete}
              >
                Delete
              </button>
            </>
          )}
          {notice.value && (
            <div
              class={notice.value.tone === "error" ? "text-danger small" : "muted small"}
              role={notice.value.tone === "error" ? "alert" : "status"}
            >
              {notice.value.text}
            </div>
          )}
        </td>
      </tr>
      {open.value && (
        <tr>
          <td colSpan={cols}>
            <Deliveries id={h.id} reload={reload.value} />
          </td>
        </tr>
      )}
    </>
  );
}

function Deliveries({ id, reload }: { id: string; reload: number }) {
  const rows = useSignal<WebhookDelivery[] | null>(null);
  const error = useSignal<unknown>(null);
  const loading = useSignal(false);
  const tick = useSignal(0);

  useEffect(() => {
    const ctl = new AbortController();
    loading.value = true;
    error.value = null;
    listDeliveries(id, ctl.signal)
      .then((res) => {
        rows.value = res.data;
        // The table row's "last delivery" comes from the list; keep it in step with what we just read.
        const latest = res.data[0];
        const row = webhooks.data.value?.data.find((h) => h.id === id);
        if (
          latest &&
          row &&
          (row.lastDelivery?.id !== latest.id || row.lastDelivery?.status !== latest.status)
        )
          void webhooks.load();
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) error.value = e;
      })
      .finally(() => {
        if (!ctl.signal.aborted) loading.value = false;
      });
    return () => ctl.abort();
  }, [id, reload, tick.value]);

  const list = rows.value;
  return (
    <div class="webhook-deliveries" id={`webhook-deliveries-${id}`} data-testid={`webhook-deliveries-${id}`}>
      <div class="toolbar">
        <strong>Recent deliveries</strong>
        <button
          type="button"
          class="btn btn-sm btn-ghost"
          disabled={loading.value}
          onClick={() => {
            tick.value++;
          }}
        >
          {loading.value ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      <ErrorBanner error={error.value} onRetry={() => tick.value++} />
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">Last response</th>
            <th scope="col">Created</th>
            <th scope="col">Delivered / next attempt</th>
          </tr>
        </thead>
        <tbody>
          {!list && loading.value && <SkeletonRows cols={6} rows={2} />}
          {list && list.length === 0 && (
            <TableMessage cols={6}>
              <span class="muted">No deliveries yet.</span>
            </TableMessage>
          )}
          {list?.map((d) => (
            <tr key={d.id} data-testid={`delivery-${d.id}`}>
              <td>
                <code class="mono">{d.event}</code>
              </td>
              <td>
                <DeliveryBadge status={d.status} />
              </td>
              <td class="num">{d.attempts}</td>
              <td>
                {d.lastStatusCode !== null && <span class="mono">HTTP {d.lastStatusCode}</span>}
                {d.lastStatusCode !== null && d.lastError && " · "}
                {d.lastError && <span class="text-danger small">{d.lastError}</span>}
                {d.lastStatusCode === null && !d.lastError && <span class="muted">—</span>}
              </td>
              <td class="muted" title={dateTime(d.createdAt)}>
                {relative(d.createdAt)}
              </td>
              <td class="muted">
                {d.deliveredAt
                  ? dateTime(d.deliveredAt)
                  : d.nextAttemptAt
                    ? `Next ${dateTime(d.nextAttemptAt)}`
                    : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
