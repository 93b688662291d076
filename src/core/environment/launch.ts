/** What core knows of the processes it asks the process layer to start. */

import type { OutcomeStatus } from "../vocabulary.ts";
import type { ProcessHandle } from "./shutdown.ts";

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/** A started runtime or extension process, as the process layer hands it to core. */
export interface LaunchedProcess extends ProcessHandle {
  readonly exited: Promise<ProcessExit>;
  /** Resolves once every line the process wrote so far has been logged (`always`: even if it never printed yet). */
  flushOutput(always?: boolean): Promise<void>;
}

/** Starts a process for a new init; throws a LambdaError when it cannot be started. */
export interface Launcher {
  launch(): LaunchedProcess;
}

/** An external extension executable: launched at every init before the runtime. */
export interface ExtensionLauncher extends Launcher {
  /** The executable's base name; its registration must use it. */
  readonly name: string;
}

/** Why an init or an invocation failed, as the platform reports it. */
export interface Failure {
  status: OutcomeStatus;
  errorType: string;
  message: string;
  /** The body the runtime posted to `/init/error`, passed to the caller unchanged. */
  payload?: Uint8Array;
  contentType?: string;
}
