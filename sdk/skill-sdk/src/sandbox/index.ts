// `@aegis/skill-sdk/sandbox`, Node only: the dry-run sandbox shared by the CLI and the platform's
// sandbox service.
export {
  DEFAULT_DRY_RUN_LIMITS,
  type DryRunLimits,
  type DryRunResult,
  MAX_DRY_RUN_OUTPUT,
  type PermissionUse,
  runDryRun,
  tapCounts,
  testFilesOf,
} from "./dry-run";
export { type SandboxService, startSandboxService } from "./service";
