import type { SkillKv } from "./context";

/** A `SkillKv` kept in a Map: for tests, local runs, and hosts whose storage is per-invocation. */
export function createMemoryKv(initial: Iterable<readonly [string, string]> = []): SkillKv & {
  readonly entries: ReadonlyMap<string, string>;
} {
  const entries = new Map<string, string>(initial);
  return {
    entries,
    async get(key) {
      return entries.get(key) ?? null;
    },
    async put(key, value) {
      entries.set(key, value);
    },
    async delete(key) {
      entries.delete(key);
    },
    async list(prefix = "") {
      return [...entries.keys()].filter((key) => key.startsWith(prefix)).sort();
    },
  };
}
