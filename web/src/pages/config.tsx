import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { FieldErrors } from "../api";
import { ConfirmDialog } from "../components/dialog";
import { AgentName, actorLabel, ensureTeam, FeedIndicator, sentenceActor, When } from "../components/live";
import { SchemaForm } from "../components/schema-form";
import {
  Badge,
  Banner,
  BusyButton,
  Card,
  EmptyState,
  ErrorBanner,
  Loading,
  PageHeader,
} from "../components/ui";
import { relative } from "../format";
import { type DiffEntry, diff, formatValue, hasField, validate } from "../json-schema";
import { agentDirectory, loadAgentDirectory } from "../models/agents";
import {
  applyConfigEvent,
  config,
  configDirty,
  configSchema,
  configStatus,
  configVersion,
  configVersions,
  conflict,
  discardConfig,
  draft,
  editConfig,
  editorMode,
  jsonError,
  jsonText,
  lastSaved,
  loadConfig,
  rollbackConfig,
  saveConfig,
  saveError,
  saving,
  serverErrors,
  setJsonText,
  setMode,
  working,
} from "../models/config";
import { useFeed } from "../models/feed";
import { canWrite, user } from "../models/session";
import { useLeaveGuard } from "../router";

const STATUS_REFRESH_MS = 15_000;

function who(): string | null {
  const u = user.value;
  return u ? u.name || u.email : null;
}

export function ConfigPage() {
  useEffect(() => {
    void loadAgentDirectory();
    void loadConfig();
    ensureTeam();
    if (!configSchema.data.value) void configSchema.load();
    void configStatus.load();
    void configVersions.load();
    // Connections come and go without a feed event: refresh the list now and then.
    const t = setInterval(() => {
      if (document.visibilityState === "visible") void configStatus.load();
    }, STATUS_REFRESH_MS);
    return () => clearInterval(t);
  }, []);
  useFeed(applyConfigEvent);

  useLeaveGuard(configDirty);

  const saved = config.data.value;

  return (
    <>
      <PageHeader
        title="Configuration"
        subtitle="Settings every agent of this workspace runs with. Saving pushes them to running agents at once."
        actions={<FeedIndicator />}
      />
      {!saved && config.loading.value && <Loading label="Loading configuration…" />}
      {!saved && <ErrorBanner error={config.error.value} onRetry={() => void loadConfig()} />}
      {saved && (
        <div class="config-layout">
          <div class="config-main">
            <Editor />
          </div>
          <div class="config-side">
            <AppliedBy />
            <History />
          </div>
        </div>
      )}
    </>
  );
}

function Outcome() {
  const s = lastSaved.value;
  if (!s) return null;
  const pushed = s.pushedTo.length;
  const offline = s.pending.length;
  return (
    <Banner tone="success" data-testid="config-saved">
      <span>
        {s.rolledBackFrom !== undefined
          ? `Rolled back to v${s.rolledBackFrom} as version ${s.version}`
          : `Saved version ${s.version}`}
        : pushed to {pushed} {pushed === 1 ? "agent" : "agents"}
        {offline > 0 ? `, ${offline} offline will get it on connect` : ""}.
      </span>
    </Banner>
  );
}

function Editor() {
  const saved = config.data.value;
  const schema = configSchema.data.value;
  const writable = canWrite.value;
  const confirming = useSignal(false);
  const clientErrors = useSignal<FieldErrors>({});
  const modeError = useSignal<string | null>(null);
  const mode = editorMode.value;
  const value = working.value;
  const dirty = configDirty.value;

  // Re-validate as the user types, once they have tried to save (or when the server complained).
  useEffect(() => {
    if (schema && Object.keys(clientErrors.value).length) clientErrors.value = validate(schema, value);
  }, [value]);

  if (!saved) return null;
  const errors: FieldErrors = { ...serverErrors.value, ...clientErrors.value };
  const changes = diff(saved.config, value);
  const c = conflict.value;

  function review() {
    if (mode === "json" && jsonError.value) return;
    if (schema) {
      const errs = validate(schema, value);
      clientErrors.value = errs;
      if (Object.keys(errs).length) {
        const first = document.querySelector<HTMLElement>(
          ".field-invalid input, .field-invalid select, .field-invalid textarea",
        );
        first?.focus();
        return;
      }
    }
    confirming.value = true;
  }

  async function save() {
    const ok = await saveConfig(who());
    confirming.value = false;
    if (ok) clientErrors.value = {};
  }

  const errorList = Object.entries(errors);

  return (
    <>
      <div class="savebar" data-dirty={dirty ? "true" : undefined}>
        <div class="savebar-info">
          <Badge tone="brand" data-testid="config-version">
            Version {saved.version}
          </Badge>
          <span class="muted small">
            {saved.updatedBy ? `Saved by ${actorLabel(saved.updatedBy)}` : "Saved"}{" "}
            <When iso={saved.updatedAt} />
          </span>
        </div>
        <div class="savebar-actions">
          <button
            type="button"
            class="mode-toggle"
            data-testid="config-mode-toggle"
            data-mode={mode}
            aria-label={mode === "form" ? "Edit as JSON" : "Edit as form"}
            title={mode === "form" ? "Edit as JSON" : "Edit as form"}
            onClick={() => {
              modeError.value = setMode(mode === "form" ? "json" : "form")
                ? null
                : "Fix the JSON before switching to the form.";
            }}
          >
            <span class={`mode-toggle-item${mode === "form" ? " mode-toggle-on" : ""}`}>Form</span>
            <span class={`mode-toggle-item${mode === "json" ? " mode-toggle-on" : ""}`}>JSON</span>
          </button>
          {writable && (
            <>
              {dirty && (
                <span class="unsaved" role="status">
                  <span class="unsaved-dot" aria-hidden="true" />
                  {changes.length} unsaved {changes.length === 1 ? "change" : "changes"}
                </span>
              )}
              <button
                type="button"
                class="btn"
                disabled={draft.value === null || saving.value}
                onClick={() => {
                  discardConfig();
                  clientErrors.value = {};
                  modeError.value = null;
                }}
              >
                Discard
              </button>
              <BusyButton
                busy={saving}
                busyLabel="Saving…"
                disabled={!dirty || (mode === "json" && jsonError.value !== null)}
                onClick={review}
                data-testid="config-save"
              >
                Save…
              </BusyButton>
            </>
          )}
        </div>
      </div>

      <Outcome />
      {c && (
        <div class="banner banner-warning" role="alert" data-testid="config-conflict">
          <div class="banner-body">
            <strong>The configuration was changed while you were editing.</strong>
            <span>
              {c.updatedBy ? sentenceActor(c.updatedBy) : "Someone"} saved version{" "}
              {c.version ?? "a newer version"}
              {c.updatedAt ? ` ${relative(c.updatedAt)}` : ""}. Reload it to continue; your edits are
              discarded.
            </span>
          </div>
          <button
            type="button"
            class="btn btn-sm btn-primary"
            onClick={() => void loadConfig({ discard: true })}
          >
            Reload latest
          </button>
        </div>
      )}
      <ErrorBanner error={saveError.value} />
      <ErrorBanner error={modeError.value} />
      {!writable && (
        <Banner tone="info">
          You have read-only access: an admin of your team can change the configuration.
        </Banner>
      )}

      {mode === "form" ? (
        <Card>
          {!schema && configSchema.loading.value && <Loading label="Loading the form…" />}
          <ErrorBanner error={configSchema.error.value} onRetry={() => void configSchema.load()} />
          {schema && (
            <form
              data-testid="config-form"
              noValidate
              onSubmit={(e) => {
                e.preventDefault();
                if (writable && dirty) review();
              }}
            >
              {errorList.some(([k]) => !hasField(schema, k)) && (
                <ErrorList errors={errorList.filter(([k]) => !hasField(schema, k))} />
              )}
              <SchemaForm
                schema={schema}
                value={value}
                saved={saved.config}
                errors={errors}
                disabled={!writable}
                agents={agentDirectory.data.value ?? []}
                onChange={editConfig}
              />
            </form>
          )}
        </Card>
      ) : (
        <Card>
          <div class="field">
            <label for="config-json" class="field-label">
              Configuration (JSON)
            </label>
            {jsonError.value && (
              <p class="field-error" id="config-json-error" role="alert" data-testid="config-json-error">
                {jsonError.value}
              </p>
            )}
            {errorList.length > 0 && <ErrorList errors={errorList} />}
            <textarea
              id="config-json"
              class="input textarea json-editor"
              data-testid="config-json"
              spellcheck={false}
              autoCapitalize="off"
              readOnly={!writable}
              aria-invalid={jsonError.value !== null || errorList.length > 0}
              aria-describedby={jsonError.value ? "config-json-error" : undefined}
              rows={Math.min(40, Math.max(14, jsonText.value.split("\n").length + 1))}
              value={jsonText.value}
              onInput={(e) => setJsonText(e.currentTarget.value)}
              onKeyDown={(e) => {
                // Tab indents instead of leaving the editor; Escape then Tab leaves as usual.
                if (e.key !== "Tab" || e.shiftKey || !writable) return;
                e.preventDefault();
                const el = e.currentTarget;
                const { selectionStart: s, selectionEnd: t } = el;
                el.setRangeText("  ", s, t, "end");
                setJsonText(el.value);
              }}
            />
          </div>
        </Card>
      )}

      <ConfirmDialog
        open={confirming.value}
        title={`Save version ${saved.version + 1}?`}
        confirmLabel="Save and push"
        busyLabel="Saving…"
        busy={saving.value}
        error={saveError.value}
        onConfirm={() => void save()}
        onCancel={() => {
          confirming.value = false;
        }}
      >
        <p>
          {changes.length} {changes.length === 1 ? "setting changes" : "settings change"}. Running agents get
          the new version right away.
        </p>
        <DiffView entries={changes} testId="config-diff" />
      </ConfirmDialog>
    </>
  );
}

function ErrorList({ errors }: { errors: Array<[string, string[]]> }) {
  return (
    <ul class="error-list config-errors" data-testid="config-errors" role="alert">
      {errors.map(([k, v]) => (
        <li key={k}>
          <code>{k || "(configuration)"}</code>: {v.join(" ")}
        </li>
      ))}
    </ul>
  );
}

export function DiffView({ entries, testId }: { entries: DiffEntry[]; testId: string }) {
  if (!entries.length)
    return (
      <p class="muted" data-testid={testId}>
        No differences.
      </p>
    );
  return (
    <ul class="diff" data-testid={testId}>
      {entries.map((d) => (
        <li key={d.path} class={`diff-row diff-${d.kind}`} data-path={d.path}>
          <code class="diff-path">{d.path}</code>
          <span class="diff-values">
            <span class="diff-old">{formatValue(d.before, 80, d.path)}</span>
            <span class="diff-arrow" aria-hidden="true">
              →
            </span>
            <span class="visually-hidden"> becomes </span>
            <span class="diff-new">{formatValue(d.after, 80, d.path)}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

function AppliedBy() {
  const s = configStatus.data.value;
  const version = s?.version ?? config.data.value?.version ?? 0;
  const agents = s?.agents ?? [];
  const applied = agents.filter((a) => a.appliedVersion === version).length;

  return (
    <Card
      title="Applied by"
      class="card-flush"
      actions={
        s &&
        agents.length > 0 && (
          <span class="muted small">{`${applied} of ${agents.length} on v${version}`}</span>
        )
      }
    >
      <ErrorBanner error={configStatus.error.value} onRetry={() => void configStatus.load()} />
      {!s && configStatus.loading.value && <Loading />}
      {s && agents.length === 0 && (
        <EmptyState title="No agents yet">New agents start with the current version.</EmptyState>
      )}
      {agents.length > 0 && (
        <ul class="applied-list" data-testid="config-applied">
          {agents.map((a) => {
            const current = a.appliedVersion === version;
            const state = current ? "applied" : a.connected ? "applying" : "offline";
            return (
              <li
                key={a.agentId}
                class={`applied-row applied-${state}`}
                data-testid={`config-agent-${a.agentId}`}
                data-state={state}
                data-version={a.appliedVersion ?? ""}
              >
                <span
                  class={`conn-dot${a.connected ? " conn-dot-on" : ""}`}
                  title={a.connected ? "Connected" : "Offline"}
                />
                <span class="applied-name">
                  <AgentName id={a.agentId} />
                  <span class="muted small">
                    {a.connected ? "Connected" : "Offline"}
                    {a.appliedAt ? ` · applied ${relative(a.appliedAt)}` : ""}
                  </span>
                </span>
                {current ? (
                  <Badge tone="success">Applied v{version}</Badge>
                ) : a.connected ? (
                  <Badge tone="info">
                    <span class="spinner-ring spinner-xs" aria-hidden="true" />
                    Applying v{version}
                  </Badge>
                ) : (
                  <Badge tone="neutral" title="Gets the latest version when it connects">
                    {a.appliedVersion ? `On v${a.appliedVersion}` : "Pending"}
                  </Badge>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

function History() {
  const list = configVersions.data.value?.data;
  const current = config.data.value;
  const selected = useSignal<number | null>(null);
  const confirm = useSignal(false);
  const writable = canWrite.value;
  const detail = configVersion.data.value;
  const shown = detail && detail.version === selected.value ? detail : undefined;

  function pick(v: number) {
    if (selected.value === v) {
      selected.value = null;
      return;
    }
    selected.value = v;
    void configVersion.load(v);
  }

  async function rollback() {
    const v = selected.value;
    if (v === null) return;
    const ok = await rollbackConfig(v, who());
    confirm.value = false;
    if (ok) selected.value = null;
  }

  return (
    <Card title="History" class="card-flush">
      <ErrorBanner error={configVersions.error.value} onRetry={() => void configVersions.load()} />
      {!list && configVersions.loading.value && <Loading />}
      {list && list.length === 0 && <EmptyState title="No versions yet" />}
      {list && list.length > 0 && (
        <ol class="history" data-testid="config-history">
          {list.map((v) => {
            const isCurrent = v.version === current?.version;
            const open = selected.value === v.version;
            return (
              <li
                key={v.version}
                class={`history-item${open ? " history-open" : ""}`}
                data-testid={`config-history-${v.version}`}
              >
                <button
                  type="button"
                  class="history-btn"
                  aria-expanded={open}
                  onClick={() => pick(v.version)}
                >
                  <span class="history-version">v{v.version}</span>
                  <span class="history-meta">
                    <span>{v.updatedBy ? sentenceActor(v.updatedBy) : "System"}</span>
                    <When iso={v.updatedAt} />
                  </span>
                  {isCurrent && <Badge tone="success">Current</Badge>}
                </button>
                {open && (
                  <div class="history-detail">
                    {configVersion.loading.value && !shown && <Loading />}
                    <ErrorBanner error={configVersion.error.value} />
                    {shown && current && (
                      <>
                        <p class="small muted">
                          {isCurrent
                            ? "This is the current version."
                            : `Changes to go from the current v${current.version} back to v${shown.version}:`}
                        </p>
                        {!isCurrent && (
                          <DiffView
                            entries={diff(current.config, shown.config)}
                            testId="config-version-diff"
                          />
                        )}
                        {writable && !isCurrent && (
                          <button
                            type="button"
                            class="btn btn-sm"
                            onClick={() => {
                              confirm.value = true;
                            }}
                            data-testid="config-rollback"
                          >
                            Roll back to v{shown.version}
                          </button>
                        )}
                      </>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <ConfirmDialog
        open={confirm.value}
        title={`Roll back to v${selected.value ?? ""}?`}
        confirmLabel={`Roll back to v${selected.value ?? ""}`}
        busyLabel="Rolling back…"
        busy={saving.value}
        error={saveError.value}
        onConfirm={() => void rollback()}
        onCancel={() => {
          confirm.value = false;
        }}
      >
        <p>
          This saves a new version equal to v{selected.value} and pushes it to every running agent.
          {configDirty.value ? " Your unsaved edits are discarded." : ""}
        </p>
      </ConfirmDialog>
    </Card>
  );
}
