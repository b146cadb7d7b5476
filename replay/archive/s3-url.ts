import { RemError } from "../../src/errors.js";

/** Where an archive lives: a bucket and a key prefix (no leading or trailing slash; may be empty). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * S3 bucket names as AWS allows them for new buckets (3-63 characters of a-z,
 * 0-9, '.', '-', starting and ending with a letter or digit). S3-compatible
 * stores accept the same set.
 */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket/prefix` (the prefix is optional: `s3://bucket`). Any
 * problem is a REM_ERR_INVALID_ARGUMENT that says what a valid URL looks like.
 */
export function parseS3Url(url: string): S3Location {
  const bad = (why: string) =>
    new RemError("REM_ERR_INVALID_ARGUMENT", `invalid archive URL ${JSON.stringify(url)}: ${why} (expected s3://bucket/prefix)`, { field: "s3", url });
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(url.trim());
  if (m === null) throw bad(url.includes("://") ? "only the s3:// scheme is supported, without ?query or #fragment" : "not a URL");
  const bucket = m[1]!;
  if (bucket === "") throw bad("the bucket name is missing");
  if (!BUCKET.test(bucket) || bucket.includes("..")) throw bad(`${JSON.stringify(bucket)} is not a valid bucket name (3-63 characters of a-z, 0-9, '.', '-')`);
  const parts = (m[2] ?? "").split("/").filter((p) => p !== "");
  for (const p of parts) {
    if (p === "." || p === "..") throw bad("the prefix must not contain '.' or '..' segments");
  }
  return { bucket, prefix: parts.join("/") };
}

/** `s3://bucket/prefix/key`, for messages. */
export function s3Url(loc: S3Location, key = ""): string {
  return `s3://${loc.bucket}/${joinKey(loc.prefix, key)}`;
}

/** Joins key parts with single slashes, ignoring empty parts. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split("/"))
    .filter((p) => p !== "")
    .join("/");
}
