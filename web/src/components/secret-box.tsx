import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { IconAlert, IconCheck, IconCopy } from "./icons";

/** Copies text to the clipboard; `copied` is true for two seconds after, `failed` when the browser refused. */
export function useClipboard() {
  const copied = useSignal(false);
  const failed = useSignal(false);
  async function copy(value: string) {
    try {
      await navigator.clipboard.writeText(value);
      copied.value = true;
      failed.value = false;
      setTimeout(() => {
        copied.value = false;
      }, 2000);
    } catch {
      failed.value = true;
    }
  }
  return { copied, failed, copy };
}

/** A secret shown exactly once: the value, a copy button and a warning that it will not come back. */
export function SecretBox({
  label,
  value,
  testId,
  warning = "Copy it now and store it somewhere safe. It will not be shown again.",
  children,
}: {
  label: string;
  value: string;
  testId: string;
  warning?: string;
  children?: ComponentChildren;
}) {
  const { copied, failed: copyFailed, copy } = useClipboard();

  return (
    <div class="secret">
      <div class="secret-label">{label}</div>
      <div class="secret-row">
        <code class="secret-value" data-testid={testId}>
          {value}
        </code>
        <button
          type="button"
          class="btn btn-sm"
          onClick={() => void copy(value)}
          aria-label={`Copy ${label.toLowerCase()}`}
        >
          {copied.value ? <IconCheck /> : <IconCopy />}
          {copied.value ? "Copied" : "Copy"}
        </button>
      </div>
      {copyFailed.value && (
        <p class="field-error">Copying is blocked here: select the text and copy it by hand.</p>
      )}
      <p class="secret-warning">
        <IconAlert />
        <span>{warning}</span>
      </p>
      {children}
    </div>
  );
}
