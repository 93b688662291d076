// The execution-environment lifecycle (reference 4.3-4.7) with real runtime processes: init
// failures and their invoke-phase retry, timeouts, crashes, resets that kill the whole process group,
// and the FIFO hand-out of invocations. Everything waits on simulator events, never on sleeps.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  InvocationBuilder,
  type InvokeResponse,
  type Simulator,
  type SimulatorEventMap,
} from "../../src/index.ts";
import { initErrorBody } from "../fixtures/runtimes/lifecycle.ts";
import { ECHO_RUNTIME, FIXTURES, initCount } from "../helpers/fixtures.ts";
import { shutdownTracked, startTracked as start } from "../helpers/leftovers.ts";
import { expectGroupGone, groupMembers } from "../helpers/processes.ts";
import { tempDir } from "../helpers/temp.ts";

const LIFECYCLE_RUNTIME = join(FIXTURES, "runtimes", "lifecycle.ts");

interface LifecycleAnswer {
  event: Record<string, unknown>;
  pid: number;
  seen: number;
  attempt: number;
  initError?: { status: number; body: { errorType: string; errorMessage: string } };
}

// Every simulator is shut down and every runtime process group must be gone.
afterEach(() => shutdownTracked());

/** Runs the lifecycle fixture with a fresh counter directory and extra environment. */
function spawnLifecycle(sim: Simulator, env: Record<string, string> = {}): void {
  const dir = tempDir("environment-test-");
  sim.spawnRuntime([LIFECYCLE_RUNTIME], { env: { FIXTURE_STATE_DIR: dir, ...env } });
}

/** Every `name` event from now on. */
function record<K extends keyof SimulatorEventMap>(sim: Simulator, name: K): SimulatorEventMap[K][] {
  const seen: SimulatorEventMap[K][] = [];
  sim.events.on(name, (payload) => {
    seen.push(payload);
  });
  return seen;
}

async function readyPid(sim: Simulator): Promise<number> {
  await sim.waitFor((s) => s.phase() === "Ready", 30_000);
  const pid = sim.runtimePid() as number;
  expect(pid).toBeGreaterThan(0);
  expect(groupMembers(pid).length).toBeGreaterThan(0);
  return pid;
}

/** A simulator (30 s timeout) with the lifecycle fixture ready: its runtime's pid and that runtime's exit. */
async function readyLifecycle() {
  const sim = await start({ timeoutSeconds: 30 });
  spawnLifecycle(sim);
  const pid = await readyPid(sim);
  const exited = sim.waitForEvent("runtimeExit", (exit) => exit.pid === pid);
  return { sim, pid, exited };
}

/** After a reset: the next invoke is a successful cold start in a new process. */
async function expectColdStart(sim: Simulator, oldPid: number, initsBefore: number): Promise<void> {
  const initStarts = record(sim, "initStart");
  // A generous per-invocation timeout: the cold start's init counts against it.
  const response = await sim.invoke(new InvocationBuilder().payload({ after: "reset" }).timeout(30));
  expect(response.functionError).toBeUndefined();
  const answer = response.json<LifecycleAnswer | { echo: unknown; env: { pid: number } }>();
  const pid = "env" in answer ? answer.env.pid : answer.pid;
  expect(pid).not.toBe(oldPid);
  expect(pid).toBe(sim.runtimePid() as number);
  const state = await sim.waitForInvocationComplete(response.requestId);
  expect(state.status).toBe("success");
  expect(state.initDurationMs).toBeGreaterThan(0);
  expect(state.logs.at(-1)).toContain("\tInit Duration: ");
  expect(initStarts.map((s) => s.phase)).toEqual(["invoke"]);
  expect(initCount(sim)).toBe(initsBefore + 1);
}

function expectPlatformError(response: InvokeResponse, errorType: string, detail: string): void {
  expect(response.functionError).toBe("Unhandled");
  expect(response.contentType).toBe("application/json");
  expect(response.json()).toEqual({
    errorType,
    errorMessage: `RequestId: ${response.requestId} Error: ${detail}`,
  });
}

// ---- Timeout -----------------------------------------------------------------------------------

describe("timeout", () => {
  test("a runtime sleeping past the timeout: Sandbox.Timedout, group killed, next invoke cold-starts", async () => {
    const sim = await start({ timeoutSeconds: 0.5 });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const pid = await readyPid(sim);
    const exited = sim.waitForEvent("runtimeExit", (exit) => exit.pid === pid);

    const response = await sim.invoke({ sleepMs: 120_000 });
    expect(response.functionError).toBe("Unhandled");
    expect(response.json()).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${response.requestId} Error: Task timed out after 0.50 seconds`,
    });
    const state = await sim.waitForInvocationComplete(response.requestId);
    expect(state.status).toBe("timeout");
    expect(state.errorType).toBe("Sandbox.Timedout");
    expect(state.logs).toContainEqual(
      expect.stringMatching(new RegExp(` ${response.requestId} Task timed out after 0\\.50 seconds$`)),
    );
    expect(state.logs.at(-1)).toContain("\tStatus: timeout\t");

    // The reset killed the runtime (it was sleeping, it did not exit by itself) and its whole group.
    expect((await exited).signal).toBe("SIGKILL");
    await expectGroupGone(pid);
    await expectColdStart(sim, pid, 1);
  });
});

// ---- Crashes during an invocation --------------------------------------------------------------

describe("runtime crash during an invocation", () => {
  test.each([
    ["exits with status 3", { exit: 3 }, "Runtime exited with error: exit status 3"],
    ["is killed by SIGKILL", { signal: "SIGKILL" }, "Runtime exited with error: signal: killed"],
    ["exits with status 0", { exit: 0 }, "Runtime exited without providing a reason"],
  ])(
    "runtime %s: Runtime.ExitError, environment reset, next invoke cold-starts",
    async (_, event, detail) => {
      const { sim, pid, exited } = await readyLifecycle();

      const response = await sim.invoke(event);
      expectPlatformError(response, "Runtime.ExitError", detail);
      const state = await sim.waitForInvocationComplete(response.requestId);
      expect(state.status).toBe("error");
      expect(state.errorType).toBe("Runtime.ExitError");
      expect(state.logs).toContain(`RequestId: ${response.requestId} Error: ${detail}`);
      expect(state.logs.at(-1)).toContain("\tStatus: error\tError Type: Runtime.ExitError\t");

      await exited;
      await expectGroupGone(pid);
      await expectColdStart(sim, pid, 1);
    },
  );

  test("a runtime that answers and exits before calling /next: caller has the answer, invocation is an error", async () => {
    const { sim, pid, exited } = await readyLifecycle();

    const response = await sim.invoke({ answerThenExit: 0 });
    expect(response.functionError).toBeUndefined();
    expect(response.json<LifecycleAnswer>().event).toEqual({ answerThenExit: 0 });
    const state = await sim.waitForInvocationComplete(response.requestId);
    expect(state.status).toBe("error");
    expect(state.errorType).toBe("Runtime.ExitError");
    expect(state.response?.functionError).toBeUndefined();
    expect(state.logs.at(-1)).toContain("\tStatus: error\tError Type: Runtime.ExitError\t");

    expect(await exited).toMatchObject({ pid, code: 0, signal: null });
    await expectGroupGone(pid);
    await expectColdStart(sim, pid, 1);
  });

  test("a runtime that dies while idle is replaced by a cold start at the next invoke", async () => {
    const { sim, pid, exited } = await readyLifecycle();
    process.kill(pid, "SIGKILL");
    expect(await exited).toMatchObject({ pid, signal: "SIGKILL" });
    await expectGroupGone(pid);
    await expectColdStart(sim, pid, 1);
    expect(sim.invocationStates().map((s) => s.status)).toEqual(["success"]);
  });

  test("a handled /error does not reset the environment", async () => {
    const sim = await start({ timeoutSeconds: 30 });
    spawnLifecycle(sim);
    const pid = await readyPid(sim);
    const failed = await sim.invoke({ fail: true });
    expect(failed.functionError).toBe("Unhandled");
    expect(failed.json()).toEqual({ errorType: "Handled", errorMessage: "handled failure", pid });
    const state = await sim.waitForInvocationComplete(failed.requestId);
    expect(state.status).toBe("error");
    expect(state.errorType).toBe("Function.Handled");
    const after = await sim.invoke({ n: 2 });
    expect(after.json<LifecycleAnswer>()).toMatchObject({ pid, seen: 2 });
    expect(initCount(sim)).toBe(1);
    expect(sim.runtimePid()).toBe(pid);
  });
});

// ---- Init failures ---------------------------------------------------------------------------------

describe("init failure", () => {
  test.each(["exit", "hang"])(
    "/init/error (runtime then does %s): the pending invoke gets the posted body, init re-runs in the invoke phase",
    async (afterInitError) => {
      const sim = await start({ timeoutSeconds: 30 });
      const initStarts = record(sim, "initStart");
      const initEnds = record(sim, "initEnd");
      const exits = record(sim, "runtimeExit");
      spawnLifecycle(sim, { FIXTURE_INIT_ERRORS: "2", FIXTURE_AFTER_INIT_ERROR: afterInitError });
      // Queued while the first (init-phase) init is still running.
      const pending = sim.invoke({ n: 1 });
      expect(initCount(sim)).toBe(1);

      const failed = await pending;
      expect(failed.functionError).toBe("Unhandled");
      // The body the runtime posted on its second attempt, byte for byte.
      expect(failed.text()).toBe(initErrorBody(2));
      expect(failed.errorType).toBe("Runtime.ImportModuleError");
      const failedState = await sim.waitForInvocationComplete(failed.requestId);
      expect(failedState.status).toBe("error");
      expect(failedState.errorType).toBe("Runtime.ImportModuleError");
      expect(failedState.logs).toContainEqual(
        expect.stringMatching(
          /^INIT_REPORT Init Duration: [\d.]+ ms\tPhase: invoke\tStatus: error\tError Type: Runtime\.ImportModuleError$/,
        ),
      );
      expect(initCount(sim)).toBe(2);

      // The next invoke runs init again (the third attempt succeeds).
      const ok = await sim.invoke({ n: 2 });
      expect(ok.functionError).toBeUndefined();
      expect(ok.json<LifecycleAnswer>()).toMatchObject({ attempt: 3, seen: 1, event: { n: 2 } });
      const okState = await sim.waitForInvocationComplete(ok.requestId);
      expect(okState.status).toBe("success");
      expect(okState.initDurationMs).toBeGreaterThan(0);
      expect(initCount(sim)).toBe(3);
      expect(initStarts.map((s) => s.phase)).toEqual(["init", "invoke", "invoke"]);
      expect(initEnds.map((e) => [e.phase, e.status, e.errorType])).toEqual([
        ["init", "error", "Runtime.ImportModuleError"],
        ["invoke", "error", "Runtime.ImportModuleError"],
        ["invoke", "success", undefined],
      ]);

      // Both failed runtimes are gone, whether they exited or had to be killed.
      expect(exits.length).toBe(2);
      for (const exit of exits) {
        expect(exit.pid).not.toBe(sim.runtimePid() as number);
        // A hanging runtime must be killed; one that exits on its own may still lose the race to the reset.
        if (afterInitError === "hang") expect(exit.signal).toBe("SIGKILL");
        else expect(exit.code === 1 || exit.signal === "SIGKILL").toBe(true);
        await expectGroupGone(exit.pid);
      }
    },
  );

  test("a runtime crashing during init: error reported, environment reset, success once init works", async () => {
    const sim = await start({ timeoutSeconds: 30 });
    const initEnds = record(sim, "initEnd");
    const exits = record(sim, "runtimeExit");
    spawnLifecycle(sim, { FIXTURE_INIT_CRASHES: "2", FIXTURE_INIT_CRASH_CODE: "7" });

    // The init-phase init crashes with nobody waiting: the environment resets and stays empty.
    await sim.waitFor((s) => exits.length === 1 && s.phase() === "Uninitialized", 30_000);
    expect(initEnds).toMatchObject([{ phase: "init", status: "error", errorType: "Runtime.ExitError" }]);
    expect(sim.runtimePid()).toBeUndefined();
    await expectGroupGone(exits[0]?.pid as number);

    // The invoke re-runs init, which crashes again: the caller gets the exit error.
    const failed = await sim.invoke({ n: 1 });
    expectPlatformError(failed, "Runtime.ExitError", "Runtime exited with error: exit status 7");
    const failedState = await sim.waitForInvocationComplete(failed.requestId);
    expect(failedState.status).toBe("error");
    expect(failedState.errorType).toBe("Runtime.ExitError");
    expect(failedState.logs).toContainEqual(
      expect.stringMatching(/\tPhase: invoke\tStatus: error\tError Type: Runtime\.ExitError$/),
    );

    // Third init works.
    const ok = await sim.invoke({ n: 2 });
    expect(ok.functionError).toBeUndefined();
    expect(ok.json<LifecycleAnswer>()).toMatchObject({ attempt: 3, event: { n: 2 } });
    expect(initCount(sim)).toBe(3);
    expect(exits.map((e) => e.code)).toEqual([7, 7]);
    for (const exit of exits) await expectGroupGone(exit.pid);
  });

  test("/init/error after /next is refused with 403 and changes nothing", async () => {
    const sim = await start({ timeoutSeconds: 30 });
    spawnLifecycle(sim);
    const pid = await readyPid(sim);
    const response = await sim.invoke({ initErrorAfterNext: true });
    expect(response.functionError).toBeUndefined();
    const answer = response.json<LifecycleAnswer>();
    expect(answer.initError?.status).toBe(403);
    expect(answer.initError?.body.errorType).toBe("InvalidStateTransition");
    expect(answer.initError?.body.errorMessage).toMatch(
      /^State transition from \w+ to InitError failed for runtime\. Error: State transition is not allowed$/,
    );
    const state = await sim.waitForInvocationComplete(response.requestId);
    expect(state.status).toBe("success");
    const after = await sim.invoke({ n: 2 });
    expect(after.json<LifecycleAnswer>()).toMatchObject({ pid, seen: 2 });
    expect(initCount(sim)).toBe(1);
  });
});

// ---- Queue ---------------------------------------------------------------------------------------

describe("invocation queue", () => {
  test("50 invocations enqueued at once are handed out in order, one at a time", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const started: string[] = [];
    const violations: string[] = [];
    let outstanding: string | undefined;
    sim.events.on("invocationStart", (invocation) => {
      if (outstanding) violations.push(`${invocation.id} started while ${outstanding} was unanswered`);
      outstanding = invocation.id;
      started.push(invocation.id);
    });
    sim.events.on("invocationResponse", (invocation) => {
      if (outstanding === invocation.id) outstanding = undefined;
    });
    spawnLifecycle(sim);
    const ids = Array.from({ length: 50 }, (_, seq) => sim.enqueuePayload({ seq }));
    expect((sim.status() as { queued: number }).queued).toBe(50);

    const states = await Promise.all(ids.map((id) => sim.waitForInvocationComplete(id, 60_000)));
    expect(violations).toEqual([]);
    expect(started).toEqual(ids);
    const pids = new Set<number>();
    states.forEach((state, seq) => {
      expect(state.status).toBe("success");
      const answer = JSON.parse(state.response?.body ?? "{}") as LifecycleAnswer;
      // The runtime's own count: the k-th event it ever saw is the k-th enqueued.
      expect({ seq: answer.event.seq, seen: answer.seen }).toEqual({ seq, seen: seq + 1 });
      pids.add(answer.pid);
      const previous = states[seq - 1];
      if (previous) expect(state.startedAt as number).toBeGreaterThanOrEqual(previous.respondedAt as number);
    });
    expect(pids.size).toBe(1);
    expect(initCount(sim)).toBe(1);
  });
});
