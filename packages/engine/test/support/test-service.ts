import { create, createFileRegistry, type DescMessage, type DescService } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  MethodOptions_IdempotencyLevel,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import { shareEncoding } from "../../src/index.js";

/**
 * A small service for the engine's tests, built from a descriptor at run time so the tests
 * need no code generation: `Echo` (unary, GET-able), `Count` (server streaming), `Collect`
 * (client streaming) and `Chat` (bidi), all on `test.v1.Probe`/`test.v1.Reply`.
 */
const file = create(FileDescriptorProtoSchema, {
  name: "test/v1/test.proto",
  package: "test.v1",
  syntax: "proto3",
  messageType: [
    {
      name: "Probe",
      field: [
        { name: "text", number: 1, type: Type.STRING, label: Label.OPTIONAL, jsonName: "text" },
        { name: "count", number: 2, type: Type.INT32, label: Label.OPTIONAL, jsonName: "count" },
        { name: "data", number: 3, type: Type.BYTES, label: Label.OPTIONAL, jsonName: "data" },
        { name: "tags", number: 4, type: Type.STRING, label: Label.REPEATED, jsonName: "tags" },
        /** 0: answer; otherwise fail with this code (17: a plain Error). */
        { name: "fail", number: 5, type: Type.INT32, label: Label.OPTIONAL, jsonName: "fail" },
        /** How many times the reply repeats `text` (to exercise compression and writeMaxBytes). */
        { name: "repeat", number: 6, type: Type.INT32, label: Label.OPTIONAL, jsonName: "repeat" },
        /** Sets a response header and trailer. */
        { name: "meta", number: 7, type: Type.BOOL, label: Label.OPTIONAL, jsonName: "meta" },
        /** Waits for the call's signal to abort and records why (see `aborts`). */
        { name: "wait", number: 8, type: Type.BOOL, label: Label.OPTIONAL, jsonName: "wait" },
        /** Count streams `sharedReply` instead of fresh replies. */
        { name: "shared", number: 9, type: Type.BOOL, label: Label.OPTIONAL, jsonName: "shared" },
      ],
    },
    {
      name: "Reply",
      field: [
        { name: "text", number: 1, type: Type.STRING, label: Label.OPTIONAL, jsonName: "text" },
        { name: "index", number: 2, type: Type.INT32, label: Label.OPTIONAL, jsonName: "index" },
        { name: "data", number: 3, type: Type.BYTES, label: Label.OPTIONAL, jsonName: "data" },
        { name: "tags", number: 4, type: Type.STRING, label: Label.REPEATED, jsonName: "tags" },
      ],
    },
  ],
  service: [
    {
      name: "TestService",
      method: [
        {
          name: "Echo",
          inputType: ".test.v1.Probe",
          outputType: ".test.v1.Reply",
          options: { idempotencyLevel: MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS },
        },
        {
          name: "Count",
          inputType: ".test.v1.Probe",
          outputType: ".test.v1.Reply",
          serverStreaming: true,
        },
        {
          name: "Collect",
          inputType: ".test.v1.Probe",
          outputType: ".test.v1.Reply",
          clientStreaming: true,
        },
        {
          name: "Chat",
          inputType: ".test.v1.Probe",
          outputType: ".test.v1.Reply",
          clientStreaming: true,
          serverStreaming: true,
        },
      ],
    },
  ],
});

const registry = createFileRegistry(file, () => undefined);

export const ProbeSchema = registry.getMessage("test.v1.Probe") as DescMessage;
export const ReplySchema = registry.getMessage("test.v1.Reply") as DescMessage;
export const TestService = registry.getService("test.v1.TestService") as DescService;

export interface Probe {
  text: string;
  count: number;
  data: Uint8Array;
  tags: string[];
  fail: number;
  repeat: number;
  meta: boolean;
  wait: boolean;
  shared: boolean;
}

/** Why the signals of waiting calls were aborted, in order. */
export const aborts: unknown[] = [];

/** How each Collect call's reading of its input ended: the error it threw, or "done". */
export const collectEnds: unknown[] = [];

/** How many calls have reached their handler and wait for their signal to abort. */
export const waiting = { count: 0 };

/** One message marked with `shareEncoding`, answered by Echo and streamed by Count when asked. */
export const sharedReply = shareEncoding(
  create(ReplySchema, { text: "shared", index: 1 }),
) as unknown as {
  text: string;
  index: number;
};

function waitForAbort(signal: AbortSignal): Promise<void> {
  waiting.count++;
  return new Promise((resolve) => {
    signal.addEventListener(
      "abort",
      () => {
        aborts.push(signal.reason);
        resolve();
      },
      { once: true },
    );
  });
}

function maybeFail(probe: Probe, context: HandlerContext): void {
  if (probe.meta) {
    context.responseHeader.set("x-probe-header", `h-${probe.text.length}`);
    context.responseTrailer.set("x-probe-trailer", `t-${probe.count}`);
  }
  if (probe.fail === 0) return;
  if (probe.fail === 17) throw new Error("a bug in the handler");
  throw new ConnectError(
    `probe failed: ${probe.text}`,
    probe.fail as Code,
    { "x-error-meta": "m" },
    [{ desc: ReplySchema, value: { text: "detail", index: probe.fail } }],
  );
}

function reply(probe: Probe, index: number) {
  return create(ReplySchema, {
    text: probe.text.repeat(Math.max(1, Math.min(probe.repeat, 200))),
    index,
    data: probe.data,
    tags: probe.tags,
  });
}

/** Registers the test service's implementation. */
export function testRoutes(router: ConnectRouter): void {
  router.service(TestService, {
    async echo(request: Probe, context: HandlerContext) {
      if (request.wait) await waitForAbort(context.signal);
      maybeFail(request, context);
      return request.shared ? sharedReply : reply(request, 0);
    },
    async *count(request: Probe, context: HandlerContext) {
      const n = Math.min(Math.max(request.count, 0), 5);
      for (let i = 0; i < n; i++) yield request.shared ? sharedReply : reply(request, i);
      if (request.wait) await waitForAbort(context.signal);
      maybeFail(request, context);
    },
    async collect(requests: AsyncIterable<Probe>) {
      let text = "";
      try {
        for await (const probe of requests) text += probe.text;
      } catch (error) {
        collectEnds.push(error);
        throw error;
      }
      collectEnds.push("done");
      return create(ReplySchema, { text });
    },
    async *chat(requests: AsyncIterable<Probe>) {
      let index = 0;
      for await (const probe of requests) yield reply(probe, index++);
    },
  } as never);
}

/** Denies calls with `x-deny`, and marks every answer with `x-intercepted`. */
export const testInterceptor: Interceptor = (next) => async (req) => {
  if (req.header.get("x-deny") !== null) {
    throw new ConnectError("denied", Code.PermissionDenied);
  }
  const res = await next(req);
  res.header.set("x-intercepted", req.method.name);
  return res;
};
