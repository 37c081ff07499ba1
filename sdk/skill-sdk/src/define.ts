import type { z } from "zod";
import { createSkillContext, deepFreeze, type SkillContext, type SkillHost } from "./context";
import { InvalidManifestError, issueDetails, SkillError, SkillInputError, SkillOutputError } from "./errors";
import { type SkillManifest, skillManifestSchema } from "./manifest";

export interface SkillDefinition<I extends z.ZodType, O extends z.ZodType> {
  /** Validated when the skill is defined, so a bad manifest fails at import, not at first run. */
  manifest: SkillManifest;
  /** Schema of what callers (the agent's model, other skills) pass in. */
  input: I;
  /** Schema of what the handler returns; checked on every run. */
  output: O;
  /**
   * TypeScript widens string literals in a generic handler's return value, so a handler whose output
   * has literal fields (a discriminated union) should annotate its return type: `Promise<z.input<typeof output>>`.
   */
  handler: (input: z.output<I>, ctx: SkillContext) => Promise<z.input<O>>;
}

export interface Skill<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly manifest: SkillManifest;
  readonly input: I;
  readonly output: O;
  /**
   * Validates `rawInput`, checks required environment variables, runs the handler with a context
   * limited to the manifest and validates what it returns.
   * @throws SkillInputError for bad input, SkillError `missing_env`, PermissionDeniedError,
   * SkillOutputError when the handler breaks its own output schema.
   */
  run(rawInput: unknown, host: SkillHost): Promise<z.output<O>>;
}

export function defineSkill<I extends z.ZodType, O extends z.ZodType>(
  definition: SkillDefinition<I, O>,
): Skill<I, O> {
  const parsed = skillManifestSchema.safeParse(definition.manifest);
  if (!parsed.success) throw new InvalidManifestError(issueDetails(parsed.error));
  const manifest = deepFreeze(parsed.data);
  const { input, output, handler } = definition;

  return {
    manifest,
    input,
    output,
    async run(rawInput, host) {
      const inputResult = await input.safeParseAsync(rawInput);
      if (!inputResult.success) throw new SkillInputError(issueDetails(inputResult.error));

      const missing = manifest.permissions.env.required.filter((name) => !host.env[name]);
      if (missing.length > 0)
        throw new SkillError(
          "missing_env",
          `${manifest.name} needs environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
        );

      const result = await handler(inputResult.data, createSkillContext(manifest, host));

      const outputResult = await output.safeParseAsync(result);
      if (!outputResult.success) throw new SkillOutputError(issueDetails(outputResult.error));
      return outputResult.data;
    },
  };
}
