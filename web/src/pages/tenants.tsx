import { useEffect, useRef } from "preact/hooks";
import { IconSearch } from "../components/icons";
import {
  Badge,
  EmptyState,
  ErrorBanner,
  PageHeader,
  Pagination,
  SkeletonRows,
  StatusBadge,
  TableMessage,
} from "../components/ui";
import { date, planLabel } from "../format";
import { loadTenants, tenantList, tenantPage, tenantQuery } from "../models/tenants";
import { Link, navigate } from "../router";

const COLS = 5;

export function TenantsPage() {
  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    void loadTenants();
    return () => {
      if (debounce.current) clearTimeout(debounce.current);
    };
  }, []);

  const page = tenantList.data.value;
  const rows = page?.data ?? [];
  const q = tenantQuery.value.trim();
  const newTenant = (
    <button type="button" class="btn btn-primary" onClick={() => navigate("/admin/tenants/new")}>
      New tenant
    </button>
  );

  return (
    <>
      <PageHeader title="Tenants" subtitle="Companies running agents on Aegis." actions={newTenant} />
      <div class="toolbar">
        <div class="search">
          <label for="tenant-search" class="visually-hidden">
            Search tenants
          </label>
          <IconSearch class="search-icon" />
          <input
            id="tenant-search"
            type="search"
            class="input search-input"
            placeholder="Search by name or slug"
            value={tenantQuery}
            onInput={(e) => {
              tenantQuery.value = e.currentTarget.value;
              tenantPage.value = 1;
              if (debounce.current) clearTimeout(debounce.current);
              debounce.current = setTimeout(() => void loadTenants(), 250);
            }}
          />
        </div>
        {tenantList.loading.value && page && <span class="muted small">Updating…</span>}
      </div>
      <ErrorBanner error={tenantList.error.value} onRetry={() => void loadTenants()} />
      <div class="table-wrap card card-flush">
        <table class="table" data-testid="tenants-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">Plan</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {!page && tenantList.loading.value && <SkeletonRows cols={COLS} />}
            {page && rows.length === 0 && (
              <TableMessage cols={COLS}>
                {q ? (
                  <EmptyState title={`No tenants match “${q}”`}>Try another name or slug.</EmptyState>
                ) : (
                  <EmptyState title="No tenants yet" action={newTenant}>
                    Provision the first company to get started.
                  </EmptyState>
                )}
              </TableMessage>
            )}
            {rows.map((t) => (
              <tr key={t.id} data-testid={`tenant-row-${t.slug}`}>
                <td>
                  <Link href={`/admin/tenants/${t.id}`} class="link-strong">
                    {t.name}
                  </Link>
                </td>
                <td>
                  <code class="mono">{t.slug}</code>
                </td>
                <td>
                  <Badge tone="brand">{planLabel(t.planTier)}</Badge>
                </td>
                <td>
                  <StatusBadge status={t.status} />
                </td>
                <td class="muted">{date(t.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page && (
        <Pagination
          page={page.meta.page}
          totalPages={page.meta.totalPages}
          total={page.meta.total}
          noun={page.meta.total === 1 ? "tenant" : "tenants"}
          onPage={(n) => {
            tenantPage.value = n;
            void loadTenants();
          }}
        />
      )}
    </>
  );
}
