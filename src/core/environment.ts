/**
 * The execution-environment state machine (reference 4): init, invoke, reset, shutdown.
 * Lifecycle rules live here once; HTTP routes and the process layer only call in and get told.
 */
import type { FunctionConfig } from "./config.ts";
import { type Deferred, deferred } from "./deferred.ts";
import { invalidRequestId, invalidStateTransition, LambdaError } from "./errors.ts";
import type { EventBus, InitPhase, OutcomeStatus } from "./events.ts";
import { type Invocation, InvocationStatus } from "./invocation.ts";
import {
  billedDuration,
  describeExit,
  endLine,
  initReportLine,
  reportLine,
  startLine,
  timeoutLine,
  timeoutMessage,
} from "./platform-log.ts";

/** Largest response body the runtime may post (6 MiB + 100 bytes, the supervisor's constant). */
export const MAX_RESPONSE_BYTES = 6_291_556;

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/** A started runtime process, as the process layer hands it to core. */
export interface RuntimeHandle {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  /** Kills the runtime's whole process group at once (SIGKILL). */
  kill(): void;
  /** Peak resident memory of the process tree in MB, when the platform can tell. */
  maxMemoryUsedMB(): number | undefined;
}

/** Starts the runtime for a new init; throws a LambdaError when it cannot be started. */
export interface RuntimeLauncher {
  launch(): RuntimeHandle;
}

/** Phase of the execution environment. */
export type EnvironmentPhase =
  | "Uninitialized"
  | "Initializing"
  | "Ready"
  | "Invoking"
  | "Resetting"
  | "ShutDown";

interface InitFailure {
  status: OutcomeStatus;
  errorType: string;
  message: string;
  /** The body the runtime posted to `/init/error`, passed to the caller unchanged. */
  payload?: Uint8Array;
  contentType?: string;
}

interface InitAttempt {
  phase: InitPhase;
  startedMono: number;
  timer?: ReturnType<typeof setTimeout>;
  failure?: InitFailure;
}

const encoder = new TextEncoder();
const HISTORY_LIMIT = 1000;

/** Lambda's error payload `{"errorMessage","errorType"}` as bytes. */
export function errorPayload(errorType: string, errorMessage: string): Uint8Array {
  return encoder.encode(JSON.stringify({ errorMessage, errorType }));
}

/** One execution environment of the function: one runtime, one invocation at a time, FIFO queue. */
export class ExecutionEnvironment {
  private phaseValue: EnvironmentPhase = "Uninitialized";
  private readonly queue: Invocation[] = [];
  private readonly invocations = new Map<string, Invocation>();
  private current?: Invocation;
  private waiter?: Deferred<Invocation>;
  private runtime?: RuntimeHandle;
  private launcher?: RuntimeLauncher;
  private init?: InitAttempt;
  private generation = 0;
  private deadlineTimer?: ReturnType<typeof setTimeout>;
  /** Init duration to report on the next invocation (a cold start). */
  private pendingInitDurationMs?: number;
  private awaitingSinceMono = performance.now();
  private resetDone: Promise<void> = Promise.resolve();
  /** Number of inits started (cold starts and retries). */
  initCount = 0;

  constructor(
    private readonly config: FunctionConfig,
    private readonly events: EventBus,
  ) {}

  /** Current phase. */
  get phase(): EnvironmentPhase {
    return this.phaseValue;
  }

  /** Pid of the runtime process the simulator started, if one is alive. */
  get runtimePid(): number | undefined {
    return this.runtime?.pid;
  }

  /** Invocations waiting for the runtime. */
  get queuedCount(): number {
    return this.queue.length;
  }

  /** The invocation in flight (including one waiting on an invoke-phase init). */
  get currentInvocation(): Invocation | undefined {
    return this.current;
  }

  /** Every invocation still in the history (oldest first). */
  allInvocations(): Invocation[] {
    return [...this.invocations.values()];
  }

  /** The invocation with this request id, if still in the history. */
  invocation(id: string): Invocation | undefined {
    return this.invocations.get(id);
  }

  /** Sets how the runtime is started; with none, the environment waits for a runtime started elsewhere. */
  setLauncher(launcher: RuntimeLauncher | undefined): void {
    this.launcher = launcher;
  }

  /** Runs the `init` phase now (before any invoke) when a runtime can be launched. */
  start(): void {
    if (this.phaseValue === "Uninitialized" && this.launcher) this.beginInit("init");
  }

  /** Queues an invocation (FIFO); it runs when the runtime is ready. */
  enqueue(invocation: Invocation): void {
    if (this.phaseValue === "ShutDown") {
      throw new LambdaError(500, "ServiceException", "The execution environment has been shut down");
    }
    this.invocations.set(invocation.id, invocation);
    this.trimHistory();
    this.queue.push(invocation);
    this.events.emit("invocationQueued", invocation);
    this.pump();
  }

  // ---- Runtime API -------------------------------------------------------------------------

  /** `GET /runtime/invocation/next`: resolves with the next invocation for the runtime. */
  async next(signal?: AbortSignal): Promise<Invocation> {
    await this.resetDone;
    switch (this.phaseValue) {
      case "ShutDown":
        throw new LambdaError(403, "InvalidStateTransition", "The execution environment is shutting down");
      case "Uninitialized": {
        // A runtime started outside the simulator: its first /next is its whole init.
        const invocation = this.queue.shift();
        this.beginInit(invocation ? "invoke" : "init", invocation, this.awaitingSinceMono);
        this.finishInit();
        break;
      }
      case "Initializing":
        this.finishInit();
        break;
      case "Invoking": {
        const current = this.current;
        if (!current?.answered) throw invalidStateTransition("Running", "Ready");
        this.markRuntimeDone(current);
        break;
      }
      case "Ready":
        if (this.waiter) this.waiter.reject(invalidStateTransition("Ready", "Ready"));
        break;
      case "Resetting":
        break;
    }
    const waiter = deferred<Invocation>();
    this.waiter = waiter;
    signal?.addEventListener("abort", () => {
      if (this.waiter === waiter) this.waiter = undefined;
      waiter.reject(new LambdaError(499, "ClientClosedRequest", "The runtime closed the request"));
    });
    if (this.phaseValue === "Invoking" && this.current && !this.current.startedAt) {
      this.dispatch(this.current);
    } else {
      this.pump();
    }
    return waiter.promise;
  }

  /** Checks that `/response` or `/error` may be posted for `id` now (400, then 403), before the body is read. */
  assertAnswerable(id: string, target: "InvocationResponse" | "InvocationErrorResponse"): Invocation {
    const current = this.current;
    if (!current || current.id !== id || this.phaseValue !== "Invoking" || current.isComplete) {
      throw invalidRequestId();
    }
    if (current.answered) throw invalidStateTransition("RuntimeResponseSentState", target);
    return current;
  }

  /** `POST /invocation/{id}/response`. Oversized bodies get 413 and fail the invocation. */
  respond(id: string, payload: Uint8Array, contentType: string): void {
    const invocation = this.assertAnswerable(id, "InvocationResponse");
    invocation.answered = true;
    if (payload.byteLength > MAX_RESPONSE_BYTES) {
      invocation.settle({
        requestId: id,
        payload: errorPayload(
          "Function.ResponseSizeTooLarge",
          `Response payload size (${payload.byteLength} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        ),
        contentType: "application/json",
        functionError: "Unhandled",
        errorType: "Function.ResponseSizeTooLarge",
      });
      this.events.emit("invocationResponse", invocation);
      throw new LambdaError(
        413,
        "RequestEntityTooLarge",
        `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      );
    }
    invocation.settle({ requestId: id, payload, contentType });
    this.events.emit("invocationResponse", invocation);
  }

  /** `POST /invocation/{id}/error`: the body goes to the caller unchanged. */
  fail(id: string, payload: Uint8Array, contentType: string, errorType: string): void {
    const invocation = this.assertAnswerable(id, "InvocationErrorResponse");
    invocation.answered = true;
    invocation.settle({ requestId: id, payload, contentType, functionError: "Unhandled", errorType });
    this.events.emit("invocationResponse", invocation);
  }

  /** `POST /runtime/init/error`: init fails; the environment resets once the answer is out. */
  initError(payload: Uint8Array, contentType: string, errorType: string, message: string): void {
    const init = this.init;
    if (this.phaseValue !== "Initializing" || !init) {
      throw invalidStateTransition(this.phaseValue === "Invoking" ? "Running" : "Ready", "InitError");
    }
    if (init.failure) return;
    init.failure = { status: "error", errorType, message, payload, contentType };
    const generation = this.generation;
    setImmediate(() => {
      if (this.generation === generation && this.init === init) this.failInit(init.failure as InitFailure);
    });
  }

  /** A line the runtime wrote to stdout/stderr. */
  functionLog(line: string, stream: "stdout" | "stderr"): void {
    const invocation = this.current && !this.current.isComplete ? this.current : undefined;
    invocation?.logs.push(line);
    this.events.emit("log", { source: "function", stream, line, requestId: invocation?.id });
  }

  // ---- Shutdown ----------------------------------------------------------------------------

  /** Ends the environment: fails what is queued or running, kills the runtime, waits for its exit. */
  async shutdown(): Promise<void> {
    if (this.phaseValue === "ShutDown") return this.resetDone;
    this.setPhase("ShutDown");
    this.clearTimers();
    const pending = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    for (const invocation of pending) {
      const message = `RequestId: ${invocation.id} Error: The execution environment was shut down before the invocation completed`;
      this.platformFailure(invocation, "failure", "Sandbox.Failure", message);
    }
    this.current = undefined;
    this.waiter?.reject(
      new LambdaError(403, "InvalidStateTransition", "The execution environment is shutting down"),
    );
    this.waiter = undefined;
    const runtime = this.runtime;
    this.runtime = undefined;
    this.generation++;
    if (runtime) {
      runtime.kill();
      this.resetDone = runtime.exited.then(() => undefined);
    }
    await this.resetDone;
  }

  // ---- Internals ---------------------------------------------------------------------------

  private setPhase(phase: EnvironmentPhase): void {
    if (this.phaseValue === phase) return;
    this.phaseValue = phase;
    this.events.emit("phase", { phase });
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    if (this.phaseValue === "Uninitialized" && this.launcher) {
      const invocation = this.queue.shift() as Invocation;
      this.beginInit("invoke", invocation);
    } else if (this.phaseValue === "Ready" && this.waiter) {
      this.dispatch(this.queue.shift() as Invocation);
    }
  }

  private startClock(invocation: Invocation): void {
    const timeoutSeconds = invocation.request.timeoutSeconds ?? this.config.timeoutSeconds;
    invocation.status = InvocationStatus.Running;
    invocation.startedMono = performance.now();
    invocation.deadlineMs = Date.now() + Math.round(timeoutSeconds * 1000);
    this.current = invocation;
    this.platformLog(startLine(invocation.id, this.config.functionVersion), invocation);
    this.events.emit("invocationStart", invocation);
    this.deadlineTimer = setTimeout(() => this.onDeadline(invocation, timeoutSeconds), timeoutSeconds * 1000);
  }

  private dispatch(invocation: Invocation): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (this.current !== invocation) this.startClock(invocation);
    invocation.startedAt = Date.now();
    if (this.pendingInitDurationMs !== undefined) {
      invocation.initDurationMs = this.pendingInitDurationMs;
      this.pendingInitDurationMs = undefined;
    }
    this.setPhase("Invoking");
    waiter.resolve(invocation);
  }

  private beginInit(phase: InitPhase, invocation?: Invocation, startedMono = performance.now()): void {
    this.generation++;
    this.initCount++;
    this.init = { phase, startedMono };
    this.setPhase("Initializing");
    this.events.emit("initStart", { phase, generation: this.generation });
    if (invocation) this.startClock(invocation);
    if (!this.launcher) return;
    const init = this.init;
    if (phase === "init") {
      init.timer = setTimeout(
        () => this.failInit({ status: "timeout", errorType: "Sandbox.Timedout", message: "Init timed out" }),
        this.config.initTimeoutSeconds * 1000,
      );
    }
    try {
      const runtime = this.launcher.launch();
      this.runtime = runtime;
      const generation = this.generation;
      runtime.exited.then((exit) => this.onRuntimeExit(generation, runtime, exit));
    } catch (error) {
      const launchError =
        error instanceof LambdaError
          ? error
          : new LambdaError(500, "Runtime.InvalidEntrypoint", String(error));
      queueMicrotask(() =>
        this.failInit({ status: "error", errorType: launchError.errorType, message: launchError.message }),
      );
    }
  }

  private finishInit(): void {
    const init = this.init;
    if (!init) return;
    clearTimeout(init.timer);
    this.init = undefined;
    const durationMs = performance.now() - init.startedMono;
    this.events.emit("initEnd", { phase: init.phase, status: "success", durationMs });
    this.pendingInitDurationMs = durationMs;
    this.setPhase(this.current ? "Invoking" : "Ready");
  }

  private failInit(failure: InitFailure): void {
    const init = this.init;
    if (!init) return;
    clearTimeout(init.timer);
    this.init = undefined;
    const durationMs = performance.now() - init.startedMono;
    this.events.emit("initEnd", {
      phase: init.phase,
      status: failure.status,
      errorType: failure.errorType,
      durationMs,
    });
    const invocation = this.current;
    this.platformLog(initReportLine(durationMs, init.phase, failure.status, failure.errorType), invocation);
    if (invocation && failure.status !== "timeout") {
      invocation.initDurationMs = durationMs;
      const payload =
        failure.payload ??
        errorPayload(failure.errorType, `RequestId: ${invocation.id} Error: ${failure.message}`);
      invocation.answered = true;
      invocation.settle({
        requestId: invocation.id,
        payload,
        contentType: failure.contentType ?? "application/json",
        functionError: "Unhandled",
        errorType: failure.errorType,
      });
      this.events.emit("invocationResponse", invocation);
      this.completeInvocation(invocation, failure.status, failure.errorType);
    }
    this.reset();
  }

  private onRuntimeExit(generation: number, runtime: RuntimeHandle, exit: ProcessExit): void {
    this.events.emit("runtimeExit", { pid: runtime.pid, ...exit });
    if (generation !== this.generation) return;
    this.runtime = undefined;
    const reason = describeExit(exit.code, exit.signal);
    if (this.phaseValue === "Initializing") {
      this.failInit(
        this.init?.failure ?? { status: "error", errorType: "Runtime.ExitError", message: reason },
      );
      return;
    }
    const invocation = this.current;
    if (this.phaseValue === "Invoking" && invocation) {
      const message = `RequestId: ${invocation.id} Error: ${reason}`;
      this.platformLog(message, invocation);
      this.platformLog("Runtime.ExitError", invocation);
      this.platformFailure(invocation, "error", "Runtime.ExitError", message);
    }
    this.reset();
  }

  private onDeadline(invocation: Invocation, timeoutSeconds: number): void {
    if (this.current !== invocation || invocation.isComplete) return;
    const init = this.init;
    if (init && this.phaseValue === "Initializing") {
      this.init = undefined;
      const durationMs = performance.now() - init.startedMono;
      this.events.emit("initEnd", {
        phase: init.phase,
        status: "timeout",
        errorType: "Sandbox.Timedout",
        durationMs,
      });
      this.platformLog(initReportLine(durationMs, init.phase, "timeout"), invocation);
    }
    this.platformLog(timeoutLine(invocation.id, timeoutSeconds), invocation);
    this.platformFailure(
      invocation,
      "timeout",
      "Sandbox.Timedout",
      timeoutMessage(invocation.id, timeoutSeconds),
    );
    this.reset();
  }

  /** Answers the caller for the platform (when the runtime has not) and ends the invocation. */
  private platformFailure(
    invocation: Invocation,
    status: OutcomeStatus,
    errorType: string,
    message: string,
  ): void {
    if (!invocation.answered) {
      invocation.answered = true;
      invocation.settle({
        requestId: invocation.id,
        payload: errorPayload(errorType, message),
        contentType: "application/json",
        functionError: "Unhandled",
        errorType,
      });
      this.events.emit("invocationResponse", invocation);
    }
    this.completeInvocation(invocation, status, errorType);
  }

  private markRuntimeDone(invocation: Invocation): void {
    invocation.runtimeDone = true;
    this.events.emit("runtimeDone", invocation);
    const result = invocation.result;
    const errorType = result?.errorType;
    this.completeInvocation(invocation, errorType ? "error" : "success", errorType);
    this.setPhase("Ready");
  }

  private completeInvocation(invocation: Invocation, status: OutcomeStatus, errorType?: string): void {
    if (invocation.isComplete) return;
    clearTimeout(this.deadlineTimer);
    const durationMs = invocation.startedMono === undefined ? 0 : performance.now() - invocation.startedMono;
    const maxMemoryUsedMB = this.runtime?.maxMemoryUsedMB() ?? this.config.memorySizeMB;
    this.platformLog(endLine(invocation.id), invocation);
    this.platformLog(
      reportLine({
        requestId: invocation.id,
        durationMs,
        billedDurationMs: billedDuration(durationMs, invocation.initDurationMs),
        memorySizeMB: this.config.memorySizeMB,
        maxMemoryUsedMB: Math.min(maxMemoryUsedMB, this.config.memorySizeMB),
        initDurationMs: invocation.initDurationMs,
        status,
        errorType,
      }),
      invocation,
    );
    invocation.finish(status, durationMs, errorType);
    if (this.current === invocation) this.current = undefined;
    this.events.emit("invocationComplete", invocation);
  }

  private reset(): void {
    if (this.phaseValue === "ShutDown") return;
    this.setPhase("Resetting");
    this.clearTimers();
    this.generation++;
    this.waiter?.reject(
      new LambdaError(403, "InvalidStateTransition", "The execution environment is being reset"),
    );
    this.waiter = undefined;
    const runtime = this.runtime;
    this.runtime = undefined;
    const finish = () => {
      if (this.phaseValue !== "Resetting") return;
      this.awaitingSinceMono = performance.now();
      this.setPhase("Uninitialized");
      this.pump();
    };
    if (runtime) {
      runtime.kill();
      this.resetDone = runtime.exited.then(finish);
    } else {
      this.resetDone = Promise.resolve();
      finish();
    }
  }

  private clearTimers(): void {
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.init?.timer);
    this.init = undefined;
  }

  private platformLog(line: string, invocation?: Invocation): void {
    invocation?.logs.push(line);
    this.events.emit("log", { source: "platform", stream: "platform", line, requestId: invocation?.id });
  }

  private trimHistory(): void {
    if (this.invocations.size <= HISTORY_LIMIT) return;
    for (const [id, invocation] of this.invocations) {
      if (this.invocations.size <= HISTORY_LIMIT) break;
      if (invocation.isComplete) this.invocations.delete(id);
    }
  }
}
