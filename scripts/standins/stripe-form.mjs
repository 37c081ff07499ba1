// Stripe's request bodies and query strings: `application/x-www-form-urlencoded` with bracket
// notation for nesting (`metadata[tenantId]=t_1`, `items[0][price]=price_1`, `lookup_keys[]=a`).
// Pure (no Node APIs), so the workerd tests can import it too.

const UNSAFE_KEYS = new Set(["__proto__", "prototype", "constructor"]);
const INDEX = /^(0|[1-9]\d{0,5})$/;

/** `a[b][0][c]` → ["a", "b", "0", "c"]; `a[]` → ["a", ""]; null when the key is malformed. */
export function splitKey(key) {
  const open = key.indexOf("[");
  if (open === -1) return key ? [key] : null;
  const head = key.slice(0, open);
  if (!head) return null;
  const parts = [head];
  let rest = key.slice(open);
  while (rest.length) {
    const m = /^\[([^[\]]*)\]/.exec(rest);
    if (!m) return null;
    parts.push(m[1]);
    rest = rest.slice(m[0].length);
  }
  return parts;
}

/** Objects whose keys are all array indexes become arrays, in index order (holes dropped). */
function arrayify(value) {
  if (!value || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(arrayify);
  const keys = Object.keys(value);
  for (const k of keys) value[k] = arrayify(value[k]);
  if (keys.length && keys.every((k) => INDEX.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => value[String(i)]);
  }
  return value;
}

/**
 * Parses a form body (or a query string without `?`) into nested plain objects and arrays.
 * Every leaf is a string, as Stripe receives it. A later value for the same key wins; `key[]`
 * appends. Keys that could reach an object's prototype are ignored.
 * @param {string | URLSearchParams} input
 * @returns {Record<string, unknown>}
 */
export function parseForm(input) {
  const params = typeof input === "string" ? new URLSearchParams(input) : input;
  const root = {};
  for (const [rawKey, value] of params) {
    const parts = splitKey(rawKey);
    if (!parts || parts.some((p) => UNSAFE_KEYS.has(p))) continue;
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      let part = parts[i];
      if (part === "") {
        // `key[]`: the next free index of this container.
        part = String(Object.keys(node).filter((k) => INDEX.test(k)).length);
      }
      if (last) {
        node[part] = value;
      } else {
        const next = node[part];
        if (!next || typeof next !== "object") node[part] = {};
        node = node[part];
      }
    }
  }
  return arrayify(root);
}
