import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import {
  type FieldViolation,
  type FormErrors,
  type FormFieldMap,
  formErrors,
  violationsFromValidation,
} from "./field-violations.js";

let validator: Validator | undefined;

/**
 * Checks a request message against the rules in the proto files — the same protovalidate rules
 * the server enforces — and lays any violations out on the form. `extra` adds problems found
 * before the message could be built (a date that does not parse).
 */
export function checkMessage<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  map: FormFieldMap,
  extra: readonly FieldViolation[] = [],
): FormErrors {
  validator ??= createValidator();
  const result = validator.validate(schema, message);
  if (result.kind === "error") {
    // A rule that cannot be evaluated is a bug in the rules, not in the input: let the server
    // have the final word rather than blocking the form.
    console.error("protovalidate could not check", schema.typeName, result.error);
  }
  const violations = result.kind === "invalid" ? violationsFromValidation(result.violations) : [];
  return formErrors([...extra, ...violations], map);
}
