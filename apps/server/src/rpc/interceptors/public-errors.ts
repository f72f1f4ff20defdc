import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@grouppe/api/rpc";
import type { Logger } from "pino";
import { describeViolations, grouppeError, invalidArgument, toPublicError } from "../../errors.js";
import { peerKey } from "../context.js";

/**
 * The last word on what a caller sees of a failure: domain errors get their code and
 * ErrorInfo, validation failures get google.rpc.BadRequest next to buf.validate.Violations,
 * and anything unexpected becomes INTERNAL while its details go to the log. Covers errors
 * raised while a response stream is running, too.
 */
export function createPublicErrorsInterceptor(logger: Logger): Interceptor {
  // Not an async function: one promise per call instead of two. Interceptors inside may throw
  // synchronously, so that is caught too.
  return (next) => (req) => {
    const context = () => ({
      logger,
      requestId: req.contextValues.get(peerKey).requestId,
      procedure: req.method.name,
    });
    const fail = (error: unknown): never => {
      throw publicError(abortedBy(error, req.signal), context());
    };
    let pending: ReturnType<typeof next>;
    try {
      pending = next(req);
    } catch (error) {
      return Promise.reject(publicError(abortedBy(error, req.signal), context()));
    }
    return pending.then(
      (res) =>
        res.stream ? ({ ...res, message: guardStream(res, context) } as StreamResponse) : res,
      fail,
    );
  };
}

/**
 * A deadline that passed, or a client that went away, interrupts a handler mid-read (a client
 * stream), which then throws whatever the interrupted read throws: that is no server fault,
 * and the abort's own error (DEADLINE_EXCEEDED, CANCELED) says what happened.
 */
function abortedBy(error: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted || error instanceof ConnectError) return error;
  // A deadline aborts with DEADLINE_EXCEEDED; a client that reset the stream, with a plain error.
  return ConnectError.from(signal.reason, Code.Canceled);
}

/**
 * The response stream with its failures made public. A plain iterator rather than an async
 * generator: this sits on every message of every watch stream, and a generator's `yield*`
 * costs several extra promise hops per message.
 */
function guardStream(
  res: StreamResponse,
  context: () => Parameters<typeof toPublicError>[1],
): AsyncIterable<unknown> {
  const fail = (error: unknown): never => {
    throw publicError(error, context());
  };
  return {
    [Symbol.asyncIterator]() {
      const source = res.message[Symbol.asyncIterator]();
      return {
        next: () => source.next().catch(fail),
        return: (value?: unknown) =>
          source.return
            ? source.return(value).catch(fail)
            : Promise.resolve({ done: true as const, value }),
        throw: (error?: unknown) =>
          source.throw ? source.throw(error).catch(fail) : Promise.reject(error),
      };
    },
  };
}

function publicError(error: unknown, context: Parameters<typeof toPublicError>[1]): ConnectError {
  const mapped = toPublicError(error, context);
  if (mapped.findDetails(ErrorInfoSchema).length > 0) return mapped;
  if (mapped.code === Code.InvalidArgument) return withBadRequest(mapped);
  // Errors from the Connect runtime itself (a bad content type, a deadline): the canonical
  // code's name is the reason.
  const reason = Code[mapped.code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  return grouppeError(mapped.code, reason, mapped.rawMessage, {
    headers: mapped.metadata,
    details: mapped.details,
  });
}

/** Adds BadRequest and ErrorInfo to a protovalidate failure from @connectrpc/validate. */
function withBadRequest(error: ConnectError): ConnectError {
  const violations = error.findDetails(ViolationsSchema).flatMap((v) => v.violations);
  const fieldViolations = violations.map((v) => ({
    field: (v.field?.elements ?? []).map((e) => e.fieldName).join("."),
    description: v.message,
    reason: v.ruleId,
  }));
  return invalidArgument(describeViolations(fieldViolations) || error.rawMessage, fieldViolations, {
    details: error.details,
  });
}
