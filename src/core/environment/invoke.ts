/**
 * An invocation in one environment, from dispatch to completion (reference 4.4): its clock and
 * deadline, the INVOKE event to extensions, the runtime's answer, and the invoke-complete gate.
 */
import { functionArn } from "../config.ts";
import { invalidRequestId, LambdaError } from "../errors.ts";
import { type Invocation, InvocationStatus } from "../invocation.ts";
import { errorPayload } from "../invocation-outcome.ts";
import { timeoutLine, timeoutMessage } from "../platform-log.ts";
import { CallerSink, CollectingSink } from "../response-sinks.ts";
import { errorDetails, MAX_STREAMED_BYTES, ResponseStream, type StreamEnd } from "../response-stream.ts";
import type { OutcomeStatus } from "../vocabulary.ts";
import { EnvironmentState } from "./environment-state.ts";
import { assertRuntimeCall } from "./runtime-state.ts";

/** Largest response body the runtime may post (6 MiB + 100 bytes, the supervisor's constant). */
const MAX_RESPONSE_BYTES = 6_291_556;
/**
 * How long a cut response waits for the runtime's exit: a runtime that crashes mid-body closes its
 * connection a moment before its exit is seen, and its failure is the exit, not the truncation.
 */
const CUT_EXIT_GRACE_MS = 100;
const encoder = new TextEncoder();

/** The invoke phase of an environment. */
export abstract class InvokeCycle extends EnvironmentState {
  /** Checks that `/response` or `/error` may be posted for `id` now (400, then 403), before the body is read. */
  assertAnswerable(id: string, target: "InvocationResponse" | "InvocationErrorResponse"): Invocation {
    const current = this.current;
    if (!current || current.id !== id || this.phase !== "Invoking" || current.isComplete) {
      throw invalidRequestId();
    }
    assertRuntimeCall(this.runtimeState(), target);
    return current;
  }

  /** `POST /invocation/{id}/response`. Oversized bodies get 413 and fail the invocation. */
  respond(id: string, payload: Uint8Array, contentType: string, readMs = 0): void {
    const invocation = this.assertAnswerable(id, "InvocationResponse");
    invocation.responseReadMs = readMs;
    if (payload.byteLength > MAX_RESPONSE_BYTES) {
      const message = `Response payload size (${payload.byteLength} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
      this.outcomes.answer(
        invocation,
        errorPayload("Function.ResponseSizeTooLarge", message),
        "application/json",
        "Function.ResponseSizeTooLarge",
      );
      throw new LambdaError(
        413,
        "RequestEntityTooLarge",
        `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      );
    }
    invocation.producedBytes = payload.byteLength;
    this.outcomes.answer(invocation, payload, contentType);
  }

  /**
   * `POST /invocation/{id}/response` with `Lambda-Runtime-Function-Response-Mode: streaming`: the
   * stream the runtime's body is written to. A streaming caller reads it as it comes; for a
   * buffered caller it is collected (within the buffered limit) and answered when it ends.
   */
  respondStreaming(id: string, contentType: string): ResponseStream {
    const invocation = this.assertAnswerable(id, "InvocationResponse");
    const startedMono = this.clock.now();
    const caller = invocation.request.streamResponse ? new CallerSink() : undefined;
    const collector = caller ? undefined : new CollectingSink();
    const stream = new ResponseStream(contentType, caller ?? (collector as CollectingSink), {
      clock: this.clock,
      limitBytes: caller ? MAX_STREAMED_BYTES : MAX_RESPONSE_BYTES,
      capBandwidth: this.streamBandwidthLimit,
    });
    this.openStream = stream;
    stream.onEnd = (end: StreamEnd) => {
      if (this.openStream === stream) this.openStream = undefined;
      invocation.responseReadMs = this.clock.now() - startedMono;
      invocation.producedBytes = end.bytes;
      const error = end.error;
      if (caller) this.outcomes.endStream(invocation, error?.errorType);
      else if (error)
        this.outcomes.answer(invocation, encoder.encode(error.details), "application/json", error.errorType);
      else this.outcomes.answer(invocation, (collector as CollectingSink).payload(), contentType);
    };
    if (caller)
      this.outcomes.beginStream(invocation, contentType, { body: caller.body, ended: stream.ended });
    return stream;
  }

  /**
   * A `/response` whose mode header is not `streaming`: 400 `InvalidFunctionResponseMode`, checked
   * before the request id (as the supervisor does); the invocation `id`, if it is the one in
   * flight, fails with `Runtime.InvalidResponseModeHeader`.
   */
  refuseResponseMode(id: string): never {
    const current = this.current;
    if (current?.id === id && this.phase === "Invoking" && this.runtimeState() === "Running") {
      this.outcomes.answer(
        current,
        errorPayload("Runtime.InvalidResponseModeHeader", "Invalid function response mode"),
        "application/json",
        "Runtime.InvalidResponseModeHeader",
      );
    }
    throw new LambdaError(400, "InvalidFunctionResponseMode", "Invalid function response mode");
  }

  /**
   * The runtime's connection closed before its response body ended: `Runtime.TruncatedResponse`,
   * unless the runtime exits meanwhile (a crash, which its exit reports).
   */
  responseCut(invocation: Invocation): void {
    const generation = this.generation;
    this.clock.setTimeout(() => {
      if (generation !== this.generation || this.current !== invocation || invocation.answered) return;
      const message = "The runtime's response ended before its body was complete";
      const details = errorDetails("Runtime.TruncatedResponse", message);
      if (this.openStream) this.openStream.end({ errorType: "Runtime.TruncatedResponse", details });
      else
        this.outcomes.answer(
          invocation,
          encoder.encode(details),
          "application/json",
          "Runtime.TruncatedResponse",
        );
    }, CUT_EXIT_GRACE_MS);
  }

  /** `POST /invocation/{id}/error`: the body goes to the caller unchanged (it also ends an open stream). */
  fail(id: string, payload: Uint8Array, contentType: string, errorType: string): void {
    const invocation = this.assertAnswerable(id, "InvocationErrorResponse");
    if (this.openStream) {
      this.openStream.end({ errorType, details: new TextDecoder().decode(payload) });
      return;
    }
    this.outcomes.answer(invocation, payload, contentType, errorType);
  }

  protected startClock(invocation: Invocation): void {
    const timeoutSeconds = invocation.request.timeoutSeconds ?? this.config.timeoutSeconds;
    invocation.status = InvocationStatus.Running;
    invocation.startedMono = this.clock.now();
    invocation.startedAt = Date.now();
    invocation.deadlineMs = invocation.startedAt + Math.round(timeoutSeconds * 1000);
    this.current = invocation;
    this.outcomes.log(
      this.outcomes.lines.start(invocation.id, this.config.functionVersion, invocation.request.tenantId),
      invocation,
    );
    this.events.emit("invocationStart", invocation);
    this.deadlineTimer = this.clock.setTimeout(
      () => this.onDeadline(invocation, timeoutSeconds),
      timeoutSeconds * 1000,
    );
  }

  protected dispatch(invocation: Invocation): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (this.current !== invocation) this.startClock(invocation);
    if (this.pendingInitDurationMs !== undefined) {
      invocation.initDurationMs = this.pendingInitDurationMs;
      this.pendingInitDurationMs = undefined;
    }
    this.phases.to("Invoking");
    invocation.dispatchedMono = this.clock.now();
    invocation.hadExtensions = this.registryValue.all().length > 0;
    const event = {
      eventType: "INVOKE" as const,
      deadlineMs: invocation.deadlineMs as number,
      requestId: invocation.id,
      invokedFunctionArn: functionArn(this.config, invocation.request.qualifier),
      tracing: { type: "X-Amzn-Trace-Id" as const, value: invocation.traceId },
    };
    for (const extension of this.registryValue.all()) if (extension.wants("INVOKE")) extension.deliver(event);
    this.events.emit("invocationDispatch", invocation);
    waiter.resolve(invocation);
  }

  protected markRuntimeDone(invocation: Invocation): void {
    invocation.runtimeDone = true;
    invocation.runtimeDoneMono = this.clock.now();
    // The first invocation after an init always waits: a runtime's first line may be in flight.
    const flushed = this.processes.runtime?.flushOutput(invocation.initDurationMs !== undefined);
    if (!flushed) {
      this.runtimeOutputRead(invocation);
      return;
    }
    // What the runtime printed before calling /next belongs to this invocation: read it all first.
    const generation = this.generation;
    flushed.then(() => {
      if (generation === this.generation && !invocation.isComplete) this.runtimeOutputRead(invocation);
    });
  }

  protected runtimeOutputRead(invocation: Invocation): void {
    invocation.outputRead = true;
    this.events.emit("runtimeDone", invocation);
    this.maybeComplete(invocation);
  }

  /** Completes the invocation when the invoke-complete gate opens. */
  protected maybeComplete(invocation: Invocation): void {
    if (invocation.isComplete || !this.invokeComplete.open) return;
    invocation.extensionOverheadMs = this.clock.now() - (invocation.runtimeDoneMono as number);
    const errorType = invocation.errorType;
    this.completeInvocation(invocation, errorType ? "error" : "success", errorType);
    this.phases.to("Ready");
    this.pump();
  }

  protected completeInvocation(invocation: Invocation, status: OutcomeStatus, errorType?: string): void {
    if (invocation.isComplete) return;
    this.clock.clearTimeout(this.deadlineTimer);
    this.outcomes.close(invocation, status, errorType);
    if (this.current === invocation) this.current = undefined;
    this.events.emit("invocationComplete", invocation);
  }

  /** Answers the caller for the platform (when the runtime has not) and ends the invocation. */
  protected platformFailure(
    invocation: Invocation,
    status: OutcomeStatus,
    errorType: string,
    message: string,
  ): void {
    // Bytes already streamed stay sent; the stream ends with the platform's error.
    if (this.openStream && this.current === invocation)
      this.openStream.end({ errorType, details: errorDetails(errorType, message) });
    this.outcomes.answer(invocation, errorPayload(errorType, message), "application/json", errorType);
    this.completeInvocation(invocation, status, errorType);
  }

  /** The invocation's deadline passed: it times out (with its init, if one still runs), then a reset. */
  protected onDeadline(invocation: Invocation, timeoutSeconds: number): void {
    if (this.current !== invocation || invocation.isComplete) return;
    const init = this.init;
    if (init && this.phase === "Initializing") {
      this.init = undefined;
      const durationMs = init.durationMs();
      this.events.emit("initEnd", {
        phase: init.phase,
        status: "timeout",
        errorType: "Sandbox.Timedout",
        durationMs,
        extensions: this.extensionInfos(),
      });
      this.outcomes.log(this.outcomes.lines.initReport(durationMs, init.phase, "timeout"), invocation);
    }
    this.outcomes.log(timeoutLine(invocation.id, timeoutSeconds), invocation);
    this.platformFailure(
      invocation,
      "timeout",
      "Sandbox.Timedout",
      timeoutMessage(invocation.id, timeoutSeconds),
    );
    this.reset("timeout");
  }
}
