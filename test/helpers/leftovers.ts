/** Checks that nothing a simulator started outlives it: every runtime and extension process group is gone. */
import { expect } from "bun:test";
import type { Simulator, SimulatorOptions } from "../../src/index.ts";
import { startSimulator } from "./fixtures.ts";
import { expectGroupGone, survivors } from "./processes.ts";

/** Collects the pid (= process group id) of every runtime and external extension the simulator starts. */
export function trackPids(sim: Simulator): Set<number> {
  const pids = new Set<number>();
  const look = () => {
    const runtime = sim.runtimePid();
    if (runtime) pids.add(runtime);
    for (const extension of sim.registeredExtensions()) if (extension.pid) pids.add(extension.pid);
  };
  sim.events.onAny(look);
  sim.events.on("runtimeExit", ({ pid }) => pids.add(pid));
  sim.events.on("extensionRegistered", ({ pid }) => pid && pids.add(pid));
  return pids;
}

/** A simulator on a free port and the set trackPids fills, for endsClean at the end of the test. */
export async function startWatched(
  options: SimulatorOptions = {},
): Promise<{ sim: Simulator; pids: Set<number> }> {
  const sim = await startSimulator(options);
  return { sim, pids: trackPids(sim) };
}

/** Shuts the simulator down and checks that nothing of any process it started is left. */
export async function endsClean(sim: Simulator, pids: Set<number>): Promise<void> {
  await sim.shutdown();
  expect(pids.size).toBeGreaterThan(0);
  for (const pid of pids) expect(await survivors(pid)).toEqual([]);
}

const tracked: { sim: Simulator; pids: Set<number> }[] = [];

/** A simulator whose process groups are recorded (on every event) for shutdownTracked's check. */
export async function startTracked(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator(options);
  tracked.push({ sim, pids: trackPids(sim) });
  return sim;
}

/**
 * Shuts down every simulator startTracked made, waits for `settle` (requests a test left open), then
 * asserts that none of their process groups is left after `graceMs` (see expectGroupGone). For a
 * file's afterEach.
 */
export async function shutdownTracked(
  options: { settle?: () => Promise<unknown>; graceMs?: number } = {},
): Promise<void> {
  const all = tracked.splice(0);
  await Promise.all(all.map(({ sim }) => sim.shutdown()));
  await options.settle?.();
  for (const { pids } of all) {
    for (const pid of pids) await expectGroupGone(pid, options.graceMs);
  }
}
