import { IconCheck } from "./icons";

/** The wizard's step indicator; completed steps may be revisited by clicking them. */
export function StepIndicator({
  steps,
  current,
  onSelect,
  locked,
}: {
  steps: readonly string[];
  /** 0-based */
  current: number;
  onSelect?: (index: number) => void;
  locked?: boolean;
}) {
  return (
    <nav aria-label="Progress" class="stepper">
      <ol>
        {steps.map((label, i) => {
          const state = i < current ? "done" : i === current ? "current" : "todo";
          const clickable = !locked && onSelect && i < current;
          const content = (
            <>
              <span class="stepper-num" aria-hidden="true">
                {state === "done" ? <IconCheck width="14" height="14" /> : i + 1}
              </span>
              <span class="stepper-label">{label}</span>
            </>
          );
          return (
            <li
              key={label}
              class={`stepper-item stepper-${state}`}
              aria-current={state === "current" ? "step" : undefined}
            >
              {clickable ? (
                <button
                  type="button"
                  class="stepper-btn"
                  onClick={() => onSelect(i)}
                  aria-label={`Step ${i + 1}: ${label}`}
                >
                  {content}
                </button>
              ) : (
                <span class="stepper-btn">{content}</span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
