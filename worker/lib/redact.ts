const SECRET_KEY =
  /pass(word)?|secret|token|authorization|api[-_]?key|credential|private[-_]?key|cookie|session/i;
const SECRET_VALUE = [
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\b(aegis|agk|sk|pk|rk|whsec)_[A-Za-z0-9_]{12,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(?:\d[ -]?){13,19}\b/g,
];
const MAX_STRING = 1024;
const MAX_DEPTH = 6;

function redactString(s: string): string {
  let out = s;
  for (const re of SECRET_VALUE) out = out.replace(re, "[REDACTED]");
  return out.length > MAX_STRING ? `${out.slice(0, MAX_STRING)}…[truncated ${out.length - MAX_STRING}]` : out;
}

/** Removes secrets by key name and by value pattern, and truncates long values, before anything is stored. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? "[REDACTED]" : redact(v, depth + 1);
  }
  return out;
}
