// A launched process for core unit tests: no OS process, it exits when told to.
import type { LaunchedProcess, ProcessExit } from "../../src/core/environment/launch.ts";

let nextPid = 1000;

/** A process that lives until it is terminated or killed, or crashes when the test says so. */
export class FakeProcess implements LaunchedProcess {
  readonly pid = nextPid++;
  readonly exited: Promise<ProcessExit>;
  private exit!: (exit: ProcessExit) => void;
  constructor() {
    this.exited = new Promise((resolve) => {
      this.exit = resolve;
    });
  }
  terminate = () => this.exit({ code: null, signal: "SIGTERM" });
  kill = () => this.exit({ code: null, signal: "SIGKILL" });
  /** The process dies by itself. */
  crash = () => this.exit({ code: 1, signal: null });
  maxMemoryUsedMB = () => 10;
  flushOutput = () => Promise.resolve();
}
