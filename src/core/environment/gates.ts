/**
 * The N-party barriers of the lifecycle (reference 4.3, 4.4), each named and counted in one place:
 * "init is done when the runtime and every extension called next", and "an invoke is complete when
 * the runtime and every INVOKE subscriber polled again". A gate reads its parties' state when asked,
 * so a party that leaves (an extension that crashed) or re-polls is counted as it is now.
 */
import type { Extension } from "../extensions.ts";

/** One party a gate waits for. */
export interface GateParty {
  readonly name: string;
  readonly arrived: boolean;
}

/** A named barrier over a changing set of parties. */
export class Gate {
  constructor(
    readonly name: string,
    private readonly parties: () => readonly GateParty[],
  ) {}

  /** Names of the parties that have not arrived yet. */
  pending(): string[] {
    return this.parties()
      .filter((p) => !p.arrived)
      .map((p) => p.name);
  }

  /** Every party has arrived. */
  get open(): boolean {
    return this.parties().every((p) => p.arrived);
  }
}

/** An extension counts as arrived while it blocks in `event/next`. */
function extensionParty(extension: Extension): GateParty {
  return { name: `extension ${extension.name}`, arrived: extension.isWaiting };
}

/** "Init done": the runtime called `next`, and every registered extension waits in `event/next`. */
export function initDoneGate(runtimeCalledNext: () => boolean, extensions: () => readonly Extension[]): Gate {
  return new Gate("init done", () => [
    { name: "runtime", arrived: runtimeCalledNext() },
    ...extensions().map(extensionParty),
  ]);
}

/**
 * "Invoke complete": the runtime answered and called `next` again (its output read), and every
 * extension subscribed to INVOKE that is still alive waits in `event/next` again.
 */
export function invokeCompleteGate(runtimeDone: () => boolean, extensions: () => readonly Extension[]): Gate {
  return new Gate("invoke complete", () => [
    { name: "runtime", arrived: runtimeDone() },
    ...extensions()
      .filter((e) => e.wants("INVOKE") && e.state !== "Exited")
      .map(extensionParty),
  ]);
}
