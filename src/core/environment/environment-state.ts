/**
 * The state one execution environment keeps, and what can be read of it. The lifecycle is written
 * over it by concept: invoke.ts (an invocation from dispatch to completion), init.ts (one init),
 * reset.ts (abnormal ends, resets and the shutdown phase), execution-environment.ts (the API calls).
 */
import { type Clock, systemClock } from "../clock.ts";
import type { FunctionConfig } from "../config.ts";
import type { Deferred } from "../deferred.ts";
import type { EnvironmentBus } from "../events.ts";
import { ExtensionRegistry, type ShutdownReason } from "../extensions.ts";
import type { Invocation } from "../invocation.ts";
import { InvocationOutcomes } from "../invocation-outcome.ts";
import type { ResponseStream } from "../response-stream.ts";
import type { TelemetryHub } from "../telemetry/hub.ts";
import type { InitializationType } from "../vocabulary.ts";
import type { FreezeControl } from "./freeze.ts";
import { invokeCompleteGate } from "./gates.ts";
import type { InitAttempt } from "./init-attempt.ts";
import type { LaunchedProcess, ProcessExit } from "./launch.ts";
import { type EnvironmentPhase, PhaseMachine } from "./phases.ts";
import { EnvironmentProcesses } from "./processes.ts";
import type { RuntimeState } from "./runtime-state.ts";

/** How an environment is made. */
export interface EnvironmentOptions {
  /** Its telemetry hub (Telemetry and Logs API subscriptions). */
  telemetry?: TelemetryHub;
  /** On demand, or provisioned (reference 4.9): no `Init Duration` on its first REPORT, INIT_REPORT always logged. */
  initializationType?: InitializationType;
  /** Replaces Lambda's shutdown budget (ms). */
  shutdownBudgetOverrideMs?: number;
  /** Time and timers (deadlines, init timeout, shutdown budgets); the real clock by default. */
  clock?: Clock;
  /** Cap streamed responses at Lambda's bandwidth (6 MB burst, then 2 MB/s); on by default. */
  streamBandwidthLimit?: boolean;
}

/** A gate the environment is held at, and who it waits for. */
export interface GateWait {
  gate: string;
  pending: string[];
}

/** The state of one environment; the lifecycle methods are added by the classes built on it. */
export abstract class EnvironmentState {
  /** How this environment is initialised. */
  readonly initializationType: InitializationType;
  /** Number of inits started (cold starts and retries). */
  initCount = 0;
  protected readonly clock: Clock;
  protected readonly phases: PhaseMachine;
  protected readonly processes = new EnvironmentProcesses();
  /** Invocations assigned here, waiting for the runtime (the function keeps the history). */
  protected readonly queue: Invocation[] = [];
  protected readonly outcomes: InvocationOutcomes;
  protected readonly telemetry?: TelemetryHub;
  protected readonly shutdownBudgetOverrideMs?: number;
  protected readonly invokeComplete = invokeCompleteGate(
    () => this.current?.outputRead === true,
    () => this.registryValue.all(),
  );
  protected registryValue: ExtensionRegistry;
  protected current?: Invocation;
  protected waiter?: Deferred<Invocation>;
  protected init?: InitAttempt;
  /** Counts inits and resets: a process, a timer or a /next of an earlier one is recognised as stale. */
  protected generation = 0;
  protected deadlineTimer?: unknown;
  protected pendingInitDurationMs?: number;
  protected awaitingSinceMono: number;
  protected resetDone: Promise<void> = Promise.resolve();
  protected freeze?: FreezeControl;
  /** The current invocation's streamed response, while its body is still coming. */
  protected openStream?: ResponseStream;
  protected readonly streamBandwidthLimit: boolean;

  constructor(
    protected readonly config: FunctionConfig,
    protected readonly events: EnvironmentBus,
    options: EnvironmentOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.awaitingSinceMono = this.clock.now();
    this.telemetry = options.telemetry;
    this.initializationType = options.initializationType ?? "on-demand";
    this.shutdownBudgetOverrideMs = options.shutdownBudgetOverrideMs;
    this.streamBandwidthLimit = options.streamBandwidthLimit ?? true;
    this.phases = new PhaseMachine(events);
    this.registryValue = this.newRegistry();
    this.outcomes = new InvocationOutcomes(
      config,
      events,
      () => this.processes.maxMemoryUsedMB(),
      this.initializationType,
      this.clock,
    );
  }

  /** Current phase. */
  get phase(): EnvironmentPhase {
    return this.phases.phase;
  }

  /** Pid of the runtime process the simulator started, if one is alive. */
  get runtimePid(): number | undefined {
    return this.processes.runtime?.pid;
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
      !this.current && this.queue.length === 0 && this.phase !== "Resetting" && this.phase !== "ShutDown"
    );
  }

  /**
   * Its invocation is answered and only the re-polls are missing: the next invocation can wait
   * here for a moment instead of cold-starting another environment.
   */
  get finishing(): boolean {
    return this.current?.answered === true && this.queue.length === 0 && this.phase === "Invoking";
  }

  /** Invocations assigned to it and waiting for the runtime. */
  get queuedCount(): number {
    return this.queue.length;
  }

  /** The invocation in flight (including one waiting on an invoke-phase init). */
  get currentInvocation(): Invocation | undefined {
    return this.current;
  }

  /** The gate the environment waits at now, and the parties still missing (a diagnosis of a hang). */
  waitingAt(): GateWait | undefined {
    const gate = this.init ? this.init.done : this.phase === "Invoking" ? this.invokeComplete : undefined;
    const pending = gate?.pending() ?? [];
    return gate && pending.length > 0 ? { gate: gate.name, pending } : undefined;
  }

  /** True while the environment's processes are stopped. */
  get isFrozen(): boolean {
    return this.freeze?.frozen ?? false;
  }

  /** Number of completed freezes. */
  get freezeEpoch(): number {
    return this.freeze?.epoch ?? 0;
  }

  /** The runtime's state as the supervisor names it; `generation` is the one its request began in. */
  protected runtimeState(generation = this.generation): RuntimeState {
    // A /next sent by a runtime that a reset has since killed (or, with a launcher, by a process
    // the simulator did not start) must not count as a new runtime's init.
    if (generation !== this.generation) return "Exited";
    switch (this.phase) {
      case "Uninitialized":
        return this.processes.launcher ? "Exited" : "Started";
      case "Initializing":
        return this.init?.runtimeCalledNext ? "Ready" : "Started";
      case "Invoking":
        if (!this.current) return "Ready";
        if (this.current.answered) return "RuntimeResponseSentState";
        return this.openStream ? "InvocationResponse" : "Running";
      default:
        return "Ready";
    }
  }

  protected isIdle(): boolean {
    return this.phase === "Ready" && !this.current && this.queue.length === 0;
  }

  protected extensionInfos() {
    return this.registryValue.all().map((e) => e.info());
  }

  protected newRegistry(): ExtensionRegistry {
    return new ExtensionRegistry({
      functionName: this.config.functionName,
      functionVersion: this.config.functionVersion,
      handler: this.config.handler,
      accountId: this.config.accountId,
      externalPid: (name) => this.processes.extensions.get(name)?.pid,
    });
  }

  /** Moves the next queued invocation on, or freezes an idle environment. */
  protected abstract pump(): void;
  /** Runs the shutdown phase over the current processes, then starts over uninitialised. */
  protected abstract reset(reason: ShutdownReason): void;
  protected abstract onRuntimeExit(generation: number, runtime: LaunchedProcess, exit: ProcessExit): void;
  protected abstract onExtensionExit(generation: number, name: string, exit: ProcessExit): void;
}
