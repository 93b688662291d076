/** Bounded in-memory capture of telemetry events for tests, with event-driven waiters. */
import type { TelemetryEvent, TelemetryType } from "./schemas.ts";

interface Waiter {
  type: TelemetryType;
  predicate: (event: TelemetryEvent) => boolean;
  resolve: (event: TelemetryEvent) => void;
}

/** Keeps the newest `limit` events; sees every event as it is produced (no delivery delay). */
export class TelemetryCapture {
  private readonly events: TelemetryEvent[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly limit = 50_000) {}

  /** Records an event and wakes matching waiters. */
  add(event: TelemetryEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
    for (const waiter of [...this.waiters]) {
      if (waiter.type === event.type && waiter.predicate(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** Every captured event, oldest first. */
  all(): TelemetryEvent[] {
    return [...this.events];
  }

  /** Captured events of one type. */
  byType<T extends TelemetryType>(type: T): TelemetryEvent<T>[] {
    return this.events.filter((e) => e.type === type) as TelemetryEvent<T>[];
  }

  /** Forgets everything captured so far. */
  clear(): void {
    this.events.length = 0;
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
