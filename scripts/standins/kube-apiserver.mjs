// A recording stand-in for the Kubernetes API server, on loopback over plain HTTP: enough of the API
// for the controller's kubernetes driver (discovery, server-side apply PATCH, GET, list with a label
// selector, DELETE), keeping objects in memory. Every request is recorded with its method, path, query,
// content type and body, so a test can check exactly what the client sent (and that it dropped
// nothing). `fail(plural, name, status, message)` makes the next apply of that object answer with that
// status, to drive error reporting and retries. The real API server is in the k8s suite.
import { createServer } from "node:http";

/** The resources the driver uses: group/version → kind → { plural, namespaced }. */
const RESOURCES = {
  v1: {
    Namespace: { name: "namespaces", namespaced: false },
    ConfigMap: { name: "configmaps", namespaced: true },
    Secret: { name: "secrets", namespaced: true },
    Service: { name: "services", namespaced: true },
    Pod: { name: "pods", namespaced: true },
  },
  "apps/v1": { Deployment: { name: "deployments", namespaced: true } },
  "networking.k8s.io/v1": { NetworkPolicy: { name: "networkpolicies", namespaced: true } },
  "apiextensions.k8s.io/v1": {
    CustomResourceDefinition: { name: "customresourcedefinitions", namespaced: false },
  },
};

const kindOf = (gv, plural) =>
  Object.entries(RESOURCES[gv] ?? {}).find(([, r]) => r.name === plural)?.[0] ?? null;

function selectorMatches(selector, labels = {}) {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k, v] = term.split("=");
    return labels[k] === v;
  });
}

export async function start(port = 0) {
  const requests = [];
  const store = new Map(); // path of the object → object
  const failures = new Map(); // plural/name → { status, message }
  const logs = new Map(); // namespace/pod → text

  const status = (res, code, reason, message) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }));
  };
  const json = (res, code, body) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const text = Buffer.concat(chunks).toString("utf8");
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      requests.push({
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers["content-type"] ?? null,
        body,
      });
      // Discovery: GET /api/v1, GET /apis/<group>/<version>.
      const discovery = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))$/.exec(url.pathname);
      if (discovery && req.method === "GET") {
        const gv = discovery[1] ?? discovery[2];
        const kinds = RESOURCES[gv];
        if (!kinds) return status(res, 404, "NotFound", `${gv} is not served`);
        return json(res, 200, {
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: gv,
          resources: Object.entries(kinds).map(([kind, r]) => ({
            name: r.name,
            singularName: kind.toLowerCase(),
            namespaced: r.namespaced,
            kind,
            verbs: ["create", "delete", "get", "list", "patch", "update"],
          })),
        });
      }
      const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname);
      if (log && req.method === "GET") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(logs.get(`${log[1]}/${log[2]}`) ?? "");
        return;
      }
      const m =
        /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(
          url.pathname,
        );
      if (!m) return status(res, 404, "NotFound", `no route for ${url.pathname}`);
      const gv = m[1] ?? m[2];
      const namespace = m[3] ?? null;
      const plural = m[4];
      const name = m[5] ?? null;
      const kind = kindOf(gv, plural);
      if (!kind) return status(res, 404, "NotFound", `${plural} in ${gv} is not served`);
      const key = `${gv}/${namespace ?? ""}/${plural}/${name ?? ""}`;
      if (req.method === "PATCH" && name) {
        const failure = failures.get(`${plural}/${name}`);
        if (failure) {
          failures.delete(`${plural}/${name}`);
          return status(res, failure.status, failure.reason, failure.message);
        }
        const object = { ...body, metadata: { ...body?.metadata, resourceVersion: String(requests.length) } };
        store.set(key, object);
        return json(res, 200, object);
      }
      if (req.method === "GET" && name) {
        const object = store.get(key);
        return object
          ? json(res, 200, object)
          : status(res, 404, "NotFound", `${plural} "${name}" not found`);
      }
      if (req.method === "GET") {
        const selector = url.searchParams.get("labelSelector");
        const items = [...store.entries()]
          .filter(([k]) => k.startsWith(`${gv}/`) && k.split("/").slice(-2)[0] === plural)
          .filter(([k]) => !namespace || k.startsWith(`${gv}/${namespace}/`))
          .map(([, o]) => o)
          .filter((o) => selectorMatches(selector, o.metadata?.labels));
        return json(res, 200, { kind: `${kind}List`, apiVersion: gv, metadata: {}, items });
      }
      if (req.method === "DELETE" && name) {
        if (!store.delete(key)) return status(res, 404, "NotFound", `${plural} "${name}" not found`);
        return json(res, 200, { kind: "Status", apiVersion: "v1", status: "Success" });
      }
      return status(res, 405, "MethodNotAllowed", `${req.method} ${url.pathname}`);
    });
  });
  await new Promise((ok) => server.listen(port, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    store,
    /** What GET …/pods/<name>/log answers for that pod. */
    logs,
    /** The next apply of the `plural` (e.g. "deployments") named `name` answers `code` with `message`. */
    fail(plural, name, code, message, reason = "Invalid") {
      failures.set(`${plural}/${name}`, { status: code, message, reason });
    },
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(ok);
      }),
  };
}
