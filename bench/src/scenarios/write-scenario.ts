import { create } from "@bufbuild/protobuf";
import { JoinEventRequestSchema, LeaveEventRequestSchema } from "@grouppe/api";
import { bearer, type SeededData } from "../grouppe/seed-grouppe.js";
import type { LoadSpec, RequestTemplate } from "../load/load-spec.js";
import { unaryRequest } from "../load/rpc-protocol.js";
import { runNodeLoad } from "../load/run-load.js";
import type { Storage, ThroughputRow } from "../report/report-types.js";
import { type BenchContext, loadWindow } from "./bench-context.js";
import { describeConcurrency, describeRow } from "./unary-scenario.js";

/**
 * JoinEvent then LeaveEvent, over and over, by every writer at once over gRPC: each call is
 * a committed write that changes attendance. The built-in generator runs it, since every
 * slot sends its own user's token.
 */
export async function runWriteScenario(
  url: string,
  storage: Storage,
  seeded: SeededData,
  context: BenchContext,
): Promise<ThroughputRow> {
  const requests: RequestTemplate[] = [];
  const slotSequences: number[][] = [];
  for (const { user, eventId } of seeded.writers) {
    slotSequences.push([requests.length, requests.length + 1]);
    requests.push(
      unaryRequest(
        "grpc",
        "/grouppe.v1.EventService/JoinEvent",
        JoinEventRequestSchema,
        create(JoinEventRequestSchema, { eventId }),
        bearer(user),
      ),
      unaryRequest(
        "grpc",
        "/grouppe.v1.EventService/LeaveEvent",
        LeaveEventRequestSchema,
        create(LeaveEventRequestSchema, { eventId }),
        bearer(user),
      ),
    );
  }
  const connections = Math.min(4, seeded.writers.length);
  const spec: LoadSpec = {
    url,
    protocol: "grpc",
    transport: "h2c",
    requests,
    slotSequences,
    connections,
    streamsPerConnection: Math.ceil(seeded.writers.length / connections),
    ...loadWindow(context.shape),
  };
  const row: ThroughputRow = {
    server: "grouppe",
    storage,
    method: "JoinEvent+LeaveEvent",
    protocol: "grpc",
    transport: "h2c",
    concurrency: describeConcurrency(spec),
    result: await runNodeLoad(spec),
  };
  context.progress(describeRow(row));
  return row;
}
