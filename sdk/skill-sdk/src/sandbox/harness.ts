// The code that runs inside the dry-run's child process, kept as text: `runDryRun` writes it into the
// run's temporary folder (the only folder the child may read), so it works the same from the bundled
// CLI and from the platform's sandbox service.

/** Loaded with `--import` before the runner: takes the network, native bindings and env away. */
export const PRELOAD_SOURCE = `import Module, { register } from "node:module";
import { writeSync } from "node:fs";

const config = JSON.parse(process.env.AEGIS_DRY_RUN_CONFIG ?? "{}");
Object.defineProperty(globalThis, Symbol.for("aegis.dryRun"), { value: Object.freeze({ tests: config.tests }) });

const report = (kind, target, allowed) => {
  try {
    writeSync(3, JSON.stringify({ kind, target, allowed }) + "\\n");
  } catch {}
};

// Modules that reach the network or other processes: refused for import() and for require().
const BLOCKED = new Set(["net", "http", "https", "tls", "dgram", "dns", "dns/promises", "http2", "cluster",
  "child_process", "worker_threads", "inspector", "inspector/promises", "undici"]);
const blocked = (specifier) => BLOCKED.has(String(specifier).replace(/^node:/, ""));
register("./hooks.mjs", import.meta.url);
const load = Module._load;
Module._load = function (request, ...rest) {
  if (blocked(request)) throw new Error(\`aegis dry-run: "\${request}" is not available; skills reach the network through fetch\`);
  return load.call(this, request, ...rest);
};
for (const name of ["binding", "_linkedBinding", "dlopen"]) {
  Object.defineProperty(process, name, {
    value: () => {
      throw new Error(\`aegis dry-run: process.\${name} is not available\`);
    },
  });
}
for (const name of ["WebSocket", "EventSource"]) delete globalThis[name];

// fetch: only the manifest's domains, answered by the fixture server; everything else is refused.
const realFetch = globalThis.fetch;
const domains = (config.allowedDomains ?? []).map((d) => d.toLowerCase());
const declaredHost = (host) => {
  const h = host.toLowerCase().replace(/\\.$/, "");
  if (h.includes(":") || h.startsWith("[") || /^(\\d+|0x[0-9a-f]*)$/i.test(h.split(".").pop() ?? "")) return false;
  return domains.some((d) => (d.startsWith("*.") ? h.endsWith(d.slice(1)) && h.length > d.length - 1 : h === d));
};
const refuse = (host, why) => {
  report("network", host, false);
  return new TypeError(\`aegis dry-run: \${why}\`);
};
globalThis.fetch = async function fetch(input, init) {
  const request = new Request(input, init);
  const url = new URL(request.url);
  const host = url.hostname;
  if (url.protocol !== "https:" && url.protocol !== "http:") throw refuse(host || url.protocol, \`\${url.protocol} is not allowed\`);
  if (url.port !== "") throw refuse(host, \`\${host}:\${url.port}: only default ports are allowed\`);
  if (!declaredHost(host)) throw refuse(host, \`\${host} is not in the manifest's network.allowedDomains\`);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  const answer = await realFetch(\`\${config.fixtureOrigin}/\${url.host}\${url.pathname}\${url.search}\`, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: "manual",
  });
  if (answer.status === 403 && (await answer.clone().text()) === "not declared") throw refuse(host, \`\${host} is not declared\`);
  return answer;
};

// The environment: only the declared variables (placeholders), every other read recorded as refused.
const declaredEnv = new Set(config.declaredEnv ?? []);
const values = Object.fromEntries([...declaredEnv].map((name) => [name, \`dry-run-\${name.toLowerCase()}\`]));
// Node and its bundled libraries read variables of their own; only reads made by the package's code
// (the frame right below this trap is one of its files) are reported.
const byPackage = () => {
  const frames = (new Error().stack ?? "").split("\\n").slice(1);
  const caller = frames.find((line) => !line.includes(import.meta.url));
  return caller !== undefined && caller.includes(config.packageUrl);
};
Object.defineProperty(process, "env", {
  value: new Proxy(values, {
    get(target, name) {
      if (typeof name !== "string") return undefined;
      if (byPackage()) report("env", name, declaredEnv.has(name));
      return declaredEnv.has(name) ? target[name] : undefined;
    },
    has(target, name) {
      return typeof name === "string" && declaredEnv.has(name);
    },
    set() {
      return true;
    },
  }),
});
`;

/** ESM resolve hook (registered by the preload): blocked modules cannot be imported either. */
export const HOOKS_SOURCE = `const BLOCKED = new Set(["net", "http", "https", "tls", "dgram", "dns", "dns/promises", "http2", "cluster",
  "child_process", "worker_threads", "inspector", "inspector/promises", "undici"]);
export async function resolve(specifier, context, next) {
  if (BLOCKED.has(String(specifier).replace(/^node:/, ""))) {
    throw new Error(\`aegis dry-run: "\${specifier}" is not available; skills reach the network through fetch\`);
  }
  return next(specifier, context);
}
`;

/** Imports each test file; node:test runs the tests they declare and prints TAP. */
export const RUNNER_SOURCE = `import { pathToFileURL } from "node:url";
const { tests } = globalThis[Symbol.for("aegis.dryRun")];
for (const file of tests) await import(pathToFileURL(file).href);
`;
