/** Names Lambda uses across the platform model, shared by every part of core. */

/** Init phase as Lambda names it: `init` at start, `invoke` when re-run inside an invocation. */
export type InitPhase = "init" | "invoke";

/** Outcome status as Lambda reports it in telemetry. */
export type OutcomeStatus = "success" | "error" | "failure" | "timeout";

/** Where a log line came from. */
export type LogSource = "function" | "extension" | "platform";

/**
 * How an execution environment was initialised (`AWS_LAMBDA_INITIALIZATION_TYPE`, telemetry
 * `initializationType`): by an invoke, or ahead of time for provisioned concurrency.
 */
export type InitializationType = "on-demand" | "provisioned-concurrency";
