import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { ConfirmDialog } from "../components/dialog";
import { SelectField, TextField } from "../components/field";
import { SecretBox } from "../components/secret-box";
import {
  BusyButton,
  Card,
  EmptyState,
  ErrorBanner,
  PageHeader,
  SkeletonRows,
  StatusBadge,
  TableMessage,
} from "../components/ui";
import { date, ROLE_OPTIONS, relative, roleLabel } from "../format";
import { apiKeys, createApiKey, revokeApiKey } from "../models/api-keys";
import { canWrite } from "../models/session";
import type { ApiKey, MemberRole } from "../types";

export function ApiKeysPage() {
  useEffect(() => {
    void apiKeys.load();
  }, []);
  const writable = canWrite.value;

  return (
    <>
      <PageHeader
        title="API keys"
        subtitle="Keys let scripts and integrations act on this workspace with a role."
      />
      {writable && <CreateKey />}
      <KeyList />
    </>
  );
}

function CreateKey() {
  const name = useSignal("");
  const role = useSignal<MemberRole>("tenant_member");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});
  const created = useSignal<{ name: string; key: string } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const n = name.value.trim();
    fields.value = n ? {} : { name: ["Give the key a name"] };
    error.value = null;
    if (!n) return;
    busy.value = true;
    try {
      const res = await createApiKey(n, role.value);
      created.value = { name: res.apiKey.name, key: res.key };
      name.value = "";
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      busy.value = false;
    }
  }

  return (
    <Card title="Create a key">
      {created.value && (
        <SecretBox
          label="API key"
          value={created.value.key}
          testId="api-key-secret"
          warning={`This is the only time the key “${created.value.name}” is shown. Copy it into your secret store now.`}
        />
      )}
      <form class="form" onSubmit={submit} noValidate data-testid="api-key-form">
        <ErrorBanner error={error.value} />
        <div class="form-row">
          <TextField
            id="key-name"
            label="Key name"
            value={name}
            error={fields.value.name}
            autoComplete="off"
          />
          <SelectField
            id="key-role"
            label="Role"
            value={role}
            options={ROLE_OPTIONS}
            error={fields.value.role}
          />
        </div>
        <div class="form-actions">
          <BusyButton type="submit" busy={busy} busyLabel="Creating key…">
            Create key
          </BusyButton>
        </div>
      </form>
    </Card>
  );
}

function KeyList() {
  const toRevoke = useSignal<ApiKey | null>(null);
  const revoking = useSignal(false);
  const revokeError = useSignal<string | null>(null);
  const keys = apiKeys.data.value?.data;
  const writable = canWrite.value;
  const cols = writable ? 7 : 6;

  async function revoke() {
    const k = toRevoke.value;
    if (!k) return;
    revoking.value = true;
    revokeError.value = null;
    try {
      await revokeApiKey(k.id);
      toRevoke.value = null;
    } catch (e) {
      revokeError.value = errorMessage(e);
    } finally {
      revoking.value = false;
    }
  }

  return (
    <Card title="Keys" class="card-flush">
      <ErrorBanner error={apiKeys.error.value} onRetry={() => void apiKeys.load()} />
      <div class="table-wrap">
        <table class="table" data-testid="api-keys-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              {writable && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {!keys && apiKeys.loading.value && <SkeletonRows cols={cols} rows={2} />}
            {keys && keys.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No API keys yet">
                  {writable
                    ? "Create a key above to call the API from scripts."
                    : "An admin can create keys."}
                </EmptyState>
              </TableMessage>
            )}
            {keys?.map((k) => (
              <tr key={k.id} data-testid={`api-key-${k.name}`} class={k.revokedAt ? "row-muted" : undefined}>
                <td class="link-strong">{k.name}</td>
                <td>
                  <code class="mono">{k.prefix}…</code>
                </td>
                <td>{roleLabel(k.role)}</td>
                <td class="muted">{date(k.createdAt)}</td>
                <td class="muted">{relative(k.lastUsedAt)}</td>
                <td>
                  <StatusBadge status={k.revokedAt ? "revoked" : "active"} />
                </td>
                {writable && (
                  <td class="cell-actions">
                    {!k.revokedAt && (
                      <button
                        type="button"
                        class="btn btn-sm btn-danger-outline"
                        onClick={() => {
                          revokeError.value = null;
                          toRevoke.value = k;
                        }}
                        aria-label={`Revoke ${k.name}`}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={toRevoke.value !== null}
        title={`Revoke ${toRevoke.value?.name ?? "key"}?`}
        confirmLabel="Revoke key"
        busyLabel="Revoking…"
        danger
        busy={revoking.value}
        error={revokeError.value}
        onConfirm={() => void revoke()}
        onCancel={() => {
          toRevoke.value = null;
        }}
        testId="revoke-key-dialog"
      >
        <p>Anything using this key stops working immediately. This cannot be undone.</p>
      </ConfirmDialog>
    </Card>
  );
}
