import { type ReadonlySignal, signal } from "@preact/signals";

/** An async value as signals: the latest load wins, earlier in-flight loads are aborted and ignored. */
export interface Resource<T, A extends unknown[] = []> {
  readonly data: ReadonlySignal<T | undefined>;
  readonly error: ReadonlySignal<unknown>;
  readonly loading: ReadonlySignal<boolean>;
  /** Fetches again; keeps the current data visible while loading (no flash of skeleton). */
  load(...args: A): Promise<void>;
  /** Replaces the data locally, after a mutation answered with the new value. */
  set(value: T | undefined): void;
  reset(): void;
}

export function resource<T, A extends unknown[] = []>(
  fetcher: (signal: AbortSignal, ...args: A) => Promise<T>,
): Resource<T, A> {
  const data = signal<T | undefined>(undefined);
  const error = signal<unknown>(null);
  const loading = signal(false);
  let controller: AbortController | null = null;

  return {
    data,
    error,
    loading,
    async load(...args: A) {
      controller?.abort();
      const mine = new AbortController();
      controller = mine;
      loading.value = true;
      error.value = null;
      try {
        const value = await fetcher(mine.signal, ...args);
        if (controller === mine) data.value = value;
      } catch (e) {
        if (controller === mine && !mine.signal.aborted) error.value = e;
      } finally {
        if (controller === mine) {
          loading.value = false;
          controller = null;
        }
      }
    },
    set(value) {
      data.value = value;
    },
    reset() {
      controller?.abort();
      controller = null;
      data.value = undefined;
      error.value = null;
      loading.value = false;
    },
  };
}
