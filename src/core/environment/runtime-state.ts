/**
 * What the runtime may call, by the state it is in (the supervisor's runtime state machine, in its
 * own names): one table, so every 403 `InvalidStateTransition` a runtime meets is decided here.
 */
import { invalidStateTransition } from "../errors.ts";

/** The runtime's state, as the supervisor names it in its errors. */
export type RuntimeState =
  /** Launched (or expected, when started by hand) and initialising: it has not called `next` yet. */
  | "Started"
  /** Blocked in (or about to call) `next`, with no invocation of its own. */
  | "Ready"
  /** Holds an invocation it has not answered. */
  | "Running"
  /** Is streaming its response: the body has not ended yet (only an error may still interrupt it). */
  | "InvocationResponse"
  /** Answered its invocation (response or error) and has not called `next` again. */
  | "RuntimeResponseSentState"
  /** A process of an earlier init, which a reset has since ended. */
  | "Exited";

/** A Runtime API call, named by the state it asks for. */
export type RuntimeCall = "Ready" | "InvocationResponse" | "InvocationErrorResponse" | "InitError";

/** The calls each state allows. */
export const RUNTIME_CALLS: Readonly<Record<RuntimeState, readonly RuntimeCall[]>> = {
  Started: ["Ready", "InitError"],
  // A second `next` while one waits replaces it (a runtime that retried after a dropped connection).
  Ready: ["Ready"],
  Running: ["InvocationResponse", "InvocationErrorResponse"],
  // The Node client posts /error on an uncaught exception while its stream is still open.
  InvocationResponse: ["InvocationErrorResponse"],
  RuntimeResponseSentState: ["Ready"],
  Exited: [],
};

/** Throws 403 `InvalidStateTransition` unless `state` allows `call`. */
export function assertRuntimeCall(state: RuntimeState, call: RuntimeCall): void {
  if (!RUNTIME_CALLS[state].includes(call)) throw invalidStateTransition(state, call);
}
