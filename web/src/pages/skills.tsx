import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { IconSearch } from "../components/icons";
import { VisibilityBadge } from "../components/skill-badge";
import { EmptyState, ErrorBanner, Loading, PageHeader } from "../components/ui";
import { humanize } from "../format";
import { catalogue } from "../models/skills";
import { Link } from "../router";

export function SkillsPage() {
  const query = useSignal("");
  const category = useSignal("");

  useEffect(() => {
    void catalogue.load();
  }, []);

  const skills = catalogue.data.value?.data;
  const categories = [...new Set((skills ?? []).map((s) => s.category))].sort();
  const q = query.value.trim().toLowerCase();
  const shown = skills?.filter(
    (s) =>
      (!category.value || s.category === category.value) &&
      (!q || `${s.displayName} ${s.name} ${s.description}`.toLowerCase().includes(q)),
  );

  return (
    <>
      <PageHeader
        title="Skills"
        subtitle="Capabilities your agents can install, and what each one is allowed to do."
        actions={
          <Link href="/skills/private" class="btn">
            Private skills
          </Link>
        }
      />
      <div class="toolbar">
        <div class="search">
          <label for="skill-search" class="visually-hidden">
            Search skills
          </label>
          <IconSearch class="search-icon" />
          <input
            id="skill-search"
            type="search"
            class="input search-input"
            placeholder="Search skills"
            value={query}
            onInput={(e) => {
              query.value = e.currentTarget.value;
            }}
          />
        </div>
        <label for="skill-category" class="visually-hidden">
          Category
        </label>
        <select
          id="skill-category"
          class="input input-auto"
          value={category}
          onChange={(e) => {
            category.value = e.currentTarget.value;
          }}
        >
          <option value="">All categories</option>
          {categories.map((c) => (
            <option key={c} value={c}>
              {humanize(c)}
            </option>
          ))}
        </select>
      </div>
      <ErrorBanner error={catalogue.error.value} onRetry={() => void catalogue.load()} />
      {!skills && catalogue.loading.value && <Loading label="Loading skills…" />}
      {shown && shown.length === 0 && (
        <EmptyState title={skills?.length ? "No skills match your search" : "No skills available yet"}>
          {skills?.length
            ? "Try another word or category."
            : "Skills published to the catalogue will appear here."}
        </EmptyState>
      )}
      {shown && shown.length > 0 && (
        <div class="card-grid card-grid-3" data-testid="skill-catalogue">
          {shown.map((s) => (
            <article key={s.id} class="card skill-card" data-testid={`skill-card-${s.name}`}>
              <header class="skill-card-head">
                <h2 class="skill-card-title">{s.displayName}</h2>
                <VisibilityBadge skill={s} />
              </header>
              <div class="skill-card-meta muted small">
                <span>{humanize(s.category)}</span>
                <code class="mono">{s.name}</code>
                {s.latestVersion && <code class="mono">v{s.latestVersion}</code>}
              </div>
              <p class="skill-card-desc">{s.description}</p>
              <div>
                <h3 class="field-label">Permissions</h3>
                {s.permissions.length ? (
                  <ul class="permission-list">
                    {s.permissions.map((p) => (
                      <li key={p}>{p}</li>
                    ))}
                  </ul>
                ) : (
                  <p class="muted small">No special permissions</p>
                )}
              </div>
            </article>
          ))}
        </div>
      )}
    </>
  );
}
