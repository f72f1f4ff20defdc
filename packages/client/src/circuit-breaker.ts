import { Code, ConnectError } from "@connectrpc/connect";
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
} from "cockatiel";
import { unsentError } from "./client-errors.js";

/** How an address's circuit breaker decides that the address is down and when to try again. */
export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long an open circuit rejects calls before one trial call may pass. Default 5000. */
  coolDownMs?: number;
  /**
   * Status codes that count as a failure of the address rather than of the call. Default
   * UNAVAILABLE only: a call's own deadline or a bad request says nothing about the instance.
   */
  failureCodes?: readonly Code[];
  /**
   * Called whenever an address's circuit changes state (closed → open → half-open → closed),
   * for logs and metrics.
   */
  onStateChange?: (change: CircuitStateChange) => void;
}

/** An address's circuit changed state. */
export interface CircuitStateChange {
  /** The address as configured. */
  address: string;
  /** The state it is in now. */
  state: CircuitStateName;
}

/** The state of one address's circuit. */
export type CircuitStateName = "closed" | "open" | "half-open";

const stateNames: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "open",
};

/**
 * A circuit breaker for one server address, built on cockatiel's breaker. It opens after
 * `failureThreshold` consecutive failures, lets one trial call through once `coolDownMs` has
 * passed, and closes again when that call succeeds.
 */
export class AddressCircuitBreaker {
  readonly #address: string;
  readonly #coolDownMs: number;
  readonly #policy: CircuitBreakerPolicy;
  #openedAt = 0;

  constructor(address: string, options: CircuitBreakerOptions = {}) {
    this.#address = address;
    this.#coolDownMs = options.coolDownMs ?? 5_000;
    const failureCodes = new Set(options.failureCodes ?? [Code.Unavailable]);
    this.#policy = circuitBreaker(
      handleWhen((error) => error instanceof ConnectError && failureCodes.has(error.code)),
      {
        halfOpenAfter: this.#coolDownMs,
        breaker: new ConsecutiveBreaker(options.failureThreshold ?? 5),
      },
    );
    // cockatiel keeps the moment it opened private; the balancer needs it to know, without
    // making a call, whether a trial call would be let through.
    this.#policy.onBreak(() => {
      this.#openedAt = Date.now();
    });
    const onStateChange = options.onStateChange;
    if (onStateChange !== undefined) {
      this.#policy.onStateChange((state) => onStateChange({ address, state: stateNames[state] }));
    }
  }

  /** How long until an open circuit lets a trial call through; 0 when it would now. */
  msUntilAvailable(): number {
    if (this.isAvailable()) return 0;
    if (this.#policy.state !== CircuitState.Open) return this.#coolDownMs;
    return Math.max(0, this.#openedAt + this.#coolDownMs - Date.now());
  }

  /** The circuit's state right now. */
  get state(): CircuitStateName {
    return stateNames[this.#policy.state];
  }

  /**
   * Whether a call sent now would be let through: the circuit is closed, or it has been open
   * for the cool-down and the call would be the trial. While a trial runs (half-open) the
   * address is not available, so other calls go elsewhere instead of queueing behind it.
   */
  isAvailable(): boolean {
    const state = this.#policy.state;
    if (state === CircuitState.Closed) return true;
    return state === CircuitState.Open && Date.now() - this.#openedAt >= this.#coolDownMs;
  }

  /**
   * Runs a call through the breaker, which records its outcome. A call refused because the
   * circuit is open fails with an UNAVAILABLE error marked as never sent.
   */
  async execute<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(call);
    } catch (error) {
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
        throw unsentError(this.#address, "its circuit is open");
      }
      throw error;
    }
  }
}
