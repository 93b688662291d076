/**
 * A streamed response (reference 1.4): the bytes a runtime posts with
 * `Lambda-Runtime-Function-Response-Mode: streaming`, passed on as they arrive to whoever receives
 * them (a streaming caller, or a collector for a buffered one), and ended once: by the runtime
 * (with or without its error trailers) or by the platform (timeout, crash, truncation, size limit).
 */
import { TokenBucket } from "./bandwidth.ts";
import type { Clock } from "./clock.ts";
import { type Deferred, deferred } from "./deferred.ts";

/** Largest streamed response, in bytes (200 MB, the current quota). */
export const MAX_STREAMED_BYTES = 200 * 1024 * 1024;

/** How a stream failed: the error type and its details (the JSON error object, as text). */
export interface StreamError {
  errorType: string;
  details: string;
}

/** How a stream ended. */
export interface StreamEnd {
  /** Bytes the runtime sent (counted even when the receiver had gone). */
  bytes: number;
  error?: StreamError;
}

/** Where the bytes go. `write` returns a promise while the receiver wants no more for now. */
export interface StreamSink {
  write(chunk: Uint8Array): Promise<void> | undefined;
  end(end: StreamEnd): void;
}

/** How a stream is made. */
export interface ResponseStreamOptions {
  clock: Clock;
  /** Bytes past which it fails with `Function.ResponseSizeTooLarge`. */
  limitBytes: number;
  /** Apply Lambda's bandwidth cap (see bandwidth.ts). */
  capBandwidth: boolean;
}

/** Lambda's error object as JSON text. */
export function errorDetails(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorMessage, errorType });
}

/** One streamed response, from its first byte to its end. */
export class ResponseStream {
  /** Bytes written so far. */
  bytes = 0;
  private ending?: StreamEnd;
  private readonly endWaiter: Deferred<StreamEnd> = deferred();
  private readonly bucket?: TokenBucket;
  /** Called once, synchronously, when the stream ends. */
  onEnd?: (end: StreamEnd) => void;

  constructor(
    readonly contentType: string,
    private readonly sink: StreamSink,
    private readonly options: ResponseStreamOptions,
  ) {
    if (options.capBandwidth) this.bucket = new TokenBucket(options.clock);
  }

  /** True until the stream has ended. */
  get open(): boolean {
    return this.ending === undefined;
  }

  /** Resolves with how the stream ended. */
  get ended(): Promise<StreamEnd> {
    return this.endWaiter.promise;
  }

  /**
   * Passes `chunk` on. Resolves (when it returns a promise) once the sender may write again: the
   * receiver has room and the bandwidth cap allows it. Bytes after the end are dropped.
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.ending) return undefined;
    this.bytes += chunk.byteLength;
    if (this.bytes > this.options.limitBytes) {
      const message = `Response payload size exceeded maximum allowed payload size (${this.options.limitBytes} bytes).`;
      this.end({
        errorType: "Function.ResponseSizeTooLarge",
        details: errorDetails("Function.ResponseSizeTooLarge", message),
      });
      return undefined;
    }
    const room = this.sink.write(chunk);
    const waitMs = this.bucket?.take(chunk.byteLength) ?? 0;
    if (waitMs <= 0) return room;
    const capped = new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, waitMs));
    return room ? Promise.all([room, capped]).then(() => undefined) : capped;
  }

  /** Ends the stream (first end wins); `error` fails it, after the bytes already sent. */
  end(error?: StreamError): StreamEnd {
    if (this.ending) return this.ending;
    const ending: StreamEnd = error ? { bytes: this.bytes, error } : { bytes: this.bytes };
    this.ending = ending;
    this.sink.end(ending);
    this.onEnd?.(ending);
    this.endWaiter.resolve(ending);
    return ending;
  }
}
