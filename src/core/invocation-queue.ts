/** A FIFO of waiting invocations and a bounded history of all of them. */
import type { Invocation } from "./invocation.ts";

const HISTORY_LIMIT = 1000;

/** Invocations wait here in arrival order; the history keeps the newest 1,000 for lookups. */
export class InvocationQueue {
  private readonly waiting: Invocation[] = [];
  private readonly history = new Map<string, Invocation>();

  /** Number of invocations waiting. */
  get length(): number {
    return this.waiting.length;
  }

  /** Adds an invocation at the end of the queue (and to the history). */
  push(invocation: Invocation): void {
    this.history.set(invocation.id, invocation);
    this.trim();
    this.waiting.push(invocation);
  }

  /** Puts invocations back at the head of the queue, in the order given (they keep their place in line). */
  requeue(invocations: readonly Invocation[]): void {
    this.waiting.unshift(...invocations);
  }

  /** The oldest waiting invocation, left in the queue. */
  peek(): Invocation | undefined {
    return this.waiting[0];
  }

  /** Takes the oldest waiting invocation. */
  shift(): Invocation | undefined {
    return this.waiting.shift();
  }

  /** Takes every waiting invocation. */
  drain(): Invocation[] {
    return this.waiting.splice(0);
  }

  /** The invocation with this request id, if still in the history. */
  get(id: string): Invocation | undefined {
    return this.history.get(id);
  }

  /** Every invocation in the history, oldest first. */
  all(): Invocation[] {
    return [...this.history.values()];
  }

  private trim(): void {
    if (this.history.size <= HISTORY_LIMIT) return;
    for (const [id, invocation] of this.history) {
      if (this.history.size <= HISTORY_LIMIT) break;
      if (invocation.isComplete) this.history.delete(id);
    }
  }
}
