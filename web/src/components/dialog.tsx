import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";
import { ErrorBanner } from "./ui";

/** A modal on the native <dialog>: focus is trapped, Escape cancels, the page behind is inert. */
export function Dialog({
  open,
  title,
  onClose,
  children,
  footer,
  testId,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  footer: ComponentChildren;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) el.showModal();
    if (!open && el.open) el.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open && (
        <div class="dialog-inner">
          <h2 id={titleId} class="dialog-title">
            {title}
          </h2>
          <div class="dialog-body">{children}</div>
          <div class="dialog-footer">{footer}</div>
        </div>
      )}
    </dialog>
  );
}

export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  busyLabel,
  danger,
  busy,
  error,
  onConfirm,
  onCancel,
  testId,
}: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busyLabel?: string;
  danger?: boolean;
  busy: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}) {
  return (
    <Dialog
      open={open}
      title={title}
      onClose={() => {
        if (!busy) onCancel();
      }}
      testId={testId}
      footer={
        <>
          <button type="button" class="btn" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            class={danger ? "btn btn-danger" : "btn btn-primary"}
            onClick={onConfirm}
            disabled={busy}
            aria-busy={busy}
          >
            {busy && <span class="spinner-ring spinner-inline" aria-hidden="true" />}
            {busy && busyLabel ? busyLabel : confirmLabel}
          </button>
        </>
      }
    >
      {children}
      <ErrorBanner error={error} />
    </Dialog>
  );
}
