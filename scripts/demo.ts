#!/usr/bin/env bun
/**
 * `bun run demo`: a Lambda execution environment with FreezeMode.Process, a real OpenTelemetry
 * extension (examples/otel/extension.ts) and an instrumented runtime (examples/otel/runtime.ts).
 * Two invocations with a verified freeze between them, a graceful shutdown, and what a small
 * OTLP/HTTP collector in this script actually received. `--verbose` echoes the processes' output.
 * Exits 1 if any step fails.
 */
import { forRequest, type ReceivedItem, startCollector } from "../examples/otel/collector.ts";
import {
  EXTENSION,
  extensionPid as extensionPidOf,
  type FunctionResponse,
  initCount,
  invokeToCompletion,
  processState,
  RUNTIME,
  startDemoSimulator,
} from "../examples/otel/demo.ts";

/** How long the environment stays frozen between the invocations. */
const FROZEN_MS = 300;
const WAIT_MS = 60_000;

class StepFailed extends Error {}
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailed(message);
}

const out = (line = "") => console.log(line);
const short = (requestId: string) => requestId.slice(0, 8);

async function demo(): Promise<void> {
  out("Lambda Process Freeze/Thaw Demo");
  out("===============================");
  out();
  const collector = startCollector();
  out("Starting Lambda simulator with FreezeMode::Process...");
  const { sim, extensionExit } = await startDemoSimulator({ echoLogs: process.argv.includes("--verbose") });
  try {
    out("Spawning OpenTelemetry extension process...");
    sim.spawnExtension([EXTENSION], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } });
    out("Spawning instrumented runtime process...");
    const initStarted = performance.now();
    sim.spawnRuntime([RUNTIME]);
    await sim.waitForExtensionsReady(WAIT_MS);
    const runtimePid = sim.runtimePid();
    const extensionPid = extensionPidOf(sim);
    check(runtimePid && extensionPid, "the runtime and the extension should both be running after init");
    const inits = initCount(sim);
    out(
      `   [INIT] Runtime initialised (cold start): runtime pid ${runtimePid}, extension pid ${extensionPid}, ` +
        `${(performance.now() - initStarted).toFixed(0)} ms`,
    );
    out();

    out("1. First invocation (cold start)...");
    const first = await invokeToCompletion(sim, { step: 1 }, WAIT_MS);
    check(!first.functionError, `first invocation failed: ${first.text()}`);
    const r1 = first.json<FunctionResponse>();
    check(r1.coldStart && r1.pid === runtimePid, "the first invocation should be the runtime's cold start");
    out(`   [INVOKE] Request ${short(first.requestId)} completed (runtime pid ${r1.pid})`);

    out("Freezing processes (SIGSTOP)...");
    await sim.waitForFrozen(WAIT_MS);
    const states = { runtime: processState(runtimePid), extension: processState(extensionPid) };
    check(
      states.runtime === "T" && states.extension === "T",
      `processes not stopped: runtime ${runtimePid} is ${states.runtime}, extension ${extensionPid} is ${states.extension}`,
    );
    out(
      `   [FREEZE] Verified: Both processes are stopped ` +
        `(/proc state T: runtime ${runtimePid}, extension ${extensionPid})`,
    );
    // The environment stays frozen while this timer runs: the runtime's 10 ms ticker cannot fire.
    await Bun.sleep(FROZEN_MS);
    check(sim.isFrozen(), "the environment should still be frozen");
    out(`   Held frozen for ${FROZEN_MS} ms`);
    out();

    out("2. Second invocation (warm start, thawing processes)...");
    const second = await invokeToCompletion(sim, { step: 2 }, WAIT_MS);
    check(!second.functionError, `second invocation failed: ${second.text()}`);
    const r2 = second.json<FunctionResponse>();
    const extensionPidNow = extensionPidOf(sim);
    check(
      r2.pid === runtimePid && sim.runtimePid() === runtimePid && extensionPidNow === extensionPid,
      "the warm invocation should reuse the same processes",
    );
    check(r2.initCount === 1 && initCount(sim) === inits && !r2.coldStart, "the warm invocation re-ran init");
    out(`   [INVOKE] Request ${short(second.requestId)} completed (warm)`);
    const elapsed = r2.nowAtStart - r1.now;
    const ticked = r2.ticksAtStart - r1.ticks;
    out(
      `   Same pids, no new init. Runtime timer: ${ticked} ticks in ${elapsed} ms between the invocations ` +
        `(${Math.floor(elapsed / 10)} if it had kept running)`,
    );
    check(ticked < elapsed / 10 / 2, "the runtime's timer kept running while frozen");
    out();

    out("Initiating graceful shutdown...");
    await sim.shutdown();
    const exit = await extensionExit;
    check(exit.code === 0, `the extension exited with code ${exit.code} signal ${exit.signal}`);
    out("   [SHUTDOWN] Extension exited cleanly (exit code 0)");
    out();

    const { spans, dataPoints, logRecords } = collector.received;
    for (const [what, items] of [
      ["spans", spans],
      ["metric data points", dataPoints],
      ["log records", logRecords],
    ] as [string, ReceivedItem[]][]) {
      for (const response of [first, second])
        check(
          forRequest(items, response.requestId).length > 0,
          `the collector received no ${what} for request ${short(response.requestId)}`,
        );
    }
    out("Telemetry Summary");
    out("=================");
    out(`   ${spans.length} spans exported`);
    out(`   ${dataPoints.length} metrics exported`);
    out(`   ${logRecords.length} logs exported`);
  } finally {
    await sim.shutdown();
    await collector.stop();
  }
}

try {
  await demo();
} catch (error) {
  const message = error instanceof StepFailed ? error.message : String((error as Error).stack ?? error);
  console.error(`\nDemo failed: ${message}`);
  process.exit(1);
}
