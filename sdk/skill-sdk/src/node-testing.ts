// Test helpers for skill authors, Node only: local HTTP servers bound to 127.0.0.1 on a free port.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { z } from "zod";

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface LocalReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
}

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 that answers each request with `handler`'s reply. */
export async function startLocalServer(
  handler: (request: RecordedRequest) => LocalReply | Promise<LocalReply>,
): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded))
        .then((reply) => {
          const isText = typeof reply.body === "string" || reply.body === undefined;
          const body = isText ? (reply.body ?? "") : JSON.stringify(reply.body);
          res.writeHead(reply.status ?? 200, {
            "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
            ...reply.headers,
          });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(error));
        });
    });
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The test server has no TCP address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolveClose, rejectClose) => {
        server.closeAllConnections();
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
      }),
  };
}

export interface FakeMessagesRequest {
  model: string;
  max_tokens: number;
  system?: string;
  messages: { role: string; content: string }[];
}

/**
 * A local stand-in for an Anthropic Messages API endpoint (`POST /v1/messages`). `reply` decides the
 * text of each answer; usage counts characters so tests can check it is passed through.
 */
export async function startFakeMessagesApi(
  reply: (request: FakeMessagesRequest) => string,
): Promise<LocalServer & { readonly url: string; readonly calls: FakeMessagesRequest[] }> {
  const calls: FakeMessagesRequest[] = [];
  const server = await startLocalServer((request) => {
    if (request.method !== "POST" || request.url !== "/v1/messages")
      return {
        status: 404,
        body: { type: "error", error: { type: "not_found_error", message: "Not found" } },
      };
    const parsed = parseFakeRequest(request.body);
    if (parsed === null)
      return {
        status: 400,
        body: { type: "error", error: { type: "invalid_request_error", message: "Malformed request" } },
      };
    calls.push(parsed);
    const text = reply(parsed);
    const inputChars =
      (parsed.system ?? "").length + parsed.messages.reduce((n, m) => n + m.content.length, 0);
    return {
      body: {
        id: `msg_${calls.length}`,
        type: "message",
        role: "assistant",
        content: [{ type: "text", text }],
        model: parsed.model,
        stop_reason: "end_turn",
        usage: { input_tokens: inputChars, output_tokens: text.length },
      },
    };
  });
  return Object.assign(server, { url: `${server.origin}/v1/messages`, calls });
}

const fakeRequestSchema = z.object({
  model: z.string(),
  max_tokens: z.number().int().positive(),
  system: z.string().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.string() })),
});

function parseFakeRequest(body: string): FakeMessagesRequest | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = fakeRequestSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
