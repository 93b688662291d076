/** Bounded in-memory capture of telemetry events for tests, with event-driven waiters. */
import type { TelemetryEvent, TelemetryType } from "./schemas.ts";

interface Waiter {
  type: TelemetryType;
  predicate: (event: TelemetryEvent) => boolean;
  resolve: (event: TelemetryEvent) => void;
}

/** Default bound of a capture's memory, in (estimated) bytes. */
export const CAPTURE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * What an event costs in memory, roughly: a log record's text (two bytes a character) plus the
 * object around it. An estimate, not a measure: it only has to keep a long run's capture bounded.
 */
function estimatedBytes(event: TelemetryEvent): number {
  const record = (event as { record?: unknown }).record;
  return 256 + (typeof record === "string" ? record.length * 2 : 768);
}

/**
 * Keeps the newest events within `limit` events and `limitBytes` (estimated) bytes, as a ring: the
 * oldest go first, in O(1) per event; sees every event as it is produced (no delivery delay).
 */
export class TelemetryCapture {
  private events: (TelemetryEvent | undefined)[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytes = 0;
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly limit = 50_000,
    private readonly limitBytes = CAPTURE_LIMIT_BYTES,
  ) {}

  /** Records an event and wakes matching waiters. */
  add(event: TelemetryEvent): void {
    const size = estimatedBytes(event);
    this.events.push(event);
    this.sizes.push(size);
    this.bytes += size;
    while (this.events.length - this.start > this.limit || (this.bytes > this.limitBytes && this.count > 1)) {
      this.bytes -= this.sizes[this.start] as number;
      this.events[this.start] = undefined;
      this.start++;
    }
    // Compacted now and then, so the dropped slots do not pile up.
    if (this.start > 4096 && this.start * 2 > this.events.length) {
      this.events = this.events.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.start = 0;
    }
    for (const waiter of [...this.waiters]) {
      if (waiter.type === event.type && waiter.predicate(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** Number of events kept. */
  get count(): number {
    return this.events.length - this.start;
  }

  /** Estimated bytes of the events kept. */
  get estimatedBytes(): number {
    return this.bytes;
  }

  /** Every captured event, oldest first. */
  all(): TelemetryEvent[] {
    return this.events.slice(this.start) as TelemetryEvent[];
  }

  /** Captured events of one type. */
  byType<T extends TelemetryType>(type: T): TelemetryEvent<T>[] {
    return this.all().filter((e) => e.type === type) as TelemetryEvent<T>[];
  }

  /** Forgets everything captured so far. */
  clear(): void {
    this.events = [];
    this.sizes = [];
    this.start = 0;
    this.bytes = 0;
  }

  /** The first captured (or future) event of `type` matching `predicate`. */
  waitFor<T extends TelemetryType>(
    type: T,
    predicate: (event: TelemetryEvent<T>) => boolean,
    timeoutMs: number,
  ): Promise<TelemetryEvent<T>> {
    const found = this.byType(type).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        type,
        predicate: predicate as (event: TelemetryEvent) => boolean,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as TelemetryEvent<T>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for telemetry ${type}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
