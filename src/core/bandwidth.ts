/**
 * The bandwidth of a streamed response (reference 1.4): the first 6 MB leave uncapped, then
 * 2 MB/s. A token bucket with a 6 MiB burst refilled at 2 MiB/s, as the supervisor models it.
 */
import type { Clock } from "./clock.ts";

/** Burst a stream may send at once, in bytes. */
export const STREAM_BURST_BYTES = 6 * 1024 * 1024;
/** Rate once the burst is spent, in bytes per second. */
export const STREAM_RATE_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** A token bucket over an injected clock. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly burst = STREAM_BURST_BYTES,
    private readonly ratePerSecond = STREAM_RATE_BYTES_PER_SECOND,
  ) {
    this.tokens = burst;
    this.refilledAt = clock.now();
  }

  /** Spends `bytes`; returns how long (ms) the sender must wait before sending more (0: none). */
  take(bytes: number): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
    this.refilledAt = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.ratePerSecond;
  }
}
