#!/usr/bin/env bun
/**
 * `bun run bench`: Invoke API throughput against a bare Bun.serve floor, and start-up times.
 *   --json            one JSON object on stdout (progress stays on stderr)
 *   --count N         timed invokes per target (default 2000)
 *   --warmup N        untimed invokes first (default 200)
 *   --binary PATH     the compiled CLI to time (default dist/lambda-sim)
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { stopAll, survivors } from "./bench/children.ts";
import { startFloor } from "./bench/floor.ts";
import { PAYLOAD, runInvokes } from "./bench/invoke-load.ts";
import { machineInfo } from "./bench/machine.ts";
import { progress } from "./bench/progress.ts";
import { type BenchResult, renderTable } from "./bench/report.ts";
import { simulatorInvokes } from "./bench/simulator-load.ts";
import { binaryStart, libraryStart } from "./bench/startup.ts";
import { round } from "./bench/stats.ts";

const TARGET_RATIO = 0.7;
const LIBRARY_START_TARGET_MS = 20;
const BINARY_START_TARGET_MS = 150;

const root = resolve(import.meta.dir, "..");
const runtimeScript = resolve(import.meta.dir, "bench/runtime.ts");

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    json: { type: "boolean", default: false },
    count: { type: "string", default: "2000" },
    warmup: { type: "string", default: "200" },
    binary: { type: "string", default: resolve(root, "dist/lambda-sim") },
  },
});
const count = Number(values.count);
const warmup = Number(values.warmup);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(warmup) || warmup < 0) {
  throw new Error("--count must be a positive integer and --warmup a non-negative integer");
}
const binaryPath = resolve(values.binary);

async function main(): Promise<BenchResult> {
  const started = performance.now();
  const machine = machineInfo();
  progress(`${machine.cpu}, ${machine.cores} cores, bun ${machine.bun}`);

  progress(`library start x20`);
  const library = await libraryStart(20, LIBRARY_START_TARGET_MS);
  progress(`library start median ${library.medianMs} ms`);

  progress(`simulator: ${warmup} warm-up + ${count} invokes`);
  const simulator = await simulatorInvokes(runtimeScript, warmup, count);
  progress(
    `simulator: ${simulator.invokesPerSec} invokes/s, p50 ${simulator.p50Ms} ms, p99 ${simulator.p99Ms} ms`,
  );

  progress(`floor: ${warmup} warm-up + ${count} invokes`);
  const floorRelay = startFloor(runtimeScript);
  let floor: Awaited<ReturnType<typeof runInvokes>>;
  try {
    floor = await runInvokes(floorRelay.url, warmup, count);
  } finally {
    await floorRelay.close();
  }
  progress(`floor: ${floor.invokesPerSec} invokes/s, p50 ${floor.p50Ms} ms, p99 ${floor.p99Ms} ms`);

  progress(`binary start x10: ${binaryPath}`);
  const binary = await binaryStart(binaryPath, 10, BINARY_START_TARGET_MS);
  const binaryStartNote = binary ? null : `${binaryPath} not found (build it with \`bun run build\`)`;
  if (binaryStartNote) progress(`binary: ${binaryStartNote}`);

  const ratio = simulator.invokesPerSec / floor.invokesPerSec;
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
    binaryStart: binary ? { path: binaryPath, ...binary } : null,
    binaryStartNote,
    survivors: survivors(),
    totalMs: round(performance.now() - started, 0),
  };
}

try {
  const result = await main();
  await stopAll();
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderTable(result));
} catch (error) {
  await stopAll();
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
