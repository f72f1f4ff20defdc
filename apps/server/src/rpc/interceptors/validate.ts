import type { DescMethod } from "@bufbuild/protobuf";
import type { Validator } from "@bufbuild/protovalidate";
import type { Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";

/**
 * protovalidate on every request message, through @connectrpc/validate. Methods in
 * `checkedByHandler` validate their messages themselves (ImportEvents reports a bad row and
 * carries on instead of ending the stream).
 */
export function createValidationInterceptor(
  validator: Validator,
  checkedByHandler: readonly DescMethod[],
): Interceptor {
  const validate = createValidateInterceptor({ validator });
  const skip = new Set(checkedByHandler);
  return (next) => {
    const validated = validate(next);
    return (req) => (skip.has(req.method) ? next(req) : validated(req));
  };
}
