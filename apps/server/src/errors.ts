import { pathToString } from "@bufbuild/protobuf/reflect";
import type { Violation } from "@bufbuild/protovalidate";
import { violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@grouppe/api/rpc";
import type { Logger } from "pino";
import { DomainError, type DomainReason } from "./domain/domain-error.js";
import { DatabaseUnavailableError } from "./store/database-unavailable.js";

/**
 * Every error grouppe returns is built here: a canonical code, one google.rpc.ErrorInfo with an
 * UPPER_SNAKE reason in our domain, and google.rpc.BadRequest field violations for bad input.
 * Clients switch on the reason, never on the message.
 */
export const errorDomain = "grouppe.dev";

/** A field a request got wrong, as a protobuf field path ("event.title"). */
export interface FieldViolation {
  field: string;
  description: string;
  /** The rule that failed, e.g. "string.min_len" or "event.ends_after_start". */
  reason?: string;
}

function errorInfo(reason: string, metadata: Record<string, string> = {}) {
  return { desc: ErrorInfoSchema, value: { reason, domain: errorDomain, metadata } };
}

/** Builds a ConnectError with the ErrorInfo every grouppe error carries. */
export function grouppeError(
  code: Code,
  reason: string,
  message: string,
  options: {
    metadata?: Record<string, string>;
    headers?: Headers | Record<string, string>;
    details?: ConnectError["details"];
  } = {},
): ConnectError {
  const details = [errorInfo(reason, options.metadata), ...(options.details ?? [])];
  return new ConnectError(message, code, options.headers, details as never);
}

/**
 * INVALID_ARGUMENT with a google.rpc.BadRequest listing every field violation. `reason` names
 * the rule at fault when there is one (ErrorInfo), `details` adds more (buf.validate.Violations).
 */
export function invalidArgument(
  message: string,
  violations: readonly FieldViolation[],
  options: {
    reason?: string;
    metadata?: Record<string, string>;
    details?: ConnectError["details"];
  } = {},
): ConnectError {
  const badRequest = {
    desc: BadRequestSchema,
    value: {
      fieldViolations: violations.map((v) => ({
        field: v.field,
        description: v.description,
        reason: v.reason ?? "",
      })),
    },
  };
  return grouppeError(Code.InvalidArgument, options.reason ?? "INVALID_ARGUMENT", message, {
    metadata: options.metadata,
    details: [badRequest, ...(options.details ?? [])] as never,
  });
}

/** The protobuf path of a protovalidate violation ("event.location.online_url"). */
export function violationPath(violation: Violation, prefix = ""): string {
  const path = pathToString(violation.field);
  return [prefix, path].filter((part) => part !== "").join(".");
}

/** INVALID_ARGUMENT for protovalidate violations, with both BadRequest and buf.validate.Violations. */
export function validationFailed(violations: readonly Violation[], prefix = ""): ConnectError {
  const fieldViolations = violations.map((v) => ({
    field: violationPath(v, prefix),
    description: v.message,
    reason: v.ruleId,
  }));
  const [value, desc] = violationsToProto([...violations]);
  return invalidArgument(describeViolations(fieldViolations), fieldViolations, {
    details: [{ desc, value }] as never,
  });
}

/** One readable sentence for a list of violations: "event.title: value length must be at least 1 characters; …". */
export function describeViolations(violations: readonly FieldViolation[]): string {
  return violations
    .map((v) => (v.field ? `${v.field}: ${v.description}` : v.description))
    .join("; ");
}

const domainCodes: Record<DomainReason, Code> = {
  EVENT_NOT_FOUND: Code.NotFound,
  USER_NOT_FOUND: Code.NotFound,
  ETAG_MISMATCH: Code.Aborted,
  CAPACITY_BELOW_ATTENDANCE: Code.InvalidArgument,
  EVENT_IN_PAST: Code.InvalidArgument,
  INVALID_TIME_ZONE: Code.InvalidArgument,
  TIMESTAMP_OUT_OF_RANGE: Code.InvalidArgument,
  EVENT_CANCELLED: Code.FailedPrecondition,
  EVENT_ENDED: Code.FailedPrecondition,
  EMAIL_TAKEN: Code.AlreadyExists,
};

/**
 * A domain refusal as the API reports it. `fieldPrefix` turns the resource field the domain
 * names ("capacity") into the request path ("event.capacity").
 */
export function fromDomainError(error: DomainError, fieldPrefix = ""): ConnectError {
  const code = domainCodes[error.reason];
  const field = error.field ? [fieldPrefix, error.field].filter(Boolean).join(".") : undefined;
  if (code === Code.InvalidArgument && field) {
    const violation = { field, description: error.message, reason: error.reason };
    return invalidArgument(`${field}: ${error.message}`, [violation], {
      reason: error.reason,
      metadata: { field },
    });
  }
  return grouppeError(code, error.reason, error.message, { metadata: field ? { field } : {} });
}

/** NOT_FOUND for an event id that names no event. */
export function eventNotFound(): ConnectError {
  return grouppeError(Code.NotFound, "EVENT_NOT_FOUND", "event not found");
}

/** UNAUTHENTICATED: no caller, or credentials that do not hold. */
export function unauthenticated(message: string, reason = "UNAUTHENTICATED"): ConnectError {
  return grouppeError(Code.Unauthenticated, reason, message);
}

/** PERMISSION_DENIED: the caller is known but may not do this. */
export function permissionDenied(message: string, reason = "PERMISSION_DENIED"): ConnectError {
  return grouppeError(Code.PermissionDenied, reason, message);
}

/**
 * Whatever a handler threw, as something safe to send. Domain errors and ConnectErrors keep
 * their meaning; anything else becomes INTERNAL with a generic message, and its details go to
 * the log with the request id, never to the caller.
 */
export function toPublicError(
  error: unknown,
  log: { logger: Logger; requestId: string; procedure: string },
): ConnectError {
  if (error instanceof DomainError) return fromDomainError(error);
  if (error instanceof DatabaseUnavailableError) {
    // An outage, not a bug: operators see it (warn, with the driver's reason), clients retry.
    log.logger.warn(
      { err: error, requestId: log.requestId, procedure: log.procedure },
      "rpc failed: database unavailable",
    );
    return grouppeError(
      Code.Unavailable,
      "DATABASE_UNAVAILABLE",
      "the database is unavailable; try again shortly",
    );
  }
  if (error instanceof ConnectError) {
    // connect-es reports a malformed protobuf message in a request stream (ImportEvents) as
    // INTERNAL; the caller sent it. The engine answers the same for unary and server streams.
    if (error.code === Code.Internal && error.rawMessage.startsWith("parse binary:")) {
      return new ConnectError(error.rawMessage, Code.InvalidArgument);
    }
    if (error.code === Code.Internal || error.code === Code.Unknown) {
      log.logger.error(
        { err: error, requestId: log.requestId, procedure: log.procedure },
        "rpc failed",
      );
      return internalError(log.requestId);
    }
    return error;
  }
  log.logger.error(
    { err: error, requestId: log.requestId, procedure: log.procedure },
    "rpc failed",
  );
  return internalError(log.requestId);
}

function internalError(requestId: string): ConnectError {
  return grouppeError(
    Code.Internal,
    "INTERNAL",
    `internal error; quote request id ${requestId} when reporting it`,
    {
      metadata: { requestId },
    },
  );
}
