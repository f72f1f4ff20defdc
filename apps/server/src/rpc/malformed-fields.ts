import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { timestampMaxSeconds, timestampMinSeconds } from "../domain/time-range.js";
import type { FieldViolation } from "../errors.js";

/**
 * Values the decoders let through but no field may hold, anywhere in a request:
 *
 * - a google.protobuf.Timestamp outside 0001-01-01..9999-12-31 or with nanos outside
 *   0..999,999,999. Binary protobuf carries any int64; such a time cannot be written as JSON,
 *   so once stored it would break every JSON read of it.
 * - a string that is not well-formed Unicode. Both decoders (TextDecoder, non-fatal) turn
 *   invalid UTF-8 into U+FFFD, so a U+FFFD in a request string means the client sent bytes
 *   that are not UTF-8; a lone surrogate comes from a JSON `\ud800` escape. Neither is text.
 *
 * Returns one violation per bad field, named by its protobuf path ("event.ends_at").
 */
export function malformedFields<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  prefix = "",
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  walk(reflect(schema, message), prefix, violations, 0);
  return violations;
}

/** protobuf-es refuses deeper messages while decoding; this bounds the walk the same way. */
const maxDepth = 100;

function walk(message: ReflectMessage, path: string, out: FieldViolation[], depth: number): void {
  if (depth > maxDepth) return;
  if (message.desc.typeName === TimestampSchema.typeName) {
    checkTimestamp(message, path, out);
    return;
  }
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const at = path === "" ? field.name : `${path}.${field.name}`;
    switch (field.fieldKind) {
      case "scalar":
        checkValue(message.get(field), at, out);
        break;
      case "message":
        walk(message.get(field), at, out, depth + 1);
        break;
      case "list": {
        let index = 0;
        for (const item of message.get(field)) {
          checkValue(item, `${at}[${index}]`, out, depth);
          index++;
        }
        break;
      }
      case "map":
        for (const [key, value] of message.get(field)) {
          checkValue(key, `${at}[${String(key)}]`, out, depth);
          checkValue(value, `${at}[${String(key)}]`, out, depth);
        }
        break;
      default:
        break;
    }
  }
}

function checkValue(value: unknown, path: string, out: FieldViolation[], depth = 0): void {
  if (typeof value === "string") {
    if (!isText(value)) {
      out.push({
        field: path,
        description: "must be valid UTF-8 text",
        reason: "INVALID_UTF8",
      });
    }
  } else if (isReflectMessage(value)) {
    walk(value, path, out, depth + 1);
  }
}

function isReflectMessage(value: unknown): value is ReflectMessage {
  return typeof value === "object" && value !== null && "desc" in value && "fields" in value;
}

/** A UTF-16 surrogate without its other half: what a JSON `\ud800` escape leaves behind. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isText(value: string): boolean {
  return !value.includes("\uFFFD") && !loneSurrogate.test(value);
}

function checkTimestamp(message: ReflectMessage, path: string, out: FieldViolation[]): void {
  const { seconds, nanos } = message.message as unknown as { seconds: bigint; nanos: number };
  if (
    seconds < timestampMinSeconds ||
    seconds > timestampMaxSeconds ||
    nanos < 0 ||
    nanos > 999_999_999
  ) {
    out.push({
      field: path,
      description: "must be a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z",
      reason: "TIMESTAMP_OUT_OF_RANGE",
    });
  }
}
