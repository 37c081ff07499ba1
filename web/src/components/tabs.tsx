import { Link, location } from "../router";

/** Sub-pages of one section as tabs; each is a real link, the current one marked for screen readers. */
export function TabLinks({
  tabs,
  label,
}: {
  tabs: ReadonlyArray<{ href: string; label: string }>;
  label: string;
}) {
  const path = location.value.path.replace(/\/+$/, "");
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map((t) => {
        const active = path === t.href;
        return (
          <Link
            key={t.href}
            href={t.href}
            class={`tab${active ? " tab-active" : ""}`}
            aria-current={active ? "page" : undefined}
          >
            {t.label}
          </Link>
        );
      })}
    </nav>
  );
}

export const MESSAGE_TABS = [
  { href: "/messages", label: "Timeline" },
  { href: "/messages/flow", label: "Flow" },
] as const;
