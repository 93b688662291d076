// LambdaFunction's rules with fake environments and a fake clock: queueing, throttling, scaling
// up to the limit, idle spindown. No processes, no HTTP.
import { describe, expect, test } from "bun:test";
import type { ExecutionEnvironment } from "../../../src/core/environment/execution-environment.ts";
import { ServiceError } from "../../../src/core/errors.ts";
import { EventBus } from "../../../src/core/events.ts";
import {
  type ConcurrencyOptions,
  type FunctionEnvironment,
  LambdaFunction,
} from "../../../src/core/function/lambda-function.ts";
import { Invocation, InvocationBuilder } from "../../../src/core/invocation.ts";
import type { InitializationType } from "../../../src/core/vocabulary.ts";
import { FakeClock } from "../../helpers/fake-clock.ts";

/** An environment that holds what it is given until the test completes it. */
class FakeEnvironment implements FunctionEnvironment {
  readonly held: Invocation[] = [];
  lastUsedMono = 0;
  invocationsServed = 0;
  tenantId?: string;
  shutdownReason?: string;
  constructor(
    readonly id: string,
    readonly initializationType: InitializationType,
    private readonly events: EventBus,
  ) {}
  get available() {
    return this.held.length === 0 && !this.shutdownReason;
  }
  get finishing() {
    return false;
  }
  get environment() {
    const held = this.held;
    return {
      enqueue: (invocation: Invocation) => held.push(invocation),
      withdrawQueued: () => held.splice(1),
      get currentInvocation() {
        return held[0];
      },
    } as unknown as ExecutionEnvironment;
  }
  complete(): void {
    const invocation = this.held.shift() as Invocation;
    invocation.finish("success", 1);
    this.events.emit("invocationComplete", invocation);
  }
  async shutdown(reason: string) {
    this.shutdownReason = reason;
  }
}

function fn(options: Partial<ConcurrencyOptions> = {}) {
  const events = new EventBus();
  const clock = new FakeClock();
  const made: FakeEnvironment[] = [];
  const lambda = new LambdaFunction({
    events,
    clock,
    maxConcurrency: 1,
    throttle: false,
    provisionedConcurrency: 0,
    ...options,
    createEnvironment: (type) => {
      const created = new FakeEnvironment(`env-${made.length + 1}`, type, events);
      made.push(created);
      // As a real one does, it announces its first phase while it is being made.
      events.emit("phase", { phase: "Initializing", environmentId: created.id });
      return created;
    },
  });
  return { lambda, clock, made };
}

const sync = () => new Invocation(new InvocationBuilder().payload({}).build());
const async = () => new Invocation(new InvocationBuilder().payload({}).invocationType("Event").build());
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("LambdaFunction", () => {
  test("scales up to maxConcurrency, then queues FIFO; a freed environment takes the oldest", async () => {
    const { lambda, made } = fn({ maxConcurrency: 2 });
    const [a, b, c, d] = [sync(), sync(), sync(), sync()];
    for (const invocation of [a, b, c, d]) lambda.submit(invocation);
    expect(made.map((e) => e.held.map((i) => i.id))).toEqual([[a.id], [b.id]]);
    expect(lambda.queuedCount).toBe(2);
    made[1]?.complete();
    expect(made[1]?.held).toEqual([c]);
    expect(c.environmentId).toBe("env-2");
    expect(lambda.queuedCount).toBe(1);
  });

  test("throttle: a synchronous invocation no environment can take is refused with 429; Event ones queue", () => {
    const { lambda } = fn({ maxConcurrency: 1, throttle: true });
    lambda.submit(sync());
    const refused = (() => {
      try {
        lambda.submit(sync());
      } catch (error) {
        return error;
      }
    })() as ServiceError;
    expect(refused).toBeInstanceOf(ServiceError);
    expect([refused.status, refused.errorType, refused.extra.headers?.["Retry-After"]]).toEqual([
      429,
      "TooManyRequestsException",
      "1",
    ]);
    expect(() => lambda.submit(async())).not.toThrow();
    expect(lambda.queuedCount).toBe(1);
  });

  test("an idle on-demand environment is shut down (spindown) after the idle timeout; provisioned ones stay", async () => {
    const { lambda, clock, made } = fn({ maxConcurrency: 2, idleTimeoutMs: 1000 });
    lambda.addEnvironment("provisioned-concurrency");
    const [first, second] = [sync(), sync()];
    lambda.submit(first);
    lambda.submit(second);
    made[1]?.complete();
    await settle();
    clock.advance(999);
    expect(made[1]?.shutdownReason).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(made.map((e) => e.shutdownReason)).toEqual([undefined, "spindown"]);
    expect(lambda.environments().map((e) => e.id)).toEqual(["env-1"]);
  });

  test("shutdown shuts every environment down with the reason", async () => {
    const { lambda, made } = fn({ maxConcurrency: 3 });
    for (let i = 0; i < 3; i++) lambda.submit(sync());
    await lambda.shutdown("spindown");
    expect(made.map((e) => e.shutdownReason)).toEqual(["spindown", "spindown", "spindown"]);
    expect(() => lambda.submit(sync())).toThrow("shutting down");
  });

  test("recycle: the in-flight invocation ends on the old environment, what waits goes to one new one", async () => {
    const { lambda, made } = fn();
    const [a, b, c] = [sync(), sync(), sync()];
    lambda.submit(a);
    const recycled = lambda.recycle(true, () => lambda.addEnvironment("on-demand"));
    lambda.submit(b);
    lambda.submit(c);
    await settle();
    // Nothing moves while the old one finishes, and it is not shut down before.
    expect(made).toHaveLength(1);
    expect(made[0]?.shutdownReason).toBeUndefined();
    made[0]?.complete();
    await recycled;
    expect(made[0]?.shutdownReason).toBe("spindown");
    // One new environment (its phase event while being made opened no second one), with b; c waits.
    expect(made).toHaveLength(2);
    expect(made[1]?.held.map((i) => i.id)).toEqual([b.id]);
    expect(lambda.queuedCount).toBe(1);
    expect(lambda.environments().map((e) => e.id)).toEqual(["env-2"]);
  });
});
