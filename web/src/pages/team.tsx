import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ApiError, errorMessage, type FieldErrors } from "../api";
import { ConfirmDialog } from "../components/dialog";
import { SelectField, TextField } from "../components/field";
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
} from "../components/ui";
import { date, ROLE_OPTIONS, relative, roleLabel } from "../format";
import { canWrite, user } from "../models/session";
import { changeMemberRole, inviteMember, removeMember, revokeInvite, team } from "../models/team";
import type { Member, MemberRole } from "../types";

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function TeamPage() {
  useEffect(() => {
    void team.load();
  }, []);
  const writable = canWrite.value;

  return (
    <>
      <PageHeader title="Team" subtitle="People who can sign in to this workspace." />
      <ErrorBanner error={team.error.value} onRetry={() => void team.load()} />
      <Members />
      {writable && <InviteForm />}
      <PendingInvites />
    </>
  );
}

function Members() {
  const busyId = useSignal<string | null>(null);
  const error = useSignal<string | null>(null);
  const toRemove = useSignal<Member | null>(null);
  const removing = useSignal(false);
  const removeError = useSignal<string | null>(null);
  const members = team.data.value?.members;
  const writable = canWrite.value;
  const me = user.value?.id;
  const cols = writable ? 6 : 5;

  async function setRole(m: Member, role: MemberRole) {
    if (role === m.role) return;
    busyId.value = m.id;
    error.value = null;
    try {
      await changeMemberRole(m.id, role);
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      busyId.value = null;
    }
  }

  async function remove() {
    const m = toRemove.value;
    if (!m) return;
    removing.value = true;
    removeError.value = null;
    try {
      await removeMember(m.id);
      toRemove.value = null;
    } catch (e) {
      removeError.value = errorMessage(e);
    } finally {
      removing.value = false;
    }
  }

  return (
    <Card title="Members" class="card-flush">
      <ErrorBanner error={error.value} />
      <div class="table-wrap">
        <table class="table" data-testid="members-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Last sign-in</th>
              {writable && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {!members && team.loading.value && <SkeletonRows cols={cols} rows={3} />}
            {members && members.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No members yet">Invite people below.</EmptyState>
              </TableMessage>
            )}
            {members?.map((m) => {
              const self = m.id === me;
              return (
                <tr key={m.id} data-testid={`member-${m.email}`}>
                  <td>
                    <span class="link-strong">{m.name || "—"}</span> {self && <Badge>You</Badge>}
                  </td>
                  <td>{m.email}</td>
                  <td>
                    {writable && !self ? (
                      <>
                        <label for={`role-${m.id}`} class="visually-hidden">
                          Role of {m.name || m.email}
                        </label>
                        <select
                          id={`role-${m.id}`}
                          class="input input-auto input-sm"
                          value={m.role}
                          disabled={busyId.value !== null}
                          onChange={(e) => {
                            const role = ROLE_OPTIONS.find((o) => o.value === e.currentTarget.value)?.value;
                            if (role) void setRole(m, role);
                          }}
                        >
                          {ROLE_OPTIONS.map((o) => (
                            <option key={o.value} value={o.value}>
                              {o.label}
                            </option>
                          ))}
                        </select>
                        {busyId.value === m.id && <span class="muted small"> Saving…</span>}
                      </>
                    ) : (
                      roleLabel(m.role)
                    )}
                  </td>
                  <td>
                    <StatusBadge status={m.status} />
                  </td>
                  <td class="muted">{relative(m.lastLoginAt)}</td>
                  {writable && (
                    <td class="cell-actions">
                      {!self && (
                        <button
                          type="button"
                          class="btn btn-sm btn-danger-outline"
                          onClick={() => {
                            removeError.value = null;
                            toRemove.value = m;
                          }}
                          aria-label={`Remove ${m.name || m.email}`}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={toRemove.value !== null}
        title={`Remove ${toRemove.value?.name || toRemove.value?.email || "member"}?`}
        confirmLabel="Remove member"
        busyLabel="Removing…"
        danger
        busy={removing.value}
        error={removeError.value}
        onConfirm={() => void remove()}
        onCancel={() => {
          toRemove.value = null;
        }}
      >
        <p>They lose access to this workspace.</p>
      </ConfirmDialog>
    </Card>
  );
}

function InviteForm() {
  const email = useSignal("");
  const name = useSignal("");
  const role = useSignal<MemberRole>("tenant_member");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fields = useSignal<FieldErrors>({});
  const sent = useSignal<{ email: string; url: string; expiresAt: string } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const errs: FieldErrors = {};
    if (!email.value.trim()) errs.email = ["Enter an email address"];
    else if (!EMAIL_RE.test(email.value.trim())) errs.email = ["Enter a valid email address"];
    fields.value = errs;
    error.value = null;
    if (Object.keys(errs).length) return;
    busy.value = true;
    try {
      const n = name.value.trim();
      const res = await inviteMember({
        email: email.value.trim(),
        ...(n ? { name: n } : {}),
        role: role.value,
      });
      sent.value = { email: res.invite.email, url: res.inviteUrl, expiresAt: res.invite.expiresAt };
      email.value = "";
      name.value = "";
    } catch (err) {
      error.value = errorMessage(err);
      if (err instanceof ApiError && err.details) fields.value = err.details;
    } finally {
      busy.value = false;
    }
  }

  return (
    <Card title="Invite someone">
      {sent.value && (
        <SecretBox
          label="Invite link"
          value={sent.value.url}
          testId="invite-url"
          warning={`Send this link to ${sent.value.email}. It is shown only once and expires ${date(sent.value.expiresAt)}.`}
        />
      )}
      <form class="form" onSubmit={submit} noValidate data-testid="invite-form">
        <ErrorBanner error={error.value} />
        <div class="form-row">
          <TextField
            id="invite-email"
            label="Email"
            type="email"
            value={email}
            error={fields.value.email}
            autoComplete="off"
          />
          <TextField
            id="invite-name"
            label="Name"
            value={name}
            error={fields.value.name}
            optional
            autoComplete="off"
          />
          <SelectField
            id="invite-role"
            label="Role"
            value={role}
            options={ROLE_OPTIONS}
            error={fields.value.role}
          />
        </div>
        <div class="form-actions">
          <BusyButton type="submit" busy={busy} busyLabel="Sending invite…">
            Send invite
          </BusyButton>
        </div>
      </form>
    </Card>
  );
}

function PendingInvites() {
  const revoking = useSignal<string | null>(null);
  const error = useSignal<string | null>(null);
  const invites = team.data.value?.invites;
  const writable = canWrite.value;
  const cols = writable ? 5 : 4;

  async function revoke(id: string) {
    revoking.value = id;
    error.value = null;
    try {
      await revokeInvite(id);
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      revoking.value = null;
    }
  }

  return (
    <Card title="Pending invites" class="card-flush">
      <ErrorBanner error={error.value} />
      <div class="table-wrap">
        <table class="table" data-testid="invites-table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Expires</th>
              {writable && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {!invites && team.loading.value && <SkeletonRows cols={cols} rows={2} />}
            {invites && invites.length === 0 && (
              <TableMessage cols={cols}>
                <EmptyState title="No pending invites" />
              </TableMessage>
            )}
            {invites?.map((i) => (
              <tr key={i.id} data-testid={`invite-${i.email}`}>
                <td>{i.email}</td>
                <td>{i.name || "—"}</td>
                <td>{roleLabel(i.role)}</td>
                <td class="muted">{date(i.expiresAt)}</td>
                {writable && (
                  <td class="cell-actions">
                    <BusyButton
                      class="btn btn-sm"
                      busy={revoking.value === i.id}
                      busyLabel="Revoking…"
                      disabled={revoking.value !== null}
                      onClick={() => void revoke(i.id)}
                      aria-label={`Revoke invite for ${i.email}`}
                    >
                      Revoke
                    </BusyButton>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
