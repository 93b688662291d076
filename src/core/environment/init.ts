/**
 * One init of an environment (reference 4.2, 4.3): external extensions launched first, the runtime
 * once they registered, the init-done gate, and a failed or timed-out init.
 */
import { LambdaError } from "../errors.ts";
import type { Invocation } from "../invocation.ts";
import { errorPayload } from "../invocation-outcome.ts";
import type { InitPhase } from "../vocabulary.ts";
import { InitAttempt } from "./init-attempt.ts";
import { InvokeCycle } from "./invoke.ts";
import type { Failure, LaunchedProcess, Launcher } from "./launch.ts";

/** The init phase of an environment. */
export abstract class InitCycle extends InvokeCycle {
  /** The first call of a runtime or extension started by hand begins the init it belongs to. */
  protected beginOutsideInit(): void {
    const invocation = this.queue.shift();
    this.beginInit(invocation ? "invoke" : "init", invocation, this.awaitingSinceMono);
  }

  protected beginInit(phase: InitPhase, invocation?: Invocation, startedMono = this.clock.now()): void {
    this.generation++;
    this.initCount++;
    this.registryValue = this.newRegistry();
    this.processes.extensions = new Map();
    const external = this.processes.externalExtensions;
    const init = new InitAttempt(
      phase,
      startedMono,
      external.map((l) => l.name),
      () => this.registryValue.all(),
      this.clock,
    );
    this.init = init;
    this.phases.to("Initializing");
    this.events.emit("initStart", { phase, generation: this.generation });
    if (invocation) this.startClock(invocation);
    if (phase === "init" && this.processes.launcher) {
      const limit = this.config.initTimeoutSeconds;
      init.armTimeout(limit, () =>
        this.failInit(init, {
          status: "timeout",
          errorType: "Sandbox.Timedout",
          message: `Init timed out after ${limit.toFixed(2)} seconds`,
        }),
      );
    }
    const generation = this.generation;
    for (const launcher of external) {
      const launched = this.tryLaunch(init, launcher, "Extension.LaunchError");
      if (!launched) return;
      this.processes.extensions.set(launcher.name, launched);
      launched.exited.then((exit) => this.onExtensionExit(generation, launcher.name, exit));
    }
    if (init.awaitingRegistration.size === 0) this.startRuntime(init);
  }

  protected tryLaunch(init: InitAttempt, launcher: Launcher, errorType: string): LaunchedProcess | undefined {
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

  protected startRuntime(init: InitAttempt): void {
    init.runtimeStarted = true;
    const launcher = this.processes.launcher;
    if (!launcher) return;
    const runtime = this.tryLaunch(init, launcher, "Runtime.InvalidEntrypoint");
    if (!runtime) return;
    this.processes.runtime = runtime;
    const generation = this.generation;
    runtime.exited.then((exit) => this.onRuntimeExit(generation, runtime, exit));
  }

  /** Ends the init with success when the init-done gate opens. */
  protected tryFinishInit(): void {
    const init = this.init;
    if (!init || init.failure || !init.done.open) return;
    init.disarm();
    this.init = undefined;
    this.registryValue.closeRegistration();
    const durationMs = init.durationMs();
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
      this.phases.to("Ready");
      this.pump();
    }
  }

  /** Fails init after the current HTTP answer is out (the failing process usually exits next). */
  protected failInitSoon(init: InitAttempt, failure: Failure): void {
    if (init.failure) return;
    init.failure = failure;
    setImmediate(() => this.failInit(init, failure));
  }

  /** A failed or timed-out init: INIT_REPORT, the waiting invocation answered, then a reset. */
  protected failInit(init: InitAttempt, failure: Failure): void {
    if (this.init !== init) return;
    init.disarm();
    this.init = undefined;
    const durationMs = init.durationMs();
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
}
