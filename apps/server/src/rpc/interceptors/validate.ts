import type { DescMethod } from "@bufbuild/protobuf";
import type { Validator } from "@bufbuild/protovalidate";
import type { Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { type FieldViolation, invalidArgument } from "../../errors.js";
import { malformedFields } from "../malformed-fields.js";

/**
 * Checks every request message: first for values no field may hold (out-of-range timestamps,
 * text that is not UTF-8; see malformed-fields.ts), then protovalidate through
 * @connectrpc/validate. Methods in `checkedByHandler` check their messages themselves
 * (ImportEvents reports a bad row and carries on instead of ending the stream).
 */
export function createValidationInterceptor(
  validator: Validator,
  checkedByHandler: readonly DescMethod[],
): Interceptor {
  const validate = createValidateInterceptor({ validator });
  const skip = new Set(checkedByHandler);
  return (next) => {
    const validated = validate(next);
    return (req) => {
      if (skip.has(req.method)) return next(req);
      if (!req.stream) {
        refuseMalformed(malformedFields(req.method.input, req.message));
        return validated(req);
      }
      const messages = req.message;
      const input = req.method.input;
      return validated({
        ...req,
        message: (async function* () {
          for await (const message of messages) {
            refuseMalformed(malformedFields(input, message));
            yield message;
          }
        })(),
      });
    };
  };
}

/** INVALID_ARGUMENT naming every malformed field; the reason is the first one's. */
export function refuseMalformed(violations: readonly FieldViolation[]): void {
  const [first] = violations;
  if (!first) return;
  throw invalidArgument(
    violations.map((v) => `${v.field}: ${v.description}`).join("; "),
    violations,
    { reason: first.reason },
  );
}
