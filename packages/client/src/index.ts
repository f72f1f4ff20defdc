/**
 * The grouppe client SDK for internal Node services: native gRPC over pooled HTTP/2 sessions,
 * round-robin with circuit breakers, mTLS, deadlines and safe retries.
 *
 * @example
 * import { createGrouppeClient } from "@grouppe/client";
 * const grouppe = createGrouppeClient({ addresses: ["https://10.0.0.1:8443"], tls });
 * const { events } = await grouppe.events.listEvents({});
 */
export type { TokenSource } from "./bearer-token-interceptor.js";
export { createBearerTokenInterceptor } from "./bearer-token-interceptor.js";
export type {
  CircuitBreakerOptions,
  CircuitStateChange,
  CircuitStateName,
} from "./circuit-breaker.js";
export { AddressCircuitBreaker } from "./circuit-breaker.js";
export { isFinal, isUnsent } from "./client-errors.js";
export type {
  GrouppeClient,
  GrouppeClientOptions,
  KeepaliveOptions,
  TlsOptions,
} from "./create-grouppe-client.js";
export { createGrouppeClient } from "./create-grouppe-client.js";
export { createDeadlineInterceptor, withoutDefaultDeadline } from "./deadline-interceptor.js";
export type { RetryEvent, RetryOptions } from "./retry-interceptor.js";
export { createRetryInterceptor } from "./retry-interceptor.js";
export type {
  AddressStatus,
  RoundRobinTransport,
  RoundRobinTransportOptions,
} from "./round-robin-transport.js";
export { createRoundRobinTransport } from "./round-robin-transport.js";
