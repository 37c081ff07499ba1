import { useSignal } from "@preact/signals";
import type { JSX } from "preact";
import { IconCheck, IconCopy } from "./icons";

const TOKEN =
  /("(?:\\u[a-fA-F0-9]{4}|\\[^u]|[^\\"])*"(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** Pretty JSON with keys, strings, numbers and literals coloured; plain text for screen readers. */
export function JsonView({ value, testId }: { value: unknown; testId?: string }) {
  const text = value === undefined ? "undefined" : JSON.stringify(value, null, 2);
  const parts: Array<string | JSX.Element> = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(TOKEN)) {
    const start = m.index ?? 0;
    if (start > last) parts.push(text.slice(last, start));
    const tok = m[0];
    const cls = tok.startsWith('"')
      ? m[2]
        ? "json-key"
        : "json-string"
      : tok === "true" || tok === "false"
        ? "json-bool"
        : tok === "null"
          ? "json-null"
          : "json-number";
    parts.push(
      <span key={i++} class={cls}>
        {tok}
      </span>,
    );
    last = start + tok.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (
    <pre class="json" data-testid={testId}>
      <code>{parts}</code>
    </pre>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const copied = useSignal(false);
  const failed = useSignal(false);
  return (
    <button
      type="button"
      class="btn btn-sm"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          copied.value = true;
          failed.value = false;
          setTimeout(() => {
            copied.value = false;
          }, 1500);
        } catch {
          failed.value = true;
        }
      }}
    >
      {copied.value ? <IconCheck /> : <IconCopy />}
      {copied.value ? "Copied" : failed.value ? "Copy failed" : label}
    </button>
  );
}
