// Telemetry as the library exposes it (reference 3.3-3.4, 5.3): the in-memory capture and its wait
// helpers, the JSON-lines telemetry file, the records' content (memory, JSON log format), and that
// the capture sees events when they are produced, before any subscriber does. Real runtime and
// extension processes; every wait is on an event or a capture waiter, never a sleep.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvocationBuilder, type TelemetryEvent } from "../../src/index.ts";
import {
  arrival,
  checkTrackedGone,
  delivered,
  expectAllValid,
  RECORDER,
  readRecorder,
  requestIdOf,
  scratchDir,
  startTracked,
  TELEMETRY_RUNTIME,
} from "../fixtures/telemetry/support.ts";
import { ECHO_RUNTIME } from "../helpers/fixtures.ts";

// Every simulator is shut down and none of its process groups may be left.
afterEach(checkTrackedGone);

const FIXED_ID = "5c1f0e6e-7f0a-4c36-9f31-0a3cc1d8a9f2";

describe("telemetry capture", () => {
  test("is off until enabled; enableTelemetryCapture, getTelemetryEventsByType and clearTelemetryEvents", async () => {
    const sim = await startTracked();
    sim.spawnRuntime([ECHO_RUNTIME]);
    const before = await sim.invoke({ log: "not captured" });
    await sim.waitForInvocationComplete(before.requestId);
    expect(sim.getTelemetryEvents()).toEqual([]);
    expect(sim.getTelemetryEventsByType("platform.report")).toEqual([]);
    expect(await (await fetch(`${sim.url()}/_simulator/telemetry`)).json()).toEqual([]);

    sim.enableTelemetryCapture();
    const after = await sim.invoke({ log: "captured" });
    await sim.waitForInvocationComplete(after.requestId);
    const events = sim.getTelemetryEvents();
    expectAllValid(events);
    expect(events.map((e) => [e.type, requestIdOf(e) ?? e.record])).toEqual([
      ["platform.start", after.requestId],
      ["function", "captured"],
      ["platform.runtimeDone", after.requestId],
      ["platform.report", after.requestId],
    ]);
    const reports = sim.getTelemetryEventsByType("platform.report");
    expect(reports.length).toBe(1);
    expect(reports[0]?.record.requestId).toBe(after.requestId);
    expect(reports[0]?.record.status).toBe("success");
    expect(sim.getTelemetryEventsByType("function").map((e) => e.record)).toEqual(["captured"]);

    sim.clearTelemetryEvents();
    expect(sim.getTelemetryEvents()).toEqual([]);
    expect(sim.getTelemetryEventsByType("platform.start")).toEqual([]);
    const again = await sim.invoke({});
    await sim.waitForInvocationComplete(again.requestId);
    expect(sim.getTelemetryEvents().map((e) => e.type)).toEqual([
      "platform.start",
      "platform.runtimeDone",
      "platform.report",
    ]);
  });

  test("enabled while an invocation runs, it still gets platform.start first, timed at the dispatch", async () => {
    const sim = await startTracked();
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitForExtensionsReady();
    let dispatchedAt = 0;
    // The invocation is already with the runtime when capture starts (nobody listened at its dispatch).
    const off = sim.events.on("invocationDispatch", () => {
      dispatchedAt = Date.now();
      sim.enableTelemetryCapture();
    });
    const response = await sim.invoke({ log: "while capturing" });
    off();
    await sim.waitForInvocationComplete(response.requestId);
    const events = sim.getTelemetryEvents();
    expectAllValid(events);
    expect(events.map((e) => e.type)).toEqual([
      "platform.start",
      "function",
      "platform.runtimeDone",
      "platform.report",
    ]);
    const [start, , runtimeDone] = events;
    expect(Date.parse(start?.time as string)).toBeLessThanOrEqual(dispatchedAt);
    expect(Date.parse(start?.time as string)).toBeLessThanOrEqual(Date.parse(runtimeDone?.time as string));
  });

  test("waitForTelemetry resolves with past and future events and rejects when its time is up", async () => {
    const sim = await startTracked({ captureTelemetry: true });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const initReport = await sim.waitForTelemetry("platform.initReport", () => true, 20_000);
    expect(initReport.record.status).toBe("success");
    const report = sim.waitForTelemetry("platform.report", (e) => e.record.requestId === FIXED_ID, 20_000);
    const failure = sim.waitForTelemetry(
      "platform.runtimeDone",
      (e) => e.record.requestId === FIXED_ID && e.record.status === "error",
      20_000,
    );
    sim.enqueue(new InvocationBuilder().requestId(FIXED_ID).payload({ fail: true }));
    const [reportEvent, runtimeDone] = await Promise.all([report, failure]);
    expectAllValid([initReport, reportEvent, runtimeDone]);
    expect(reportEvent.record).toMatchObject({
      requestId: FIXED_ID,
      status: "error",
      errorType: "Function.MyError",
    });
    expect(runtimeDone.record.errorType).toBe("Function.MyError");
    // An event already captured resolves at once; one that never comes rejects after the timeout.
    const start = await sim.waitForTelemetry("platform.start", (e) => e.record.requestId === FIXED_ID, 1);
    expect(start.record.requestId).toBe(FIXED_ID);
    await expect(
      sim.waitForTelemetry("platform.report", (e) => e.record.requestId === "never", 200),
    ).rejects.toThrow(/timed out after 200 ms waiting for telemetry platform\.report/);
    await expect(sim.waitForTelemetry("platform.logsDropped", () => true, 100)).rejects.toThrow(/timed out/);
  });

  test("sees every event when it is produced, before a subscriber got it", async () => {
    const file = join(scratchDir(), "late-batches.jsonl");
    const sim = await startTracked({ captureTelemetry: true });
    // Batches only leave after timeoutMs (30 s, the maximum) or at shutdown.
    sim.spawnExtension([RECORDER], {
      env: { RECORD_FILE: file, TIMEOUT_MS: "30000", MAX_ITEMS: "10000", MAX_BYTES: "1048576" },
    });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const seen: { captured: boolean; offered: number; delivered: number }[] = [];
    sim.events.on("invocationComplete", (invocation) => {
      const stats = sim.telemetrySubscriptions()[0];
      seen.push({
        captured: sim
          .getTelemetryEventsByType("platform.report")
          .some((e) => e.record.requestId === invocation.id),
        offered: stats?.offered ?? 0,
        delivered: stats?.delivered ?? -1,
      });
    });
    const response = await sim.invoke({ log: "before delivery" });
    await sim.waitForInvocationComplete(response.requestId);
    expect(seen.length).toBe(1);
    expect(seen[0]?.captured).toBe(true);
    expect(seen[0]?.delivered).toBe(0);
    expect(seen[0]?.offered).toBeGreaterThan(5);
    const shutdownAt = Date.now();
    await sim.shutdown();

    const [entries = []] = readRecorder(file);
    const events = delivered(entries);
    expectAllValid(events);
    // The subscriber got the same events, later: the shutdown phase flushed them.
    const report = arrival(
      entries,
      (e) => e.type === "platform.report" && requestIdOf(e) === response.requestId,
    );
    expect(report?.received).toBeGreaterThanOrEqual(shutdownAt);
    const captured = sim.getTelemetryEvents();
    expect(events).toEqual(captured.slice(0, events.length));
  });
});

describe("telemetry content", () => {
  test("telemetryFile writes every event as one JSON line", async () => {
    const file = join(scratchDir(), "telemetry.jsonl");
    const sim = await startTracked({ telemetryFile: file, captureTelemetry: true });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const ok = await sim.invoke({ log: "into the file" });
    const failed = await sim.invoke({ fail: true });
    await sim.waitForInvocationComplete(failed.requestId);
    await sim.shutdown();
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    const events = lines.slice(0, -1).map((line) => JSON.parse(line) as TelemetryEvent);
    expectAllValid(events);
    expect(events).toEqual(JSON.parse(JSON.stringify(sim.getTelemetryEvents())));
    expect(events.map((e) => e.type)).toEqual([
      "platform.initStart",
      "function",
      "platform.initRuntimeDone",
      "platform.initReport",
      "platform.start",
      "function",
      "platform.runtimeDone",
      "platform.report",
      "platform.start",
      "platform.runtimeDone",
      "platform.report",
    ]);
    expect(events.filter((e) => e.type === "platform.report").map(requestIdOf)).toEqual([
      ok.requestId,
      failed.requestId,
    ]);
  });

  test("maxMemoryUsedMB (platform.report and REPORT line) grows when the runtime allocates 100 MB", async () => {
    const sim = await startTracked({ memorySizeMB: 1024, captureTelemetry: true });
    sim.spawnRuntime([TELEMETRY_RUNTIME]);
    const memoryOf = async (payload: object) => {
      const response = await sim.invoke(payload);
      const state = await sim.waitForInvocationComplete(response.requestId);
      const report = await sim.waitForTelemetry(
        "platform.report",
        (e) => e.record.requestId === response.requestId,
        5000,
      );
      expectAllValid([report]);
      const line = state.logs.find((l) => l.startsWith("REPORT RequestId:")) as string;
      const fromLine = Number(/\tMax Memory Used: (\d+) MB/.exec(line)?.[1]);
      expect(fromLine).toBe(report.record.metrics.maxMemoryUsedMB);
      expect(report.record.metrics.memorySizeMB).toBe(1024);
      return { mb: report.record.metrics.maxMemoryUsedMB, body: response.json<{ heldMB: number }>() };
    };
    const baseline = await memoryOf({});
    expect(baseline.mb).toBeGreaterThan(0);
    const allocated = await memoryOf({ allocMB: 100 });
    expect(allocated.body.heldMB).toBe(100);
    expect(allocated.mb).toBeGreaterThanOrEqual(baseline.mb + 80);
    expect(allocated.mb).toBeLessThanOrEqual(1024);
  });

  test("JSON log format: a JSON object line becomes an object record; other lines stay strings", async () => {
    const file = join(scratchDir(), "json.jsonl");
    const sim = await startTracked({ logFormat: "JSON", captureTelemetry: true });
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: file, TYPES: "platform,function" } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const line = '{"timestamp":"2025-01-01T00:00:00.000Z","level":"INFO","message":"structured","n":1}';
    await sim.invoke({ log: line });
    const plain = await sim.invoke({ log: "plain text line" });
    const array = await sim.invoke({ log: "[1,2]" });
    await sim.waitForInvocationComplete(array.requestId);
    await sim.waitForInvocationComplete(plain.requestId);
    const expected = [
      "init: runtime starting",
      { timestamp: "2025-01-01T00:00:00.000Z", level: "INFO", message: "structured", n: 1 },
      "plain text line",
      "[1,2]",
    ];
    expect(sim.getTelemetryEventsByType("function").map((e) => e.record)).toEqual(expected);
    await sim.shutdown();
    const events = delivered(readRecorder(file)[0] ?? []);
    expectAllValid(events);
    expect(events.filter((e) => e.type === "function").map((e) => e.record)).toEqual(expected);

    // The same line in the Text log format stays text.
    const text = await startTracked({ logFormat: "Text", captureTelemetry: true });
    text.spawnRuntime([ECHO_RUNTIME]);
    const response = await text.invoke({ log: line });
    await text.waitForInvocationComplete(response.requestId);
    expect(text.getTelemetryEventsByType("function").map((e) => e.record)).toEqual([
      "init: runtime starting",
      line,
    ]);
  });
});
