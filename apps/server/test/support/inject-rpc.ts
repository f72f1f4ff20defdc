import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { BadRequestSchema, ErrorInfoSchema } from "@grouppe/api/rpc";
import type { FastifyInstance } from "fastify";

/** What a unary Connect call answered, errors decoded (code, ErrorInfo reason, violated fields). */
export interface InjectedAnswer {
  status: number;
  /** The Connect error code ("invalid_argument"), or "ok". */
  code: string;
  reason?: string;
  fields: string[];
  /** The JSON body of a successful JSON call. */
  json?: unknown;
  /** The raw body of a successful binary call. */
  body: Buffer;
}

/** A unary Connect call with a raw body: bytes exactly as given, nothing checked on the way. */
export async function injectConnect(
  app: FastifyInstance,
  procedure: string,
  body: Buffer | string,
  options: { binary?: boolean; token?: string } = {},
): Promise<InjectedAnswer> {
  const response = await app.inject({
    method: "POST",
    url: `/${procedure}`,
    headers: {
      "content-type": options.binary ? "application/proto" : "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    payload: body,
  });
  const raw = response.rawPayload;
  if (response.statusCode === 200) {
    return {
      status: 200,
      code: "ok",
      fields: [],
      body: raw,
      json: options.binary ? undefined : JSON.parse(raw.toString("utf8")),
    };
  }
  const error = JSON.parse(raw.toString("utf8")) as {
    code: string;
    details?: { type: string; value: string }[];
  };
  const detail = (type: string) =>
    (error.details ?? []).filter((d) => d.type === type).map((d) => Buffer.from(d.value, "base64"));
  return {
    status: response.statusCode,
    code: error.code,
    reason: detail(ErrorInfoSchema.typeName).map((b) => fromBinary(ErrorInfoSchema, b).reason)[0],
    fields: detail(BadRequestSchema.typeName).flatMap((b) =>
      fromBinary(BadRequestSchema, b).fieldViolations.map((v) => v.field),
    ),
    body: raw,
  };
}

/** A unary Connect binary call with a message built from `init`. */
export function injectProto<Desc extends DescMessage>(
  app: FastifyInstance,
  procedure: string,
  schema: Desc,
  init: MessageInitShape<Desc>,
  token?: string,
): Promise<InjectedAnswer> {
  const bytes = Buffer.from(toBinary(schema, create(schema, init)));
  return injectConnect(app, procedure, bytes, { binary: true, token });
}
