import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultKind = "500" | "503" | "reset" | "lost-answer";

export interface FlakyProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Fraction of requests that fail (0..1); may be changed between operations. */
  failureRate: number;
  readonly stats: { requests: number; forwarded: number } & Record<FaultKind, number>;
  close(): Promise<void>;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const xmlError = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>flaky</RequestId></Error>`;

/**
 * A loopback HTTP proxy in front of an S3 server that fails a random fraction
 * of requests the ways S3 and networks do: 500 InternalError, 503 SlowDown
 * (throttling), a connection reset before any answer, and "lost answer" — the
 * request reaches the server (an upload lands) but the client gets a 503. The
 * rest is forwarded unchanged (headers included, so signatures still verify).
 */
export async function startFlakyProxy(upstream: string, options: { failureRate: number; seed: number; kinds?: FaultKind[] }): Promise<FlakyProxy> {
  const target = new URL(upstream);
  const rand = prng(options.seed);
  const kinds = options.kinds ?? ["500", "503", "reset", "lost-answer"];
  const stats = { requests: 0, forwarded: 0, "500": 0, "503": 0, reset: 0, "lost-answer": 0 };
  const sockets = new Set<import("node:net").Socket>();
  const forward = (req: IncomingMessage, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void) => {
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, onResponse);
    up.on("error", onError);
    req.pipe(up);
  };
  const proxy: FlakyProxy = {
    endpoint: "",
    failureRate: options.failureRate,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const fail = rand() < proxy.failureRate;
    const kind = kinds[Math.floor(rand() * kinds.length)]!;
    const reply = (status: number, code: string, message: string) => {
      const body = req.method === "HEAD" ? "" : xmlError(code, message);
      res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (fail && kind === "reset") {
      stats.reset++;
      req.socket.destroy();
      return;
    }
    if (fail && (kind === "500" || kind === "503")) {
      stats[kind]++;
      req.resume();
      req.on("end", () => (kind === "500" ? reply(500, "InternalError", "We encountered an internal error. Please try again.") : reply(503, "SlowDown", "Please reduce your request rate.")));
      return;
    }
    forward(
      req,
      (up) => {
        if (fail) {
          stats["lost-answer"]++;
          up.resume();
          up.on("end", () => reply(503, "ServiceUnavailable", "Service is unable to handle request."));
          return;
        }
        stats.forwarded++;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
      () => req.socket.destroy(),
    );
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  (proxy as { endpoint: string }).endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
