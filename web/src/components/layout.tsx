import { useSignal } from "@preact/signals";
import type { ComponentChildren, JSX, SVGAttributes } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { planLabel, roleLabel } from "../format";
import { loadOpenAlertCount, openAlertCount } from "../models/alerts";
import { currentTenant, isOperator, isReadOnly, logout, user } from "../models/session";
import { Link, location } from "../router";
import {
  IconAlert,
  IconAudit,
  IconBot,
  IconBuilding,
  IconCard,
  IconChevronDown,
  IconGrid,
  IconKey,
  IconLock,
  IconMessages,
  IconNetwork,
  IconPuzzle,
  IconServer,
  IconShield,
  IconSliders,
  IconUser,
  IconUsers,
  IconWebhook,
  IconWorkflow,
} from "./icons";
import { Toaster } from "./toaster";
import { Badge } from "./ui";

interface NavItem {
  href: string;
  label: string;
  icon: (p: SVGAttributes<SVGSVGElement>) => JSX.Element;
  exact?: boolean;
  /** A count shown beside the label (e.g. open alerts); hidden when null or 0. */
  badge?: () => number | null;
}

const OPERATOR_NAV: NavItem[] = [
  { href: "/admin", label: "Overview", icon: IconGrid, exact: true },
  { href: "/admin/tenants", label: "Tenants", icon: IconBuilding },
  { href: "/admin/clusters", label: "Clusters", icon: IconServer },
  { href: "/admin/skills/review", label: "Skill review", icon: IconPuzzle },
  { href: "/admin/alerts", label: "Alerts", icon: IconAlert },
  { href: "/admin/audit", label: "Audit log", icon: IconAudit },
];

const TENANT_NAV: NavItem[] = [
  { href: "/agents", label: "Agents", icon: IconBot },
  { href: "/messages", label: "Messages", icon: IconMessages },
  { href: "/allowlist", label: "Allowlist", icon: IconNetwork },
  { href: "/workflows", label: "Workflows", icon: IconWorkflow },
  { href: "/skills", label: "Skills", icon: IconPuzzle, exact: true },
  { href: "/skills/private", label: "Private skills", icon: IconLock },
  { href: "/alerts", label: "Alerts", icon: IconAlert, badge: () => openAlertCount.value },
];

const TENANT_SETTINGS_NAV: NavItem[] = [
  { href: "/config", label: "Configuration", icon: IconSliders },
  { href: "/clusters", label: "Clusters", icon: IconServer },
  { href: "/team", label: "Team", icon: IconUsers },
  { href: "/billing", label: "Billing", icon: IconCard },
  { href: "/settings/api-keys", label: "API keys", icon: IconKey },
  { href: "/settings/webhooks", label: "Webhooks", icon: IconWebhook },
  { href: "/audit", label: "Audit log", icon: IconAudit },
];

const ACCOUNT_NAV: NavItem[] = [{ href: "/account", label: "Account", icon: IconUser }];

function NavLink({ item }: { item: NavItem }) {
  const path = location.value.path;
  const active = item.exact ? path === item.href : path === item.href || path.startsWith(`${item.href}/`);
  const Icon = item.icon;
  const badge = item.badge?.();
  return (
    <Link
      href={item.href}
      class={`nav-link${active ? " nav-link-active" : ""}`}
      aria-current={active ? "page" : undefined}
    >
      <Icon />
      <span>{item.label}</span>
      {badge ? (
        <span class="nav-count" data-testid={`nav-count-${item.label.toLowerCase()}`}>
          {badge}
          <span class="visually-hidden"> open</span>
        </span>
      ) : null}
    </Link>
  );
}

function Sidebar() {
  const tenantUser = user.value !== null && !isOperator.value;
  useEffect(() => {
    if (tenantUser) void loadOpenAlertCount();
  }, [tenantUser]);
  return (
    <aside class="sidebar">
      <div class="brand">
        <IconShield class="brand-mark" />
        <span class="brand-name">Aegis</span>
      </div>
      <nav aria-label="Main" class="nav">
        {isOperator.value ? (
          <div class="nav-group">
            <div class="nav-heading">Operator</div>
            {OPERATOR_NAV.map((i) => (
              <NavLink key={i.href} item={i} />
            ))}
          </div>
        ) : (
          <>
            <div class="nav-group">
              <div class="nav-heading">Workspace</div>
              {TENANT_NAV.map((i) => (
                <NavLink key={i.href} item={i} />
              ))}
            </div>
            <div class="nav-group">
              <div class="nav-heading">Settings</div>
              {TENANT_SETTINGS_NAV.map((i) => (
                <NavLink key={i.href} item={i} />
              ))}
            </div>
          </>
        )}
        <div class="nav-group">
          <div class="nav-heading">You</div>
          {ACCOUNT_NAV.map((i) => (
            <NavLink key={i.href} item={i} />
          ))}
        </div>
      </nav>
    </aside>
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? "?";
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

function UserMenu() {
  const open = useSignal(false);
  const loggingOut = useSignal(false);
  const ref = useRef<HTMLDivElement>(null);
  const u = user.value;

  useEffect(() => {
    if (!open.value) return;
    const onDoc = (e: MouseEvent) => {
      if (ref.current && e.target instanceof Node && !ref.current.contains(e.target)) open.value = false;
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") open.value = false;
    };
    document.addEventListener("mousedown", onDoc);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDoc);
      document.removeEventListener("keydown", onKey);
    };
  }, [open.value]);

  if (!u) return null;
  return (
    <div class="user-menu" ref={ref}>
      <button
        type="button"
        class="user-menu-trigger"
        aria-expanded={open.value}
        aria-controls="user-menu-panel"
        data-testid="user-menu"
        onClick={() => {
          open.value = !open.value;
        }}
      >
        <span class="avatar" aria-hidden="true">
          {initials(u.name || u.email)}
        </span>
        <span class="user-menu-name">{u.name || u.email}</span>
        <IconChevronDown />
      </button>
      {open.value && (
        <div class="user-menu-panel" id="user-menu-panel">
          <div class="user-menu-who">
            <div class="user-menu-fullname">{u.name}</div>
            <div class="muted small">{u.email}</div>
            <div class="small">{roleLabel(u.role)}</div>
          </div>
          <Link
            href="/account"
            class="user-menu-item"
            onClick={() => {
              open.value = false;
            }}
          >
            Change password
          </Link>
          <button
            type="button"
            class="user-menu-item"
            disabled={loggingOut.value}
            onClick={async () => {
              loggingOut.value = true;
              await logout();
            }}
          >
            {loggingOut.value ? "Logging out…" : "Log out"}
          </button>
        </div>
      )}
    </div>
  );
}

function Topbar() {
  const t = currentTenant.value;
  return (
    <header class="topbar">
      <div class="topbar-context">
        {isOperator.value ? (
          <>
            <span class="topbar-tenant" data-testid="tenant-name">
              Platform operations
            </span>
            <Badge tone="brand">Operator</Badge>
          </>
        ) : t ? (
          <>
            <span class="topbar-tenant" data-testid="tenant-name">
              {t.name}
            </span>
            <Badge tone="brand" data-testid="plan-badge">
              {planLabel(t.planTier)}
            </Badge>
            {t.status !== "active" && <Badge tone="warning">{t.status}</Badge>}
          </>
        ) : null}
        {isReadOnly.value && (
          <Badge
            tone="neutral"
            data-testid="read-only-badge"
            title="Members can view but not change anything"
          >
            Read-only
          </Badge>
        )}
      </div>
      <UserMenu />
    </header>
  );
}

export function AppShell({ children }: { children: ComponentChildren }) {
  return (
    <div class="shell">
      <a href="#main" class="skip-link">
        Skip to content
      </a>
      <Sidebar />
      <div class="shell-main">
        <Topbar />
        <main id="main" class="content" tabIndex={-1}>
          {children}
        </main>
      </div>
      <Toaster />
    </div>
  );
}
