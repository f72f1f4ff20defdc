import { HealthCheckResponse_ServingStatus } from "@grouppe/api/health";
import type { Command } from "commander";
import { ExitCode } from "../exit-codes.js";
import type { Action } from "./action.js";

/** `grouppe health`: the standard gRPC health check. */
export function registerHealth(program: Command, action: Action): void {
  program
    .command("health")
    .description("ask the server whether it serves (grpc.health.v1); exit 3 unless SERVING")
    .argument("[service]", "one service, e.g. grouppe.v1.EventService; default the server")
    .action(
      action(async (ctx, [service]) => {
        const { status } = await ctx.anonymous().health.check({ service: service ?? "" });
        const name = HealthCheckResponse_ServingStatus[status] ?? String(status);
        if (ctx.json) ctx.printJson({ status: name });
        else ctx.print(name);
        return status === HealthCheckResponse_ServingStatus.SERVING
          ? ExitCode.ok
          : ExitCode.unavailable;
      }),
    );
}
