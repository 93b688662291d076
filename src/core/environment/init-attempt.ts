/**
 * One init of an execution environment (reference 4.2, 4.3): which phase it runs in, its clock and
 * its timeout, the external extensions it still waits on before the runtime may start, and the
 * "init done" gate it ends at.
 */
import type { Clock } from "../clock.ts";
import type { Extension } from "../extensions.ts";
import type { InitPhase } from "../vocabulary.ts";
import { type Gate, initDoneGate } from "./gates.ts";
import type { Failure } from "./launch.ts";

/** The state of one init, from its start to its end (success, failure or timeout). */
export class InitAttempt {
  /** Set once: the first failure wins (a process that reported `init/error` and then exited). */
  failure?: Failure;
  runtimeStarted = false;
  runtimeCalledNext = false;
  /** External extensions launched but not yet registered; the runtime starts when this is empty. */
  readonly awaitingRegistration: Set<string>;
  /** Opens when the runtime and every registered extension called next. */
  readonly done: Gate;
  private timer?: unknown;

  constructor(
    readonly phase: InitPhase,
    readonly startedMono: number,
    externalExtensions: readonly string[],
    registered: () => readonly Extension[],
    private readonly clock: Clock,
  ) {
    this.awaitingRegistration = new Set(externalExtensions);
    this.done = initDoneGate(() => this.runtimeCalledNext, registered);
  }

  /** Calls `onTimeout` if the init is still running after `seconds`. */
  armTimeout(seconds: number, onTimeout: () => void): void {
    this.timer = this.clock.setTimeout(onTimeout, seconds * 1000);
  }

  /** Stops the init timeout (the init ended). */
  disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  /** Milliseconds since the init started. */
  durationMs(): number {
    return this.clock.now() - this.startedMono;
  }
}
