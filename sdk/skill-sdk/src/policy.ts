import type { SkillManifest } from "./manifest";

type WithPermissions = Pick<SkillManifest, "permissions">;

const HOST_CHARS = /^[a-z0-9.-]+$/;

/**
 * Whether a host is an IP literal. Covers what the URL standard turns into an IPv4 address (a host whose
 * last label is a decimal or 0x number, e.g. "2130706433" or "0x7f.1") and any IPv6 form.
 */
export function isIpLiteral(host: string): boolean {
  if (host.startsWith("[") || host.includes(":")) return true;
  const labels = stripTrailingDot(host).split(".");
  const last = labels[labels.length - 1] ?? "";
  return /^(?:\d+|0x[0-9a-f]*)$/i.test(last);
}

/**
 * Whether the manifest lets the skill connect to `host`. Exact entries match case-insensitively;
 * "*.example.com" matches any depth of subdomain but not example.com itself. IP literals never match.
 */
export function domainAllowed(manifest: WithPermissions, host: string): boolean {
  const candidate = stripTrailingDot(host.toLowerCase());
  if (!isHostname(candidate) || isIpLiteral(candidate)) return false;
  return manifest.permissions.network.allowedDomains.some((declared) => {
    const pattern = declared.toLowerCase();
    if (!pattern.startsWith("*.")) return candidate === pattern;
    const base = pattern.slice(1);
    return candidate.endsWith(base) && candidate.length > base.length;
  });
}

/** Whether the manifest declares the environment variable, as required or optional. */
export function envAllowed(manifest: WithPermissions, name: string): boolean {
  const { required, optional } = manifest.permissions.env;
  return required.includes(name) || optional.includes(name);
}

/**
 * The canonical form of a workspace-relative path ("./a//b" → "a/b"; a trailing "/" is kept to mark a
 * folder), or null when it could leave the workspace: absolute, "..", backslashes, control characters.
 * ".." is refused rather than resolved so that a skill's intent never depends on normalisation.
 */
export function normalizeWorkspacePath(path: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (path.length === 0 || path.startsWith("/") || path.includes("\\") || /[\u0000-\u001f\u007f]/.test(path))
    return null;
  const folder = path.endsWith("/");
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "..") return null;
    if (segment === "" || segment === ".") continue;
    segments.push(segment);
  }
  if (segments.length === 0) return null;
  const joined = segments.join("/");
  return folder ? `${joined}/` : joined;
}

/**
 * Whether a file path is covered by one of the patterns. A pattern ending in "/" covers everything
 * below that folder; "*" matches any run of characters within one path segment; anything else must
 * match the whole path. Folders themselves (paths ending in "/") are never files.
 */
export function pathAllowed(patterns: readonly string[], path: string): boolean {
  const normalized = normalizeWorkspacePath(path);
  if (normalized === null || normalized.endsWith("/")) return false;
  const segments = normalized.split("/");
  return patterns.some((pattern) => {
    const { folder, parts } = splitPattern(pattern);
    if (folder ? segments.length <= parts.length : segments.length !== parts.length) return false;
    return parts.every((part, index) => globSegment(part, segments[index] ?? ""));
  });
}

/**
 * Whether listing the folder `prefix` ("" is the workspace root) could show any file the patterns
 * cover: the folder is inside a covered folder, or is an ancestor of a pattern.
 */
export function listingAllowed(patterns: readonly string[], prefix: string): boolean {
  const folder = normalizeWorkspacePrefix(prefix);
  if (folder === null) return false;
  const segments = folder === "" ? [] : folder.slice(0, -1).split("/");
  return patterns.some((pattern) => {
    const { folder: isFolderPattern, parts } = splitPattern(pattern);
    for (const [index, segment] of segments.entries()) {
      // A file pattern's last part names files; a folder cannot stand in for it.
      if (!isFolderPattern && index === parts.length - 1) return false;
      // Deeper than a folder pattern: inside the covered folder.
      if (index >= parts.length) return true;
      if (!globSegment(parts[index] ?? "", segment)) return false;
    }
    return true;
  });
}

/** A folder prefix in canonical form: "" for the workspace root, otherwise ending in "/". */
export function normalizeWorkspacePrefix(prefix: string): string | null {
  if (prefix === "" || prefix === "." || prefix === "./") return "";
  const normalized = normalizeWorkspacePath(prefix);
  if (normalized === null) return null;
  return normalized.endsWith("/") ? normalized : `${normalized}/`;
}

function splitPattern(pattern: string): { folder: boolean; parts: string[] } {
  const folder = pattern.endsWith("/");
  return { folder, parts: (folder ? pattern.slice(0, -1) : pattern).split("/") };
}

/** Glob match of one segment where "*" is the only wildcard; linear backtracking, no regex. */
function globSegment(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      starAt = p++;
      resumeAt = t;
    } else if (starAt !== -1) {
      p = starAt + 1;
      t = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

function isHostname(host: string): boolean {
  return HOST_CHARS.test(host) && !host.split(".").includes("");
}

function stripTrailingDot(host: string): string {
  return host.endsWith(".") ? host.slice(0, -1) : host;
}
