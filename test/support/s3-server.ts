import S3rver from "s3rver";
import { afterAll, beforeAll } from "vitest";
import { openS3Store, type ObjectStore, type RetryOptions } from "../../replay/archive/object-store.js";
import { tempDir } from "./tmp.js";

/** s3rver accepts these (and only these) credentials when it checks signatures. */
export const S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface S3ServerHandle {
  /** http://127.0.0.1:PORT — pass as --endpoint (path-style). */
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** The environment a `rem` child process needs to reach it with the standard AWS variables. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** A real S3 API server (s3rver) on a free loopback port, storing in a temp dir, with one bucket. */
export async function startS3Server(bucket = "rem-archive"): Promise<S3ServerHandle> {
  const dir = await tempDir("rem-s3-");
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir.path, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    env: { AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey, AWS_REGION: "us-east-1" },
    async close() {
      await server.close();
      await dir.cleanup();
    },
  };
}

/** An s3rver for the enclosing test file: started in beforeAll, stopped in afterAll. */
export function useS3Server(bucket?: string): { readonly server: S3ServerHandle } {
  let server: S3ServerHandle | undefined;
  beforeAll(async () => {
    server = await startS3Server(bucket);
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server() {
      if (server === undefined) throw new Error("the S3 server starts in beforeAll");
      return server;
    },
  };
}

/** An ObjectStore on `endpoint` (the server, or a proxy in front of it) under `prefix`, with quick retries for tests. */
export function testStore(server: S3ServerHandle, prefix: string, options: { endpoint?: string; retry?: RetryOptions; sdkMaxAttempts?: number } = {}): Promise<ObjectStore> {
  return openS3Store({
    location: { bucket: server.bucket, prefix },
    endpoint: options.endpoint ?? server.endpoint,
    credentials: { ...S3_CREDENTIALS },
    region: "us-east-1",
    retry: options.retry ?? { attempts: 8, baseDelayMs: 5, maxDelayMs: 50 },
    sdkMaxAttempts: options.sdkMaxAttempts,
    env: {},
  });
}
