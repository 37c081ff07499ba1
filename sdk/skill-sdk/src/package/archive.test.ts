import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { noPermissions } from "../manifest";
import { createTar, MANIFEST_FILE, PackageError, packPackage, sha256Hex, unpackPackage } from "./archive";

const text = (value: string) => new TextEncoder().encode(value);
const manifest = {
  manifestVersion: 1,
  name: "demo",
  version: "1.2.3",
  displayName: "Demo",
  description: "A demo skill.",
  category: "communication",
  entry: "src/index.mjs",
  runtime: "js",
  permissions: noPermissions(),
};
const manifestBytes = text(JSON.stringify(manifest));

/** One raw ustar header, written by hand so a test can say things our packer never would. */
function header(name: string, options: { type?: string; size?: number; linkname?: string } = {}): Uint8Array {
  const block = new Uint8Array(512);
  const put = (offset: number, value: string) => block.set(text(value), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${(options.size ?? 0).toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(156, options.type ?? "0");
  if (options.linkname) put(157, options.linkname);
  put(257, "ustar\u000000");
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

type RawEntry = { name: string; data?: Uint8Array; type?: string; linkname?: string };

/** A gzipped tar of raw entries (manifest first unless `withManifest` is false). */
function rawArchive(entries: RawEntry[], withManifest = true): Uint8Array {
  const all: RawEntry[] = withManifest ? [{ name: MANIFEST_FILE, data: manifestBytes }, ...entries] : entries;
  const parts: Uint8Array[] = [];
  for (const entry of all) {
    const data = entry.data ?? new Uint8Array(0);
    parts.push(header(entry.name, { type: entry.type, size: data.length, linkname: entry.linkname }));
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    parts.push(padded);
  }
  parts.push(new Uint8Array(1024));
  return new Uint8Array(gzipSync(Buffer.concat(parts)));
}

async function refusal(promise: Promise<unknown>): Promise<PackageError> {
  const err = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(err).toBeInstanceOf(PackageError);
  return err as PackageError;
}

const packageFiles = () =>
  new Map<string, Uint8Array>([
    ["src/index.mjs", text("export async function handler() { return {}; }\n")],
    [MANIFEST_FILE, manifestBytes],
    ["README.md", text("# demo\n")],
  ]);

describe("packPackage / unpackPackage", () => {
  it("round-trips the files and parses the manifest", async () => {
    const { files, manifest: parsed } = await unpackPackage(await packPackage(packageFiles()));
    expect([...files.keys()]).toEqual(["README.md", MANIFEST_FILE, "src/index.mjs"]);
    expect(new TextDecoder().decode(files.get("README.md"))).toBe("# demo\n");
    expect(parsed.name).toBe("demo");
  });

  it("is deterministic: same files in any order give the same sha256", async () => {
    const first = await sha256Hex(await packPackage(packageFiles()));
    const reversed = new Map([...packageFiles()].reverse());
    expect(await sha256Hex(await packPackage(reversed))).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps long paths via the ustar prefix field", async () => {
    const deep = `${"folder/".repeat(20)}file.mjs`;
    const files = packageFiles().set(deep, text("x"));
    const { files: back } = await unpackPackage(await packPackage(files));
    expect(back.has(deep)).toBe(true);
  });

  it("writes headers a standard tar reader accepts: mode 0644, uid 0, mtime 0", () => {
    const tar = createTar(new Map([["a.txt", text("hi")]]));
    const field = (offset: number, length: number) =>
      new TextDecoder().decode(tar.subarray(offset, offset + length)).replace(/\0.*$/, "");
    expect(field(0, 100)).toBe("a.txt");
    expect(field(100, 8)).toBe("0000644");
    expect(field(108, 8)).toBe("0000000");
    expect(field(136, 12)).toBe("00000000000");
    expect(tar.length).toBe(512 + 512 + 1024);
  });

  it("sha256Hex matches a known digest", async () => {
    expect(await sha256Hex(text("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});

describe("unpackPackage refuses", () => {
  it.each([
    ["../evil", "path_traversal"],
    ["src/../../evil", "path_traversal"],
    ["/etc/passwd", "absolute_path"],
    ["C:/windows/evil", "absolute_path"],
  ])("the path %s (%s)", async (name, code) => {
    const err = await refusal(unpackPackage(rawArchive([{ name, data: text("x") }])));
    expect(err.code).toBe(code);
  });

  it.each([
    ["2", "symbolic link"],
    ["1", "hard link"],
    ["3", "device"],
    ["6", "FIFO"],
  ])("entries of type %s (%s)", async (type, kind) => {
    const err = await refusal(
      unpackPackage(rawArchive([{ name: "src/link.mjs", type, linkname: "/etc/passwd" }])),
    );
    expect(err.code).toBe("unsupported_entry");
    expect(err.message).toContain(kind);
  });

  it("more than maxFiles files", async () => {
    const entries = Array.from({ length: 200 }, (_, i) => ({ name: `f/${i}.txt`, data: text(`${i}`) }));
    const err = await refusal(unpackPackage(rawArchive(entries)));
    expect(err.code).toBe("too_many_files");
    // 199 files plus the manifest is exactly the limit.
    await expect(unpackPackage(rawArchive(entries.slice(1)))).resolves.toBeDefined();
  });

  it("a single file over maxFileBytes", async () => {
    const err = await refusal(
      unpackPackage(rawArchive([{ name: "big.bin", data: randomBytes(1024 * 1024 + 1) }])),
    );
    expect(err.code).toBe("file_too_large");
    expect(err.path).toBe("big.bin");
  });

  it("files totalling over maxTotalBytes", async () => {
    const entries = Array.from({ length: 6 }, (_, i) => ({
      name: `${i}.bin`,
      data: randomBytes(1000 * 1024),
    }));
    const err = await refusal(unpackPackage(rawArchive(entries)));
    expect(err.code).toBe("package_too_large");
  });

  it("a decompression bomb (20 MiB of zeros), while decompressing", async () => {
    const bomb = rawArchive([{ name: "zeros.bin", data: new Uint8Array(20 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const err = await refusal(
      unpackPackage(bomb, { maxFileBytes: 64 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024 }),
    );
    expect(err.code).toBe("compression_ratio");
  });

  it("a truncated archive", async () => {
    const whole = await packPackage(packageFiles());
    const err = await refusal(unpackPackage(whole.subarray(0, Math.floor(whole.length / 2))));
    expect(err.code).toBe("corrupt_archive");
  });

  it("bytes that are not gzip", async () => {
    expect((await refusal(unpackPackage(text("not an archive")))).code).toBe("corrupt_archive");
  });

  it("a header whose checksum is wrong", async () => {
    const tar = createTar(packageFiles());
    tar[0] = (tar[0] ?? 0) ^ 1;
    expect((await refusal(unpackPackage(new Uint8Array(gzipSync(tar))))).code).toBe("corrupt_archive");
  });

  it("a tar without its end-of-archive marker", async () => {
    const tar = createTar(packageFiles());
    const cut = tar.subarray(0, tar.length - 1024);
    expect((await refusal(unpackPackage(new Uint8Array(gzipSync(cut))))).code).toBe("corrupt_archive");
  });

  it("duplicate paths, including ./ spellings of the same path", async () => {
    const err = await refusal(
      unpackPackage(
        rawArchive([
          { name: "src/a.mjs", data: text("1") },
          { name: "./src/a.mjs", data: text("2") },
        ]),
      ),
    );
    expect(err.code).toBe("duplicate_path");
  });

  it("a package without a manifest", async () => {
    const err = await refusal(unpackPackage(rawArchive([{ name: "a.mjs", data: text("") }], false)));
    expect(err.code).toBe("manifest_missing");
  });

  it("a manifest that is not JSON", async () => {
    const err = await refusal(
      unpackPackage(rawArchive([{ name: MANIFEST_FILE, data: text("{ nope") }], false)),
    );
    expect(err.code).toBe("manifest_not_json");
  });

  it("an invalid manifest, with zod issue paths", async () => {
    const bad = {
      ...manifest,
      name: "Not Kebab",
      permissions: { ...noPermissions(), network: { allowedDomains: ["*"] } },
    };
    const err = await refusal(
      unpackPackage(rawArchive([{ name: MANIFEST_FILE, data: text(JSON.stringify(bad)) }], false)),
    );
    expect(err.code).toBe("manifest_invalid");
    expect(Object.keys(err.issues ?? {})).toEqual(
      expect.arrayContaining(["name", "permissions.network.allowedDomains.0"]),
    );
  });
});

describe("packPackage refuses", () => {
  it("paths that would escape the package", async () => {
    expect((await refusal(packPackage(new Map([["../x", text("")]])))).code).toBe("path_traversal");
  });
});
