import { signal } from "@preact/signals";
import { onSessionReset } from "./session";

export interface Toast {
  id: number;
  tone: "success" | "info" | "danger";
  text: string;
}

/** Short confirmations after an action ("Saved version 4"); each dismisses itself. */
export const toasts = signal<Toast[]>([]);

let next = 1;
const timers = new Map<number, ReturnType<typeof setTimeout>>();

export function dismissToast(id: number): void {
  const t = timers.get(id);
  if (t) clearTimeout(t);
  timers.delete(id);
  toasts.value = toasts.value.filter((x) => x.id !== id);
}

export function showToast(text: string, tone: Toast["tone"] = "success", ms = 6000): number {
  const id = next++;
  toasts.value = [...toasts.value.slice(-3), { id, tone, text }];
  timers.set(
    id,
    setTimeout(() => dismissToast(id), ms),
  );
  return id;
}

onSessionReset(() => {
  for (const id of timers.keys()) dismissToast(id);
  toasts.value = [];
});
