import type { ComponentType, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ErrorBanner, Loading } from "./components/ui";

/**
 * A page whose code is fetched on first visit (its own chunk). While it loads, a spinner; if the
 * chunk cannot be fetched (offline, or a deploy replaced it), the error with a reload button.
 */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): (props: P) => JSX.Element {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;

  function start(): Promise<ComponentType<P>> {
    pending ??= load().then(
      (c) => {
        loaded = c;
        return c;
      },
      (e: unknown) => {
        pending = null;
        throw e;
      },
    );
    return pending;
  }

  return function LazyPage(props: P) {
    const [Comp, setComp] = useState<ComponentType<P> | null>(() => loaded);
    const [error, setError] = useState<unknown>(null);

    useEffect(() => {
      if (Comp) return;
      let live = true;
      start().then(
        (c) => {
          if (live) setComp(() => c);
        },
        (e: unknown) => {
          if (live) setError(e);
        },
      );
      return () => {
        live = false;
      };
    }, [Comp]);

    if (Comp) return <Comp {...props} />;
    if (error)
      return (
        <ErrorBanner
          title="This page could not be loaded"
          error="Check your connection. If Aegis was just updated, reloading fetches the new version."
          onRetry={() => window.location.reload()}
        />
      );
    return <Loading />;
  };
}
