/**
 * The two receivers of a streamed response: a caller that reads it as a stream (it gets a
 * `ReadableStream` and sets the pace), and a buffered caller, for whom Lambda collects the bytes
 * into one payload (within the buffered 6 MB limit).
 */
import { type Deferred, deferred } from "./deferred.ts";
import type { StreamEnd, StreamSink } from "./response-stream.ts";

/** Bytes queued for a streaming caller before the runtime is asked to wait. */
const CALLER_QUEUE_BYTES = 1024 * 1024;

/** A sink read by a streaming caller. If the caller goes away, later bytes are dropped: the function runs on. */
export class CallerSink implements StreamSink {
  /** The bytes, as the runtime sends them; closes when the stream ends (success or error). */
  readonly body: ReadableStream<Uint8Array>;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private room?: Deferred<void>;
  private gone = false;

  constructor() {
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.room?.resolve();
          this.room = undefined;
        },
        cancel: () => {
          this.gone = true;
          this.room?.resolve();
          this.room = undefined;
        },
      },
      { highWaterMark: CALLER_QUEUE_BYTES, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  /** The caller stopped reading (disconnected). */
  get cancelled(): boolean {
    return this.gone;
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    const controller = this.controller;
    if (this.gone || !controller) return undefined;
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 1) > 0) return undefined;
    this.room ??= deferred();
    return this.room.promise;
  }

  end(_end: StreamEnd): void {
    this.room?.resolve();
    if (this.gone) return;
    this.gone = true;
    this.controller?.close();
  }
}

/** A sink that keeps every byte, for a caller that gets the response in one piece. */
export class CollectingSink implements StreamSink {
  private readonly chunks: Uint8Array[] = [];

  write(chunk: Uint8Array): undefined {
    this.chunks.push(chunk);
    return undefined;
  }

  end(_end: StreamEnd): void {}

  /** Everything written, in one buffer. */
  payload(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}
