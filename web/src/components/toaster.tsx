import { dismissToast, toasts } from "../models/toasts";
import { IconCheck, IconX } from "./icons";

/** The stack of toasts, bottom right; announced politely to screen readers. */
export function Toaster() {
  return (
    <div class="toaster" role="status" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast toast-${t.tone}`} data-testid="toast">
          {t.tone === "success" && <IconCheck class="toast-icon" />}
          <span class="toast-text">{t.text}</span>
          <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <IconX />
          </button>
        </div>
      ))}
    </div>
  );
}
