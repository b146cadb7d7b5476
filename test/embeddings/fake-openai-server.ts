import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the server saw of one `POST /v1/embeddings`. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly model: unknown;
  readonly input: string[];
  readonly encodingFormat: unknown;
  readonly dimensions: unknown;
}

/** How to answer: a status, headers and a body (JSON-encoded unless `raw`), or cut the connection. */
export type Reply =
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly body?: unknown; readonly raw?: string }
  | "destroy";

/** Called for every request; `n` counts requests from 0. Returns the reply, or undefined for the normal one. */
export type Responder = (req: SeenRequest, n: number) => Reply | undefined | Promise<Reply | undefined>;

export interface FakeOpenAI {
  /** API root to use as OPENAI_BASE_URL, e.g. "http://127.0.0.1:PORT/v1". */
  readonly baseURL: string;
  readonly requests: SeenRequest[];
  /** Most requests being answered at the same time. */
  readonly maxInFlight: number;
  respond: Responder | null;
  /** Delay before each answer (ms). */
  delayMs: number;
  close(): Promise<void>;
}

/** Vector length when the request has no `dimensions`. */
export const FAKE_DIM = 8;

/** The deterministic vector the server returns for `text`: a function of the text alone. */
export function fakeVector(text: string, dim: number = FAKE_DIM): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return Array.from({ length: dim }, (_, j) => (((h + j * 2654435761) >>> 0) % 2001) / 1000 - 1);
}

/** The normal, well-formed answer for a request. */
export function normalBody(req: SeenRequest): { object: string; data: unknown[]; model: unknown; usage: unknown } {
  const dim = typeof req.dimensions === "number" ? req.dimensions : FAKE_DIM;
  return {
    object: "list",
    data: req.input.map((text, index) => ({ object: "embedding", index, embedding: fakeVector(text, dim) })),
    model: req.model,
    usage: { prompt_tokens: req.input.length, total_tokens: req.input.length },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A real HTTP server on a free port of 127.0.0.1 speaking the OpenAI embeddings API. */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { respond: null as Responder | null, delayMs: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on("close", finish);
    const text = await readBody(req);
    if (req.method !== "POST" || req.url !== "/v1/embeddings") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "no such route" } }));
      return;
    }
    const json = JSON.parse(text) as Record<string, unknown>;
    const seen: SeenRequest = {
      method: req.method,
      path: req.url,
      authorization: req.headers.authorization,
      model: json.model,
      input: json.input as string[],
      encodingFormat: json.encoding_format,
      dimensions: json.dimensions,
    };
    const n = requests.length;
    requests.push(seen);
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    const reply = (await state.respond?.(seen, n)) ?? { body: normalBody(seen) };
    if (reply === "destroy") {
      req.socket.destroy();
      return;
    }
    const payload = reply.raw ?? JSON.stringify(reply.body ?? normalBody(seen));
    res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers }).end(payload);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    get respond() {
      return state.respond;
    },
    set respond(r: Responder | null) {
      state.respond = r;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
