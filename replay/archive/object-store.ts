import type { S3Client } from "@aws-sdk/client-s3";
import { RemError, type ErrorCode } from "../../src/errors.js";
import { joinKey, parseS3Url, s3Url, type S3Location } from "./s3-url.js";

/** An object as listed or headed: its key (relative to the store's root prefix), size and user metadata. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly etag?: string | undefined;
  readonly metadata?: Record<string, string> | undefined;
}

/**
 * The little of S3 an archive needs. Keys are relative to the store's root
 * (the URL's prefix). Every failure is a RemError naming the object:
 * REM_ERR_ARCHIVE_NOT_FOUND (get of a missing key), REM_ERR_ARCHIVE_ACCESS_DENIED
 * (403, bad credentials), REM_ERR_ARCHIVE_UNAVAILABLE (5xx, throttling, network,
 * after the retries), REM_ERR_INVALID_ARGUMENT (a missing bucket, other 4xx).
 */
export interface ObjectStore {
  readonly location: S3Location;
  /** `s3://bucket/prefix/key`, for messages. */
  url(key: string): string;
  put(key: string, body: Uint8Array, options?: { metadata?: Record<string, string>; contentType?: string }): Promise<{ etag: string | undefined }>;
  get(key: string): Promise<Uint8Array>;
  /** null when the object does not exist. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(keys: readonly string[]): Promise<void>;
  close(): void;
}

export interface RetryOptions {
  /** Attempts of our own around the SDK's (which retries too); default 6. */
  readonly attempts?: number;
  /** First backoff; doubles per attempt, with full jitter, capped at maxDelayMs. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Default 10 s. */
  readonly maxDelayMs?: number;
}

export interface S3StoreOptions {
  readonly location: S3Location;
  /** An S3-compatible endpoint (MinIO, Ceph, s3rver…): path-style addressing is used. Default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS. */
  readonly endpoint?: string | undefined;
  /** Default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1 (with region redirects followed). */
  readonly region?: string | undefined;
  /** Default: the SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE and ~/.aws, SSO, instance roles…). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** The SDK's own attempts per request (standard retry mode); default 3. */
  readonly sdkMaxAttempts?: number;
  readonly retry?: RetryOptions;
  /** Per-request socket timeout; default 120 s (a 64 MiB segment at a slow 1 MB/s fits). */
  readonly requestTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** HTTP statuses and error names worth another attempt: server faults, throttling, timeouts. */
const RETRYABLE_NAMES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
  "NetworkingError",
]);
const RETRYABLE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);
const DENIED_NAMES = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AllAccessDisabled", "CredentialsProviderError"]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

type Failure = "not-found" | "denied" | "retryable" | "fatal";

export function classifyS3Error(err: unknown): Failure {
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? "";
  if (name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket")) return "not-found";
  if (DENIED_NAMES.has(name) || status === 403 || status === 401) return "denied";
  if (RETRYABLE_NAMES.has(name) || e.$retryable !== undefined) return "retryable";
  if (status !== undefined) return status >= 500 || status === 429 || status === 408 ? "retryable" : "fatal";
  // No HTTP status: the request never got an answer (reset, refused, timed out, truncated body).
  const code = e.code ?? (e.cause as SdkError | undefined)?.code;
  if (code !== undefined && RETRYABLE_CODES.has(code)) return "retryable";
  return err instanceof Error && !(err instanceof RemError) ? "retryable" : "fatal";
}

function describeError(err: unknown): string {
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const msg = e.message && e.message !== "UnknownError" ? e.message : (e.name ?? String(err));
  return status === undefined ? `${e.name ?? "Error"}: ${msg}` : `HTTP ${status} ${e.name ?? ""}: ${msg}`.replace(/\s+:/, ":");
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Retries `fn` on retryable failures with exponential backoff and full jitter;
 * turns the final failure into a RemError naming the operation and object.
 */
export async function withRetries<T>(op: string, where: string, retry: RetryOptions, fn: () => Promise<T>): Promise<T> {
  const attempts = Math.max(1, retry.attempts ?? 6);
  const base = retry.baseDelayMs ?? 200;
  const cap = retry.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RemError) throw err;
      const kind = classifyS3Error(err);
      if (kind === "retryable" && attempt < attempts) {
        await sleep(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)));
        continue;
      }
      const code: ErrorCode =
        kind === "not-found" ? "REM_ERR_ARCHIVE_NOT_FOUND" : kind === "denied" ? "REM_ERR_ARCHIVE_ACCESS_DENIED" : kind === "retryable" ? "REM_ERR_ARCHIVE_UNAVAILABLE" : "REM_ERR_INVALID_ARGUMENT";
      const suffix = kind === "retryable" ? ` (gave up after ${attempt} attempts)` : kind === "denied" ? " (check the AWS credentials and the bucket policy)" : "";
      const name = (err as SdkError | undefined)?.name;
      const message =
        kind === "not-found"
          ? `${where} does not exist`
          : name === "NoSuchBucket"
            ? `${op} ${where}: the bucket does not exist`
            : `${op} ${where} failed: ${describeError(err)}${suffix}`;
      throw new RemError(code, message, { object: where, op, attempts: attempt, s3_error: name ?? null, http_status: (err as SdkError | undefined)?.$metadata?.httpStatusCode ?? null }, { cause: err });
    }
  }
}

/** Lets the CLI keep stderr for REM's own messages: the SDK warns about Node 20 once per process. */
function quietSdkWarnings(env: NodeJS.ProcessEnv): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

/**
 * An ObjectStore over the AWS SDK v3 S3 client. The SDK retries each request
 * itself (standard mode: exponential backoff, throttling-aware, `sdkMaxAttempts`);
 * `withRetries` adds a slower outer loop so a throttled or briefly unreachable
 * store does not fail a long archive or restore. Integrity does not rely on the
 * transport: every archived object's BLAKE3 is in the manifest and checked on read.
 */
export async function openS3Store(o: S3StoreOptions): Promise<ObjectStore> {
  const env = o.env ?? process.env;
  quietSdkWarnings(process.env);
  // Loaded on demand: the SDK is a large import that other commands never need.
  const sdk = await import("@aws-sdk/client-s3");
  const endpoint = o.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `invalid S3 endpoint ${JSON.stringify(endpoint)}: expected http(s)://host[:port]`, { field: "endpoint" });
  }
  const client: S3Client = new sdk.S3Client({
    region: o.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? "us-east-1",
    ...(endpoint === undefined ? { followRegionRedirects: true } : { endpoint, forcePathStyle: true }),
    ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
    maxAttempts: o.sdkMaxAttempts ?? 3,
    retryMode: "standard",
    // S3-compatible stores vary in their support of the SDK's newer default checksums
    // (CRC32 trailers); REM checks BLAKE3 of every object itself.
    ...(endpoint === undefined ? {} : { requestChecksumCalculation: "WHEN_REQUIRED" as const, responseChecksumValidation: "WHEN_REQUIRED" as const }),
    requestHandler: { requestTimeout: o.requestTimeoutMs ?? 120_000, connectionTimeout: 10_000 },
  });
  const loc = o.location;
  const retry = o.retry ?? {};
  const abs = (key: string) => joinKey(loc.prefix, key);
  const rel = (key: string) => (loc.prefix === "" ? key : key.slice(loc.prefix.length + 1));
  const url = (key: string) => s3Url(loc, key);
  return {
    location: loc,
    url,
    async put(key, body, options = {}) {
      return withRetries("uploading", url(key), retry, async () => {
        const r = await client.send(
          new sdk.PutObjectCommand({ Bucket: loc.bucket, Key: abs(key), Body: body, ContentLength: body.length, ContentType: options.contentType ?? "application/octet-stream", Metadata: options.metadata }),
        );
        return { etag: r.ETag };
      });
    },
    async get(key) {
      return withRetries("downloading", url(key), retry, async () => {
        const r = await client.send(new sdk.GetObjectCommand({ Bucket: loc.bucket, Key: abs(key) }));
        if (r.Body === undefined) throw Object.assign(new Error("empty response body"), { name: "NetworkingError" });
        const bytes = await r.Body.transformToByteArray();
        if (r.ContentLength !== undefined && bytes.length !== r.ContentLength) {
          // A connection cut mid-body: retry rather than hand back a truncated object.
          throw Object.assign(new Error(`received ${bytes.length} of ${r.ContentLength} bytes`), { name: "NetworkingError" });
        }
        return bytes;
      });
    },
    async head(key) {
      try {
        return await withRetries("reading", url(key), retry, async () => {
          const r = await client.send(new sdk.HeadObjectCommand({ Bucket: loc.bucket, Key: abs(key) }));
          return { key, size: r.ContentLength ?? 0, etag: r.ETag, metadata: r.Metadata };
        });
      } catch (err) {
        if (err instanceof RemError && err.code === "REM_ERR_ARCHIVE_NOT_FOUND") return null;
        throw err;
      }
    },
    async list(prefix) {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      const p = prefix === "" ? (loc.prefix === "" ? "" : `${loc.prefix}/`) : abs(prefix) + (prefix.endsWith("/") ? "/" : "");
      do {
        const r = await withRetries("listing", url(prefix), retry, () =>
          client.send(new sdk.ListObjectsV2Command({ Bucket: loc.bucket, Prefix: p, ContinuationToken: token })),
        );
        for (const c of r.Contents ?? []) if (c.Key !== undefined) out.push({ key: rel(c.Key), size: c.Size ?? 0, etag: c.ETag });
        token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
      } while (token !== undefined);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const r = await withRetries("deleting", url(chunk[0]!), retry, () =>
          client.send(new sdk.DeleteObjectsCommand({ Bucket: loc.bucket, Delete: { Objects: chunk.map((k) => ({ Key: abs(k) })), Quiet: true } })),
        );
        const failed = r.Errors ?? [];
        if (failed.length > 0) {
          const f = failed[0]!;
          throw new RemError("REM_ERR_ARCHIVE_UNAVAILABLE", `deleting ${s3Url({ bucket: loc.bucket, prefix: "" }, f.Key ?? "")} failed: ${f.Code ?? ""} ${f.Message ?? ""}`.trim(), {
            object: f.Key ?? null,
            failed: failed.length,
          });
        }
      }
    },
    close() {
      client.destroy();
    },
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** Opens the archive store named by an `s3://bucket/prefix` URL (the CLI's --s3 / --from, with --endpoint). */
export function openArchiveUrl(url: string, options: Omit<S3StoreOptions, "location"> = {}): Promise<ObjectStore> {
  return openS3Store({ ...options, location: parseS3Url(url) });
}
