/**
 * Freezing with several execution environments (reference 4.5 and 4.1): each environment is frozen
 * and thawed on its own. An idle environment stays frozen while another one runs an invocation; an
 * environment is frozen when its own invocation is complete; an invocation thaws only the
 * environment it is placed on; the shutdown continues every frozen process first and leaves nothing.
 * Real echo runtime processes (FreezeMode.Process: SIGSTOP/SIGCONT), observed in /proc; every wait
 * is on a simulator event, with a timeout.
 */
import { describe, expect, test } from "bun:test";
import { FreezeMode, type Simulator } from "../../src/index.ts";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import { groupMembers, isAlive, isStopped, processesOf } from "../helpers/processes.ts";

type EnvironmentInfo = ReturnType<Simulator["environments"]>[number];

interface Echo {
  echo: Record<string, unknown>;
  env: { pid: number; runtimeApi: string; logStream: string };
}

/** A function with up to two environments, frozen between invocations, running the echo runtime. */
async function frozenPair() {
  const sim = await startSimulator({ freezeMode: FreezeMode.Process, maxConcurrency: 2, timeoutSeconds: 10 });
  /** Freeze and thaw events, in order, as `<kind>:<environmentId>`. */
  const log: string[] = [];
  sim.events.on("frozen", ({ environmentId }) => log.push(`frozen:${environmentId}`));
  sim.events.on("thawed", ({ environmentId }) => log.push(`thawed:${environmentId}`));
  sim.events.on("shutdownStart", ({ environmentId, reason }) =>
    log.push(`shutdownStart:${environmentId}:${reason}`),
  );
  sim.events.on("shutdownEnd", ({ environmentId, reason }) =>
    log.push(`shutdownEnd:${environmentId}:${reason}`),
  );
  sim.spawnRuntime([ECHO_RUNTIME]);
  return { sim, log };
}

function environment(sim: Simulator, id: string): EnvironmentInfo {
  const found = sim.environments().find((e) => e.id === id);
  if (!found) throw new Error(`no environment ${id}`);
  return found;
}

/** Waits (on events) until every environment of `ids` is frozen, i.e. verified stopped. */
async function allFrozen(sim: Simulator, ids: string[]): Promise<void> {
  await sim.waitFor(
    (s) => ids.every((id) => s.environments().find((e) => e.id === id)?.frozen === true),
    20_000,
  );
}

/**
 * Opens two environments with two concurrent invokes and waits until both are frozen; returns their
 * ids and runtime pids.
 */
async function twoFrozenEnvironments(sim: Simulator) {
  const [one, two] = await Promise.all([
    sim.invoke({ n: 1, sleepMs: 100 }),
    sim.invoke({ n: 2, sleepMs: 100 }),
  ]);
  if (!one || !two) throw new Error("two answers expected");
  expect(one.functionError).toBeUndefined();
  expect(two.functionError).toBeUndefined();
  const states = await Promise.all([one, two].map((r) => sim.waitForInvocationComplete(r.requestId, 20_000)));
  const ids = states.map((s) => s.environmentId as string);
  expect(new Set(ids).size).toBe(2);
  await allFrozen(sim, ids);
  const pids = [one, two].map((r) => r.json<Echo>().env.pid);
  expect(new Set(pids).size).toBe(2);
  for (const [i, id] of ids.entries()) expect(environment(sim, id).runtimePid).toBe(pids[i] as number);
  return { ids, pids };
}

describe("freezing with several execution environments", () => {
  test("each environment is frozen on its own: the idle one stays stopped while the other runs, and each freezes when its invocation completes", async () => {
    const { sim, log } = await frozenPair();
    const { ids, pids } = await twoFrozenEnvironments(sim);
    for (const pid of pids) expect(isStopped(pid)).toBe(true);

    // A long invoke: it goes to one environment (A), which is thawed for it; B is left frozen.
    const mark = log.length;
    const dispatched = sim.waitForEvent("invocationDispatch", () => true, 20_000);
    const long = sim.invoke({ long: true, sleepMs: 1500 });
    const invocation = await dispatched;
    const a = invocation.environmentId as string;
    const b = ids.find((id) => id !== a) as string;
    expect(ids).toContain(a);
    const pidA = environment(sim, a).runtimePid as number;
    const pidB = environment(sim, b).runtimePid as number;
    // At the dispatch: A's runtime runs (it has the event), B's is stopped.
    const atDispatch = {
      aStopped: isStopped(pidA),
      aFrozen: environment(sim, a).frozen,
      bStopped: isStopped(pidB),
      bFrozen: environment(sim, b).frozen,
    };
    expect(atDispatch).toEqual({ aStopped: false, aFrozen: false, bStopped: true, bFrozen: true });
    expect(log.slice(mark)).toEqual([`thawed:${a}`]);
    // Still so when A's runtime answers, 1.5 s later: B was not thawed in the meantime.
    const atResponse = sim
      .waitForEvent("invocationResponse", (i) => i.id === invocation.id, 20_000)
      .then(() => ({
        aStopped: isStopped(pidA),
        bStopped: isStopped(pidB),
        bFrozen: environment(sim, b).frozen,
      }));
    const response = await long;
    expect(response.functionError).toBeUndefined();
    expect(response.json<Echo>().env.pid).toBe(pidA);
    expect(await atResponse).toEqual({ aStopped: false, bStopped: true, bFrozen: true });

    // Once A's invocation is complete (its runtime polled /next again), A is frozen too.
    await sim.waitForInvocationComplete(invocation.id, 20_000);
    await allFrozen(sim, [a]);
    expect(isStopped(pidA)).toBe(true);
    expect(isStopped(pidB)).toBe(true);
    expect(log.slice(mark)).toEqual([`thawed:${a}`, `frozen:${a}`]);

    // A new invoke thaws only the environment it is placed on; the other stays stopped throughout.
    const mark2 = log.length;
    const dispatched2 = sim.waitForEvent("invocationDispatch", () => true, 20_000);
    const next = sim.invoke({ n: 3, sleepMs: 300 });
    const invocation2 = await dispatched2;
    const target = invocation2.environmentId as string;
    const other = ids.find((id) => id !== target) as string;
    const targetPid = environment(sim, target).runtimePid as number;
    const otherPid = environment(sim, other).runtimePid as number;
    expect({ target: isStopped(targetPid), other: isStopped(otherPid) }).toEqual({
      target: false,
      other: true,
    });
    expect(environment(sim, other).frozen).toBe(true);
    const answer = await next;
    expect(answer.functionError).toBeUndefined();
    expect(answer.json<Echo>().env.pid).toBe(targetPid);
    await sim.waitForInvocationComplete(invocation2.id, 20_000);
    await allFrozen(sim, ids);
    expect(log.slice(mark2)).toEqual([`thawed:${target}`, `frozen:${target}`]);
    for (const pid of pids) expect(isStopped(pid)).toBe(true);
    // No environment was lost or restarted along the way.
    expect(sim.environments().map((e) => e.runtimePid)).toEqual(pids);
    expect(sim.initCount()).toBe(2);
  });

  test("while A is busy, an invoke goes to frozen B and thaws B only; both freeze again when done", async () => {
    const { sim, log } = await frozenPair();
    const { ids } = await twoFrozenEnvironments(sim);
    const dispatched = sim.waitForEvent("invocationDispatch", () => true, 20_000);
    const long = sim.invoke({ long: true, sleepMs: 1500 });
    const a = (await dispatched).environmentId as string;
    const b = ids.find((id) => id !== a) as string;
    const pidB = environment(sim, b).runtimePid as number;
    expect(isStopped(pidB)).toBe(true);

    // A is busy: the next invoke is placed on B (not queued behind A), which is thawed for it.
    const mark = log.length;
    const toB = sim.waitForEvent("invocationDispatch", () => true, 20_000);
    const short = sim.invoke({ n: 2 });
    const invocationB = await toB;
    expect(invocationB.environmentId).toBe(b);
    expect(isStopped(pidB)).toBe(false);
    const answer = await short;
    expect(answer.json<Echo>().env.pid).toBe(pidB);
    await sim.waitForInvocationComplete(invocationB.id, 20_000);
    await allFrozen(sim, [b]);
    // B went through its own thaw and freeze while A, thawed before, was never touched.
    expect(log.slice(mark)).toEqual([`thawed:${b}`, `frozen:${b}`]);
    expect(environment(sim, a).frozen).toBe(false);
    expect(isStopped(environment(sim, a).runtimePid as number)).toBe(false);
    expect((await long).functionError).toBeUndefined();
    await allFrozen(sim, ids);
  });

  test("disposing the simulator with both environments frozen continues them first and leaves no process", async () => {
    let log: string[] = [];
    let mark = 0;
    let pids: number[] = [];
    let ids: string[] = [];
    let streams: string[] = [];
    {
      const pair = await frozenPair();
      await using sim = pair.sim;
      log = pair.log;
      ({ ids, pids } = await twoFrozenEnvironments(sim));
      mark = log.length;
      streams = sim.environments().map((e) => e.logStreamName);
      for (const pid of pids) expect(isStopped(pid)).toBe(true);
      // The check below is not vacuous: the runtimes (and the launcher's helper shell beside each)
      // are found by their environments' log streams.
      expect(processesOf(streams)).toEqual(expect.arrayContaining(pids));
    }
    // Disposed at the end of the block: every environment was shut down, each thawed first.
    for (const id of ids) {
      const mine = log.slice(mark).filter((entry) => entry.split(":")[1] === id);
      expect(mine).toEqual([`thawed:${id}`, `shutdownStart:${id}:spindown`, `shutdownEnd:${id}:spindown`]);
    }
    for (const pid of pids) {
      expect(isAlive(pid)).toBe(false);
      expect({ pid, members: groupMembers(pid) }).toEqual({ pid, members: [] });
    }
    expect(processesOf(streams)).toEqual([]);
  });
});
