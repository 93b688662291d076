/** Invocation records: what was asked, what happened, and the waiters of its caller. */
import { type Deferred, deferred } from "./deferred.ts";
import { newRequestId, newTraceId } from "./ids.ts";
import type { StreamEnd } from "./response-stream.ts";
import type { OutcomeStatus } from "./vocabulary.ts";

/** Lifecycle status of an invocation; the terminal ones match Lambda's telemetry statuses. */
export const InvocationStatus = {
  Queued: "queued",
  Running: "running",
  Success: "success",
  Error: "error",
  Failure: "failure",
  Timeout: "timeout",
} as const;

/** One of the InvocationStatus values. */
export type InvocationStatus = (typeof InvocationStatus)[keyof typeof InvocationStatus];

/** How the invocation was requested (`X-Amz-Invocation-Type`). */
export type InvocationType = "RequestResponse" | "Event";

/** A response the caller reads as it comes: the runtime streams and the caller asked for a stream. */
export interface StreamedResponse {
  /** The function's bytes as they arrive; it closes when the stream ends. */
  readonly body: ReadableStream<Uint8Array>;
  /** How the stream ended: its size, and the error when it failed mid-stream. */
  readonly ended: Promise<StreamEnd>;
}

/** What the caller gets: the function's bytes or an error payload (`X-Amz-Function-Error: Unhandled`). */
export interface InvocationResult {
  readonly requestId: string;
  readonly payload: Uint8Array;
  readonly contentType: string;
  /** Set when the function failed; the caller's `X-Amz-Function-Error` value. */
  readonly functionError?: "Unhandled";
  /** The error type (header, body or platform) when the function failed. */
  readonly errorType?: string;
  /** Set instead of `payload` when the caller asked for a stream and the runtime streams. */
  readonly stream?: StreamedResponse;
}

/** The inputs of one invocation. */
export interface InvocationRequest {
  payload: Uint8Array;
  /** `X-Amz-Tenant-Id` of a tenant-isolation function: only environments of that tenant serve it. */
  tenantId?: string;
  contentType: string;
  clientContext?: string;
  cognitoIdentity?: string;
  /** Overrides the function timeout for this invocation only (seconds). */
  timeoutSeconds?: number;
  qualifier?: string;
  invocationType: InvocationType;
  /**
   * The caller reads the response as a stream (InvokeWithResponseStream, a function URL in
   * RESPONSE_STREAM mode); otherwise a streamed response is collected for it, within 6 MB.
   */
  streamResponse?: boolean;
  requestId?: string;
  traceId?: string;
  /** 1 for the first attempt; retries of a failed `Event` invocation count up with the same request id. */
  attempt?: number;
}

const encoder = new TextEncoder();

/** How much of an invocation's log is kept in memory (characters, roughly bytes). */
export const LOG_LIMIT_BYTES = 256 * 1024;

/** Builder for `Simulator.enqueue`: payload, client context, Cognito identity, per-invocation timeout. */
export class InvocationBuilder {
  private readonly request: InvocationRequest = {
    payload: new Uint8Array(),
    contentType: "application/json",
    invocationType: "RequestResponse",
  };

  /** A JSON-serialisable value, a string or raw bytes. */
  payload(value: unknown, contentType?: string): this {
    if (value instanceof Uint8Array) {
      this.request.payload = value;
      this.request.contentType = contentType ?? "application/octet-stream";
    } else if (typeof value === "string") {
      this.request.payload = encoder.encode(value);
      this.request.contentType = contentType ?? "application/json";
    } else {
      this.request.payload = encoder.encode(JSON.stringify(value ?? null));
      this.request.contentType = contentType ?? "application/json";
    }
    return this;
  }

  /** Client context as an object or JSON text; the runtime gets it as JSON text. */
  clientContext(value: object | string): this {
    this.request.clientContext = typeof value === "string" ? value : JSON.stringify(value);
    return this;
  }

  /** Cognito identity, e.g. `{cognitoIdentityId, cognitoIdentityPoolId}`. */
  cognitoIdentity(value: { cognitoIdentityId: string; cognitoIdentityPoolId: string }): this {
    this.request.cognitoIdentity = JSON.stringify(value);
    return this;
  }

  /** A timeout for this invocation only, in seconds. */
  timeout(seconds: number): this {
    this.request.timeoutSeconds = seconds;
    return this;
  }

  /** The qualifier (version or alias) used to invoke; it shows in the invoked ARN. */
  qualifier(value: string): this {
    this.request.qualifier = value;
    return this;
  }

  /** `Event` queues it as an asynchronous invocation (default `RequestResponse`). */
  invocationType(value: InvocationType): this {
    this.request.invocationType = value;
    return this;
  }

  /** The tenant of a tenant-isolation function (`X-Amz-Tenant-Id`). */
  tenantId(value: string): this {
    this.request.tenantId = value;
    return this;
  }

  /** A fixed request id (a lowercase UUID is generated otherwise). */
  requestId(value: string): this {
    this.request.requestId = value;
    return this;
  }

  /** The finished request. */
  build(): InvocationRequest {
    return { ...this.request };
  }
}

/** One invocation, from queue to terminal status. */
export class Invocation {
  readonly id: string;
  readonly traceId: string;
  readonly request: InvocationRequest;
  status: InvocationStatus = InvocationStatus.Queued;
  readonly enqueuedAt = Date.now();
  /** The execution environment it was given to (unset while it waits in the function's queue). */
  environmentId?: string;
  startedAt?: number;
  respondedAt?: number;
  completedAt?: number;
  /** Absolute deadline, epoch ms; fixed when the invocation starts. */
  deadlineMs?: number;
  /** Monotonic start, for durations. */
  startedMono?: number;
  durationMs?: number;
  initDurationMs?: number;
  result?: InvocationResult;
  errorType?: string;
  /** Set when the runtime answered (response or error) or the platform answered for it. */
  answered = false;
  /** The runtime has called `/next` after answering. */
  runtimeDone = false;
  runtimeDoneMono?: number;
  /** Everything the runtime printed before its `/next` has been read into the log. */
  outputRead = false;
  /** Monotonic time the runtime got the event. */
  dispatchedMono?: number;
  /** Monotonic time the answer was recorded, and how long reading its body took. */
  respondedMono?: number;
  responseReadMs?: number;
  /** Extensions were registered while it ran (the report then carries extensionOverhead). */
  hadExtensions = false;
  /** Time from the runtime's `/next` to the last INVOKE subscriber's `event/next`. */
  extensionOverheadMs?: number;
  /** Bytes of the runtime's response body. */
  producedBytes?: number;
  maxMemoryUsedMB?: number;
  /** The newest log lines of this invocation (START to REPORT), at most LOG_LIMIT_BYTES of them. */
  readonly logs: string[] = [];
  private logBytes = 0;
  private readonly resultWaiter: Deferred<InvocationResult> = deferred();
  private readonly completeWaiter: Deferred<Invocation> = deferred();

  constructor(request: InvocationRequest) {
    this.request = request;
    this.id = request.requestId ?? newRequestId();
    this.traceId = request.traceId ?? newTraceId(this.enqueuedAt);
  }

  /** Appends a log line, forgetting the oldest ones beyond LOG_LIMIT_BYTES (a tail only needs 4 KB). */
  appendLog(line: string): void {
    this.logs.push(line);
    this.logBytes += line.length + 1;
    if (this.logBytes <= LOG_LIMIT_BYTES) return;
    let drop = 0;
    while (this.logBytes > LOG_LIMIT_BYTES / 2 && drop < this.logs.length - 1) {
      this.logBytes -= (this.logs[drop] as string).length + 1;
      drop++;
    }
    this.logs.splice(0, drop);
  }

  /** Resolves with what the caller gets, as soon as it is known. */
  get response(): Promise<InvocationResult> {
    return this.resultWaiter.promise;
  }

  /** Resolves when the invocation reached a terminal status. */
  get completion(): Promise<Invocation> {
    return this.completeWaiter.promise;
  }

  /** True once the status is terminal. */
  get isComplete(): boolean {
    return this.completedAt !== undefined;
  }

  /** Records the caller's result (first answer wins). */
  settle(result: InvocationResult, nowMono = performance.now()): void {
    if (this.result) return;
    this.result = result;
    this.respondedAt = Date.now();
    this.respondedMono = nowMono;
    if (result.errorType) this.errorType = result.errorType;
    this.resultWaiter.resolve(result);
  }

  /** Marks the invocation terminal; `status` must be terminal. */
  finish(status: OutcomeStatus, durationMs: number, errorType?: string): void {
    if (this.isComplete) return;
    this.status = status as InvocationStatus;
    if (errorType) this.errorType = errorType;
    this.durationMs = durationMs;
    this.completedAt = Date.now();
    this.completeWaiter.resolve(this);
  }
}
