import type { Signal } from "@preact/signals";
import type { ComponentChildren, PartialInputHTMLAttributes } from "preact";

/** A label, a control, a hint and the field's errors (client-side or the server's `details`). */
export function Field({
  id,
  label,
  error,
  hint,
  optional,
  children,
}: {
  id: string;
  label: ComponentChildren;
  error?: string[] | string | undefined;
  hint?: ComponentChildren;
  optional?: boolean;
  children: ComponentChildren;
}) {
  const errors = typeof error === "string" ? [error] : (error ?? []);
  return (
    <div class={`field${errors.length ? " field-invalid" : ""}`}>
      <label for={id} class="field-label">
        {label}
        {optional && <span class="field-optional"> (optional)</span>}
      </label>
      {children}
      {hint && !errors.length && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {errors.length > 0 && (
        <p class="field-error" id={`${id}-error`} data-testid={`field-error-${id}`}>
          {errors.join(" ")}
        </p>
      )}
    </div>
  );
}

interface InputProps {
  id: string;
  type?: "text" | "email" | "password";
  autoComplete?: string;
  autoFocus?: boolean;
  autoCapitalize?: "off" | "none" | "on" | "sentences" | "words" | "characters";
  spellcheck?: boolean;
  placeholder?: string;
  inputMode?: "text" | "numeric" | "email";
  disabled?: boolean;
  maxLength?: number;
  label: ComponentChildren;
  value: Signal<string>;
  error?: string[] | string | undefined;
  hint?: ComponentChildren;
  optional?: boolean;
  /** Rewrites what was typed before it is stored (e.g. lowercasing a slug). */
  transform?: (raw: string) => string;
  onValue?: (value: string) => void;
}

export function TextField({
  id,
  label,
  value,
  error,
  hint,
  optional,
  transform,
  onValue,
  type = "text",
  ...rest
}: InputProps) {
  const invalid = typeof error === "string" ? !!error : !!error?.length;
  const common: Omit<PartialInputHTMLAttributes<HTMLInputElement>, "role" | "type"> = {
    id,
    name: id,
    class: "input",
    value,
    "aria-invalid": invalid,
    "aria-describedby": invalid ? `${id}-error` : hint ? `${id}-hint` : undefined,
    onInput: (e) => {
      const raw = e.currentTarget.value;
      const next = transform ? transform(raw) : raw;
      if (next !== raw) e.currentTarget.value = next;
      value.value = next;
      onValue?.(next);
    },
    ...rest,
  };
  return (
    <Field id={id} label={label} error={error} hint={hint} optional={optional}>
      {type === "password" ? (
        <input type="password" {...common} />
      ) : type === "email" ? (
        <input type="email" {...common} />
      ) : (
        <input type="text" {...common} />
      )}
    </Field>
  );
}

export function SelectField<T extends string>({
  id,
  label,
  value,
  options,
  error,
  hint,
  disabled,
  onValue,
}: {
  id: string;
  label: ComponentChildren;
  value: Signal<T>;
  options: ReadonlyArray<{ value: T; label: string; disabled?: boolean }>;
  error?: string[] | string | undefined;
  hint?: ComponentChildren;
  disabled?: boolean;
  onValue?: (value: T) => void;
}) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      <select
        id={id}
        name={id}
        class="input"
        value={value}
        disabled={disabled}
        onChange={(e) => {
          const chosen = options.find((o) => o.value === e.currentTarget.value);
          if (chosen) {
            value.value = chosen.value;
            onValue?.(chosen.value);
          }
        }}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}
