import { useId } from "preact/hooks";

/** A small set of exclusive choices drawn as one control; real radio inputs underneath. */
export function Segmented<T extends string>({
  label,
  value,
  options,
  onChange,
  disabled,
  testId,
}: {
  label: string;
  value: T;
  options: ReadonlyArray<{ value: T; label: string }>;
  onChange: (value: T) => void;
  disabled?: boolean;
  testId?: string;
}) {
  const name = useId();
  return (
    <fieldset class="segmented" data-testid={testId} disabled={disabled}>
      <legend class="visually-hidden">{label}</legend>
      {options.map((o) => {
        const checked = o.value === value;
        return (
          <label key={o.value} class={`segmented-item${checked ? " segmented-item-on" : ""}`}>
            <input
              type="radio"
              class="segmented-input"
              name={name}
              value={o.value}
              checked={checked}
              onChange={() => onChange(o.value)}
            />
            {o.label}
          </label>
        );
      })}
    </fieldset>
  );
}
