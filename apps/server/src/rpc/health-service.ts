import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  Health,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@grouppe/api/health";
import { shareEncoding } from "@grouppe/engine";

export { ServingStatus };

/**
 * The serving status of the server ("") and of each service it names, as the standard
 * grpc.health.v1.Health service reports it. Everything starts SERVING; `shutDown` turns
 * everything NOT_SERVING for good.
 */
export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private changed = nextChange();
  private stopped = false;

  constructor(services: readonly string[]) {
    this.statuses.set("", ServingStatus.SERVING);
    for (const service of services) this.statuses.set(service, ServingStatus.SERVING);
  }

  /** The status of `service`, or undefined when the server does not know it. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every known service ("" for the server) with its status. */
  list(): ReadonlyMap<string, ServingStatus> {
    return new Map(this.statuses);
  }

  /** Sets one service's status; ignored once shut down, so nothing reports SERVING again. */
  set(service: string, status: ServingStatus): void {
    if (this.stopped || this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.notify();
  }

  /** Marks the server and every service NOT_SERVING, for the rest of the process. */
  shutDown(): void {
    if (this.stopped) return;
    for (const service of this.statuses.keys())
      this.statuses.set(service, ServingStatus.NOT_SERVING);
    this.stopped = true;
    this.notify();
  }

  /**
   * The status of `service` now and after every change, until `signal` aborts. An unknown
   * service is SERVICE_UNKNOWN and stays watched, as the health protocol asks.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    let sent: ServingStatus | undefined;
    for (;;) {
      // Read the status before checking the signal, so a change that comes with the abort
      // (NOT_SERVING at shutdown) still reaches the watcher.
      const status = this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
      if (status !== sent) {
        sent = status;
        yield status;
      }
      if (signal.aborted) return;
      await Promise.race([this.changed.promise, aborted]);
    }
  }

  private notify(): void {
    this.changed.resolve();
    this.changed = nextChange();
  }
}

/** A promise the next status change resolves. */
function nextChange(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** One answer per status, marked shared: the engine encodes each once per wire format. */
const responses = new Map<ServingStatus, HealthCheckResponse>();

function response(status: ServingStatus): HealthCheckResponse {
  let answer = responses.get(status);
  if (answer === undefined) {
    answer = shareEncoding(create(HealthCheckResponseSchema, { status }));
    responses.set(status, answer);
  }
  return answer;
}

/**
 * Registers grpc.health.v1.Health (Check, List and Watch) on the router. `shutdown` ends every Watch
 * with UNAVAILABLE after it has sent NOT_SERVING, so clients reconnect elsewhere.
 */
export function registerHealthService(
  router: ConnectRouter,
  health: HealthStatus,
  shutdown: AbortSignal,
): void {
  router.service(Health, {
    check(request) {
      const status = health.get(request.service);
      if (status === undefined) {
        // Quote at most a bounded part of what the caller sent.
        const name =
          request.service.length > 200 ? `${request.service.slice(0, 200)}...` : request.service;
        throw new ConnectError(`unknown service ${JSON.stringify(name)}`, Code.NotFound);
      }
      return response(status);
    },
    list() {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const [service, status] of health.list()) statuses[service] = response(status);
      return { statuses };
    },
    async *watch(request, context: HandlerContext) {
      const signal = AbortSignal.any([context.signal, shutdown]);
      for await (const status of health.watch(request.service, signal)) yield response(status);
      if (shutdown.aborted) throw new ConnectError("the server is shutting down", Code.Unavailable);
    },
  });
}
