// Static analysis of a skill package: what its JavaScript reaches for, compared with what its manifest
// declares. A review aid and a first gate; the runtime context still enforces every permission.
import { type AnyNode, type Expression, parse, type SpreadElement } from "acorn";
import { full } from "acorn-walk";
import type { SkillManifest } from "../manifest";
import { domainAllowed, listingAllowed, normalizeWorkspacePath, pathAllowed } from "../policy";
import {
  DEFAULT_PACKAGE_LIMITS,
  MANIFEST_FILE,
  PackageError,
  type PackageLimits,
  unpackPackage,
} from "./archive";

export type Severity = "error" | "warning" | "info";

export interface Finding {
  severity: Severity;
  /** Stable rule id, e.g. `undeclared_network`, or a `PackageErrorCode` when the archive is refused. */
  rule: string;
  file?: string;
  line?: number;
  message: string;
}

export interface ChecklistItem {
  control: string;
  passed: boolean;
  detail: string;
}

export interface AnalysisResult {
  valid: boolean;
  /** Null when the archive or its manifest was refused before analysis. */
  manifest: SkillManifest | null;
  findings: Finding[];
  checklist: ChecklistItem[];
}

/** Modules no skill may load: they run code or reach the host around the context's checks. */
const FORBIDDEN_MODULES = new Set([
  "child_process",
  "worker_threads",
  "vm",
  "fs",
  "fs/promises",
  "cluster",
  "net",
  "tls",
  "dgram",
  "dns",
  "http",
  "https",
  "http2",
  "inspector",
  "module",
]);
const NODE_BUILTINS = new Set([
  ...FORBIDDEN_MODULES,
  "assert",
  "assert/strict",
  "buffer",
  "crypto",
  "events",
  "os",
  "path",
  "process",
  "stream",
  "test",
  "url",
  "util",
  "zlib",
]);
const FS_READ = new Set(["read", "readFile"]);
const FS_WRITE = new Set(["write", "writeFile", "appendFile"]);
const FS_LIST = new Set(["list", "readdir"]);
const JS_FILE = /\.(?:js|mjs|cjs)$/;
const TS_FILE = /\.(?:ts|mts|cts|tsx)$/;
const TEST_FILE = /(?:^|\/)(?:test|tests|__tests__)\/|[._-]test\.[cm]?js$|(?:^|\/)test\.[cm]?js$/;
const decoder = new TextDecoder();

const CONTROLS = {
  archive: "Archive within limits",
  manifest: "Manifest valid",
  javascript: "Compiled JavaScript only",
  dynamicCode: "No dynamic code",
  builtins: "No Node built-ins",
  network: "Network limited to declared domains",
  files: "File access inside the workspace",
  env: "Env reads declared",
} as const;
type Control = keyof typeof CONTROLS;

const RULE_CONTROL: Record<string, Control> = {
  typescript_source: "javascript",
  parse_error: "javascript",
  entry_missing: "javascript",
  dynamic_code: "dynamicCode",
  dynamic_import: "dynamicCode",
  forbidden_module: "builtins",
  forbidden_api: "builtins",
  node_builtin: "builtins",
  undeclared_network: "network",
  network_dynamic_url: "network",
  file_outside_workspace: "files",
  undeclared_file_read: "files",
  undeclared_file_write: "files",
  file_dynamic_path: "files",
  undeclared_env: "env",
  env_dynamic: "env",
};

/**
 * Unpacks an untrusted package and analyses it. Never throws for a bad package: archive and manifest
 * refusals come back as an invalid result whose finding's rule is the `PackageErrorCode`.
 */
export async function validatePackage(
  bytes: Uint8Array,
  limits: Partial<PackageLimits> = {},
): Promise<AnalysisResult> {
  try {
    const { files, manifest } = await unpackPackage(bytes, limits);
    return analyzePackage(files, manifest);
  } catch (err) {
    if (!(err instanceof PackageError)) throw err;
    const findings: Finding[] = err.issues
      ? Object.entries(err.issues).map(([field, reasons]) => ({
          severity: "error",
          rule: err.code,
          file: MANIFEST_FILE,
          message: `${field}: ${reasons.join("; ")}`,
        }))
      : [
          {
            severity: "error",
            rule: err.code,
            ...(err.path ? { file: err.path } : {}),
            message: err.message,
          },
        ];
    const manifestProblem = err.code.startsWith("manifest_");
    const checklist = (Object.keys(CONTROLS) as Control[]).map((control) => {
      if (control === "archive")
        return manifestProblem
          ? item(control, true, describeLimits(limits))
          : item(control, false, err.message);
      if (control === "manifest" && manifestProblem) return item(control, false, err.message);
      return item(control, false, "not checked: the package was refused");
    });
    return { valid: false, manifest: null, findings, checklist };
  }
}

/** Analyses the JavaScript of an unpacked package against its manifest. */
export function analyzePackage(
  files: ReadonlyMap<string, Uint8Array>,
  manifest: SkillManifest,
): AnalysisResult {
  const findings: Finding[] = [];
  if (!files.has(manifest.entry)) {
    findings.push({
      severity: "error",
      rule: "entry_missing",
      file: MANIFEST_FILE,
      message: `the entry ${manifest.entry} is not in the package`,
    });
  }
  const sorted = [...files.keys()].sort();
  for (const path of sorted) {
    if (TS_FILE.test(path) && !path.endsWith(".d.ts")) {
      findings.push({
        severity: "error",
        rule: "typescript_source",
        file: path,
        message: "TypeScript must be compiled to JavaScript before packing",
      });
    } else if (JS_FILE.test(path)) {
      const data = files.get(path);
      if (data) findings.push(...analyzeSource(path, decoder.decode(data), manifest));
    }
  }
  findings.sort((a, b) => (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) || 0);
  const checklist = (Object.keys(CONTROLS) as Control[]).map((control) => {
    if (control === "archive") return item(control, true, `${files.size} files, within limits`);
    if (control === "manifest") return item(control, true, `${manifest.name}@${manifest.version}`);
    const mine = findings.filter((finding) => RULE_CONTROL[finding.rule] === control);
    const errors = mine.filter((finding) => finding.severity === "error");
    const warnings = mine.filter((finding) => finding.severity === "warning");
    if (errors.length > 0) return item(control, false, summarize(errors));
    if (warnings.length > 0)
      return item(control, true, `${summarize(warnings)}; the runtime enforces the manifest for these`);
    return item(control, true, "nothing found");
  });
  return { valid: !findings.some((finding) => finding.severity === "error"), manifest, findings, checklist };
}

/** Findings for one JavaScript source file. */
export function analyzeSource(file: string, source: string, manifest: SkillManifest): Finding[] {
  let program: AnyNode;
  try {
    program = parse(source, { ecmaVersion: "latest", sourceType: "module", locations: true });
  } catch (moduleError) {
    try {
      program = parse(source, { ecmaVersion: "latest", sourceType: "script", locations: true });
    } catch {
      const err = moduleError as Error & { loc?: { line: number } };
      return [
        {
          severity: "error",
          rule: "parse_error",
          file,
          ...(err.loc ? { line: err.loc.line } : {}),
          message: `not valid JavaScript: ${err.message}`,
        },
      ];
    }
  }
  const isTest = TEST_FILE.test(file);
  const findings: Finding[] = [];
  const add = (node: AnyNode, severity: Severity, rule: string, message: string) =>
    findings.push({ severity, rule, file, line: node.loc?.start.line ?? 0, message });

  const checkModule = (node: AnyNode, specifier: string) => {
    const bare = specifier.startsWith("node:") ? specifier.slice(5) : specifier;
    if (FORBIDDEN_MODULES.has(bare)) {
      add(
        node,
        "error",
        "forbidden_module",
        `imports ${specifier}; skills must use the context (ctx) instead`,
      );
    } else if (!isTest && (specifier.startsWith("node:") || NODE_BUILTINS.has(bare))) {
      add(node, "warning", "node_builtin", `imports ${specifier}; the skill runtime is not Node`);
    }
  };

  const checkUrl = (node: AnyNode, arg: Expression | SpreadElement | undefined) => {
    const url = literalUrl(arg);
    if (url === null) {
      add(node, "warning", "network_dynamic_url", "fetch with a URL whose host is not a literal");
      return;
    }
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      add(node, "warning", "network_dynamic_url", `fetch with ${url}, which is not an absolute URL`);
      return;
    }
    if (!domainAllowed(manifest, host))
      add(
        node,
        "error",
        "undeclared_network",
        `fetch to ${host}, which permissions.network.allowedDomains does not declare`,
      );
  };

  const checkEnv = (node: AnyNode, name: string | null) => {
    if (name === null) {
      add(node, "warning", "env_dynamic", "reads an environment variable whose name is not a literal");
      return;
    }
    const { required, optional } = manifest.permissions.env;
    if (!required.includes(name) && !optional.includes(name))
      add(node, "error", "undeclared_env", `reads ${name}, which permissions.env does not declare`);
  };

  const checkFile = (node: AnyNode, method: string, arg: Expression | SpreadElement | undefined) => {
    const path = literalString(arg);
    if (path === null) {
      add(node, "info", "file_dynamic_path", `ctx.fs.${method} with a path that is not a literal`);
      return;
    }
    const listing = FS_LIST.has(method);
    const normalized = listing && (path === "" || path === ".") ? "" : normalizeWorkspacePath(path);
    if (normalized === null) {
      add(node, "error", "file_outside_workspace", `ctx.fs.${method}("${path}") is outside the workspace`);
      return;
    }
    const { readPaths, writePaths } = manifest.permissions.files;
    if (
      listing ? !listingAllowed(readPaths, normalized) : FS_READ.has(method) && !pathAllowed(readPaths, path)
    )
      add(
        node,
        "error",
        "undeclared_file_read",
        `reads ${path}, which permissions.files.readPaths does not cover`,
      );
    if (FS_WRITE.has(method) && !pathAllowed(writePaths, path))
      add(
        node,
        "error",
        "undeclared_file_write",
        `writes ${path}, which permissions.files.writePaths does not cover`,
      );
  };

  full(program, (node) => {
    switch (node.type) {
      case "ImportDeclaration":
      case "ExportAllDeclaration":
        if (typeof node.source.value === "string") checkModule(node, node.source.value);
        break;
      case "ExportNamedDeclaration":
        if (node.source && typeof node.source.value === "string") checkModule(node, node.source.value);
        break;
      case "ImportExpression": {
        const specifier = literalString(node.source);
        if (specifier === null)
          add(node, "error", "dynamic_import", "import() of a module whose name is not a literal");
        else checkModule(node, specifier);
        break;
      }
      case "NewExpression":
        if (isIdentifier(node.callee, "Function"))
          add(node, "error", "dynamic_code", "new Function compiles code from a string");
        break;
      case "CallExpression": {
        const { callee } = node;
        const [first] = node.arguments;
        if (isIdentifier(callee, "Function")) {
          add(node, "error", "dynamic_code", "Function() compiles code from a string");
        } else if (isIdentifier(callee, "require")) {
          const specifier = literalString(first);
          if (specifier === null)
            add(node, "error", "dynamic_import", "require() of a module whose name is not a literal");
          else checkModule(node, specifier);
        } else if (isIdentifier(callee, "fetch") || memberName(callee) === "fetch") {
          checkUrl(node, first);
        } else if (callee.type === "MemberExpression") {
          const method = memberName(callee);
          const owner = callee.object;
          if (
            method &&
            memberName(owner) === "fs" &&
            (FS_READ.has(method) || FS_WRITE.has(method) || FS_LIST.has(method))
          )
            checkFile(node, method, first);
          else if (method === "get" && memberName(owner) === "env" && !isProcessEnv(owner))
            checkEnv(node, literalString(first));
          else if ((method === "binding" || method === "dlopen") && isIdentifier(owner, "process"))
            add(node, "error", "forbidden_api", `process.${method} reaches Node internals`);
        }
        break;
      }
      case "Identifier":
        // Any reference, not only a direct call: (0, eval)(code) and const run = eval are indirect evals.
        if (node.name === "eval") add(node, "error", "dynamic_code", "eval runs code from a string");
        break;
      case "MemberExpression": {
        const { object } = node;
        if (memberName(node) === "eval") {
          add(node, "error", "dynamic_code", "eval runs code from a string");
        } else if (isProcessEnv(object)) {
          checkEnv(node, propertyName(node));
        } else if (object.type === "MemberExpression" && memberName(object) === "env") {
          const name = propertyName(node);
          if (name !== "get") checkEnv(node, name);
        }
        break;
      }
    }
  });
  return findings;
}

function isIdentifier(node: AnyNode, name: string): boolean {
  return node.type === "Identifier" && node.name === name;
}

/** `x.name` or `x["name"]` → "name". */
function memberName(node: AnyNode): string | null {
  if (node.type !== "MemberExpression") return null;
  return propertyName(node);
}

function propertyName(node: AnyNode): string | null {
  if (node.type !== "MemberExpression") return null;
  if (!node.computed && node.property.type === "Identifier") return node.property.name;
  return literalString(node.property);
}

function isProcessEnv(node: AnyNode): boolean {
  return (
    node.type === "MemberExpression" && memberName(node) === "env" && isIdentifier(node.object, "process")
  );
}

function literalString(node: AnyNode | undefined): string | null {
  if (!node) return null;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0)
    return node.quasis[0]?.value.cooked ?? null;
  return null;
}

/**
 * The URL, or enough of it to name the host, when the host is fixed in the source: a string literal,
 * `new URL("…")`, or a template literal whose first part runs past the host ("https://h/${path}").
 */
function literalUrl(node: AnyNode | undefined): string | null {
  if (!node) return null;
  const whole = literalString(node);
  if (whole !== null) return whole;
  if (node.type === "NewExpression" && isIdentifier(node.callee, "URL") && node.arguments.length === 1)
    return literalString(node.arguments[0]);
  if (node.type === "TemplateLiteral") {
    const head = node.quasis[0]?.value.cooked ?? "";
    // The host is only fixed when the literal part ends it: "https://h${x}" could become "https://h.evil.com".
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+[/?#]/i.exec(head);
    return match ? match[0] : null;
  }
  return null;
}

function item(control: Control, passed: boolean, detail: string): ChecklistItem {
  return { control: CONTROLS[control], passed, detail };
}

function summarize(findings: readonly Finding[]): string {
  const shown = findings
    .slice(0, 3)
    .map((finding) => `${finding.file ?? ""}${finding.line ? `:${finding.line}` : ""} ${finding.rule}`);
  const more = findings.length > 3 ? ` and ${findings.length - 3} more` : "";
  return `${findings.length} finding${findings.length > 1 ? "s" : ""}: ${shown.join(", ")}${more}`;
}

function describeLimits(limits: Partial<PackageLimits>): string {
  const { maxFiles, maxTotalBytes } = { ...DEFAULT_PACKAGE_LIMITS, ...limits };
  return `at most ${maxFiles} files and ${maxTotalBytes} bytes`;
}
