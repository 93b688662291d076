/**
 * The execution-environment state machine (reference 4): init, invoke, reset, shutdown.
 * Lifecycle rules live here once; HTTP routes and the process layer only call in and get told.
 */
import type { FunctionConfig } from "./config.ts";
import { functionArn } from "./config.ts";
import { type Deferred, deferred } from "./deferred.ts";
import { invalidRequestId, invalidStateTransition, LambdaError } from "./errors.ts";
import type { EnvironmentBus } from "./events.ts";
import { type Extension, type ExtensionEvent, ExtensionRegistry, type ShutdownReason } from "./extensions.ts";
import { FreezeControl, type Freezer } from "./freeze.ts";
import { type Invocation, InvocationStatus } from "./invocation.ts";
import { errorPayload, InvocationOutcomes } from "./invocation-outcome.ts";
import { InvocationQueue } from "./invocation-queue.ts";
import type { ExtensionLauncher, Failure, LaunchedProcess, Launcher, ProcessExit } from "./launch.ts";
import { describeExit, timeoutLine, timeoutMessage } from "./platform-log.ts";
import { runShutdown } from "./shutdown.ts";
import type { SubscriptionApi, TelemetryHub } from "./telemetry/hub.ts";
import type { InitializationType, InitPhase, OutcomeStatus } from "./vocabulary.ts";

export { errorPayload } from "./invocation-outcome.ts";
export type { ExtensionLauncher, LaunchedProcess, Launcher, ProcessExit } from "./launch.ts";
export type { ProcessHandle } from "./shutdown.ts";

/** Largest response body the runtime may post (6 MiB + 100 bytes, the supervisor's constant). */
export const MAX_RESPONSE_BYTES = 6_291_556;

/** Phase of the execution environment. */
export type EnvironmentPhase =
  | "Uninitialized"
  | "Initializing"
  | "Ready"
  | "Invoking"
  | "Resetting"
  | "ShutDown";

interface InitAttempt {
  phase: InitPhase;
  startedMono: number;
  timer?: ReturnType<typeof setTimeout>;
  failure?: Failure;
  /** External extensions launched but not yet registered; the runtime starts when this is empty. */
  awaitingRegistration: Set<string>;
  runtimeStarted: boolean;
  runtimeCalledNext: boolean;
}

/** One execution environment of the function: one runtime, its extensions, one invocation at a time. */
export class ExecutionEnvironment {
  private phaseValue: EnvironmentPhase = "Uninitialized";
  private readonly queue = new InvocationQueue();
  private current?: Invocation;
  private waiter?: Deferred<Invocation>;
  private runtime?: LaunchedProcess;
  private launcher?: Launcher;
  private extensionLaunchers: ExtensionLauncher[] = [];
  private extensionProcesses = new Map<string, LaunchedProcess>();
  private registryValue: ExtensionRegistry;
  private init?: InitAttempt;
  private generation = 0;
  private deadlineTimer?: ReturnType<typeof setTimeout>;
  private pendingInitDurationMs?: number;
  private awaitingSinceMono = performance.now();
  private resetDone: Promise<void> = Promise.resolve();
  /** Replaces Lambda's shutdown budget when set (ms). */
  shutdownBudgetOverrideMs?: number;
  /**
   * How this environment is initialised (reference 4.9): a provisioned one reports no `Init
   * Duration` on its first REPORT and always logs its INIT_REPORT.
   */
  initializationType: InitializationType = "on-demand";
  /** Number of inits started (cold starts and retries). */
  initCount = 0;
  private freeze?: FreezeControl;
  private readonly outcomes: InvocationOutcomes;
  private readonly extraFreezePids = new Set<number>();

  constructor(
    private readonly config: FunctionConfig,
    private readonly events: EnvironmentBus,
    private readonly telemetry?: TelemetryHub,
  ) {
    this.registryValue = this.newRegistry();
    this.outcomes = new InvocationOutcomes(config, events, () => this.measureMemoryMB());
  }

  /** Current phase. */
  get phase(): EnvironmentPhase {
    return this.phaseValue;
  }

  /** Pid of the runtime process the simulator started, if one is alive. */
  get runtimePid(): number | undefined {
    return this.runtime?.pid;
  }

  /** The extensions registered in the current (or last) init. */
  get registry(): ExtensionRegistry {
    return this.registryValue;
  }

  /**
   * It can take an invocation now: none in flight or waiting, not resetting or shut down (an
   * environment still in its init takes one, which runs when the init is done).
   */
  get available(): boolean {
    return (
      !this.current &&
      this.queue.length === 0 &&
      this.phaseValue !== "Resetting" &&
      this.phaseValue !== "ShutDown"
    );
  }

  /**
   * Its invocation is answered and only the re-polls are missing: the next invocation can wait
   * here for a moment instead of cold-starting another environment.
   */
  get finishing(): boolean {
    return this.current?.answered === true && this.queue.length === 0 && this.phaseValue === "Invoking";
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
    return this.queue.all();
  }

  /** The invocation with this request id, if still in the history. */
  invocation(id: string): Invocation | undefined {
    return this.queue.get(id);
  }

  /** Sets how the runtime is started; with none, the environment waits for a runtime started elsewhere. */
  setLauncher(launcher: Launcher | undefined): void {
    this.launcher = launcher;
  }

  /** Adds an external extension, launched before the runtime at every init. */
  addExtension(launcher: ExtensionLauncher): void {
    if (this.extensionLaunchers.some((l) => l.name === launcher.name)) {
      throw new LambdaError(
        400,
        "Extension.InvalidExtensionName",
        `Two extensions are named ${launcher.name}`,
      );
    }
    this.extensionLaunchers.push(launcher);
  }

  /** Runs the `init` phase now (before any invoke) when something can be launched. */
  start(): void {
    if (this.phaseValue === "Uninitialized" && (this.launcher || this.extensionLaunchers.length > 0)) {
      this.beginInit("init");
    }
  }

  /** Queues an invocation (FIFO); it runs when the environment is ready. */
  enqueue(invocation: Invocation): void {
    if (this.phaseValue === "ShutDown") {
      throw new LambdaError(500, "ServiceException", "The execution environment has been shut down");
    }
    this.queue.push(invocation);
    this.events.emit("invocationQueued", invocation);
    this.pump();
  }

  // ---- Runtime API -------------------------------------------------------------------------

  /** `GET /runtime/invocation/next`: resolves with the next invocation for the runtime. */
  async next(signal?: AbortSignal): Promise<Invocation> {
    const generation = this.generation;
    await this.resetDone;
    if (this.phaseValue === "ShutDown") {
      throw new LambdaError(403, "InvalidStateTransition", "The execution environment is shutting down");
    }
    // A /next sent by a runtime that a reset has since killed (or, with a launcher, by a process
    // the simulator did not start) must not count as a new runtime's init.
    const stale =
      generation !== this.generation || (this.phaseValue === "Uninitialized" && this.launcher !== undefined);
    if (stale) throw invalidStateTransition("Exited", "Ready");
    if (this.phaseValue === "Invoking" && !this.current?.answered)
      throw invalidStateTransition("Running", "Ready");
    const waiter = deferred<Invocation>();
    this.waiter?.reject(invalidStateTransition("Ready", "Ready"));
    this.waiter = waiter;
    signal?.addEventListener("abort", () => {
      if (this.waiter === waiter) this.waiter = undefined;
      waiter.reject(new LambdaError(499, "ClientClosedRequest", "The runtime closed the request"));
    });
    if (this.phaseValue === "Uninitialized") {
      // A runtime started outside the simulator: its first /next ends its init.
      const invocation = this.queue.shift();
      this.beginInit(invocation ? "invoke" : "init", invocation, this.awaitingSinceMono);
    }
    if (this.phaseValue === "Initializing" && this.init) {
      this.init.runtimeStarted = true;
      this.init.runtimeCalledNext = true;
      this.registryValue.closeRegistration();
      this.tryFinishInit();
    } else if (this.phaseValue === "Invoking" && this.current && !this.current.runtimeDone) {
      this.markRuntimeDone(this.current);
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
  respond(id: string, payload: Uint8Array, contentType: string, readMs = 0): void {
    const invocation = this.assertAnswerable(id, "InvocationResponse");
    invocation.responseReadMs = readMs;
    if (payload.byteLength > MAX_RESPONSE_BYTES) {
      const message = `Response payload size (${payload.byteLength} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
      this.outcomes.answer(
        invocation,
        errorPayload("Function.ResponseSizeTooLarge", message),
        "application/json",
        "Function.ResponseSizeTooLarge",
      );
      throw new LambdaError(
        413,
        "RequestEntityTooLarge",
        `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      );
    }
    invocation.producedBytes = payload.byteLength;
    this.outcomes.answer(invocation, payload, contentType);
  }

  /** `POST /invocation/{id}/error`: the body goes to the caller unchanged. */
  fail(id: string, payload: Uint8Array, contentType: string, errorType: string): void {
    this.outcomes.answer(
      this.assertAnswerable(id, "InvocationErrorResponse"),
      payload,
      contentType,
      errorType,
    );
  }

  /** `POST /runtime/init/error`: init fails; the environment resets once the answer is out. */
  initError(payload: Uint8Array, contentType: string, errorType: string, message: string): void {
    if (this.phaseValue === "Uninitialized" && !this.launcher) {
      // A runtime started elsewhere fails its first init before ever calling /next.
      const invocation = this.queue.shift();
      this.beginInit(invocation ? "invoke" : "init", invocation, this.awaitingSinceMono);
    }
    const init = this.init;
    if (this.phaseValue !== "Initializing" || !init || init.runtimeCalledNext) {
      throw invalidStateTransition(this.phaseValue === "Invoking" ? "Running" : "Ready", "InitError");
    }
    this.failInitSoon(init, { status: "error", errorType, message, payload, contentType });
  }

  /** A line the runtime or an extension wrote to stdout/stderr. */
  processLog(line: string, stream: "stdout" | "stderr", extension?: string): void {
    const invocation = this.current && !this.current.isComplete ? this.current : undefined;
    invocation?.appendLog(line);
    this.events.emit("log", {
      source: extension ? "extension" : "function",
      stream,
      line,
      requestId: invocation?.id,
      extension,
    });
  }

  // ---- Extensions API ----------------------------------------------------------------------

  /** `POST /extension/register`. */
  register(name: string | null, body: Uint8Array, acceptFeatures: string | null) {
    if (this.phaseValue === "Uninitialized" && !this.launcher)
      this.beginInit("init", undefined, this.awaitingSinceMono);
    if (this.phaseValue !== "Initializing") this.registryValue.closeRegistration();
    const registration = this.registryValue.register(name, body, acceptFeatures);
    this.events.emit("extensionRegistered", registration.extension.info());
    const init = this.init;
    if (init && registration.extension.external) {
      init.awaitingRegistration.delete(registration.extension.name);
      if (init.awaitingRegistration.size === 0 && !init.runtimeStarted) this.startRuntime(init);
    }
    return registration;
  }

  /** `GET /extension/event/next`: resolves with the extension's next event. */
  extensionNext(id: string | null, signal?: AbortSignal): Promise<ExtensionEvent> {
    const extension = this.registryValue.identify(id);
    const event = extension.next();
    signal?.addEventListener("abort", () => extension.abandon(event));
    if (this.phaseValue === "Initializing") this.tryFinishInit();
    else if (this.phaseValue === "Invoking" && this.current) this.maybeComplete(this.current);
    return event;
  }

  /** `POST /extension/init/error` and `/extension/exit/error`. */
  extensionError(
    kind: "init" | "exit",
    id: string | null,
    errorType: string | null,
    message: string | undefined,
  ): void {
    const extension = this.registryValue.identify(id, () => "Unknown Lambda-Extension-Identifier");
    if (!errorType)
      throw new LambdaError(403, "Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found");
    if (extension.state === "InitError" || extension.state === "ExitError") return;
    extension.setError(kind === "init" ? "InitError" : "ExitError", errorType);
    const fatal = kind === "init" ? "Extension.InitError" : "Extension.ExitError";
    const failure: Failure = {
      status: "error",
      errorType: fatal,
      message: message ?? `${extension.name} reported ${errorType}`,
    };
    if (this.phaseValue === "Initializing" && this.init) this.failInitSoon(this.init, failure);
    else if (kind === "exit") this.failEnvironmentSoon(failure);
  }

  /** `PUT /2022-07-01/telemetry` or `PUT /2020-08-15/logs`: accepted only during init. */
  subscribeTelemetry(api: SubscriptionApi, id: string | null, body: unknown): void {
    const extension = this.registryValue.identify(id);
    if (!this.telemetry) throw new LambdaError(500, "InternalServerError", "Telemetry is not available");
    const types = this.telemetry.subscribe(api, extension, body, this.phaseValue === "Initializing");
    const label = types.map((t) => t[0]?.toUpperCase() + t.slice(1)).join(", ");
    this.outcomes.log(
      `${api === "telemetry" ? "TELEMETRY" : "LOGS"}\tName: ${extension.name}\tState: Subscribed\tTypes: [${label}]`,
    );
    this.events.emit("telemetrySubscription", { name: extension.name, types, api });
  }

  // ---- Shutdown ----------------------------------------------------------------------------

  /** Ends the environment: fails what is queued or running, runs the shutdown phase, waits for every exit. */
  async shutdown(reason: ShutdownReason = "spindown"): Promise<void> {
    if (this.phaseValue === "ShutDown") return this.resetDone;
    await this.resetDone;
    this.setPhase("ShutDown");
    const current = this.current;
    // Answered but the runtime has not re-polled yet: it ends with its own outcome.
    if (current?.answered)
      this.completeInvocation(current, current.errorType ? "error" : "success", current.errorType);
    for (const invocation of [...(this.current ? [this.current] : []), ...this.queue.drain()]) {
      const message = `RequestId: ${invocation.id} Error: The execution environment was shut down before the invocation completed`;
      this.platformFailure(invocation, "failure", "Sandbox.Failure", message);
    }
    this.resetDone = this.stopProcesses(reason);
    await this.resetDone;
  }

  // ---- Internals ---------------------------------------------------------------------------

  private extensionInfos() {
    return this.registryValue.all().map((e) => e.info());
  }

  private newRegistry(): ExtensionRegistry {
    return new ExtensionRegistry({
      functionName: this.config.functionName,
      functionVersion: this.config.functionVersion,
      handler: this.config.handler,
      accountId: this.config.accountId,
      externalPid: (name) => this.extensionProcesses.get(name)?.pid,
    });
  }

  private setPhase(phase: EnvironmentPhase): void {
    if (this.phaseValue === phase) return;
    this.phaseValue = phase;
    this.events.emit("phase", { phase });
  }

  /** Freezes every process of the environment whenever it is idle (FreezeMode.Process). */
  enableFreezing(freezer: Freezer): void {
    this.freeze = new FreezeControl(
      freezer,
      this.events,
      () => this.freezeRoots(),
      () => this.pump(),
    );
  }

  /** Adds a process started outside the simulator to what is frozen and thawed. */
  registerPidForFreeze(pid: number): void {
    this.extraFreezePids.add(pid);
  }

  /** True while the environment's processes are stopped. */
  get isFrozen(): boolean {
    return this.freeze?.frozen ?? false;
  }

  /** Number of completed freezes. */
  get freezeEpoch(): number {
    return this.freeze?.epoch ?? 0;
  }

  private freezeRoots(): number[] {
    const roots = [...this.extraFreezePids];
    if (this.runtime) roots.push(this.runtime.pid);
    for (const process of this.extensionProcesses.values()) roots.push(process.pid);
    return roots;
  }

  private isIdle(): boolean {
    return this.phaseValue === "Ready" && !this.current && this.queue.length === 0;
  }

  private pump(): void {
    const freeze = this.freeze;
    if (freeze && (freeze.frozen || freeze.busy)) {
      // Thaw (after any freeze in flight) before anything reaches a process; pump runs again after.
      if (!freeze.busy && !this.isIdle() && this.phaseValue !== "ShutDown") void freeze.thaw();
      return;
    }
    if (this.current || this.queue.length === 0) {
      if (freeze && this.isIdle()) freeze.freeze(() => this.isIdle());
      return;
    }
    if (this.phaseValue === "Uninitialized" && (this.launcher || this.extensionLaunchers.length > 0)) {
      this.beginInit("invoke", this.queue.shift());
    } else if (this.phaseValue === "Ready" && this.waiter) {
      this.dispatch(this.queue.shift() as Invocation);
    }
  }

  private startClock(invocation: Invocation): void {
    const timeoutSeconds = invocation.request.timeoutSeconds ?? this.config.timeoutSeconds;
    invocation.status = InvocationStatus.Running;
    invocation.startedMono = performance.now();
    invocation.startedAt = Date.now();
    invocation.deadlineMs = invocation.startedAt + Math.round(timeoutSeconds * 1000);
    this.current = invocation;
    this.outcomes.log(this.outcomes.lines.start(invocation.id, this.config.functionVersion), invocation);
    this.events.emit("invocationStart", invocation);
    this.deadlineTimer = setTimeout(() => this.onDeadline(invocation, timeoutSeconds), timeoutSeconds * 1000);
  }

  private dispatch(invocation: Invocation): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (this.current !== invocation) this.startClock(invocation);
    if (this.pendingInitDurationMs !== undefined) {
      invocation.initDurationMs = this.pendingInitDurationMs;
      this.pendingInitDurationMs = undefined;
    }
    this.setPhase("Invoking");
    invocation.dispatchedMono = performance.now();
    invocation.hadExtensions = this.registryValue.all().length > 0;
    const event = {
      eventType: "INVOKE" as const,
      deadlineMs: invocation.deadlineMs as number,
      requestId: invocation.id,
      invokedFunctionArn: functionArn(this.config, invocation.request.qualifier),
      tracing: { type: "X-Amzn-Trace-Id" as const, value: invocation.traceId },
    };
    for (const extension of this.registryValue.all()) if (extension.wants("INVOKE")) extension.deliver(event);
    this.events.emit("invocationDispatch", invocation);
    waiter.resolve(invocation);
  }

  private beginInit(phase: InitPhase, invocation?: Invocation, startedMono = performance.now()): void {
    this.generation++;
    this.initCount++;
    this.registryValue = this.newRegistry();
    this.extensionProcesses = new Map();
    const init: InitAttempt = {
      phase,
      startedMono,
      awaitingRegistration: new Set(this.extensionLaunchers.map((l) => l.name)),
      runtimeStarted: false,
      runtimeCalledNext: false,
    };
    this.init = init;
    this.setPhase("Initializing");
    this.events.emit("initStart", { phase, generation: this.generation });
    if (invocation) this.startClock(invocation);
    if (phase === "init" && this.launcher) {
      const limit = this.config.initTimeoutSeconds;
      init.timer = setTimeout(
        () =>
          this.failInit(init, {
            status: "timeout",
            errorType: "Sandbox.Timedout",
            message: `Init timed out after ${limit.toFixed(2)} seconds`,
          }),
        limit * 1000,
      );
    }
    const generation = this.generation;
    for (const launcher of this.extensionLaunchers) {
      const launched = this.tryLaunch(init, launcher, "Extension.LaunchError");
      if (!launched) return;
      this.extensionProcesses.set(launcher.name, launched);
      launched.exited.then((exit) => this.onExtensionExit(generation, launcher.name, exit));
    }
    if (init.awaitingRegistration.size === 0) this.startRuntime(init);
  }

  private tryLaunch(init: InitAttempt, launcher: Launcher, errorType: string): LaunchedProcess | undefined {
    try {
      return launcher.launch();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failInitSoon(init, {
        status: "error",
        errorType: error instanceof LambdaError ? error.errorType : errorType,
        message,
      });
      return undefined;
    }
  }

  private startRuntime(init: InitAttempt): void {
    init.runtimeStarted = true;
    if (!this.launcher) return;
    const runtime = this.tryLaunch(init, this.launcher, "Runtime.InvalidEntrypoint");
    if (!runtime) return;
    this.runtime = runtime;
    const generation = this.generation;
    runtime.exited.then((exit) => this.onRuntimeExit(generation, runtime, exit));
  }

  private tryFinishInit(): void {
    const init = this.init;
    if (!init?.runtimeCalledNext || init.failure) return;
    if (!this.registryValue.all().every((e) => e.isWaiting)) return;
    clearTimeout(init.timer);
    this.init = undefined;
    this.registryValue.closeRegistration();
    const durationMs = performance.now() - init.startedMono;
    this.events.emit("initEnd", {
      phase: init.phase,
      status: "success",
      durationMs,
      extensions: this.extensionInfos(),
    });
    if (this.initializationType === "provisioned-concurrency") {
      this.outcomes.log(this.outcomes.lines.initReport(durationMs, init.phase, "success"));
    } else {
      this.pendingInitDurationMs = durationMs;
    }
    for (const e of this.registryValue.all()) {
      this.outcomes.log(`EXTENSION\tName: ${e.name}\tState: Ready\tEvents: [${[...e.events].join(", ")}]`);
    }
    if (this.current) {
      this.dispatch(this.current);
    } else {
      this.setPhase("Ready");
      this.pump();
    }
  }

  /** Fails init after the current HTTP answer is out (the failing process usually exits next). */
  private failInitSoon(init: InitAttempt, failure: Failure): void {
    if (init.failure) return;
    init.failure = failure;
    setImmediate(() => this.failInit(init, failure));
  }

  private failInit(init: InitAttempt, failure: Failure): void {
    if (this.init !== init) return;
    clearTimeout(init.timer);
    this.init = undefined;
    const durationMs = performance.now() - init.startedMono;
    this.events.emit("initEnd", {
      phase: init.phase,
      status: failure.status,
      errorType: failure.errorType,
      durationMs,
      extensions: this.extensionInfos(),
    });
    const invocation = this.current;
    this.outcomes.log(
      this.outcomes.lines.initReport(durationMs, init.phase, failure.status, failure.errorType),
      invocation,
    );
    if (invocation && failure.status !== "timeout") {
      invocation.initDurationMs = durationMs;
      const payload =
        failure.payload ??
        errorPayload(failure.errorType, `RequestId: ${invocation.id} Error: ${failure.message}`);
      this.outcomes.answer(invocation, payload, failure.contentType ?? "application/json", failure.errorType);
      this.completeInvocation(invocation, failure.status, failure.errorType);
    }
    this.reset(failure.status === "timeout" ? "timeout" : "failure");
  }

  private failEnvironmentSoon(failure: Failure): void {
    const generation = this.generation;
    setImmediate(() => {
      if (generation !== this.generation) return;
      const invocation = this.current;
      if (invocation)
        this.platformFailure(
          invocation,
          failure.status,
          failure.errorType,
          `RequestId: ${invocation.id} Error: ${failure.message}`,
        );
      this.reset("failure");
    });
  }

  private onRuntimeExit(generation: number, runtime: LaunchedProcess, exit: ProcessExit): void {
    this.events.emit("runtimeExit", { pid: runtime.pid, ...exit });
    if (generation !== this.generation) return;
    this.runtime = undefined;
    this.onProcessFailure({
      status: "error",
      errorType: "Runtime.ExitError",
      message: describeExit(exit.code, exit.signal),
    });
  }

  private onExtensionExit(generation: number, name: string, exit: ProcessExit): void {
    this.events.emit("extensionExit", { name, ...exit });
    if (generation !== this.generation) return;
    const extension = this.registryValue.all().find((e) => e.name === name);
    extension?.setError("Exited", "Extension.Crash");
    this.extensionProcesses.delete(name);
    const reason = describeExit(exit.code, exit.signal).replace("Runtime", `Extension ${name}`);
    this.onProcessFailure({ status: "error", errorType: "Extension.Crash", message: reason });
  }

  private onProcessFailure(failure: Failure): void {
    if (this.phaseValue === "Initializing" && this.init) {
      // A failure the process reported before dying (init/error) explains its exit best.
      this.failInit(this.init, this.init.failure ?? failure);
      return;
    }
    const invocation = this.current;
    if (this.phaseValue === "Invoking" && invocation) {
      const message = `RequestId: ${invocation.id} Error: ${failure.message}`;
      this.outcomes.log(message, invocation);
      this.outcomes.log(failure.errorType, invocation);
      this.platformFailure(invocation, "error", failure.errorType, message);
    }
    if (this.phaseValue !== "Resetting" && this.phaseValue !== "ShutDown") this.reset("failure");
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
        extensions: this.extensionInfos(),
      });
      this.outcomes.log(this.outcomes.lines.initReport(durationMs, init.phase, "timeout"), invocation);
    }
    this.outcomes.log(timeoutLine(invocation.id, timeoutSeconds), invocation);
    this.platformFailure(
      invocation,
      "timeout",
      "Sandbox.Timedout",
      timeoutMessage(invocation.id, timeoutSeconds),
    );
    this.reset("timeout");
  }

  /** Answers the caller for the platform (when the runtime has not) and ends the invocation. */
  private platformFailure(
    invocation: Invocation,
    status: OutcomeStatus,
    errorType: string,
    message: string,
  ): void {
    this.outcomes.answer(invocation, errorPayload(errorType, message), "application/json", errorType);
    this.completeInvocation(invocation, status, errorType);
  }

  private markRuntimeDone(invocation: Invocation): void {
    invocation.runtimeDone = true;
    invocation.runtimeDoneMono = performance.now();
    // The first invocation after an init always waits: a runtime's first line may be in flight.
    const flushed = this.runtime?.flushOutput(invocation.initDurationMs !== undefined);
    if (!flushed) {
      this.runtimeOutputRead(invocation);
      return;
    }
    // What the runtime printed before calling /next belongs to this invocation: read it all first.
    const generation = this.generation;
    flushed.then(() => {
      if (generation === this.generation && !invocation.isComplete) this.runtimeOutputRead(invocation);
    });
  }

  private runtimeOutputRead(invocation: Invocation): void {
    invocation.outputRead = true;
    this.events.emit("runtimeDone", invocation);
    this.maybeComplete(invocation);
  }

  /** An invocation is complete when the runtime re-polled and every INVOKE subscriber re-polled too. */
  private maybeComplete(invocation: Invocation): void {
    if (!invocation.outputRead || invocation.isComplete) return;
    const busy = this.registryValue
      .all()
      .some((e) => e.wants("INVOKE") && !e.isWaiting && e.state !== "Exited");
    if (busy) return;
    invocation.extensionOverheadMs = performance.now() - (invocation.runtimeDoneMono as number);
    const errorType = invocation.result?.errorType;
    this.completeInvocation(invocation, errorType ? "error" : "success", errorType);
    this.setPhase("Ready");
    this.pump();
  }

  private completeInvocation(invocation: Invocation, status: OutcomeStatus, errorType?: string): void {
    if (invocation.isComplete) return;
    clearTimeout(this.deadlineTimer);
    this.outcomes.close(invocation, status, errorType);
    if (this.current === invocation) this.current = undefined;
    this.events.emit("invocationComplete", invocation);
  }

  /** Peak memory of the environment's processes (runtime and extension trees), in MB. */
  private measureMemoryMB(): number {
    let total = 0;
    for (const process of [this.runtime, ...this.extensionProcesses.values()])
      total += process?.maxMemoryUsedMB() ?? 0;
    return total;
  }

  private reset(reason: ShutdownReason): void {
    if (this.phaseValue === "ShutDown" || this.phaseValue === "Resetting") return;
    this.setPhase("Resetting");
    this.resetDone = this.stopProcesses(reason).then(() => {
      if (this.phaseValue !== "Resetting") return;
      this.awaitingSinceMono = performance.now();
      this.setPhase("Uninitialized");
      this.pump();
    });
  }

  /** Runs the shutdown phase over the current processes and forgets them. */
  private async stopProcesses(reason: ShutdownReason): Promise<void> {
    // A stopped process cannot act on SIGTERM or SHUTDOWN: continue everything first.
    await this.freeze?.thaw();
    clearTimeout(this.deadlineTimer);
    if (this.init) clearTimeout(this.init.timer);
    this.init = undefined;
    this.generation++;
    this.waiter?.reject(
      new LambdaError(403, "InvalidStateTransition", "The execution environment is shutting down"),
    );
    this.waiter = undefined;
    const plan = {
      reason,
      runtime: this.runtime,
      extensions: this.registryValue.all(),
      processes: this.extensionProcesses,
      budgetOverrideMs: this.shutdownBudgetOverrideMs,
    };
    this.runtime = undefined;
    this.extensionProcesses = new Map();
    this.events.emit("shutdownStart", { reason });
    const { totalMs } = await runShutdown(plan);
    this.telemetry?.closeAll();
    this.events.emit("shutdownEnd", { reason, budgetMs: totalMs });
  }
}

export type { Extension };
