/** `a[b][0][c]` → ["a", "b", "0", "c"]; `a[]` → ["a", ""]; null when the key is malformed. */
export function splitKey(key: string): string[] | null;

/**
 * Parses a form body (or a query string without `?`) with Stripe's bracket notation into nested
 * objects and arrays; every leaf is a string.
 */
export function parseForm(input: string | URLSearchParams): Record<string, unknown>;
