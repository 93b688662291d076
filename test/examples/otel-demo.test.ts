// The OpenTelemetry demo (issue #5) under FreezeMode.Process: a real extension and an instrumented
// runtime, two invocations with the environment held frozen between them, a graceful shutdown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Collector, forRequest, startCollector } from "../../examples/otel/collector.ts";
import {
  EXTENSION,
  type ExtensionExit,
  extensionPid as extensionPidOf,
  type FunctionResponse,
  initCount,
  invokeToCompletion,
  processState,
  RUNTIME,
  startDemoSimulator,
} from "../../examples/otel/demo.ts";
import type { InvokeResponse, Simulator } from "../../src/index.ts";
import { groupMembers } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

/** How long the test keeps the environment frozen: the interval whose (absent) ticks are measured. */
const HOLD_MS = 500;
/** How long the warm handler runs with the environment thawed. */
const BUSY_MS = 200;
const WAIT_MS = 60_000;

describe.skipIf(process.platform !== "linux")("OpenTelemetry demo with FreezeMode.Process", () => {
  let sim: Simulator | undefined;
  let collector: Collector | undefined;
  // What the scenario observed; the tests below judge it.
  let runtimePid = 0;
  let extensionPid = 0;
  let initCountAfterInit = 0;
  let first: InvokeResponse;
  let second: InvokeResponse;
  let r1: FunctionResponse;
  let r2: FunctionResponse;
  let frozenStates: { runtime: string; extension: string };
  let statesAfterHold: { runtime: string; extension: string };
  let frozenPids: number[] = [];
  let heldFrozen = false;
  let epochBeforeHold = 0;
  let epochAfterHold = 0;
  let warm: { runtimePid?: number; extensionPid?: number; initCount: number };
  let extensionExit: ExtensionExit;

  beforeAll(
    async () => {
      collector = startCollector();
      const started = await startDemoSimulator();
      sim = started.sim;
      const s = sim;
      const exited = started.extensionExit;
      s.events.on("frozen", ({ pids }) => {
        frozenPids = pids;
      });
      s.spawnExtension([EXTENSION], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } });
      s.spawnRuntime([RUNTIME]);
      await s.waitForExtensionsReady(WAIT_MS);
      runtimePid = s.runtimePid() as number;
      extensionPid = extensionPidOf(s) as number;
      initCountAfterInit = initCount(s);

      first = await invokeToCompletion(s, {}, WAIT_MS);
      r1 = first.json<FunctionResponse>();
      await s.waitForFrozen(WAIT_MS);
      frozenStates = { runtime: processState(runtimePid), extension: processState(extensionPid) };

      // Deliberately hold the environment frozen: this interval is what is being measured.
      epochBeforeHold = s.freezeEpoch();
      await Bun.sleep(HOLD_MS);
      heldFrozen = s.isFrozen();
      epochAfterHold = s.freezeEpoch();
      statesAfterHold = { runtime: processState(runtimePid), extension: processState(extensionPid) };

      second = await invokeToCompletion(s, { busyMs: BUSY_MS }, WAIT_MS);
      r2 = second.json<FunctionResponse>();
      warm = {
        runtimePid: s.runtimePid(),
        extensionPid: extensionPidOf(s),
        initCount: initCount(s),
      };

      await s.shutdown();
      extensionExit = await exited;
    },
    { timeout: 180_000 },
  );

  afterAll(async () => {
    await sim?.shutdown();
    await collector?.stop();
  });

  test("both invocations succeed; the first is the cold start", () => {
    expect(first.functionError).toBeUndefined();
    expect(second.functionError).toBeUndefined();
    expect(r1.requestId).toBe(first.requestId);
    expect(r2.requestId).toBe(second.requestId);
    expect(r1.coldStart).toBe(true);
    expect(r2.coldStart).toBe(false);
  });

  test("the runtime and the extension are both stopped (state T) between the invocations", () => {
    expect(runtimePid).toBeGreaterThan(0);
    expect(extensionPid).toBeGreaterThan(0);
    expect(frozenStates).toEqual({ runtime: "T", extension: "T" });
    expect(frozenPids).toContain(runtimePid);
    expect(frozenPids).toContain(extensionPid);
    // Still the same freeze after the hold: nothing thawed them meanwhile.
    expect(heldFrozen).toBe(true);
    expect(epochAfterHold).toBe(epochBeforeHold);
    expect(statesAfterHold).toEqual({ runtime: "T", extension: "T" });
  });

  test("the runtime's background timer does not advance while frozen and resumes after thaw", () => {
    const elapsedMs = r2.nowAtStart - r1.now;
    const ticks = r2.ticksAtStart - r1.ticks;
    expect(elapsedMs).toBeGreaterThanOrEqual(HOLD_MS);
    // A running 10 ms interval would have fired about elapsed/10 times; a frozen one far fewer
    // (it only ran while the environment was thawed, around the two invocations).
    expect(ticks).toBeLessThan(elapsedMs / 10 / 2);
    // Thawed again, it fires while the warm handler waits.
    expect(r2.ticks - r2.ticksAtStart).toBeGreaterThanOrEqual(3);
  });

  test("the warm invocation reuses the processes: same pids, no second init", () => {
    expect(r1.pid).toBe(runtimePid);
    expect(r2.pid).toBe(runtimePid);
    expect(warm.runtimePid).toBe(runtimePid);
    expect(warm.extensionPid).toBe(extensionPid);
    expect(r1.initCount).toBe(1);
    expect(r2.initCount).toBe(1);
    expect(r2.invocation).toBe(2);
    expect(initCountAfterInit).toBe(1);
    expect(warm.initCount).toBe(initCountAfterInit);
  });

  test("the collector received spans, metrics and logs of both invocations", () => {
    const { spans, dataPoints, logRecords } = (collector as Collector).received;
    for (const response of [first, second]) {
      const id = response.requestId;
      const names = (items: typeof spans, scope: string) =>
        forRequest(items, id)
          .filter((item) => item.scope === scope)
          .map((item) => item.name)
          .sort();
      // The function's own spans, forwarded by the extension.
      expect(names(spans, "otel-demo-function")).toEqual(["handler", "work"]);
      // The extension's spans from platform.start/runtimeDone and platform.report (the last
      // invocation's report arrives during SHUTDOWN, the first one's during the second invocation).
      expect(names(spans, "otel-demo-extension")).toEqual(
        expect.arrayContaining(["invoke", "report", "responseLatency", "extensionOverhead"]),
      );
      expect(names(dataPoints, "otel-demo-function")).toEqual(["invocations"]);
      expect(names(logRecords, "otel-demo-function")).toEqual([
        `handled ${id} (invocation ${id === first.requestId ? 1 : 2} of pid ${runtimePid})`,
      ]);
      // Function stdout through the Telemetry API, and the REPORT, as the extension's log records.
      const extensionLogs = names(logRecords, "otel-demo-extension");
      expect(extensionLogs).toContain(`handled ${id}`);
      expect(extensionLogs.filter((body) => body.startsWith(`REPORT RequestId: ${id} `))).toHaveLength(1);
    }
    // The init span (platform.initStart … platform.initReport) carries no request id.
    expect(spans.filter((s) => s.name === "init" && s.scope === "otel-demo-extension")).toHaveLength(1);
  });

  test("on SHUTDOWN the extension exits 0 and no process is left", async () => {
    expect(extensionExit).toMatchObject({ name: "extension.ts", code: 0, signal: null });
    await waitUntil(
      () => groupMembers(runtimePid).length === 0 && groupMembers(extensionPid).length === 0,
      10_000,
      "the process groups to be gone",
    );
    expect(groupMembers(runtimePid)).toEqual([]);
    expect(groupMembers(extensionPid)).toEqual([]);
  });
});
