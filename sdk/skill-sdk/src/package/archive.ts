// The skill package format: a ustar tar of the package files, gzip-compressed. Shared by the CLI (Node)
// and the platform (workerd), so only web-standard APIs are used here.
import type { IssueDetails } from "../errors";
import { parseManifest, type SkillManifest } from "../manifest";

/** The manifest's file name at the package root. */
export const MANIFEST_FILE = "aegis-skill.json";

export interface PackageLimits {
  /** Most regular files a package may hold. Default 200. */
  maxFiles: number;
  /** Most bytes all files may hold together, uncompressed. Default 5 MiB. */
  maxTotalBytes: number;
  /** Most bytes a single file may hold. Default 1 MiB. */
  maxFileBytes: number;
  /** Highest ratio of decompressed to compressed bytes. Default 100. */
  maxCompressionRatio: number;
}

export const DEFAULT_PACKAGE_LIMITS: Readonly<PackageLimits> = Object.freeze({
  maxFiles: 200,
  maxTotalBytes: 5 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxCompressionRatio: 100,
});

export type PackageErrorCode =
  | "absolute_path"
  | "path_traversal"
  | "invalid_path"
  | "path_too_long"
  | "unsupported_entry"
  | "duplicate_path"
  | "too_many_files"
  | "file_too_large"
  | "package_too_large"
  | "compression_ratio"
  | "corrupt_archive"
  | "manifest_missing"
  | "manifest_not_json"
  | "manifest_invalid";

/** A package the format refuses; `code` is stable, `issues` carries zod paths for `manifest_invalid`. */
export class PackageError extends Error {
  readonly code: PackageErrorCode;
  readonly path: string | undefined;
  readonly issues: IssueDetails | undefined;

  constructor(
    code: PackageErrorCode,
    message: string,
    options: { path?: string; issues?: IssueDetails } = {},
  ) {
    super(message);
    this.name = "PackageError";
    this.code = code;
    this.path = options.path;
    this.issues = options.issues;
  }
}

export interface UnpackedPackage {
  files: Map<string, Uint8Array>;
  manifest: SkillManifest;
}

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
// The output may exceed the compressed size this many bytes before the ratio is enforced: a tiny package
// is mostly tar padding, which compresses far better than 100:1.
const RATIO_GRACE_BYTES = 1024 * 1024;
// Input is fed to the decompressor in slices this small so that one slice cannot inflate far past a limit
// (deflate's worst case is about 1032:1) before the reader sees it and stops.
const INPUT_SLICE_BYTES = 1024;

/**
 * The canonical form of a package path ("./src//a.js" → "src/a.js"), or a PackageError for one that could
 * land outside the package root when extracted (zip slip) or is not portable.
 */
export function checkPackagePath(raw: string): string {
  if (raw.startsWith("/") || raw.startsWith("\\") || /^[A-Za-z]:/.test(raw))
    throw new PackageError("absolute_path", `${raw}: absolute paths are not allowed`, { path: raw });
  const segments = raw.split(/[/\\]/);
  if (segments.includes(".."))
    throw new PackageError("path_traversal", `${raw}: paths must not contain ..`, { path: raw });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (raw.includes("\\") || /[\u0000-\u001f\u007f]/.test(raw))
    throw new PackageError("invalid_path", `${raw}: backslashes and control characters are not allowed`, {
      path: raw,
    });
  const kept = segments.filter((segment) => segment !== "" && segment !== ".");
  if (kept.length === 0) throw new PackageError("invalid_path", `"${raw}": empty path`, { path: raw });
  return kept.join("/");
}

/** Lowercase hex SHA-256 of the bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // slice() gives a view over a plain ArrayBuffer, which digest requires.
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * A ustar archive of the files, sorted by path, with every header field that could vary between machines
 * fixed (mtime 0, uid/gid 0, mode 0644, no owner names), so equal files give equal bytes.
 */
export function createTar(files: ReadonlyMap<string, Uint8Array>): Uint8Array<ArrayBuffer> {
  const entries = [...files].map(([path, data]) => [checkPackagePath(path), data] as const);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const seen = new Set<string>();
  let size = 2 * BLOCK;
  for (const [path, data] of entries) {
    if (seen.has(path)) throw new PackageError("duplicate_path", `${path} appears twice`, { path });
    seen.add(path);
    size += BLOCK + padded(data.length);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const [path, data] of entries) {
    out.set(tarHeader(path, data.length), offset);
    out.set(data, offset + BLOCK);
    offset += BLOCK + padded(data.length);
  }
  return out;
}

/** The package archive (.tgz) of the files: `createTar`, then gzip. Deterministic for a given runtime. */
export async function packPackage(files: ReadonlyMap<string, Uint8Array>): Promise<Uint8Array> {
  return collect(streamOf(createTar(files)).pipeThrough(new CompressionStream("gzip")));
}

/**
 * Unpacks and checks an untrusted package archive, refusing anything the limits or the format do not
 * allow, and parses its manifest. Decompression stops as soon as a size or ratio limit is passed.
 * @throws PackageError with one of the `PackageErrorCode`s.
 */
export async function unpackPackage(
  bytes: Uint8Array,
  limits: Partial<PackageLimits> = {},
): Promise<UnpackedPackage> {
  const limit = { ...DEFAULT_PACKAGE_LIMITS, ...limits };
  const tar = await gunzipBounded(bytes, limit);
  const files = readTar(tar, limit);
  return { files, manifest: readManifest(files) };
}

function readManifest(files: ReadonlyMap<string, Uint8Array>): SkillManifest {
  const raw = files.get(MANIFEST_FILE);
  if (raw === undefined)
    throw new PackageError("manifest_missing", `the package has no ${MANIFEST_FILE} at its root`);
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(raw));
  } catch (err) {
    throw new PackageError("manifest_not_json", `${MANIFEST_FILE} is not JSON: ${(err as Error).message}`, {
      path: MANIFEST_FILE,
    });
  }
  const parsed = parseManifest(json);
  if (!parsed.ok) {
    const summary = Object.entries(parsed.issues)
      .map(([field, reasons]) => `${field}: ${reasons.join("; ")}`)
      .join(", ");
    throw new PackageError("manifest_invalid", `${MANIFEST_FILE} is invalid: ${summary}`, {
      path: MANIFEST_FILE,
      issues: parsed.issues,
    });
  }
  return parsed.manifest;
}

async function gunzipBounded(bytes: Uint8Array, limit: PackageLimits): Promise<Uint8Array> {
  // Beyond this the tar cannot be within limits whatever its layout: data plus a header and padding per file.
  const maxTarBytes = limit.maxTotalBytes + (limit.maxFiles + 1) * 2 * BLOCK + 20 * BLOCK;
  const maxRatioBytes = Math.max(bytes.length * limit.maxCompressionRatio, RATIO_GRACE_BYTES);
  let next = 0;
  const input = new ReadableStream<BufferSource>({
    pull(controller) {
      if (next >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(next, next + INPUT_SLICE_BYTES));
      next += INPUT_SLICE_BYTES;
    },
  });
  const reader = input.pipeThrough(new DecompressionStream("gzip")).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxRatioBytes) {
        throw new PackageError(
          "compression_ratio",
          `the archive expands more than ${limit.maxCompressionRatio}:1; refusing it as a decompression bomb`,
        );
      }
      if (total > maxTarBytes) {
        throw new PackageError(
          "package_too_large",
          `the package is larger than ${limit.maxTotalBytes} bytes`,
        );
      }
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    if (err instanceof PackageError) throw err;
    throw new PackageError("corrupt_archive", `not a valid gzip archive: ${(err as Error).message}`);
  }
  return concat(chunks, total);
}

function readTar(tar: Uint8Array, limit: PackageLimits): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const directories = new Set<string>();
  let total = 0;
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length)
      throw new PackageError("corrupt_archive", "the archive is truncated (no end-of-archive marker)");
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return files;
    if (checksum(header) !== readOctal(header, 148, 8))
      throw new PackageError("corrupt_archive", `bad header checksum at byte ${offset}`);
    const name = readString(header, 0, 100);
    const prefix = readString(header, 345, 155);
    const rawPath = prefix === "" ? name : `${prefix}/${name}`;
    const path = checkPackagePath(rawPath);
    const type = String.fromCharCode(header[156] ?? 0);
    const size = readOctal(header, 124, 12);
    if (size < 0) throw new PackageError("corrupt_archive", `${rawPath}: unreadable size field`);
    const dataStart = offset + BLOCK;
    offset = dataStart + padded(size);
    if (type === "5") {
      if (directories.has(path) || files.has(path))
        throw new PackageError("duplicate_path", `${path} appears twice`, { path });
      directories.add(path);
      continue;
    }
    if (type !== "0" && type !== "\0")
      throw new PackageError(
        "unsupported_entry",
        `${rawPath}: ${entryKind(type)} entries are not allowed; a package holds regular files only`,
        { path: rawPath },
      );
    if (files.has(path) || directories.has(path))
      throw new PackageError("duplicate_path", `${path} appears twice`, { path });
    if (files.size + 1 > limit.maxFiles)
      throw new PackageError("too_many_files", `the package holds more than ${limit.maxFiles} files`);
    if (size > limit.maxFileBytes)
      throw new PackageError("file_too_large", `${path} is larger than ${limit.maxFileBytes} bytes`, {
        path,
      });
    total += size;
    if (total > limit.maxTotalBytes)
      throw new PackageError("package_too_large", `the files total more than ${limit.maxTotalBytes} bytes`);
    if (dataStart + size > tar.length)
      throw new PackageError("corrupt_archive", `${path}: the archive is truncated`, { path });
    files.set(path, tar.slice(dataStart, dataStart + size));
  }
}

function entryKind(type: string): string {
  switch (type) {
    case "1":
      return "hard link";
    case "2":
      return "symbolic link";
    case "3":
    case "4":
      return "device";
    case "6":
      return "FIFO";
    case "x":
    case "g":
      return "pax extended header";
    case "L":
    case "K":
      return "GNU long name";
    default:
      return `type ${JSON.stringify(type)}`;
  }
}

function tarHeader(path: string, size: number): Uint8Array {
  const header = new Uint8Array(BLOCK);
  const { name, prefix } = splitName(path);
  header.set(name, 0);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0);
  header[156] = 0x30; // "0": regular file
  header.set(encoder.encode("ustar\u000000"), 257);
  header.set(prefix, 345);
  // The checksum is computed with its own field as eight spaces, then written as six octal digits, NUL, space.
  header.fill(0x20, 148, 156);
  const sum = checksum(header);
  header.set(encoder.encode(`${sum.toString(8).padStart(6, "0")}\u0000 `), 148);
  return header;
}

function splitName(path: string): { name: Uint8Array; prefix: Uint8Array } {
  const bytes = encoder.encode(path);
  if (bytes.length <= 100) return { name: bytes, prefix: new Uint8Array(0) };
  // ustar keeps up to 155 bytes of leading folders in the prefix field; the split must fall on a "/".
  for (let cut = Math.min(155, bytes.length - 1); cut > 0; cut--) {
    if (bytes[cut] === 0x2f && bytes.length - cut - 1 <= 100)
      return { name: bytes.subarray(cut + 1), prefix: bytes.subarray(0, cut) };
  }
  throw new PackageError("path_too_long", `${path}: path is too long for the package format`, { path });
}

function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum;
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  header.set(encoder.encode(`${value.toString(8).padStart(length - 1, "0")}\u0000`), offset);
}

/** The octal number in a header field, or -1 when it is not one (including base-256 sizes). */
function readOctal(header: Uint8Array, offset: number, length: number): number {
  const text = String.fromCharCode(...header.subarray(offset, offset + length))
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  return /^[0-7]{1,12}$/.test(text) ? Number.parseInt(text, 8) : -1;
}

function readString(header: Uint8Array, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  try {
    return decoder.decode(end === -1 ? field : field.subarray(0, end));
  } catch {
    throw new PackageError("invalid_path", "an entry's path is not valid UTF-8");
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function streamOf(bytes: Uint8Array<ArrayBuffer>): ReadableStream<BufferSource> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(chunks, total);
    chunks.push(value);
    total += value.length;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
