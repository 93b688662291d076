// The in-memory telemetry capture: a ring bounded by count and by estimated bytes, oldest out
// first, in order, and its waiters. (A long `serve` captures by default: unbounded by bytes, 50,000
// events held 50-80 MB of heap.)
import { describe, expect, test } from "bun:test";
import { TelemetryCapture } from "../../src/core/telemetry/capture.ts";
import type { TelemetryEvent } from "../../src/core/telemetry/schemas.ts";

const line = (n: number, text = `line ${n}`): TelemetryEvent =>
  ({ time: new Date(n).toISOString(), type: "function", record: text }) as TelemetryEvent;
const texts = (capture: TelemetryCapture) => capture.all().map((e) => (e as { record: string }).record);

describe("TelemetryCapture", () => {
  test("keeps the newest `limit` events, in order, through many compactions", () => {
    const capture = new TelemetryCapture(100);
    for (let n = 0; n < 20_000; n++) capture.add(line(n));
    expect(capture.count).toBe(100);
    expect(texts(capture)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${19_900 + i}`));
  });

  test("keeps the estimated bytes under the bound: big records push out more events", () => {
    const capture = new TelemetryCapture(50_000, 64 * 1024);
    for (let n = 0; n < 1000; n++) capture.add(line(n));
    const small = capture.count;
    expect(capture.estimatedBytes).toBeLessThanOrEqual(64 * 1024);
    capture.add(line(1000, "x".repeat(16 * 1024)));
    expect(capture.estimatedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(capture.count).toBeLessThan(small);
    expect(texts(capture).at(-1)).toHaveLength(16 * 1024);
    // A single event larger than the bound is still kept (the newest is never dropped).
    capture.add(line(1001, "y".repeat(128 * 1024)));
    expect(capture.count).toBe(1);
  });

  test("byType, clear and a waiter that sees a future event", async () => {
    const capture = new TelemetryCapture(10);
    capture.add(line(1));
    capture.add({ time: "t", type: "platform.start", record: { requestId: "r" } } as TelemetryEvent);
    expect(capture.byType("platform.start")).toHaveLength(1);
    const waited = capture.waitFor("function", (e) => (e as { record: string }).record === "later", 1000);
    capture.add(line(2, "later"));
    expect(((await waited) as { record: string }).record).toBe("later");
    capture.clear();
    expect([capture.count, capture.estimatedBytes, capture.all()]).toEqual([0, 0, []]);
  });
});
