/**
 * How an environment ends abnormally and starts over (reference 4.6, 4.7, 4.8): a process that
 * died, an extension's exit error, a reset through the shutdown phase, and the final shutdown.
 */
import { LambdaError } from "../errors.ts";
import type { ShutdownReason } from "../extensions.ts";
import { describeExit } from "../platform-log.ts";
import { InitCycle } from "./init.ts";
import type { Failure, LaunchedProcess, ProcessExit } from "./launch.ts";
import { runShutdown } from "./shutdown.ts";

/** Resets and shutdown of an environment. */
export abstract class ResetCycle extends InitCycle {
  /** Ends the environment: fails what is queued or running, runs the shutdown phase, waits for every exit. */
  async shutdown(reason: ShutdownReason = "spindown"): Promise<void> {
    if (this.phase === "ShutDown") return this.resetDone;
    await this.resetDone;
    this.phases.to("ShutDown");
    const current = this.current;
    // Answered but the runtime has not re-polled yet: it ends with its own outcome.
    if (current?.answered)
      this.completeInvocation(current, current.errorType ? "error" : "success", current.errorType);
    for (const invocation of [...(this.current ? [this.current] : []), ...this.queue.splice(0)]) {
      const message = `RequestId: ${invocation.id} Error: The execution environment was shut down before the invocation completed`;
      this.platformFailure(invocation, "failure", "Sandbox.Failure", message);
    }
    this.resetDone = this.stopProcesses(reason);
    await this.resetDone;
  }

  /** An extension's `exit/error`: the invocation in flight fails and the environment resets. */
  protected failEnvironmentSoon(failure: Failure): void {
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

  protected onRuntimeExit(generation: number, runtime: LaunchedProcess, exit: ProcessExit): void {
    this.events.emit("runtimeExit", { pid: runtime.pid, ...exit });
    if (generation !== this.generation) return;
    this.processes.runtime = undefined;
    this.onProcessFailure({
      status: "error",
      errorType: "Runtime.ExitError",
      message: describeExit(exit.code, exit.signal),
    });
  }

  protected onExtensionExit(generation: number, name: string, exit: ProcessExit): void {
    this.events.emit("extensionExit", { name, ...exit });
    if (generation !== this.generation) return;
    const extension = this.registryValue.all().find((e) => e.name === name);
    extension?.setError("Exited", "Extension.Crash");
    this.processes.extensions.delete(name);
    const reason = describeExit(exit.code, exit.signal).replace("Runtime", `Extension ${name}`);
    this.onProcessFailure({ status: "error", errorType: "Extension.Crash", message: reason });
  }

  /** A process of the environment died: the init or the invocation fails, then a reset. */
  protected onProcessFailure(failure: Failure): void {
    if (this.phase === "Initializing" && this.init) {
      // A failure the process reported before dying (init/error) explains its exit best.
      this.failInit(this.init, this.init.failure ?? failure);
      return;
    }
    const invocation = this.current;
    if (this.phase === "Invoking" && invocation) {
      const message = `RequestId: ${invocation.id} Error: ${failure.message}`;
      this.outcomes.log(message, invocation);
      this.outcomes.log(failure.errorType, invocation);
      this.platformFailure(invocation, "error", failure.errorType, message);
    }
    this.reset("failure");
  }

  /** Runs the shutdown phase over the current processes, then the environment starts over uninitialised. */
  protected reset(reason: ShutdownReason): void {
    if (!this.phases.can("Resetting") || this.phase === "Resetting") return;
    this.phases.to("Resetting");
    this.resetDone = this.stopProcesses(reason).then(() => {
      if (this.phase !== "Resetting") return;
      this.awaitingSinceMono = this.clock.now();
      this.phases.to("Uninitialized");
      this.pump();
    });
  }

  /** Runs the shutdown phase over the current processes and forgets them. */
  protected async stopProcesses(reason: ShutdownReason): Promise<void> {
    // A stopped process cannot act on SIGTERM or SHUTDOWN: continue everything first.
    await this.freeze?.thaw();
    this.clock.clearTimeout(this.deadlineTimer);
    this.init?.disarm();
    this.init = undefined;
    this.generation++;
    this.waiter?.reject(
      new LambdaError(403, "InvalidStateTransition", "The execution environment is shutting down"),
    );
    this.waiter = undefined;
    const { runtime, extensions } = this.processes.release();
    const plan = {
      reason,
      runtime,
      extensions: this.registryValue.all(),
      processes: extensions,
      budgetOverrideMs: this.shutdownBudgetOverrideMs,
    };
    this.events.emit("shutdownStart", { reason });
    const { totalMs } = await runShutdown(plan);
    this.telemetry?.closeAll();
    this.events.emit("shutdownEnd", { reason, budgetMs: totalMs });
  }
}
