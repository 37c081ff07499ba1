import type { ComponentChildren } from "preact";

/** A selectable card that is a real radio input, so keyboard and screen readers work unchanged. */
export function RadioCard({
  name,
  value,
  checked,
  disabled,
  onSelect,
  title,
  children,
  aside,
  reason,
  testId,
}: {
  name: string;
  value: string;
  checked: boolean;
  disabled?: boolean;
  onSelect: () => void;
  title: ComponentChildren;
  children?: ComponentChildren;
  aside?: ComponentChildren;
  /** Why the option is unavailable; shown on the card. */
  reason?: string | undefined;
  testId?: string;
}) {
  const id = `${name}-${value}`;
  return (
    <label
      for={id}
      class={`radio-card${checked ? " radio-card-checked" : ""}${disabled ? " radio-card-disabled" : ""}`}
      data-testid={testId}
    >
      <input
        type="radio"
        id={id}
        name={name}
        value={value}
        checked={checked}
        disabled={disabled}
        class="radio-card-input"
        aria-labelledby={`${id}-title`}
        aria-describedby={
          [children ? `${id}-content` : "", reason ? `${id}-reason` : ""].filter(Boolean).join(" ") ||
          undefined
        }
        onChange={onSelect}
      />
      <span class="radio-card-body">
        <span class="radio-card-head">
          <span class="radio-card-title" id={`${id}-title`}>
            {title}
          </span>
          {aside && <span class="radio-card-aside">{aside}</span>}
        </span>
        {children && (
          <span class="radio-card-content" id={`${id}-content`}>
            {children}
          </span>
        )}
        {reason && (
          <span class="radio-card-reason" id={`${id}-reason`}>
            {reason}
          </span>
        )}
      </span>
    </label>
  );
}
