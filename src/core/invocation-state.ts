/** Plain, JSON-ready snapshots of invocations for tests and the control API. */
import type { Invocation, InvocationStatus, InvocationType } from "./invocation.ts";

/** A snapshot of one invocation. Times are epoch milliseconds. */
export interface InvocationState {
  requestId: string;
  status: InvocationStatus;
  invocationType: InvocationType;
  /** The tenant of a tenant-isolation function's invocation. */
  tenantId?: string;
  /** The execution environment that ran it (null while it waits for one). */
  environmentId: string | null;
  /** Attempt number: retries of a failed `Event` invocation keep the request id and count up from 1. */
  attempt: number;
  enqueuedAt: number;
  startedAt?: number;
  respondedAt?: number;
  completedAt?: number;
  deadlineMs?: number;
  durationMs?: number;
  initDurationMs?: number;
  /** Time from the runtime's `/next` to the last INVOKE-subscribed extension's `event/next`. */
  extensionOverheadMs?: number;
  /** Peak memory of the environment's processes, as in the REPORT line. */
  maxMemoryUsedMB?: number;
  /** The error type when the invocation failed (runtime, platform or extension error). */
  errorType?: string;
  /** What the caller got: the body as UTF-8 text (`base64` when it is not valid UTF-8). */
  response?: { contentType: string; body: string; encoding: "utf8" | "base64"; functionError?: string };
  /** The invocation's log lines, START to REPORT. */
  logs: string[];
}

const strict = new TextDecoder("utf-8", { fatal: true });

function encodeBody(bytes: Uint8Array): { body: string; encoding: "utf8" | "base64" } {
  try {
    return { body: strict.decode(bytes), encoding: "utf8" };
  } catch {
    return { body: Buffer.from(bytes).toString("base64"), encoding: "base64" };
  }
}

/** The snapshot of `invocation` now. */
export function invocationState(invocation: Invocation): InvocationState {
  const result = invocation.result;
  return {
    requestId: invocation.id,
    status: invocation.status,
    invocationType: invocation.request.invocationType,
    tenantId: invocation.request.tenantId,
    environmentId: invocation.environmentId ?? null,
    attempt: invocation.request.attempt ?? 1,
    enqueuedAt: invocation.enqueuedAt,
    startedAt:
      invocation.startedMono === undefined ? undefined : (invocation.startedAt ?? invocation.enqueuedAt),
    respondedAt: invocation.respondedAt,
    completedAt: invocation.completedAt,
    deadlineMs: invocation.deadlineMs,
    durationMs: invocation.durationMs,
    initDurationMs: invocation.initDurationMs,
    extensionOverheadMs: invocation.extensionOverheadMs,
    maxMemoryUsedMB: invocation.maxMemoryUsedMB,
    errorType: invocation.errorType,
    response: result
      ? {
          contentType: result.contentType,
          ...encodeBody(result.payload),
          functionError: result.functionError,
        }
      : undefined,
    logs: [...invocation.logs],
  };
}
