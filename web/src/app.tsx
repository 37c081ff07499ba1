import type { JSX } from "preact";
import { useEffect } from "preact/hooks";
import { AppShell } from "./components/layout";
import { Loading } from "./components/ui";
import { lazyPage } from "./lazy";
import { homePath, isOperator, loadSession, sessionError, sessionStatus } from "./models/session";
import { AccountPage } from "./pages/account";
import { AdminDashboardPage } from "./pages/admin-dashboard";
import { AgentDetailPage } from "./pages/agent-detail";
import { AgentNewPage } from "./pages/agent-new";
import { AgentsPage } from "./pages/agents";
import { ApiKeysPage } from "./pages/api-keys";
import { InvitePage } from "./pages/invite";
import { LoginPage } from "./pages/login";
import { NotFoundPage } from "./pages/not-found";
import { SkillsPage } from "./pages/skills";
import { TeamPage } from "./pages/team";
import { TenantDetailPage } from "./pages/tenant-detail";
import { TenantNewPage } from "./pages/tenant-new";
import { TenantsPage } from "./pages/tenants";
import { location, matchPath, navigate } from "./router";

// The live pages load on first visit: the graph editor, the flow diagram and the schema form are
// the heaviest screens and most sessions never open them.
const MessagesPage = lazyPage(() => import("./pages/messages").then((m) => m.MessagesPage));
const MessageFlowPage = lazyPage(() => import("./pages/message-flow").then((m) => m.MessageFlowPage));
const MessageDetailPage = lazyPage(() => import("./pages/message-detail").then((m) => m.MessageDetailPage));
const AllowlistPage = lazyPage(() => import("./pages/allowlist").then((m) => m.AllowlistPage));
const WorkflowsPage = lazyPage(() => import("./pages/workflows").then((m) => m.WorkflowsPage));
const WorkflowRunPage = lazyPage(() => import("./pages/workflow-run").then((m) => m.WorkflowRunPage));
const ConfigPage = lazyPage(() => import("./pages/config").then((m) => m.ConfigPage));
const AuditPage = lazyPage(() => import("./pages/audit").then((m) => m.AuditPage));
const AdminAuditPage = lazyPage(() => import("./pages/audit").then((m) => m.AdminAuditPage));
const AlertsPage = lazyPage(() => import("./pages/alerts").then((m) => m.AlertsPage));
const AdminAlertsPage = lazyPage(() => import("./pages/alerts").then((m) => m.AdminAlertsPage));
const WebhooksPage = lazyPage(() => import("./pages/webhooks").then((m) => m.WebhooksPage));
const BillingPage = lazyPage(() => import("./pages/billing").then((m) => m.BillingPage));
const PrivateSkillsPage = lazyPage(() => import("./pages/private-skills").then((m) => m.PrivateSkillsPage));
const SkillReviewPage = lazyPage(() => import("./pages/skill-review").then((m) => m.SkillReviewPage));
const SkillReviewItemPage = lazyPage(() => import("./pages/skill-review").then((m) => m.SkillReviewItemPage));
const ClustersPage = lazyPage(() => import("./pages/clusters").then((m) => m.ClustersPage));
const AdminClustersPage = lazyPage(() => import("./pages/clusters").then((m) => m.AdminClustersPage));

type Access = "public" | "operator" | "tenant" | "user";

interface RouteDef {
  pattern: string;
  access: Access;
  title: string;
  render: (params: Record<string, string>) => JSX.Element;
}

/** Order matters: literal segments ("new") before parameters (":id"). */
const ROUTES: RouteDef[] = [
  { pattern: "/login", access: "public", title: "Log in", render: () => <LoginPage /> },
  { pattern: "/invite", access: "public", title: "Accept invitation", render: () => <InvitePage /> },
  { pattern: "/admin", access: "operator", title: "Overview", render: () => <AdminDashboardPage /> },
  { pattern: "/admin/tenants", access: "operator", title: "Tenants", render: () => <TenantsPage /> },
  { pattern: "/admin/tenants/new", access: "operator", title: "New tenant", render: () => <TenantNewPage /> },
  {
    pattern: "/admin/tenants/:id",
    access: "operator",
    title: "Tenant",
    render: (p) => <TenantDetailPage key={p.id} id={p.id ?? ""} />,
  },
  {
    pattern: "/admin/clusters",
    access: "operator",
    title: "Clusters",
    render: () => <AdminClustersPage />,
  },
  { pattern: "/admin/audit", access: "operator", title: "Audit log", render: () => <AdminAuditPage /> },
  { pattern: "/admin/alerts", access: "operator", title: "Alerts", render: () => <AdminAlertsPage /> },
  {
    pattern: "/admin/skills/review",
    access: "operator",
    title: "Skill review",
    render: () => <SkillReviewPage />,
  },
  {
    pattern: "/admin/skills/review/:id",
    access: "operator",
    title: "Skill review",
    render: (p) => <SkillReviewItemPage key={p.id} id={p.id ?? ""} />,
  },
  { pattern: "/agents", access: "tenant", title: "Agents", render: () => <AgentsPage /> },
  { pattern: "/agents/new", access: "tenant", title: "New agent", render: () => <AgentNewPage /> },
  {
    pattern: "/agents/:id",
    access: "tenant",
    title: "Agent",
    render: (p) => <AgentDetailPage key={p.id} id={p.id ?? ""} />,
  },
  { pattern: "/messages", access: "tenant", title: "Messages", render: () => <MessagesPage /> },
  { pattern: "/messages/flow", access: "tenant", title: "Message flow", render: () => <MessageFlowPage /> },
  {
    pattern: "/messages/:id",
    access: "tenant",
    title: "Message",
    render: (p) => <MessageDetailPage key={p.id} id={p.id ?? ""} />,
  },
  { pattern: "/allowlist", access: "tenant", title: "Allowlist", render: () => <AllowlistPage /> },
  { pattern: "/workflows", access: "tenant", title: "Workflows", render: () => <WorkflowsPage /> },
  {
    pattern: "/workflows/runs/:id",
    access: "tenant",
    title: "Workflow run",
    render: (p) => <WorkflowRunPage key={p.id} id={p.id ?? ""} />,
  },
  { pattern: "/config", access: "tenant", title: "Configuration", render: () => <ConfigPage /> },
  { pattern: "/skills", access: "tenant", title: "Skills", render: () => <SkillsPage /> },
  {
    pattern: "/skills/private",
    access: "tenant",
    title: "Private skills",
    render: () => <PrivateSkillsPage />,
  },
  { pattern: "/clusters", access: "tenant", title: "Clusters", render: () => <ClustersPage /> },
  { pattern: "/team", access: "tenant", title: "Team", render: () => <TeamPage /> },
  { pattern: "/billing", access: "tenant", title: "Billing", render: () => <BillingPage /> },
  { pattern: "/settings/api-keys", access: "tenant", title: "API keys", render: () => <ApiKeysPage /> },
  { pattern: "/settings/webhooks", access: "tenant", title: "Webhooks", render: () => <WebhooksPage /> },
  { pattern: "/alerts", access: "tenant", title: "Alerts", render: () => <AlertsPage /> },
  { pattern: "/audit", access: "tenant", title: "Audit log", render: () => <AuditPage /> },
  { pattern: "/account", access: "user", title: "Account", render: () => <AccountPage /> },
];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function FullPage({ children }: { children: JSX.Element }) {
  return <div class="fullpage">{children}</div>;
}

export function App() {
  useEffect(() => {
    void loadSession();
  }, []);

  const { path, search } = location.value;
  const status = sessionStatus.value;
  const match = ROUTES.map((r) => ({ r, params: matchPath(r.pattern, path) })).find((m) => m.params !== null);

  useEffect(() => {
    document.title = match ? `${match.r.title} · Aegis` : "Aegis";
  }, [match?.r.title]);

  if (status === "unknown") {
    return (
      <FullPage>
        <Loading label="Loading Aegis…" />
      </FullPage>
    );
  }

  if (status === "error") {
    return (
      <FullPage>
        <div class="auth-card">
          <h1 class="auth-title">Aegis is unreachable</h1>
          <p class="muted">{sessionError.value}</p>
          <button type="button" class="btn btn-primary" onClick={() => void loadSession()}>
            Try again
          </button>
        </div>
      </FullPage>
    );
  }

  const authed = status === "authenticated";

  if (match?.r.access === "public") {
    if (authed && match.r.pattern === "/login") return <Redirect to={safeNext(search) ?? homePath()} />;
    return match.r.render(match.params ?? {});
  }

  if (!authed) {
    const next = path === "/" ? "" : `?next=${encodeURIComponent(path + search)}`;
    return <Redirect to={`/login${next}`} />;
  }

  if (path === "/" || path === "") return <Redirect to={homePath()} />;
  if (!match) {
    return (
      <AppShell>
        <NotFoundPage />
      </AppShell>
    );
  }
  if (match.r.access === "operator" && !isOperator.value) return <Redirect to={homePath()} />;
  if (match.r.access === "tenant" && isOperator.value) return <Redirect to={homePath()} />;

  return <AppShell>{match.r.render(match.params ?? {})}</AppShell>;
}

/** Only same-app paths are honoured as ?next=, never another origin. */
export function safeNext(search: string): string | null {
  const next = new URLSearchParams(search).get("next");
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/login")) return null;
  return next;
}
