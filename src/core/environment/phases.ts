/**
 * The phases of one execution environment (reference 4) and the only moves between them. Every
 * phase change goes through `PhaseMachine.to`, so an illegal one is refused here and nowhere else.
 */
import { LambdaError } from "../errors.ts";
import type { EnvironmentBus } from "../events.ts";

/** Phase of the execution environment. */
export type EnvironmentPhase =
  | "Uninitialized"
  | "Initializing"
  | "Ready"
  | "Invoking"
  | "Resetting"
  | "ShutDown";

/**
 * Where each phase may go. Initializing goes straight to Invoking when an invocation waited for
 * the init (an invoke-phase init, or one that an invoke arrived during); every phase but ShutDown
 * may reset (a crash, a timeout) or shut down; a reset ends in a fresh, uninitialised environment.
 */
export const PHASE_TRANSITIONS: Readonly<Record<EnvironmentPhase, readonly EnvironmentPhase[]>> = {
  Uninitialized: ["Initializing", "ShutDown"],
  Initializing: ["Ready", "Invoking", "Resetting", "ShutDown"],
  Ready: ["Invoking", "Resetting", "ShutDown"],
  Invoking: ["Ready", "Resetting", "ShutDown"],
  Resetting: ["Uninitialized", "ShutDown"],
  ShutDown: [],
};

/** 500 `InvalidStateTransition` for a move the table forbids (a simulator bug, never a client's). */
function invalidPhaseTransition(from: EnvironmentPhase, to: EnvironmentPhase): LambdaError {
  return new LambdaError(
    500,
    "InvalidStateTransition",
    `State transition from ${from} to ${to} failed for the execution environment. Error: State transition is not allowed`,
  );
}

/** The current phase; announces each change on the bus. */
export class PhaseMachine {
  private current: EnvironmentPhase = "Uninitialized";

  constructor(private readonly events: EnvironmentBus) {}

  /** The phase now. */
  get phase(): EnvironmentPhase {
    return this.current;
  }

  /** True when the table allows `to` from here (staying put is always allowed). */
  can(to: EnvironmentPhase): boolean {
    return to === this.current || PHASE_TRANSITIONS[this.current].includes(to);
  }

  /** Moves to `to`, or throws `InvalidStateTransition` naming both phases. */
  to(to: EnvironmentPhase): void {
    if (to === this.current) return;
    if (!this.can(to)) throw invalidPhaseTransition(this.current, to);
    this.current = to;
    this.events.emit("phase", { phase: to });
  }
}
