// The platform's sandbox service, Node only: the Worker cannot start processes, so it sends a package
// here to have its tests dry-run (`runDryRun`, the same sandbox as `aegis-skill dry-run`). One route:
//
//   POST /dry-run?timeoutMs=&memoryMb=   body: the package (.tgz), `authorization: Bearer <secret>`
//   → 200 DryRunResult | 400 { error: { code, message } } | 401 | 413
//
// `npm run dev` and the tests start it on 127.0.0.1; deployed, it runs as a container beside the Worker
// (SKILL_SANDBOX_URL / SKILL_SANDBOX_SECRET), with no network of its own beyond what runDryRun opens.
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { DEFAULT_PACKAGE_LIMITS, PackageError, unpackPackage } from "../package";
import { DEFAULT_DRY_RUN_LIMITS, runDryRun } from "./dry-run";

export interface SandboxService {
  readonly url: string;
  readonly secret: string;
  close(): Promise<void>;
}

/** At most this many dry-runs at once; more wait their turn (each is a Node process). */
const CONCURRENCY = 2;

export async function startSandboxService(
  port: number,
  options: { secret: string },
): Promise<SandboxService> {
  const expected = Buffer.from(`Bearer ${options.secret}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async () => {
    if (running >= CONCURRENCY) await new Promise<void>((go) => waiting.push(go));
    running++;
    return () => {
      running--;
      waiting.shift()?.();
    };
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: string, message: string) =>
      answer(status, { error: { code, message } });
    const url = new URL(req.url ?? "/", "http://sandbox");
    if (req.method !== "POST" || url.pathname !== "/dry-run")
      return fail(404, "not_found", "POST /dry-run only");
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return fail(401, "unauthorized", "A valid sandbox secret is required");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > DEFAULT_PACKAGE_LIMITS.maxTotalBytes) {
        fail(413, "payload_too_large", "The package is larger than a package may be");
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", async () => {
      if (res.headersSent) return;
      const limit = (name: string, fallback: number, max: number) => {
        const value = Number(url.searchParams.get(name) ?? fallback);
        return Number.isInteger(value) && value >= 1 ? Math.min(value, max) : fallback;
      };
      let release: (() => void) | undefined;
      try {
        const pkg = await unpackPackage(new Uint8Array(Buffer.concat(chunks)));
        release = await slot();
        const result = await runDryRun(pkg.files, pkg.manifest, {
          timeoutMs: limit("timeoutMs", DEFAULT_DRY_RUN_LIMITS.timeoutMs, 60_000),
          memoryMb: limit("memoryMb", DEFAULT_DRY_RUN_LIMITS.memoryMb, 256),
        });
        answer(200, result);
      } catch (err) {
        if (err instanceof PackageError) fail(400, err.code, err.message);
        else {
          console.error("dry-run failed", err);
          fail(500, "internal_error", "The dry-run could not be run");
        }
      } finally {
        release?.();
      }
    });
  });
  await new Promise<void>((ok, failListen) => {
    server.once("error", failListen);
    server.listen(port, "127.0.0.1", () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The sandbox service has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    secret: options.secret,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
