/** Lambda's own text log lines (reference 5.3) and the platform's error messages (4.6, 4.7). */
import type { InitializationType, InitPhase, OutcomeStatus } from "./vocabulary.ts";

/** `START RequestId: <id> Version: <version>` (a space before Version, not a tab). */
function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

/** `END RequestId: <id>`. */
function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** The figures of one REPORT line. */
export interface ReportFigures {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  maxMemoryUsedMB: number;
  initDurationMs?: number;
  status: OutcomeStatus;
  errorType?: string;
}

/** The tab-separated REPORT line, with Lambda's trailing tab. */
function reportLine(r: ReportFigures): string {
  let line = `REPORT RequestId: ${r.requestId}\tDuration: ${r.durationMs.toFixed(2)} ms\tBilled Duration: ${r.billedDurationMs} ms\tMemory Size: ${r.memorySizeMB} MB\tMax Memory Used: ${r.maxMemoryUsedMB} MB\t`;
  if (r.initDurationMs !== undefined) line += `Init Duration: ${r.initDurationMs.toFixed(2)} ms\t`;
  if (r.status !== "success") {
    line += `Status: ${r.status}\t`;
    if (r.errorType && r.status !== "timeout") line += `Error Type: ${r.errorType}\t`;
  }
  return line;
}

/** Billed duration: the duration (plus an on-demand init) rounded up to the next millisecond. */
export function billedDuration(durationMs: number, initDurationMs = 0): number {
  return Math.ceil(durationMs + initDurationMs);
}

/** `INIT_REPORT Init Duration: X ms\tPhase: init\tStatus: error\tError Type: T`. */
function initReportLine(
  durationMs: number,
  phase: InitPhase,
  status: OutcomeStatus,
  errorType?: string,
): string {
  let line = `INIT_REPORT Init Duration: ${durationMs.toFixed(2)} ms\tPhase: ${phase}\tStatus: ${status}`;
  if (errorType && status !== "timeout") line += `\tError Type: ${errorType}`;
  return line;
}

/** `<ISO time> <id> Task timed out after 3.00 seconds`. */
export function timeoutLine(requestId: string, timeoutSeconds: number): string {
  return `${new Date().toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/** The message of `Sandbox.Timedout`. */
export function timeoutMessage(requestId: string, timeoutSeconds: number): string {
  return `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

const GO_SIGNAL_NAMES: Record<string, string> = {
  SIGKILL: "killed",
  SIGTERM: "terminated",
  SIGSEGV: "segmentation fault",
  SIGABRT: "aborted",
  SIGINT: "interrupt",
  SIGHUP: "hangup",
  SIGBUS: "bus error",
  SIGILL: "illegal instruction",
  SIGFPE: "floating point exception",
  SIGPIPE: "broken pipe",
  SIGQUIT: "quit",
  SIGUSR1: "user defined signal 1",
  SIGUSR2: "user defined signal 2",
  SIGTRAP: "trace/breakpoint trap",
};

/** How Lambda's supervisor describes a process exit: `exit status 1`, `signal: killed`. */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `Runtime exited with error: signal: ${GO_SIGNAL_NAMES[signal] ?? signal}`;
  if (code === 0 || code === null) return "Runtime exited without providing a reason";
  return `Runtime exited with error: exit status ${code}`;
}

/** Lambda's own log lines in the function's log format: text lines, or JSON objects (reference 5.3). */
export interface PlatformLines {
  /** The START line; `tenantId` appears in JSON logs of a tenant-isolation function. */
  start(requestId: string, version: string, tenantId?: string): string;
  /** The END line; JSON logs have none. */
  end(requestId: string): string | undefined;
  report(figures: ReportFigures): string;
  initReport(durationMs: number, phase: InitPhase, status: OutcomeStatus, errorType?: string): string;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

function jsonLine(type: string, record: object): string {
  return JSON.stringify({ time: new Date().toISOString(), type, record });
}

/** The platform lines for `Text` or `JSON` log format, for an environment initialised as `initializationType`. */
export function platformLines(
  format: "Text" | "JSON",
  initializationType: InitializationType = "on-demand",
): PlatformLines {
  if (format === "Text") {
    return { start: startLine, end: endLine, report: reportLine, initReport: initReportLine };
  }
  return {
    start: (requestId, version, tenantId) =>
      jsonLine("platform.start", { requestId, version, ...(tenantId !== undefined ? { tenantId } : {}) }),
    end: () => undefined,
    report: (r) =>
      jsonLine("platform.report", {
        requestId: r.requestId,
        metrics: {
          durationMs: round3(r.durationMs),
          billedDurationMs: r.billedDurationMs,
          memorySizeMB: r.memorySizeMB,
          maxMemoryUsedMB: r.maxMemoryUsedMB,
          ...(r.initDurationMs !== undefined ? { initDurationMs: round3(r.initDurationMs) } : {}),
        },
        status: r.status,
        ...(r.status !== "success" && r.errorType ? { errorType: r.errorType } : {}),
      }),
    initReport: (durationMs, phase, status, errorType) =>
      jsonLine("platform.initReport", {
        initializationType,
        phase,
        status,
        ...(status !== "success" && errorType ? { errorType } : {}),
        metrics: { durationMs: round3(durationMs) },
      }),
  };
}
