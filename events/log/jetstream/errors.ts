import { JetStreamApiError } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from "@nats-io/nats-core";
import { RemError } from "../../../src/errors.js";
import type { TenantName } from "../../model/ids.js";

/** JetStream API error codes (`err_code`) this backend reacts to (nats-server errors.json). */
export const JS_ERR = {
  CLUSTER_NOT_AVAILABLE: 10008,
  CONSUMER_NOT_FOUND: 10014,
  NO_MESSAGE_FOUND: 10037,
  NOT_ENABLED_FOR_ACCOUNT: 10039,
  MESSAGE_TOO_LARGE: 10054,
  STREAM_NAME_IN_USE: 10058,
  STREAM_NOT_FOUND: 10059,
  WRONG_LAST_MSG_ID: 10070,
  WRONG_LAST_SEQUENCE: 10071,
  NOT_ENABLED: 10076,
  /** Newer servers (2.11+) when the last sequence cannot be determined. */
  WRONG_LAST_SEQUENCE_UNKNOWN: 10164,
} as const;

export interface ErrorContext {
  readonly tenant: TenantName;
  /** What we were doing, for the message: "append", "read", "open"… */
  readonly op: string;
  /** For appends: the sequence the commit was meant to land at. */
  readonly seq?: number | undefined;
  /** For appends: the pipelined predecessor the append expected. */
  readonly prevCommitId?: string | undefined;
}

/** The JetStream API error code of `err`, if it is a JetStream API error. */
export function jsApiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/**
 * Maps anything nats.js throws to a RemError:
 * - wrong last sequence / wrong last msg id → REM_ERR_LOG_CONFLICT (nothing was stored);
 * - message too large → REM_ERR_COMMIT_TOO_LARGE;
 * - stream missing → REM_ERR_NOT_FOUND;
 * - timeouts, no responders, disconnects, JetStream unavailable or refusing → REM_ERR_LOG_UNAVAILABLE
 *   (retryable: for appends, retry with the same commit id, deduplication makes that safe);
 * - a closed connection → REM_ERR_LOG_CLOSED.
 * RemErrors pass through unchanged.
 */
export function toRemError(err: unknown, ctx: ErrorContext): RemError {
  if (err instanceof RemError) return err;
  const { tenant, op } = ctx;
  const where = `tenant ${tenant}: ${op}`;
  if (err instanceof JetStreamApiError) {
    const code = err.code;
    const expectedSeq = ctx.seq === undefined ? undefined : ctx.seq - 1;
    switch (code) {
      case JS_ERR.WRONG_LAST_SEQUENCE:
      case JS_ERR.WRONG_LAST_SEQUENCE_UNKNOWN: {
        const actualSeq = parseTrailingNumber(err.message);
        const actual = actualSeq === undefined ? "elsewhere" : `at ${actualSeq}`;
        return new RemError("REM_ERR_LOG_CONFLICT", `${where}: expected the log to end at commit ${expectedSeq}, but it ends ${actual}`, {
          tenant,
          expectedSeq,
          ...(actualSeq === undefined ? {} : { actualSeq }),
        }, { cause: err });
      }
      case JS_ERR.WRONG_LAST_MSG_ID: {
        const lastCommitId = err.message.match(/wrong last msg id: (\S*)/i)?.[1];
        return new RemError(
          "REM_ERR_LOG_CONFLICT",
          `${where}: expected commit ${expectedSeq} to be ${ctx.prevCommitId ?? "our pipelined predecessor"}, but the last commit is ${lastCommitId || "another one"}`,
          { tenant, expectedSeq, prevCommitId: ctx.prevCommitId, lastCommitId },
          { cause: err },
        );
      }
      case JS_ERR.MESSAGE_TOO_LARGE:
        return new RemError("REM_ERR_COMMIT_TOO_LARGE", `${where}: JetStream refused the commit as too large (${err.message})`, { tenant, seq: ctx.seq }, { cause: err });
      case JS_ERR.STREAM_NOT_FOUND:
        return new RemError("REM_ERR_NOT_FOUND", `${where}: the tenant's JetStream stream does not exist`, { tenant }, { cause: err });
      default:
        return new RemError("REM_ERR_LOG_UNAVAILABLE", `${where}: JetStream refused: ${err.message} (err_code ${code})`, { tenant, seq: ctx.seq, jsErrCode: code }, { cause: err });
    }
  }
  if (err instanceof ClosedConnectionError) {
    return new RemError("REM_ERR_LOG_CLOSED", `${where}: the NATS connection is closed`, { tenant }, { cause: err });
  }
  if (
    err instanceof TimeoutError ||
    err instanceof RequestError ||
    err instanceof NoRespondersError ||
    err instanceof ConnectionError ||
    err instanceof DrainingConnectionError ||
    isNamed(err, "JetStreamNotEnabled", "JetStreamError", "JetStreamStatusError")
  ) {
    const reason = err instanceof TimeoutError ? "no answer from JetStream in time" : (err as Error).message;
    return new RemError("REM_ERR_LOG_UNAVAILABLE", `${where}: JetStream unavailable (${reason})`, { tenant, seq: ctx.seq }, { cause: err });
  }
  if (err instanceof InvalidArgumentError && /max_payload/i.test(err.message)) {
    return new RemError("REM_ERR_COMMIT_TOO_LARGE", `${where}: the commit exceeds the NATS server's max_payload`, { tenant, seq: ctx.seq }, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RemError("REM_ERR_INTERNAL", `${where}: unexpected error from nats.js: ${message}`, { tenant, seq: ctx.seq }, { cause: err });
}

/** Worth retrying after a pause: the server or the connection may come back. */
export function isTransient(err: RemError): boolean {
  return err.code === "REM_ERR_LOG_UNAVAILABLE";
}

// nats.js does not export every error class from its public entry points; their names are stable.
function isNamed(err: unknown, ...names: string[]): boolean {
  return err instanceof Error && names.includes(err.name);
}

function parseTrailingNumber(message: string): number | undefined {
  const m = message.match(/(\d+)\s*$/);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
