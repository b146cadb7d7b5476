import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { ERRORS, RemError, asRemError, type ErrorCode } from "../errors.js";

/** The media type of every error response (RFC 9457). */
export const PROBLEM_JSON = "application/problem+json";

/** An RFC 9457 problem: `type` is a stable URI per code, `code` the same code in REM's catalogue. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly instance?: string;
  readonly [extra: string]: unknown;
}

export function problemOf(e: RemError, instance?: string): Problem {
  const { tenant, ...details } = e.details;
  return {
    type: `https://rem.dev/problems/${e.code.toLowerCase().replace(/^rem_err_/, "").replace(/_/g, "-")}`,
    title: ERRORS[e.code].title,
    status: ERRORS[e.code].status,
    detail: e.message,
    code: e.code,
    ...(instance === undefined ? {} : { instance }),
    ...(tenant === undefined ? {} : { tenant }),
    ...(Object.keys(details).length === 0 ? {} : { details }),
  };
}

/**
 * Turns anything thrown in a route into a problem+json response with a stable
 * code — request validation, body limits, rate limits, REM errors — and never
 * leaks a stack trace. Unexpected errors are logged and answered as
 * REM_ERR_INTERNAL.
 */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const e = toRemError(error);
  if (e.code === "REM_ERR_INTERNAL") request.log.error({ err: error }, "unexpected error");
  const p = problemOf(e, request.url.split("?")[0]);
  if (e.code === "REM_ERR_RATE_LIMITED" && typeof e.details.retryAfterS === "number") void reply.header("retry-after", String(e.details.retryAfterS));
  void reply.status(p.status).type(PROBLEM_JSON).send(p);
}

function toRemError(error: FastifyError | Error): RemError {
  if (error instanceof RemError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issue = error.validation[0];
    const where = (error as FastifyError).validationContext ?? "request";
    const path = [where, ...(issue?.instancePath ?? "").split("/").filter((x) => x !== "")].join(".");
    return new RemError("REM_ERR_INVALID_ARGUMENT", `${path}: ${issue?.message ?? "invalid"}`, { path, field: path });
  }
  const fe = error as FastifyError;
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new RemError("REM_ERR_PAYLOAD_TOO_LARGE", "the request body is larger than this server accepts", {});
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new RemError("REM_ERR_UNSUPPORTED_MEDIA_TYPE", "send JSON (Content-Type: application/json)", {});
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new RemError("REM_ERR_INVALID_ARGUMENT", fe.message, { field: "body" });
  }
  if (fe.statusCode === 400 && fe instanceof SyntaxError) return new RemError("REM_ERR_INVALID_ARGUMENT", `the body is not valid JSON: ${fe.message}`, { field: "body" });
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new RemError(fe.statusCode === 404 ? "REM_ERR_NOT_FOUND" : fe.statusCode === 429 ? "REM_ERR_RATE_LIMITED" : "REM_ERR_INVALID_ARGUMENT", fe.message, {});
  }
  return asRemError(error);
}
