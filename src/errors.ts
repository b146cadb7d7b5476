/**
 * The one error catalogue of REM. Every error a user can see has a stable
 * code from this table; messages may improve, codes never change meaning.
 * `status` is the HTTP status the server maps the code to.
 */
export const ERRORS = {
  REM_ERR_INVALID_ARGUMENT: { status: 400, title: "Invalid argument" },
  REM_ERR_EVENT_INVALID: { status: 400, title: "Invalid event" },
  REM_ERR_TENANT_INVALID: { status: 400, title: "Invalid tenant name" },
  REM_ERR_COMMIT_TOO_LARGE: { status: 413, title: "Commit too large" },
  REM_ERR_COMMIT_EMPTY: { status: 400, title: "Empty commit" },
  REM_ERR_NOT_INITIALIZED: { status: 404, title: "Tenant not initialised" },
  REM_ERR_ALREADY_EXISTS: { status: 409, title: "Already exists" },
  REM_ERR_NOT_FOUND: { status: 404, title: "Not found" },
  REM_ERR_SCHEMA_INVALID: { status: 400, title: "Invalid schema" },
  REM_ERR_SCHEMA_NOT_FOUND: { status: 404, title: "Unknown schema" },
  REM_ERR_ENTITY_INVALID: { status: 422, title: "Entity does not match its schema" },
  REM_ERR_QUERY_INVALID: { status: 400, title: "Invalid query" },
  REM_ERR_QUERY_UNSUPPORTED: { status: 400, title: "Unsupported query" },
  REM_ERR_STORE_LOCKED: { status: 423, title: "Projection store in use by another process" },
  REM_ERR_EMBEDDING_PROVIDER: { status: 502, title: "Embedding provider failed" },
  REM_ERR_EMBEDDING_UNKNOWN_PROVIDER: { status: 400, title: "Unknown embedding provider" },
  REM_ERR_EMBEDDING_INVALID: { status: 400, title: "Invalid embedding input" },
  REM_ERR_EMBEDDING_DIMENSION: { status: 400, title: "Embedding dimension mismatch" },
  REM_ERR_LOG_CONFLICT: { status: 409, title: "Log sequence conflict" },
  REM_ERR_LOG_LOCKED: { status: 423, title: "Log locked by another process" },
  REM_ERR_LOG_CORRUPT: { status: 500, title: "Log corrupt" },
  REM_ERR_LOG_CLOSED: { status: 503, title: "Log closed" },
  REM_ERR_LOG_UNAVAILABLE: { status: 503, title: "Log unavailable" },
  REM_ERR_DECODE: { status: 500, title: "Malformed commit" },
  REM_ERR_CHECKSUM: { status: 500, title: "Checksum mismatch" },
  REM_ERR_SEQ_GAP: { status: 500, title: "Sequence gap" },
  REM_ERR_CHAIN_BROKEN: { status: 500, title: "Hash chain broken" },
  REM_ERR_TENANT_MISMATCH: { status: 500, title: "Commit belongs to another tenant" },
  REM_ERR_CLOCK_REGRESSION: { status: 500, title: "Commit timestamp went backwards" },
  REM_ERR_BAD_SIGNATURE: { status: 500, title: "Bad signature" },
  REM_ERR_UNKNOWN_KEY: { status: 500, title: "Unknown signing key" },
  REM_ERR_KEY_NOT_FOUND: { status: 500, title: "Data key not found" },
  REM_ERR_KEY_SHREDDED: { status: 410, title: "Data key shredded" },
  REM_ERR_DECRYPT: { status: 500, title: "Decryption failed" },
  REM_ERR_BAD_PASSPHRASE: { status: 401, title: "Wrong passphrase" },
  REM_ERR_PASSPHRASE_REQUIRED: { status: 401, title: "Passphrase required" },
  REM_ERR_KEYSTORE: { status: 500, title: "Keystore error" },
  REM_ERR_UNSUPPORTED_VERSION: { status: 500, title: "Unsupported format version" },
  REM_ERR_UNAUTHORIZED: { status: 401, title: "Missing or invalid token" },
  REM_ERR_FORBIDDEN: { status: 403, title: "Not allowed" },
  REM_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: "Request body too large" },
  REM_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  REM_ERR_RATE_LIMITED: { status: 429, title: "Too many requests" },
  REM_ERR_NOT_CAUGHT_UP: { status: 504, title: "Projection not caught up" },
  REM_ERR_READ_ONLY: { status: 409, title: "Read-only node" },
  REM_ERR_ARCHIVE_UNAVAILABLE: { status: 503, title: "Archive store unavailable" },
  REM_ERR_ARCHIVE_ACCESS_DENIED: { status: 502, title: "Archive store denied access" },
  REM_ERR_ARCHIVE_NOT_FOUND: { status: 404, title: "Archive object not found" },
  REM_ERR_ARCHIVE_CORRUPT: { status: 500, title: "Archive object corrupt or inconsistent" },
  REM_ERR_ARCHIVE_CONFLICT: { status: 409, title: "Archive conflict" },
  REM_ERR_SQL_INVALID: { status: 400, title: "Invalid SQL" },
  REM_ERR_SQL_REFUSED: { status: 403, title: "SQL statement refused" },
  REM_ERR_SQL_LIMIT: { status: 422, title: "SQL query over a limit" },
  REM_ERR_EXPORT_FAILED: { status: 500, title: "Export failed" },
  REM_ERR_INTERNAL: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Structured context attached to an error: which tenant, sequence, field… */
export interface ErrorDetails {
  tenant?: string;
  seq?: number;
  field?: string;
  path?: string;
  line?: number;
  segment?: string;
  offset?: number;
  keyId?: string;
  expectedSeq?: number;
  actualSeq?: number;
  [key: string]: unknown;
}

/**
 * The error class every REM module throws for conditions a caller can act on.
 * `code` is stable; `details` names the tenant, sequence or field involved;
 * `cause` keeps the underlying error.
 */
export class RemError extends Error {
  override readonly name = "RemError";
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  get title(): string {
    return ERRORS[this.code].title;
  }

  /** A JSON shape for CLI output and problem+json bodies. No stack traces. */
  toJSON(): { code: ErrorCode; title: string; message: string; details: ErrorDetails } {
    return { code: this.code, title: this.title, message: this.message, details: this.details };
  }
}

export function isRemError(err: unknown, code?: ErrorCode): err is RemError {
  return err instanceof RemError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a RemError, keeping RemErrors as they are. */
export function asRemError(err: unknown, fallback: ErrorCode = "REM_ERR_INTERNAL"): RemError {
  if (err instanceof RemError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RemError(fallback, message, {}, { cause: err });
}
