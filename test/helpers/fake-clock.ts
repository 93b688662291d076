// A clock for core unit tests: time moves and timers fire only when the test advances it.
import type { Clock } from "../../src/core/clock.ts";

/** A clock whose timers fire only when the test advances it. */
export class FakeClock implements Clock {
  private time = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers.delete(id as number);
  };
  /** Timers still armed. */
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time on by `ms`, firing every timer due by then, in order. */
  advance(ms: number): void {
    this.time += ms;
    const due = [...this.timers].filter(([, t]) => t.at <= this.time).sort((a, b) => a[1].at - b[1].at);
    for (const [id, timer] of due) {
      if (!this.timers.has(id)) continue;
      this.timers.delete(id);
      timer.fn();
    }
  }
}
