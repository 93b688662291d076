/**
 * Freeze + thaw cost: a runtime and two external extensions (both registered for INVOKE), warm
 * sequential invokes through the library, `await sim.invoke()` then `await
 * sim.waitForInvocationComplete(id)`. With FreezeMode.Process the environment is frozen (every
 * process SIGSTOPped and verified) after each completion and thawed before the next dispatch, so
 * each timed iteration carries one freeze and one thaw; the same loop with freezing off is the
 * baseline. Both simulators run side by side and take turns in blocks (A B B A ...).
 */
import { resolve } from "node:path";
import { FreezeMode, Simulator } from "../../src/index.ts";
import { progress } from "./progress.ts";
import { executable, simulatorPids } from "./sim-children.ts";
import { percentile, round } from "./stats.ts";

const dir = import.meta.dir;
/** The event every iteration sends. */
const EVENT = { hello: "world", n: 1 };

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface FreezeFigures {
  warmup: number;
  count: number;
  extensions: string[];
  frozen: LatencyFigures;
  unfrozen: LatencyFigures;
  addedP50Ms: number;
  addedP99Ms: number;
  /** Freezes (sim.freezeEpoch()) and thaws during the timed iterations of the frozen simulator. */
  freezes: number;
  thaws: number;
  /** The other simulator's freezeEpoch() at the end (must be 0). */
  unfrozenFreezes: number;
  targetAddedP50Ms: number;
  pass: boolean;
}

export function latency(samples: readonly number[]): LatencyFigures {
  return {
    p50Ms: round(percentile(samples, 50)),
    p99Ms: round(percentile(samples, 99)),
    meanMs: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    maxMs: round(Math.max(...samples)),
  };
}

async function startEnvironment(freezeMode: FreezeMode): Promise<Simulator> {
  const sim = await Simulator.start({ port: 0, freezeMode });
  sim.spawnExtension([executable(resolve(dir, "freeze-ext-a.ts"))]);
  sim.spawnExtension([executable(resolve(dir, "freeze-ext-b.ts"))]);
  sim.spawnRuntime([process.execPath, resolve(dir, "runtime.ts")]);
  await sim.waitForExtensionsReady(15_000);
  const names = sim.registeredExtensions().map((e) => e.name);
  if (names.length !== 2) throw new Error(`expected 2 registered extensions, got ${names.join(", ")}`);
  return sim;
}

async function iteration(sim: Simulator): Promise<number> {
  const t0 = performance.now();
  const response = await sim.invoke(EVENT);
  const state = await sim.waitForInvocationComplete(response.requestId, 10_000);
  const elapsed = performance.now() - t0;
  if (response.functionError || state.status !== "success") {
    throw new Error(`invoke ${response.requestId} ended ${state.status}: ${response.text().slice(0, 200)}`);
  }
  return elapsed;
}

/** Runs the comparison; `pids` collects every process the simulators started. */
export async function runFreezeThaw(
  warmup: number,
  count: number,
  blocks: number,
  targetAddedP50Ms: number,
  pids: Set<number>,
): Promise<FreezeFigures> {
  const sims: Simulator[] = [];
  try {
    const frozenSim = await startEnvironment(FreezeMode.Process);
    sims.push(frozenSim);
    const plainSim = await startEnvironment(FreezeMode.None);
    sims.push(plainSim);
    for (const sim of sims) for (const pid of simulatorPids(sim)) pids.add(pid);
    const extensions = frozenSim
      .registeredExtensions()
      .map((e) => e.name)
      .sort();
    progress(`freeze: runtime + ${extensions.join(" + ")}, ${warmup} warm-up + ${count} timed invokes each`);

    for (const sim of sims) for (let i = 0; i < warmup; i++) await iteration(sim);
    Bun.gc(true);

    let thaws = 0;
    const off = frozenSim.events.on("thawed", () => thaws++);
    const epochBefore = frozenSim.freezeEpoch();
    const samples = [[], []] as [number[], number[]];
    for (let block = 0; block < blocks; block++) {
      const size = Math.floor((count * (block + 1)) / blocks) - Math.floor((count * block) / blocks);
      const order = block % 2 === 0 ? [0, 1] : [1, 0];
      for (const s of order) {
        const sim = sims[s] as Simulator;
        const out = samples[s] as number[];
        for (let i = 0; i < size; i++) out.push(await iteration(sim));
      }
    }
    off();
    // The iterations' freezes: the one after the last completion may still be in flight.
    await frozenSim.waitForFrozen(5_000).catch(() => undefined);
    const freezes = frozenSim.freezeEpoch() - epochBefore;
    const frozen = latency(samples[0]);
    const unfrozen = latency(samples[1]);
    const addedP50Ms = round(frozen.p50Ms - unfrozen.p50Ms);
    return {
      warmup,
      count,
      extensions,
      frozen,
      unfrozen,
      addedP50Ms,
      addedP99Ms: round(frozen.p99Ms - unfrozen.p99Ms),
      freezes,
      thaws,
      unfrozenFreezes: plainSim.freezeEpoch(),
      targetAddedP50Ms,
      pass: addedP50Ms <= targetAddedP50Ms,
    };
  } finally {
    for (const sim of sims) for (const pid of simulatorPids(sim)) pids.add(pid);
    await Promise.all(sims.map((sim) => sim.shutdown()));
  }
}
