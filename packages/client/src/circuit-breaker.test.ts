import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AddressCircuitBreaker } from "./circuit-breaker.js";
import { isUnsent } from "./client-errors.js";

const address = "http://10.0.0.1:8080";

function failWith(code: Code) {
  return async (): Promise<string> => {
    throw new ConnectError("failed", code);
  };
}

async function succeed(): Promise<string> {
  return "ok";
}

async function failTimes(breaker: AddressCircuitBreaker, times: number, code = Code.Unavailable) {
  for (let i = 0; i < times; i++) {
    await expect(breaker.execute(failWith(code))).rejects.toMatchObject({ code });
  }
}

describe("AddressCircuitBreaker", () => {
  // The cool-down is measured on the clock (Date, here and inside cockatiel); a frozen clock that
  // the test moves makes "not yet" and "now" exact on any machine.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens after the threshold of consecutive UNAVAILABLE failures and refuses calls", async () => {
    const breaker = new AddressCircuitBreaker(address, { failureThreshold: 3, coolDownMs: 60_000 });

    await failTimes(breaker, 2);
    expect(breaker.state).toBe("closed");
    await failTimes(breaker, 1);
    expect(breaker.state).toBe("open");
    expect(breaker.isAvailable()).toBe(false);

    let ran = false;
    const refused = await breaker
      .execute(async () => {
        ran = true;
      })
      .catch((reason: unknown) => reason);
    expect(ran).toBe(false);
    expect(refused).toMatchObject({ code: Code.Unavailable });
    expect(isUnsent(refused as ConnectError)).toBe(true);
  });

  it("does not count errors that say nothing about the address", async () => {
    const breaker = new AddressCircuitBreaker(address, { failureThreshold: 2 });

    for (const code of [Code.NotFound, Code.InvalidArgument, Code.DeadlineExceeded]) {
      await failTimes(breaker, 3, code);
    }

    expect(breaker.state).toBe("closed");
  });

  it("counts the codes it is told to count", async () => {
    const breaker = new AddressCircuitBreaker(address, {
      failureThreshold: 2,
      failureCodes: [Code.DeadlineExceeded],
    });

    await failTimes(breaker, 2, Code.DeadlineExceeded);

    expect(breaker.state).toBe("open");
  });

  it("lets one trial through after the cool-down and closes when it succeeds", async () => {
    const breaker = new AddressCircuitBreaker(address, { failureThreshold: 1, coolDownMs: 50 });
    await failTimes(breaker, 1);
    vi.setSystemTime(Date.now() + 49);
    expect(breaker.isAvailable()).toBe(false);

    vi.setSystemTime(Date.now() + 1);
    expect(breaker.isAvailable()).toBe(true);
    expect(breaker.state).toBe("open");
    let releaseTrial = () => {};
    const trial = breaker.execute(
      () => new Promise<string>((resolve) => (releaseTrial = () => resolve("ok"))),
    );
    // While the trial runs, the address takes no other calls.
    expect(breaker.state).toBe("half-open");
    expect(breaker.isAvailable()).toBe(false);
    releaseTrial();

    await expect(trial).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    await expect(breaker.execute(succeed)).resolves.toBe("ok");
  });

  it("opens again when the trial fails", async () => {
    const breaker = new AddressCircuitBreaker(address, { failureThreshold: 1, coolDownMs: 50 });
    await failTimes(breaker, 1);
    vi.setSystemTime(Date.now() + 50);
    expect(breaker.isAvailable()).toBe(true);

    await failTimes(breaker, 1);

    expect(breaker.state).toBe("open");
    expect(breaker.isAvailable()).toBe(false);
  });
});
