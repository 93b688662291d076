/**
 * Scaling over execution environments: a runtime whose handler waits SLEEP_MS (sleep-runtime.ts),
 * a simulator with `maxConcurrency: N` for each N, and CALLERS concurrent callers invoking through
 * the Invoke API over HTTP (keep-alive) for a fixed window. Ideal throughput is one invoke per
 * environment per SLEEP_MS, capped by the callers: min(N, callers) * 1000 / SLEEP_MS per second.
 *
 * Cold starts are left out: before the window, rounds of `callers` concurrent invokes run until all
 * N environments exist (sim.environments().length === N), then one more round so that every
 * environment and every client connection is warm. The window counts every invoke a caller started
 * before its end; the environments stay busy until the last one is answered, so throughput is the
 * count over the time from the start to the last answer.
 */
import { resolve } from "node:path";
import { Simulator } from "../../src/index.ts";
import { INVOKE_PATH, invokeOnce } from "./invoke-load.ts";
import { progress } from "./progress.ts";
import { executable } from "./sim-children.ts";
import { percentile, round } from "./stats.ts";

const sleepRuntime = resolve(import.meta.dir, "sleep-runtime.ts");
/** Warm-up rounds allowed for the environments to reach N. */
const MAX_WARMUP_ROUNDS = 20;

export interface ScalingLevel {
  maxConcurrency: number;
  /** Environments when the window started (must be maxConcurrency). */
  environments: number;
  invokes: number;
  durationMs: number;
  invokesPerSec: number;
  idealPerSec: number;
  ratio: number;
  /** Per-invoke latency seen by the callers (queueing included when N < callers). */
  p50Ms: number;
  p99Ms: number;
  pass: boolean;
}

export interface ScalingFigures {
  sleepMs: number;
  callers: number;
  windowMs: number;
  levels: ScalingLevel[];
  targetRatio: number;
  pass: boolean;
}

const concurrentInvokes = (url: string, size: number) =>
  Promise.all(Array.from({ length: size }, () => invokeOnce(url)));

async function measureLevel(
  n: number,
  callers: number,
  windowMs: number,
  sleepMs: number,
  targetRatio: number,
  pids: Set<number>,
): Promise<ScalingLevel> {
  const sim = await Simulator.start({ port: 0, maxConcurrency: n });
  const remember = () => {
    for (const e of sim.environments()) if (e.runtimePid !== null) pids.add(e.runtimePid);
  };
  try {
    sim.spawnRuntime([executable(sleepRuntime)], { env: { SLEEP_MS: String(sleepMs) } });
    const url = sim.url() + INVOKE_PATH;
    let rounds = 0;
    while (sim.environments().length < n && rounds < MAX_WARMUP_ROUNDS) {
      await concurrentInvokes(url, Math.max(n, callers));
      rounds++;
    }
    remember();
    const environments = sim.environments().length;
    if (environments !== n) {
      throw new Error(`maxConcurrency ${n}: ${environments} environments after ${rounds} warm-up rounds`);
    }
    await concurrentInvokes(url, Math.max(n, callers));
    Bun.gc(true);

    const samples: number[] = [];
    const start = performance.now();
    const deadline = start + windowMs;
    const caller = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await invokeOnce(url);
        samples.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: callers }, caller));
    const durationMs = performance.now() - start;
    remember();
    if (sim.environments().length !== n) {
      throw new Error(`maxConcurrency ${n}: ${sim.environments().length} environments after the window`);
    }
    const invokesPerSec = (samples.length * 1000) / durationMs;
    const idealPerSec = (Math.min(n, callers) * 1000) / sleepMs;
    const ratio = invokesPerSec / idealPerSec;
    return {
      maxConcurrency: n,
      environments,
      invokes: samples.length,
      durationMs: round(durationMs, 1),
      invokesPerSec: round(invokesPerSec, 1),
      idealPerSec: round(idealPerSec, 1),
      ratio: round(ratio, 3),
      p50Ms: round(percentile(samples, 50), 2),
      p99Ms: round(percentile(samples, 99), 2),
      pass: ratio >= targetRatio,
    };
  } finally {
    remember();
    await sim.shutdown();
  }
}

/** Runs each maxConcurrency level in turn; `pids` collects every runtime the simulators started. */
export async function runScaling(
  levels: readonly number[],
  callers: number,
  windowMs: number,
  sleepMs: number,
  targetRatio: number,
  pids: Set<number>,
): Promise<ScalingFigures> {
  const results: ScalingLevel[] = [];
  for (const n of levels) {
    const level = await measureLevel(n, callers, windowMs, sleepMs, targetRatio, pids);
    progress(
      `scaling: maxConcurrency ${n}, ${callers} callers: ${level.invokesPerSec} invokes/s of ideal ${level.idealPerSec} (ratio ${level.ratio}), p50 ${level.p50Ms} ms`,
    );
    results.push(level);
  }
  return {
    sleepMs,
    callers,
    windowMs,
    levels: results,
    targetRatio,
    pass: results.every((level) => level.pass),
  };
}
