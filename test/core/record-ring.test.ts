// RecordRing, the byte ring under the telemetry capture: whatever the sizes, it keeps a suffix of
// what was pushed, in order and intact, within its bounds, never far below its byte bound, and the
// newest record always.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { RecordRing } from "../../src/core/record-ring.ts";

const text = (n: number, size: number) => `${n}:`.padEnd(size, "é".repeat(size % 3 === 0 ? 1 : 0) || "x");

describe("RecordRing", () => {
  test("random sizes through many wraps: a whole suffix, in order, within the bounds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 4, max: 900 }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1_000, max: 20_000 }),
        (sizes, limit, limitBytes) => {
          const ring = new RecordRing<number>(limit, limitBytes);
          const pushed: string[] = [];
          sizes.forEach((size, n) => {
            pushed.push(text(n, size));
            ring.push(pushed[n] as string, n);
            const kept = ring.read(() => true);
            expect(kept).toEqual(pushed.slice(pushed.length - kept.length));
            expect(kept.at(-1)).toBe(pushed[n]);
            expect(ring.count).toBeLessThanOrEqual(limit);
            const bytes = kept.reduce((sum, t) => sum + Buffer.byteLength(t), 0);
            expect(ring.byteCount).toBe(bytes);
            if (kept.length > 1) expect(bytes).toBeLessThanOrEqual(limitBytes);
            // Room is freed only where the next record goes: the kept bytes stay near the bound.
            const all = pushed.reduce((sum, t) => sum + Buffer.byteLength(t), 0);
            const largest = Math.max(...pushed.map((t) => Buffer.byteLength(t)));
            if (ring.count < limit && all > limitBytes && largest <= limitBytes) {
              expect(bytes).toBeGreaterThanOrEqual(limitBytes - 3 * largest);
            }
          });
        },
      ),
      { seed: 20261207, numRuns: 200 },
    );
  });

  test("tags filter what is read; a record over the byte bound is kept alone, then dropped", () => {
    const ring = new RecordRing<string>(100, 1_000);
    ring.push("a1", "a");
    ring.push("b1", "b");
    ring.push("a2", "a");
    expect(ring.read((tag) => tag === "a")).toEqual(["a1", "a2"]);
    const huge = "h".repeat(5_000);
    ring.push(huge, "h");
    expect([ring.count, ring.read(() => true)]).toEqual([1, [huge]]);
    ring.push("after", "a");
    expect(ring.read(() => true)).toEqual(["after"]);
    ring.clear();
    expect([ring.count, ring.byteCount, ring.read(() => true)]).toEqual([0, 0, []]);
  });
});
