import { randomUUID } from "node:crypto";
import {
  clone,
  type DescField,
  type DescMessage,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";

/**
 * The request field by which our API makes a call safe to replay (CreateEvent's request_id):
 * the server answers a repeated id with the outcome of the first call.
 */
function requestIdField(schema: DescMessage): DescField | undefined {
  const field = schema.fields.find((candidate) => candidate.name === "request_id");
  return field?.fieldKind === "scalar" && field.scalar === ScalarType.STRING ? field : undefined;
}

/** Whether the message carries a non-empty request_id, which makes its call safe to retry. */
export function hasRequestId(schema: DescMessage, message: MessageShape<DescMessage>): boolean {
  const field = requestIdField(schema);
  return field !== undefined && reflect(schema, message).get(field) !== "";
}

/**
 * Returns the message unchanged when its type has no request_id field or the caller set one;
 * otherwise a copy with a fresh UUID, so every retry of the call replays the same id. The
 * caller's message is never modified.
 */
export function withRequestId<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): MessageShape<Desc> {
  const field = requestIdField(schema);
  if (field === undefined || reflect(schema, message).get(field) !== "") return message;
  const copy = clone(schema, message);
  reflect(schema, copy).set(field, randomUUID());
  return copy;
}
