/**
 * One Lambda function: its invocation queue and history, the set of execution environments that
 * serve it, and the rules that place each invocation on one of them (or refuse it, as a throttled
 * function does). Environments are made by the caller (they need ports and processes) and know
 * nothing of each other.
 */
import { type Clock, systemClock } from "../clock.ts";
import type { ExecutionEnvironment } from "../environment/execution-environment.ts";
import { ServiceError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { ShutdownReason } from "../extensions.ts";
import type { Invocation } from "../invocation.ts";
import { InvocationQueue } from "../invocation-queue.ts";
import type { InitializationType } from "../vocabulary.ts";
import { type EnvironmentView, place } from "./scheduler.ts";

/** One environment as the function sees it. */
export interface FunctionEnvironment extends EnvironmentView {
  readonly environment: ExecutionEnvironment;
  readonly initializationType: InitializationType;
  tenantId?: string;
  lastUsedMono: number;
  invocationsServed: number;
  /** Runs its shutdown phase with `reason` and releases what it holds (listener, telemetry). */
  shutdown(reason: ShutdownReason): Promise<void>;
}

/** How the function scales. */
export interface ConcurrencyOptions {
  /** At most this many environments at once (reserved concurrency); 0 refuses every invocation. */
  maxConcurrency: number;
  /** Refuse a synchronous invocation with 429 when every environment is busy, instead of queueing it. */
  throttle: boolean;
  /** Environments initialised ahead of time, never reclaimed for idleness. */
  provisionedConcurrency: number;
  /** An on-demand environment idle this long is shut down (`spindown`); undefined keeps them. */
  idleTimeoutMs?: number;
}

/** What the function needs from its owner. */
export interface FunctionDeps extends ConcurrencyOptions {
  events: EventBus;
  clock?: Clock;
  /** Makes a new environment (with its own listener and processes) and starts what it can. */
  createEnvironment(initializationType: InitializationType): FunctionEnvironment;
}

/** Retry-After, in seconds, of a throttled synchronous invocation. */
const RETRY_AFTER_SECONDS = 1;

/** A Lambda function served by up to `maxConcurrency` execution environments. */
export class LambdaFunction {
  private readonly queue = new InvocationQueue();
  private readonly environmentsById = new Map<string, FunctionEnvironment>();
  private readonly idleTimers = new Map<string, unknown>();
  private readonly clock: Clock;
  private shuttingDown = false;
  /** Set while a recycle replaces the environments: nothing is placed until the new ones exist. */
  private recycling?: Promise<void>;
  private scheduling = false;
  private rescheduled = false;

  constructor(private readonly deps: FunctionDeps) {
    this.clock = deps.clock ?? systemClock;
    // An environment that finished an invocation, an init or a reset may take the next one.
    deps.events.on("invocationComplete", () => this.schedule());
    deps.events.on("phase", () => this.schedule());
  }

  /** The live environments, oldest first. */
  environments(): FunctionEnvironment[] {
    return [...this.environmentsById.values()];
  }

  /** The environment with this id, while it lives. */
  environment(id: string): FunctionEnvironment | undefined {
    return this.environmentsById.get(id);
  }

  /** Invocations waiting for an environment. */
  get queuedCount(): number {
    return this.queue.length;
  }

  /** The invocation with this request id, if still in the history. */
  invocation(id: string): Invocation | undefined {
    return this.queue.get(id);
  }

  /** Every invocation still in the history (oldest first). */
  allInvocations(): Invocation[] {
    return this.queue.all();
  }

  /** Creates an environment now (the first one at start, or a provisioned one). */
  addEnvironment(initializationType: InitializationType): FunctionEnvironment {
    if (this.shuttingDown) throw new ServiceError(500, "ServiceException", "The function is shutting down");
    // A new environment announces its phase while it is being made, before it is in the set:
    // placing then would see no environment and open another. Placement waits until it is in.
    const outer = !this.scheduling;
    this.scheduling = true;
    let created: FunctionEnvironment;
    try {
      created = this.deps.createEnvironment(initializationType);
      created.lastUsedMono = this.clock.now();
      this.environmentsById.set(created.id, created);
      this.armIdleTimer(created);
    } finally {
      if (outer) this.scheduling = false;
    }
    if (outer && this.rescheduled) this.schedule();
    return created;
  }

  /**
   * Takes an invocation: it goes to an environment at once or waits in the queue (FIFO). A throttled
   * function refuses a synchronous one that no environment can take now, as Lambda answers 429.
   */
  submit(invocation: Invocation): void {
    if (this.shuttingDown) {
      throw new ServiceError(500, "ServiceException", "The function is shutting down");
    }
    const synchronous = invocation.request.invocationType !== "Event";
    if (synchronous && this.deps.throttle && this.queue.length === 0) {
      const placement = place(this.environments(), this.deps.maxConcurrency, invocation.request.tenantId);
      if (placement.kind === "wait") throw throttled();
    } else if (synchronous && this.deps.throttle) {
      throw throttled();
    }
    this.queue.push(invocation);
    this.deps.events.emit("invocationQueued", invocation);
    this.schedule();
  }

  /** Shuts every environment down in parallel and fails what still waits. */
  async shutdown(reason: ShutdownReason): Promise<void> {
    this.shuttingDown = true;
    for (const timer of this.idleTimers.values()) this.clock.clearTimeout(timer);
    this.idleTimers.clear();
    const environments = this.environments();
    this.environmentsById.clear();
    // Waiting invocations go to the first environment's shutdown, which fails them as Lambda would.
    const first = environments[0];
    for (const invocation of this.queue.drain()) {
      if (first) {
        first.environment.enqueue(invocation);
      } else {
        invocation.settle(shutDownBeforeRunning(invocation));
        invocation.finish("failure", 0, "Sandbox.Failure");
      }
    }
    await Promise.all(environments.map((environment) => environment.shutdown(reason)));
  }

  /**
   * A new deployment (watch mode, `Simulator.recycle`): every environment retires, after its
   * in-flight invocation has run to its end (`wait`) or with it cancelled, through its shutdown
   * phase (`spindown`); invocations not yet started, and those that arrive meanwhile, wait in the
   * queue. Once every old environment is gone, `reopen` opens the new ones and they take the queue.
   * A recycle asked for while one runs follows it.
   */
  async recycle(wait: boolean, reopen: () => void, onStart: () => void = () => {}): Promise<void> {
    while (this.recycling) await this.recycling;
    if (this.shuttingDown) return;
    // Placement stops before anyone hears of the recycle: an invoke sent on `onStart` waits too.
    const { promise, resolve } = Promise.withResolvers<void>();
    this.recycling = promise;
    const old = this.environments();
    try {
      onStart();
      for (const timer of this.idleTimers.values()) this.clock.clearTimeout(timer);
      this.idleTimers.clear();
      // Kept in the set while they shut down: a late request of an old runtime still finds its own.
      this.queue.requeue(old.flatMap((target) => target.environment.withdrawQueued()));
      await Promise.all(
        old.map(async (target) => {
          const current = target.environment.currentInvocation;
          if (wait && current) await current.completion;
          await target.shutdown("spindown");
        }),
      );
    } finally {
      this.recycling = undefined;
      // In the same tick as the reopening: no moment without an environment for a request to open one.
      for (const target of old) this.environmentsById.delete(target.id);
      resolve();
    }
    if (this.shuttingDown) return;
    reopen();
    this.schedule();
  }

  /** Places waiting invocations while environments can take them. */
  private schedule(): void {
    if (this.shuttingDown || this.recycling) return;
    // Opening or assigning an environment announces phase changes, which schedule again: run once.
    if (this.scheduling) {
      this.rescheduled = true;
      return;
    }
    this.scheduling = true;
    try {
      do {
        this.rescheduled = false;
        this.placeWaiting();
      } while (this.rescheduled && !this.shuttingDown);
    } finally {
      this.scheduling = false;
    }
  }

  private placeWaiting(): void {
    for (let next = this.queue.peek(); next; next = this.queue.peek()) {
      const placement = place(this.environments(), this.deps.maxConcurrency, next.request.tenantId);
      if (placement.kind === "wait") return;
      if (placement.kind === "replace") {
        this.retire(placement.retire, "spindown");
        continue;
      }
      const target = placement.kind === "assign" ? placement.environment : this.addEnvironment("on-demand");
      this.queue.shift();
      this.assign(target, next);
    }
  }

  private assign(target: FunctionEnvironment, invocation: Invocation): void {
    this.disarmIdleTimer(target);
    target.lastUsedMono = this.clock.now();
    target.invocationsServed++;
    if (invocation.request.tenantId !== undefined) target.tenantId = invocation.request.tenantId;
    invocation.environmentId = target.id;
    target.environment.enqueue(invocation);
    const done = () => {
      target.lastUsedMono = this.clock.now();
      this.armIdleTimer(target);
    };
    invocation.completion.then(done, done);
  }

  /** Starts the idle clock of an on-demand environment (provisioned ones are kept). */
  private armIdleTimer(target: FunctionEnvironment): void {
    const idleMs = this.deps.idleTimeoutMs;
    if (idleMs === undefined || target.initializationType === "provisioned-concurrency") return;
    this.disarmIdleTimer(target);
    const timer = this.clock.setTimeout(() => {
      this.idleTimers.delete(target.id);
      if (target.available && this.environmentsById.has(target.id)) this.retire(target, "spindown");
      else this.armIdleTimer(target);
    }, idleMs);
    this.idleTimers.set(target.id, timer);
  }

  private disarmIdleTimer(target: FunctionEnvironment): void {
    const timer = this.idleTimers.get(target.id);
    if (timer === undefined) return;
    this.clock.clearTimeout(timer);
    this.idleTimers.delete(target.id);
  }

  /** Removes an environment from the function and runs its shutdown phase. */
  private retire(target: FunctionEnvironment, reason: ShutdownReason): void {
    this.disarmIdleTimer(target);
    this.environmentsById.delete(target.id);
    void target.shutdown(reason).finally(() => this.schedule());
  }
}

/** Lambda's answer to a synchronous invocation beyond the function's concurrency. */
function throttled(): ServiceError {
  return new ServiceError(429, "TooManyRequestsException", "Rate Exceeded.", {
    body: { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" },
    headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
  });
}

function shutDownBeforeRunning(invocation: Invocation) {
  const message = `RequestId: ${invocation.id} Error: The function was shut down before the invocation started`;
  const payload = new TextEncoder().encode(
    JSON.stringify({ errorMessage: message, errorType: "Sandbox.Failure" }),
  );
  return {
    requestId: invocation.id,
    payload,
    contentType: "application/json",
    functionError: "Unhandled" as const,
    errorType: "Sandbox.Failure",
  };
}
