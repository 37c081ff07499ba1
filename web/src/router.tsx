import { computed, type ReadonlySignal, signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

/** The current location; every navigation goes through `navigate` so the signal stays in step. */
export const location = signal({ path: window.location.pathname, search: window.location.search });

export const searchParams = computed(() => new URLSearchParams(location.value.search));

function sync() {
  location.value = { path: window.location.pathname, search: window.location.search };
}

window.addEventListener("popstate", sync);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const current = window.location.pathname + window.location.search;
  if (to === current) return;
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  sync();
  window.scrollTo(0, 0);
}

/** Matches "/agents/:id" against a path; returns the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.replace(/\/+$/, "").split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i] ?? "";
    const got = s[i] ?? "";
    if (want.startsWith(":")) params[want.slice(1)] = decodeURIComponent(got);
    else if (want !== got) return null;
  }
  return params;
}

interface LinkProps {
  href: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
  "aria-current"?: "page" | undefined;
  "data-testid"?: string;
  onClick?: (e: MouseEvent) => void;
}

/** An <a> that navigates client-side; modified clicks (new tab, …) keep the browser's behaviour. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  return (
    <a
      href={href}
      onClick={(e) => {
        onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    />
  );
}

/**
 * While `dirty` is true, leaving the tab (close, reload, another site) asks first. In-app navigation
 * keeps the page's draft, so it is not guarded.
 */
export function useLeaveGuard(dirty: ReadonlySignal<boolean>): void {
  useEffect(() => {
    const onUnload = (e: BeforeUnloadEvent) => {
      if (!dirty.value) return;
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onUnload);
    return () => window.removeEventListener("beforeunload", onUnload);
  }, [dirty]);
}
