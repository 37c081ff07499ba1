import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import type { FieldErrors } from "../api";
import { humanize } from "../format";
import {
  deepEqual,
  getAt,
  isPlainObject,
  type JsonSchema,
  labelFor,
  type Path,
  pathKey,
  resolve,
  schemaType,
  setAt,
} from "../json-schema";
import { IconPlus, IconX } from "./icons";

export interface AgentChoice {
  id: string;
  name: string;
}

interface Ctx {
  root: JsonSchema;
  value: unknown;
  saved: unknown;
  errors: FieldErrors;
  disabled: boolean;
  /** Offered for settings that name agents (`leadAgentId`, `participantIds`). */
  agents: readonly AgentChoice[];
  onChange: (next: unknown) => void;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const TIME_PATTERN = /\[0-5\]\\d\$$/;

const isAgentIdField = (name: string) => /agentid$/i.test(name);
const isAgentIdsField = (name: string) => /(agent|participant)ids$/i.test(name);

/** The values of a small closed set: an enum, or integers in a short range (weekdays 0–6). */
function choicesOf(item: JsonSchema, name: string): Array<{ value: unknown; label: string }> | null {
  if (item.enum)
    return item.enum.map((v) => ({ value: v, label: typeof v === "string" ? humanize(v) : String(v) }));
  if (item.type === "integer" && item.minimum !== undefined && item.maximum !== undefined) {
    const lo = item.minimum;
    const hi = item.maximum;
    if (hi - lo > 12) return null;
    const days = /day/i.test(name) && lo === 0 && hi === 6;
    return Array.from({ length: hi - lo + 1 }, (_, i) => ({
      value: lo + i,
      label: days ? (WEEKDAYS[i] ?? String(i)) : String(lo + i),
    }));
  }
  return null;
}

/** A new list item: defaults where the schema has them, empty values for what is required. */
function blankFor(schema: JsonSchema, root: JsonSchema): unknown {
  const { schema: s } = resolve(schema, root);
  if (s.default !== undefined) return structuredClone(s.default);
  const type = schemaType(s);
  if (type === "object" && s.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(s.properties)) {
      const r = resolve(sub, root).schema;
      if (r.default !== undefined) out[k] = structuredClone(r.default);
      else if (s.required?.includes(k)) out[k] = blankFor(sub, root);
    }
    return out;
  }
  if (type === "array") return [];
  if (type === "string") return s.enum?.[0] ?? "";
  if (type === "boolean") return false;
  return undefined;
}

const fieldId = (path: Path) => `cfg-${path.join("-")}`;

/** Errors at this path, or — for a field that owns a list — at its items. */
function errorsAt(errors: FieldErrors, path: Path, includeChildren = false): string[] {
  const k = pathKey(path);
  const out = [...(errors[k] ?? [])];
  if (includeChildren)
    for (const [key, v] of Object.entries(errors)) if (key.startsWith(`${k}.`)) out.push(...v);
  return out;
}

/** The form for a JSON Schema: objects as fieldsets, enums as selects, lists of text as tags. */
export function SchemaForm({
  schema,
  value,
  saved,
  errors,
  disabled,
  agents = [],
  onChange,
}: {
  schema: JsonSchema;
  value: unknown;
  /** The saved configuration, to mark what changed. */
  saved: unknown;
  errors: FieldErrors;
  disabled: boolean;
  agents?: readonly AgentChoice[];
  onChange: (next: unknown) => void;
}) {
  const ctx: Ctx = { root: schema, value, saved, errors, disabled, agents, onChange };
  const { schema: s } = resolve(schema, schema);
  if (schemaType(s) !== "object" || !s.properties)
    return <SchemaNode ctx={ctx} schema={schema} path={[]} name="" />;
  return (
    <div class="schema-form">
      {Object.entries(s.properties).map(([k, sub]) => (
        <SchemaNode key={k} ctx={ctx} schema={sub} path={[k]} name={k} top />
      ))}
    </div>
  );
}

function hintFor(s: JsonSchema, type: string | undefined): string[] {
  const bits: string[] = [];
  if (type === "integer" || type === "number") {
    if (s.minimum !== undefined && s.maximum !== undefined) bits.push(`${s.minimum}–${s.maximum}`);
    else if (s.minimum !== undefined) bits.push(`at least ${s.minimum}`);
    else if (s.maximum !== undefined) bits.push(`at most ${s.maximum}`);
  }
  if (type === "string" && s.maxLength !== undefined)
    bits.push(`up to ${s.maxLength.toLocaleString("en-US")} characters`);
  if (type === "array" && s.maxItems !== undefined) bits.push(`up to ${s.maxItems}`);
  if (
    s.default !== undefined &&
    !isPlainObject(s.default) &&
    !(Array.isArray(s.default) && s.default.length === 0)
  ) {
    const d = typeof s.default === "string" ? s.default : JSON.stringify(s.default);
    if (d.length <= 40) bits.push(`default ${typeof s.default === "string" && s.enum ? humanize(d) : d}`);
  }
  return bits;
}

function SchemaNode({
  ctx,
  schema,
  path,
  name,
  top,
}: {
  ctx: Ctx;
  schema: JsonSchema;
  path: Path;
  name: string;
  top?: boolean;
}) {
  const { schema: s, nullable } = resolve(schema, ctx.root);
  const type = schemaType(s);
  const id = fieldId(path);
  const isTime = type === "string" && !!s.pattern && TIME_PATTERN.test(s.pattern);
  const label = s.title ?? (isTime ? `${labelFor(name)} (UTC)` : labelFor(name));
  const value = getAt(ctx.value, path);
  const changed = JSON.stringify(value) !== JSON.stringify(getAt(ctx.saved, path));
  const set = (next: unknown) => ctx.onChange(setAt(ctx.value, path, next));

  if (type === "object" && s.properties) {
    const children = Object.entries(s.properties).map(([k, sub]) => (
      <SchemaNode key={k} ctx={ctx} schema={sub} path={[...path, k]} name={k} />
    ));
    const own = errorsAt(ctx.errors, path);
    return (
      <fieldset
        class={top ? "schema-section" : "schema-fieldset"}
        data-testid={`config-section-${pathKey(path)}`}
      >
        <legend class={top ? "schema-section-title" : "schema-fieldset-title"}>{label}</legend>
        {s.description && <p class="field-hint schema-section-desc">{s.description}</p>}
        {own.length > 0 && <p class="field-error">{own.join(" ")}</p>}
        <div class="schema-fields">{children}</div>
      </fieldset>
    );
  }

  const itemSchema = type === "array" && s.items ? resolve(s.items, ctx.root).schema : undefined;
  const objectItems =
    itemSchema !== undefined && schemaType(itemSchema) === "object" && !!itemSchema.properties;
  // A list of objects shows each item's errors at its own fields; other lists own their items' errors.
  const errors = errorsAt(ctx.errors, path, type === "array" && !objectItems);
  const agentList = ctx.agents;
  const choices =
    itemSchema && !objectItems
      ? isAgentIdsField(name) && schemaType(itemSchema) === "string"
        ? agentList.map((a) => ({ value: a.id, label: a.name }))
        : choicesOf(itemSchema, name)
      : null;
  const hints = hintFor(s, type).filter(
    (h) =>
      !(h.startsWith("up to") && type === "string" && isAgentIdField(name)) &&
      !(h.startsWith("up to") && choices && (s.maxItems ?? 0) >= choices.length),
  );
  if (isTime) hints.unshift("24-hour clock");
  const hint = [s.description, hints.length ? hints.join(" · ") : null].filter(Boolean).join(" — ");

  let control: ComponentChildren;
  let wide = false;
  const invalid = errors.length > 0;
  const describedBy = invalid ? `${id}-error` : hint ? `${id}-hint` : undefined;

  if (type === "array" && itemSchema && objectItems) {
    return (
      <ObjectList
        ctx={ctx}
        id={id}
        label={label}
        path={path}
        item={itemSchema}
        max={s.maxItems}
        hint={hint}
        errors={errors}
        changed={changed}
      />
    );
  } else if (type === "array" && choices) {
    const selected = Array.isArray(value) ? value : [];
    const order = (vs: unknown[]) =>
      choices.filter((c) => vs.some((v) => deepEqual(v, c.value))).map((c) => c.value);
    return (
      <fieldset
        class={`field schema-field schema-field-wide choice-fieldset${invalid ? " field-invalid" : ""}`}
        data-field={pathKey(path)}
        aria-describedby={describedBy}
      >
        <legend class="field-label">
          {label}
          {changed && <ChangedDot />}
        </legend>
        <div class="choice-group" id={id}>
          {choices.map((c) => {
            const on = selected.some((v) => deepEqual(v, c.value));
            return (
              <label key={String(c.value)} class={`choice${on ? " choice-on" : ""}`}>
                <input
                  type="checkbox"
                  checked={on}
                  disabled={ctx.disabled}
                  onChange={(e) =>
                    set(
                      order(
                        e.currentTarget.checked
                          ? [...selected, c.value]
                          : selected.filter((v) => !deepEqual(v, c.value)),
                      ),
                    )
                  }
                />
                {c.label}
              </label>
            );
          })}
          {choices.length === 0 && <span class="muted small">No agents yet</span>}
        </div>
        <FieldFoot id={id} hint={hint} errors={errors} />
      </fieldset>
    );
  } else if (type === "string" && isAgentIdField(name) && agentList.length > 0) {
    const known = typeof value === "string" && agentList.some((a) => a.id === value);
    control = (
      <select
        id={id}
        class="input"
        disabled={ctx.disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        value={typeof value === "string" ? value : ""}
        onChange={(e) => set(e.currentTarget.value)}
      >
        <option value="">Choose an agent</option>
        {agentList.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
        {!known && typeof value === "string" && value && <option value={value}>{value}</option>}
      </select>
    );
  } else if (isTime) {
    control = (
      <input
        id={id}
        type="time"
        class="input input-number"
        value={typeof value === "string" ? value : ""}
        disabled={ctx.disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        onInput={(e) => set(e.currentTarget.value || undefined)}
      />
    );
  } else if (s.enum) {
    const options = s.enum;
    const current = options.findIndex((o) => JSON.stringify(o) === JSON.stringify(value));
    control = (
      <select
        id={id}
        class="input"
        disabled={ctx.disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        value={current >= 0 ? String(current) : ""}
        onChange={(e) => {
          const i = e.currentTarget.value;
          set(i === "" ? undefined : options[Number(i)]);
        }}
      >
        {(current < 0 || nullable) && <option value="">{value === undefined ? "Default" : "—"}</option>}
        {options.map((o, i) => (
          <option key={String(o)} value={String(i)}>
            {typeof o === "string" ? humanize(o) : JSON.stringify(o)}
          </option>
        ))}
      </select>
    );
  } else if (type === "boolean") {
    return (
      <div class={`field schema-field${invalid ? " field-invalid" : ""}`} data-field={pathKey(path)}>
        <label class="checkbox-field" for={id}>
          <input
            id={id}
            type="checkbox"
            checked={value === true || (value === undefined && s.default === true)}
            disabled={ctx.disabled}
            aria-describedby={describedBy}
            onChange={(e) => set(e.currentTarget.checked)}
          />
          <span class="field-label">{label}</span>
          {changed && <ChangedDot />}
        </label>
        <FieldFoot id={id} hint={hint} errors={errors} />
      </div>
    );
  } else if (type === "integer" || type === "number") {
    control = (
      <NumberInput
        id={id}
        value={value}
        schema={s}
        integer={type === "integer"}
        disabled={ctx.disabled}
        invalid={invalid}
        describedBy={describedBy}
        onValue={set}
      />
    );
  } else if (type === "string") {
    const text = typeof value === "string" ? value : value === undefined ? "" : String(value);
    const long =
      (s.maxLength ?? 0) > 200 ||
      /prompt|description|instructions|template|body/i.test(name) ||
      text.length > 80;
    wide = long;
    const common = {
      id,
      class: "input",
      value: text,
      disabled: ctx.disabled,
      "aria-invalid": invalid,
      "aria-describedby": describedBy,
      placeholder: typeof s.default === "string" && !long ? s.default : undefined,
    };
    control = long ? (
      <>
        <textarea
          {...common}
          class="input textarea"
          rows={Math.min(12, Math.max(4, text.split("\n").length + 1))}
          onInput={(e) => set(e.currentTarget.value)}
        />
        {s.maxLength !== undefined && (
          <span class={`char-count${text.length > s.maxLength ? " text-danger" : ""}`}>
            {text.length.toLocaleString("en-US")} / {s.maxLength.toLocaleString("en-US")}
          </span>
        )}
      </>
    ) : s.format === "email" ? (
      <input {...common} type="email" onInput={(e) => set(e.currentTarget.value)} />
    ) : (
      <input {...common} type="text" onInput={(e) => set(e.currentTarget.value)} />
    );
  } else if (type === "array" && itemSchema && schemaType(itemSchema) === "string") {
    wide = true;
    const item = itemSchema;
    control = (
      <TagList
        id={id}
        values={Array.isArray(value) ? value.map((v) => String(v)) : []}
        itemErrors={(i) => errorsAt(ctx.errors, [...path, i]).length > 0}
        placeholder={item.format === "email" ? "name@example.com" : "Add a value"}
        disabled={ctx.disabled}
        describedBy={describedBy}
        onValues={(vs) => set(vs)}
      />
    );
  } else {
    wide = true;
    control = (
      <div class="schema-unsupported">
        <code class="mono">{value === undefined ? "(default)" : JSON.stringify(value)}</code>
        <span class="muted small">Edit this setting in JSON mode.</span>
      </div>
    );
  }

  return (
    <div
      class={`field schema-field${wide ? " schema-field-wide" : ""}${invalid ? " field-invalid" : ""}`}
      data-field={pathKey(path)}
    >
      <label for={id} id={`${id}-label`} class="field-label">
        {label}
        {changed && <ChangedDot />}
      </label>
      {control}
      <FieldFoot id={id} hint={hint} errors={errors} />
    </div>
  );
}

/** Marks a field that differs from the saved version (the save bar announces the count). */
function ChangedDot() {
  return <span class="changed-dot" title="Changed, not saved" aria-hidden="true" />;
}

function FieldFoot({ id, hint, errors }: { id: string; hint: string; errors: string[] }) {
  if (errors.length)
    return (
      <p class="field-error" id={`${id}-error`} data-testid={`field-error-${id}`}>
        {errors.join(" ")}
      </p>
    );
  return hint ? (
    <p class="field-hint" id={`${id}-hint`}>
      {hint}
    </p>
  ) : null;
}

/** Keeps what was typed (even "1e" or "") so it can be corrected; stores a number when it is one. */
function NumberInput({
  id,
  value,
  schema,
  integer,
  disabled,
  invalid,
  describedBy,
  onValue,
}: {
  id: string;
  value: unknown;
  schema: JsonSchema;
  integer: boolean;
  disabled: boolean;
  invalid: boolean;
  describedBy: string | undefined;
  onValue: (v: unknown) => void;
}) {
  return (
    <input
      id={id}
      type="number"
      class="input input-number"
      inputMode={integer ? "numeric" : "decimal"}
      step={integer ? 1 : "any"}
      min={schema.minimum}
      max={schema.maximum}
      value={value === undefined ? "" : String(value)}
      placeholder={schema.default !== undefined ? String(schema.default) : undefined}
      disabled={disabled}
      aria-invalid={invalid}
      aria-describedby={describedBy}
      onInput={(e) => {
        const raw = e.currentTarget.value.trim();
        if (raw === "") return onValue(undefined);
        const n = Number(raw);
        onValue(Number.isFinite(n) ? n : raw);
      }}
    />
  );
}

/** A list of short texts as removable chips; Enter, comma or paste adds (one per line or comma). */
function TagList({
  id,
  values,
  itemErrors,
  placeholder,
  disabled,
  describedBy,
  onValues,
}: {
  id: string;
  values: string[];
  itemErrors: (index: number) => boolean;
  placeholder: string;
  disabled: boolean;
  describedBy: string | undefined;
  onValues: (values: string[]) => void;
}) {
  const text = useSignal("");

  function add(raw: string) {
    const parts = raw
      .split(/[\n,;]+/)
      .map((p) => p.trim())
      .filter(Boolean)
      .filter((p) => !values.includes(p));
    if (parts.length) onValues([...values, ...parts]);
    text.value = "";
  }

  return (
    <div class={`tags${disabled ? " tags-disabled" : ""}`} data-testid={`${id}-tags`}>
      {values.length > 0 && (
        <ul class="tags-list">
          {values.map((v, i) => (
            <li key={v} class={`tag${itemErrors(i) ? " tag-invalid" : ""}`}>
              <span class="tag-text">{v}</span>
              {!disabled && (
                <button
                  type="button"
                  class="tag-remove"
                  aria-label={`Remove ${v}`}
                  onClick={() => onValues(values.filter((_, j) => j !== i))}
                >
                  <IconX width="12" height="12" />
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!disabled && (
        <div class="tags-add">
          <input
            id={id}
            class="input input-sm"
            value={text.value}
            placeholder={placeholder}
            aria-describedby={describedBy}
            onInput={(e) => {
              text.value = e.currentTarget.value;
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter" || e.key === ",") {
                e.preventDefault();
                add(text.value);
              } else if (e.key === "Backspace" && text.value === "" && values.length) {
                onValues(values.slice(0, -1));
              }
            }}
            onPaste={(e) => {
              const pasted = e.clipboardData?.getData("text") ?? "";
              if (/[\n,;]/.test(pasted)) {
                e.preventDefault();
                add(text.value + pasted);
              }
            }}
            onBlur={() => {
              if (text.value.trim()) add(text.value);
            }}
          />
          <button
            type="button"
            class="btn btn-sm"
            onClick={() => add(text.value)}
            disabled={!text.value.trim()}
          >
            Add
          </button>
        </div>
      )}
      {disabled && values.length === 0 && <span class="muted small">None</span>}
    </div>
  );
}

/** A list of objects (e.g. workflow schedules): one bordered group per item, add and remove. */
function ObjectList({
  ctx,
  id,
  label,
  path,
  item,
  max,
  hint,
  errors,
  changed,
}: {
  ctx: Ctx;
  id: string;
  label: string;
  path: Path;
  item: JsonSchema;
  max: number | undefined;
  hint: string;
  errors: string[];
  changed: boolean;
}) {
  const raw = getAt(ctx.value, path);
  const items = Array.isArray(raw) ? raw : [];
  const set = (next: unknown[]) => ctx.onChange(setAt(ctx.value, path, next));
  const full = max !== undefined && items.length >= max;
  const noun = labelFor(String(path[path.length - 1] ?? "item"))
    .replace(/s$/, "")
    .toLowerCase();
  return (
    <fieldset class="schema-fieldset schema-list" data-field={pathKey(path)} id={id}>
      <legend class="schema-fieldset-title">
        {label}
        {changed && <ChangedDot />}
      </legend>
      {hint && <p class="field-hint">{hint}</p>}
      {errors.length > 0 && <p class="field-error">{errors.join(" ")}</p>}
      {items.length === 0 && <p class="muted small">None yet.</p>}
      {items.map((_, i) => (
        <div key={i} class="schema-list-item" data-testid={`${id}-${i}`}>
          <div class="schema-list-head">
            <span class="schema-list-title">
              {labelFor(noun)} {i + 1}
            </span>
            {!ctx.disabled && (
              <button
                type="button"
                class="btn btn-sm btn-danger-outline"
                onClick={() => set(items.filter((__, j) => j !== i))}
                aria-label={`Remove ${noun} ${i + 1}`}
              >
                Remove
              </button>
            )}
          </div>
          <div class="schema-fields">
            {Object.entries(item.properties ?? {}).map(([k, sub]) => (
              <SchemaNode key={k} ctx={ctx} schema={sub} path={[...path, i, k]} name={k} />
            ))}
          </div>
        </div>
      ))}
      {!ctx.disabled && (
        <div>
          <button
            type="button"
            class="btn btn-sm"
            disabled={full}
            onClick={() => set([...items, blankFor(item, ctx.root)])}
          >
            <IconPlus />
            Add {noun}
          </button>
        </div>
      )}
    </fieldset>
  );
}
