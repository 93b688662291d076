/** Bounded in-memory capture of telemetry events for tests, with event-driven waiters. */
import { RecordRing } from "../record-ring.ts";
import type { TelemetryEvent, TelemetryType } from "./schemas.ts";

interface Waiter {
  type: TelemetryType;
  predicate: (event: TelemetryEvent) => boolean;
  resolve: (event: TelemetryEvent) => void;
}

/** Default bound of a capture's memory, in bytes of JSON. */
export const CAPTURE_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Keeps the newest events within `limit` events and `limitBytes` bytes, oldest out first, in O(1)
 * per event; sees every event as it is produced (no delivery delay).
 *
 * Events are kept as their JSON text in one byte ring (RecordRing) and parsed again when read. Kept
 * as objects, 16k events held ~7 MB of JS heap but grew the process's RSS by ~30 MB: many small
 * objects of every age, spread over heap blocks the collector could then not give back. In the ring
 * their memory is one buffer of a known size, and a reader gets copies it may change freely.
 */
export class TelemetryCapture {
  private readonly ring: RecordRing<TelemetryType>;
  private readonly waiters = new Set<Waiter>();

  constructor(limit = 50_000, limitBytes = CAPTURE_LIMIT_BYTES) {
    this.ring = new RecordRing(limit, limitBytes);
  }

  /** Records an event (`json`: its JSON text, when already made) and wakes matching waiters. */
  add(event: TelemetryEvent, json = JSON.stringify(event)): void {
    this.ring.push(json, event.type);
    for (const waiter of [...this.waiters]) {
      if (waiter.type === event.type && waiter.predicate(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** Number of events kept. */
  get count(): number {
    return this.ring.count;
  }

  /** Bytes of the events kept (their JSON text). */
  get estimatedBytes(): number {
    return this.ring.byteCount;
  }

  /** Every captured event, oldest first (fresh copies). */
  all(): TelemetryEvent[] {
    return this.read(() => true);
  }

  /** Captured events of one type (fresh copies). */
  byType<T extends TelemetryType>(type: T): TelemetryEvent<T>[] {
    return this.read((kept) => kept === type) as TelemetryEvent<T>[];
  }

  /** Forgets everything captured so far. */
  clear(): void {
    this.ring.clear();
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

  private read(wanted: (type: TelemetryType) => boolean): TelemetryEvent[] {
    return this.ring.read(wanted).map((text) => JSON.parse(text) as TelemetryEvent);
  }
}
