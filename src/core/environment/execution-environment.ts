/**
 * One execution environment (reference 4): the Runtime and Extensions API calls it answers. The
 * rules it applies live beside it, one idea a file: the phase table (phases.ts), what the runtime
 * may call (runtime-state.ts), the gates that end init and invoke (gates.ts), the invoke, init and
 * reset cycles (invoke.ts, init.ts, reset.ts) over its state (environment-state.ts), its processes
 * (processes.ts), freezing (freeze.ts) and the shutdown phase (shutdown.ts).
 */
import { deferred } from "../deferred.ts";
import { invalidStateTransition, LambdaError } from "../errors.ts";
import type { ExtensionEvent } from "../extensions.ts";
import type { Invocation } from "../invocation.ts";
import type { SubscriptionApi } from "../telemetry/hub.ts";
import { FreezeControl, type Freezer } from "./freeze.ts";
import type { ExtensionLauncher, Failure, Launcher } from "./launch.ts";
import { ResetCycle } from "./reset.ts";
import { assertRuntimeCall } from "./runtime-state.ts";

export type { EnvironmentOptions, GateWait } from "./environment-state.ts";
export type { EnvironmentPhase } from "./phases.ts";

/** One execution environment of the function: one runtime, its extensions, one invocation at a time. */
export class ExecutionEnvironment extends ResetCycle {
  /** Sets how the runtime is started; with none, the environment waits for a runtime started elsewhere. */
  setLauncher(launcher: Launcher | undefined): void {
    this.processes.launcher = launcher;
  }

  /** Adds an external extension, launched before the runtime at every init. */
  addExtension(launcher: ExtensionLauncher): void {
    this.processes.addExtension(launcher);
  }

  /** Runs the `init` phase now (before any invoke) when something can be launched. */
  start(): void {
    if (this.phase === "Uninitialized" && this.processes.canLaunch) this.beginInit("init");
  }

  /** Queues an invocation (FIFO); it runs when the environment is ready. */
  enqueue(invocation: Invocation): void {
    if (this.phase === "ShutDown") {
      throw new LambdaError(500, "ServiceException", "The execution environment has been shut down");
    }
    this.queue.push(invocation);
    this.events.emit("invocationQueued", invocation);
    this.pump();
  }

  /** Takes back the invocations assigned here that no runtime has started yet (oldest first). */
  withdrawQueued(): Invocation[] {
    const withdrawn = this.queue.splice(0);
    for (const invocation of withdrawn) invocation.environmentId = undefined;
    return withdrawn;
  }

  /** `GET /runtime/invocation/next`: resolves with the next invocation for the runtime. */
  async next(signal?: AbortSignal): Promise<Invocation> {
    const generation = this.generation;
    await this.resetDone;
    if (this.phase === "ShutDown") {
      throw new LambdaError(403, "InvalidStateTransition", "The execution environment is shutting down");
    }
    assertRuntimeCall(this.runtimeState(generation), "Ready");
    const waiter = deferred<Invocation>();
    this.waiter?.reject(invalidStateTransition("Ready", "Ready"));
    this.waiter = waiter;
    signal?.addEventListener("abort", () => {
      if (this.waiter === waiter) this.waiter = undefined;
      waiter.reject(new LambdaError(499, "ClientClosedRequest", "The runtime closed the request"));
    });
    if (this.phase === "Uninitialized") this.beginOutsideInit();
    const init = this.init;
    if (this.phase === "Initializing" && init) {
      init.runtimeStarted = true;
      init.runtimeCalledNext = true;
      this.registryValue.closeRegistration();
      this.tryFinishInit();
    } else if (this.phase === "Invoking" && this.current && !this.current.runtimeDone) {
      this.markRuntimeDone(this.current);
    } else {
      this.pump();
    }
    return waiter.promise;
  }

  /** `POST /runtime/init/error`: init fails; the environment resets once the answer is out. */
  initError(payload: Uint8Array, contentType: string, errorType: string, message: string): void {
    // A runtime started elsewhere fails its first init before ever calling /next.
    if (this.phase === "Uninitialized" && !this.processes.launcher) this.beginOutsideInit();
    assertRuntimeCall(this.runtimeState(), "InitError");
    if (this.init)
      this.failInitSoon(this.init, { status: "error", errorType, message, payload, contentType });
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

  /** `POST /extension/register`. */
  register(name: string | null, body: Uint8Array, acceptFeatures: string | null) {
    if (this.phase === "Uninitialized" && !this.processes.launcher)
      this.beginInit("init", undefined, this.awaitingSinceMono);
    if (this.phase !== "Initializing") this.registryValue.closeRegistration();
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
    if (this.phase === "Initializing") this.tryFinishInit();
    else if (this.phase === "Invoking" && this.current) this.maybeComplete(this.current);
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
    if (this.phase === "Initializing" && this.init) this.failInitSoon(this.init, failure);
    else if (kind === "exit") this.failEnvironmentSoon(failure);
  }

  /** `PUT /2022-07-01/telemetry` or `PUT /2020-08-15/logs`: accepted only during init. */
  subscribeTelemetry(api: SubscriptionApi, id: string | null, body: unknown): void {
    const extension = this.registryValue.identify(id);
    if (!this.telemetry) throw new LambdaError(500, "InternalServerError", "Telemetry is not available");
    const types = this.telemetry.subscribe(api, extension, body, this.phase === "Initializing");
    const label = types.map((t) => t[0]?.toUpperCase() + t.slice(1)).join(", ");
    this.outcomes.log(
      `${api === "telemetry" ? "TELEMETRY" : "LOGS"}\tName: ${extension.name}\tState: Subscribed\tTypes: [${label}]`,
    );
    this.events.emit("telemetrySubscription", { name: extension.name, types, api });
  }

  /** Freezes every process of the environment whenever it is idle (FreezeMode.Process). */
  enableFreezing(freezer: Freezer): void {
    this.freeze = new FreezeControl(
      freezer,
      this.events,
      () => this.processes.freezeRoots(),
      () => this.pump(),
    );
  }

  /** Adds a process started outside the simulator to what is frozen and thawed. */
  registerPidForFreeze(pid: number): void {
    this.processes.addFreezeRoot(pid);
  }

  /** Moves the next queued invocation on, or freezes an idle environment. */
  protected pump(): void {
    const freeze = this.freeze;
    if (freeze && (freeze.frozen || freeze.busy)) {
      // Thaw (after any freeze in flight) before anything reaches a process; pump runs again after.
      if (!freeze.busy && !this.isIdle() && this.phase !== "ShutDown") void freeze.thaw();
      return;
    }
    if (this.current || this.queue.length === 0) {
      if (freeze && this.isIdle()) freeze.freeze(() => this.isIdle());
      return;
    }
    if (this.phase === "Uninitialized" && this.processes.canLaunch) {
      this.beginInit("invoke", this.queue.shift());
    } else if (this.phase === "Ready" && this.waiter) {
      this.dispatch(this.queue.shift() as Invocation);
    }
  }
}
