// `@aegis/skill-sdk/package`: the package format and its static analysis, for the CLI and the platform.
// Web-standard APIs only, so it runs in workerd as well as Node.
export {
  type AnalysisResult,
  analyzePackage,
  analyzeSource,
  type ChecklistItem,
  type Finding,
  type Severity,
  validatePackage,
} from "./analyze";
export {
  checkPackagePath,
  createTar,
  DEFAULT_PACKAGE_LIMITS,
  MANIFEST_FILE,
  PackageError,
  type PackageErrorCode,
  type PackageLimits,
  packPackage,
  sha256Hex,
  type UnpackedPackage,
  unpackPackage,
} from "./archive";
