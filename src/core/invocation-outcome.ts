/** Recording how an invocation ends: the caller's answer, then END/REPORT with measured figures. */
import { type Clock, systemClock } from "./clock.ts";
import type { FunctionConfig } from "./config.ts";
import type { EnvironmentBus } from "./events.ts";
import type { Invocation, StreamedResponse } from "./invocation.ts";
import { billedDuration, type PlatformLines, platformLines } from "./platform-log.ts";
import type { InitializationType, OutcomeStatus } from "./vocabulary.ts";

const encoder = new TextEncoder();

/** Lambda's error payload `{"errorMessage","errorType"}` as bytes. */
export function errorPayload(errorType: string, errorMessage: string): Uint8Array {
  return encoder.encode(JSON.stringify({ errorMessage, errorType }));
}

/** Writes an environment's platform log lines and closes its invocations. */
export class InvocationOutcomes {
  /** Lambda's own log lines in the function's log format. */
  readonly lines: PlatformLines;
  private peakMemoryMB?: number;
  private measuredAtMono = 0;

  constructor(
    private readonly config: FunctionConfig,
    private readonly events: EnvironmentBus,
    /** Current peak memory of every process of the environment, in MB. */
    private readonly measureMemoryMB: () => number,
    initializationType: InitializationType = "on-demand",
    private readonly clock: Clock = systemClock,
  ) {
    this.lines = platformLines(config.logFormat, initializationType);
  }

  /** A platform log line, in the invocation's log when there is one. */
  log(line: string, invocation?: Invocation): void {
    invocation?.appendLog(line);
    this.events.emit("log", { source: "platform", stream: "platform", line, requestId: invocation?.id });
  }

  /** Records what the caller gets (first answer wins). */
  answer(invocation: Invocation, payload: Uint8Array, contentType: string, errorType?: string): void {
    if (invocation.answered) return;
    invocation.answered = true;
    invocation.settle(
      {
        requestId: invocation.id,
        payload,
        contentType,
        ...(errorType ? { functionError: "Unhandled" as const, errorType } : {}),
      },
      this.clock.now(),
    );
    this.events.emit("invocationResponse", invocation);
  }

  /** A streaming caller gets its stream now; the answer is complete when the stream ends (endStream). */
  beginStream(invocation: Invocation, contentType: string, stream: StreamedResponse): void {
    invocation.settle(
      { requestId: invocation.id, payload: new Uint8Array(), contentType, stream },
      this.clock.now(),
    );
  }

  /** The streamed answer is complete, failed with `errorType` when it ended in error. */
  endStream(invocation: Invocation, errorType?: string): void {
    if (invocation.answered) return;
    invocation.answered = true;
    invocation.respondedAt = Date.now();
    invocation.respondedMono = this.clock.now();
    if (errorType) invocation.errorType = errorType;
    this.events.emit("invocationResponse", invocation);
  }

  /** Ends the invocation: END and REPORT lines with its duration and the environment's peak memory. */
  close(invocation: Invocation, status: OutcomeStatus, errorType?: string): void {
    const durationMs = invocation.startedMono === undefined ? 0 : this.clock.now() - invocation.startedMono;
    // Peak memory only grows, and reading it costs tens of microseconds: a sub-millisecond invocation
    // reuses a figure measured within the last 100 ms (it cannot have allocated much meanwhile).
    const now = this.clock.now();
    if (this.peakMemoryMB === undefined || durationMs >= 1 || now - this.measuredAtMono > 100) {
      const measured = this.measureMemoryMB();
      this.measuredAtMono = now;
      // Remembered, so a runtime that crashed still gets the figure it had reached.
      if (measured > 0) this.peakMemoryMB = Math.max(measured, this.peakMemoryMB ?? 0);
    }
    invocation.maxMemoryUsedMB = Math.min(
      this.peakMemoryMB ?? this.config.memorySizeMB,
      this.config.memorySizeMB,
    );
    const end = this.lines.end(invocation.id);
    if (end) this.log(end, invocation);
    this.log(
      this.lines.report({
        requestId: invocation.id,
        durationMs,
        billedDurationMs: billedDuration(durationMs, invocation.initDurationMs),
        memorySizeMB: this.config.memorySizeMB,
        maxMemoryUsedMB: invocation.maxMemoryUsedMB,
        initDurationMs: invocation.initDurationMs,
        status,
        errorType,
      }),
      invocation,
    );
    invocation.finish(status, durationMs, errorType);
  }
}
