/**
 * Secret-looking keys, matched on the key name with case, `_` and `-` removed, by its ending:
 * `accessToken`, `client_secret`, `X-Api-Key` are secrets; `inputTokens`, `passengers`, `sessionId` are not.
 */
const SECRET_KEY_ENDINGS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "authorization",
  "credential",
  "credentials",
  "privatekey",
  "cookie",
  "setcookie",
  "signature",
];
const SECRET_VALUE = [
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\b(?:aegis|agk|sk|pk|rk|rt|inv|whsec)_[A-Za-z0-9_]{12,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];
/** 13–19 digits, optionally grouped by single spaces or dashes; only Luhn-valid runs are card numbers. */
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;
const MAX_STRING = 1024;
const MAX_ARRAY = 100;
const MAX_DEPTH = 6;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[_-]/g, "");
  return SECRET_KEY_ENDINGS.some((e) => k.endsWith(e));
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function redactString(s: string): string {
  let out = s;
  for (const re of SECRET_VALUE) out = out.replace(re, "[REDACTED]");
  out = out.replace(CARD_CANDIDATE, (m) => (luhn(m.replace(/[ -]/g, "")) ? "[REDACTED]" : m));
  return out.length > MAX_STRING ? `${out.slice(0, MAX_STRING)}…[truncated ${out.length - MAX_STRING}]` : out;
}

/** Removes secrets by key name and by value pattern, and truncates long values, before anything is stored. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ARRAY).map((v) => redact(v, depth + 1));
    if (value.length > MAX_ARRAY) kept.push(`[+${value.length - MAX_ARRAY} more]`);
    return kept;
  }
  // fromEntries defines own properties, so a "__proto__" key stays data instead of becoming the prototype.
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, isSecretKey(k) ? "[REDACTED]" : redact(v, depth + 1)]),
  );
}
