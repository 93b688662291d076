/**
 * When the environment is frozen (reference 4.5): after init and after each complete invocation,
 * thawed before the next event is delivered and before any shutdown. Freeze and thaw operations
 * run one at a time, in order, so a late freeze can never land after a new invocation started.
 */
import type { EnvironmentBus } from "../events.ts";

/** The OS side: stop and continue process trees, verified. */
export interface Freezer {
  /** Stops the trees rooted at `roots`; resolves when every process is verified stopped. */
  freeze(roots: readonly number[]): Promise<number[]>;
  /** Continues what the last freeze stopped; resolves when every process runs again. */
  thaw(): Promise<void>;
}

/** How the simulator freezes the environment between invocations. */
export const FreezeMode = {
  /** Processes keep running between invocations (default). */
  None: "None",
  /** SIGSTOP/SIGCONT of every process tree, as Lambda's cgroup freezer does. */
  Process: "Process",
} as const;

/** One of the FreezeMode values. */
export type FreezeMode = (typeof FreezeMode)[keyof typeof FreezeMode];

/** Serialises freeze/thaw and tells the bus. */
export class FreezeControl {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private frozenValue = false;
  private epochValue = 0;

  constructor(
    private readonly freezer: Freezer,
    private readonly events: EnvironmentBus,
    private readonly roots: () => number[],
    private readonly onSettled: () => void,
  ) {}

  /** True while the environment's processes are stopped. */
  get frozen(): boolean {
    return this.frozenValue;
  }

  /** Number of completed freezes. */
  get epoch(): number {
    return this.epochValue;
  }

  /** True while a freeze or thaw is queued or running. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Freezes unless `stillIdle()` is false by the time the operation runs. */
  freeze(stillIdle: () => boolean): void {
    this.enqueue(async () => {
      if (this.frozenValue || !stillIdle()) return;
      const pids = await this.freezer.freeze(this.roots());
      this.frozenValue = true;
      this.epochValue++;
      this.events.emit("frozen", { epoch: this.epochValue, pids });
    });
  }

  /** Thaws (after any freeze in progress); resolves when every process runs. */
  thaw(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.frozenValue) return;
      await this.freezer.thaw();
      this.frozenValue = false;
      this.events.emit("thawed", { epoch: this.epochValue });
    });
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    this.pending++;
    const run = this.chain
      .then(operation)
      .catch((error: unknown) => {
        this.events.emit("log", {
          source: "platform",
          stream: "platform",
          line: `freeze: ${error instanceof Error ? error.message : String(error)}`,
        });
      })
      .finally(() => {
        this.pending--;
        this.onSettled();
      });
    this.chain = run;
    return run;
  }
}
