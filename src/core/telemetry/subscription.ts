/**
 * One subscriber's buffer (reference 3.2): batches bounded by maxItems/maxBytes/timeoutMs, one
 * batch in flight at a time, retries on failure, drops with a `platform.logsDropped` when the
 * subscriber falls behind. A subscriber never blocks the environment: offer() never waits.
 */
import { categoryOf, type TelemetryCategory, type TelemetryEvent } from "./schemas.ts";

/** Sends one batch to the subscriber; rejects when the subscriber did not take it. */
export interface Transport {
  send(batch: readonly string[]): Promise<void>;
  close(): void;
}

/** Buffering settings after defaults. */
export interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

/** Lambda's defaults (reference 3.1). */
export const DEFAULT_BUFFERING: Buffering = { maxItems: 10_000, maxBytes: 262_144, timeoutMs: 1_000 };

/** How much a subscriber may lag before events are dropped, in multiples of its batch size. */
const QUEUE_BATCHES = 16;

const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;

interface Queued {
  json: string;
  bytes: number;
}

/** A subscription's delivery state. */
export class Subscription {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private inFlight = false;
  private timer?: ReturnType<typeof setTimeout>;
  private due = false;
  private paused = false;
  private closed = false;
  /** Set by flushNow (shutdown): every later batch leaves at once, not after timeoutMs. */
  private flushing = false;
  private retries = 0;
  private droppedRecords = 0;
  private droppedBytes = 0;
  /** Events accepted into the buffer (for tests and the control API). */
  offered = 0;
  /** Events the subscriber acknowledged. */
  delivered = 0;

  constructor(
    readonly name: string,
    readonly types: ReadonlySet<TelemetryCategory>,
    readonly buffering: Buffering,
    private readonly transport: Transport,
    private readonly makeDropped: (records: number, bytes: number) => TelemetryEvent,
    private readonly queueLimitBytes = buffering.maxBytes * QUEUE_BATCHES,
  ) {}

  /** Takes an event if the subscriber wants its category and has room; never waits. `text` is its JSON. */
  offer(event: TelemetryEvent, text: () => string = () => JSON.stringify(event)): void {
    if (this.closed || !this.types.has(categoryOf(event.type))) return;
    const json = text();
    const bytes = Buffer.byteLength(json);
    // Bytes bound the memory a lagging subscriber can hold; that is the only limit.
    if (this.queuedBytes + bytes > this.queueLimitBytes) {
      this.droppedRecords++;
      this.droppedBytes += bytes;
      return;
    }
    this.push(json, bytes);
  }

  /** Stops starting deliveries (a frozen environment receives nothing). */
  pause(): void {
    this.paused = true;
  }

  /** Resumes deliveries and sends what became due meanwhile. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Sends everything buffered now, ignoring timeoutMs (used during shutdown). */
  flushNow(): void {
    this.flushing = true;
    if (this.queue.length > 0) this.due = true;
    this.pump();
  }

  /** True when nothing is buffered or in flight. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.inFlight;
  }

  /** Stops delivery for good. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.transport.close();
  }

  private push(json: string, bytes: number): void {
    this.queue.push({ json, bytes });
    this.queuedBytes += bytes;
    this.offered++;
    if (
      this.flushing ||
      this.queue.length >= this.buffering.maxItems ||
      this.queuedBytes >= this.buffering.maxBytes
    ) {
      this.due = true;
      this.pump();
    } else if (!this.timer && !this.due) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.pump();
      }, this.buffering.timeoutMs);
    }
  }

  private pump(): void {
    if (this.closed || this.paused || this.inFlight || !this.due || this.queue.length === 0) return;
    const batch: string[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && batch.length < this.buffering.maxItems) {
      const next = this.queue[0] as Queued;
      if (batch.length > 0 && bytes + next.bytes > this.buffering.maxBytes) break;
      batch.push(next.json);
      bytes += next.bytes;
      this.queue.shift();
    }
    this.queuedBytes -= bytes;
    this.inFlight = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = false;
    this.transport.send(batch).then(
      () => this.sent(batch.length),
      () => this.failed(batch, bytes),
    );
  }

  private sent(count: number): void {
    this.inFlight = false;
    this.retries = 0;
    this.delivered += count;
    if (this.droppedRecords > 0) {
      const dropped = this.makeDropped(this.droppedRecords, this.droppedBytes);
      this.droppedRecords = 0;
      this.droppedBytes = 0;
      const json = JSON.stringify(dropped);
      this.push(json, Buffer.byteLength(json));
    }
    this.settleNext();
  }

  private failed(batch: string[], bytes: number): void {
    this.inFlight = false;
    if (this.closed) return;
    this.queue.unshift(...batch.map((json) => ({ json, bytes: Buffer.byteLength(json) })));
    this.queuedBytes += bytes;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.retries++);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.pump();
    }, delay);
  }

  /** After a batch: send again at once if a full batch waits, else wait for the timer. */
  private settleNext(): void {
    if (this.queue.length === 0) return;
    if (
      this.flushing ||
      this.queue.length >= this.buffering.maxItems ||
      this.queuedBytes >= this.buffering.maxBytes
    )
      this.due = true;
    if (this.due) this.pump();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.pump();
      }, this.buffering.timeoutMs);
    }
  }
}
