import { pathToString } from "@bufbuild/protobuf/reflect";
import type { Violation } from "@bufbuild/protovalidate";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@grouppe/api/rpc";
import { describeError } from "../api/error-messages.js";
import { friendlyViolationMessage } from "./violation-messages.js";

/** One broken rule, wherever it was found: in the browser or in the server's answer. */
export interface FieldViolation {
  /** The protobuf field path, e.g. "event.title"; empty for a rule on the whole message. */
  path: string;
  /** The rule id, e.g. "string.min_len", "event.ends_after_start" or a domain reason. */
  ruleId: string;
  /** The rule's own wording, used when we have no better sentence. */
  message: string;
}

/** How a form's fields line up with a request's field paths. */
export interface FormFieldMap {
  /** Leading path segments the form does not show, e.g. "event." for CreateEventRequest. */
  prefixes?: readonly string[];
  /** The form's field keys: field paths below the prefix, e.g. "title", "location.address". */
  fields: readonly string[];
  /** Message-level rules and the field that shows them, e.g. ends_after_start -> "ends_at". */
  ruleFields?: Readonly<Record<string, string>>;
}

/** What a form shows: a sentence per field, and sentences that belong to no one field. */
export interface FormErrors {
  fields: Record<string, string>;
  general: string[];
}

/** Violations from protovalidate run in the browser. */
export function violationsFromValidation(violations: readonly Violation[]): FieldViolation[] {
  return violations.map((violation) => ({
    path: pathToString(violation.field),
    ruleId: violation.ruleId,
    message: violation.message,
  }));
}

/**
 * Violations the server reported: google.rpc.BadRequest field violations, buf.validate
 * Violations, and a domain ErrorInfo that names its field in metadata (a capacity below the
 * current attendance, an email address already taken). Duplicates across the three are dropped.
 */
export function violationsFromError(error: unknown): FieldViolation[] {
  if (!(error instanceof ConnectError)) return [];
  const found: FieldViolation[] = [];
  for (const badRequest of error.findDetails(BadRequestSchema)) {
    for (const violation of badRequest.fieldViolations) {
      found.push({
        path: violation.field,
        ruleId: violation.reason,
        message: violation.description,
      });
    }
  }
  for (const violations of error.findDetails(ViolationsSchema)) {
    for (const violation of violations.violations) {
      const path = (violation.field?.elements ?? []).map((element) => element.fieldName).join(".");
      found.push({ path, ruleId: violation.ruleId, message: violation.message });
    }
  }
  const info = error.findDetails(ErrorInfoSchema)[0];
  const infoField = info?.metadata.field;
  if (info && infoField) {
    found.push({ path: infoField, ruleId: info.reason, message: error.rawMessage });
  }
  const seen = new Set<string>();
  return found.filter((violation) => {
    const key = `${violation.path}\u0000${violation.ruleId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The form field a violation belongs to: its path without the request prefix, or the field a
 * message-level rule names, or the nearest enclosing field the form shows (a oneof such as
 * "location.kind" lands on "location"). Undefined when the form has no such field.
 */
export function fieldForViolation(
  violation: FieldViolation,
  map: FormFieldMap,
): string | undefined {
  const byRule = map.ruleFields?.[violation.ruleId];
  if (byRule) return byRule;
  let path = violation.path;
  for (const prefix of map.prefixes ?? []) {
    if (path === prefix.replace(/\.$/, "")) path = "";
    else if (path.startsWith(prefix)) path = path.slice(prefix.length);
  }
  const segments = path.split(".").filter((segment) => segment !== "");
  while (segments.length > 0) {
    const candidate = segments.join(".");
    if (map.fields.includes(candidate)) return candidate;
    segments.pop();
  }
  return undefined;
}

/** Lays violations out on a form: the first sentence per field wins, the rest go on top. */
export function formErrors(violations: readonly FieldViolation[], map: FormFieldMap): FormErrors {
  const errors: FormErrors = { fields: {}, general: [] };
  for (const violation of violations) {
    const field = fieldForViolation(violation, map);
    const sentence = friendlyViolationMessage(field, violation.ruleId, violation.message);
    if (field === undefined) {
      if (!errors.general.includes(sentence)) errors.general.push(sentence);
    } else if (errors.fields[field] === undefined) {
      errors.fields[field] = sentence;
    }
  }
  return errors;
}

/** Whether a form has anything to show. */
export function hasFormErrors(errors: FormErrors): boolean {
  return errors.general.length > 0 || Object.keys(errors.fields).length > 0;
}

/** No errors at all. */
export function noFormErrors(): FormErrors {
  return { fields: {}, general: [] };
}

/**
 * What a form shows after the server refused a call: the violations it named, next to their
 * fields, or else one sentence about the failure on top.
 */
export function formErrorsFromCall(error: unknown, map: FormFieldMap): FormErrors {
  const errors = formErrors(violationsFromError(error), map);
  if (!hasFormErrors(errors)) errors.general.push(describeError(error));
  return errors;
}
