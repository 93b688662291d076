import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvocationStatus, type Simulator, type SimulatorOptions } from "../../src/index.ts";
import {
  AGENT,
  ECHO_RUNTIME,
  INSTRUMENTED,
  initCount,
  RECORDER,
  records,
  startSimulator,
} from "../helpers/fixtures.ts";
import { endsClean, startWatched } from "../helpers/leftovers.ts";
import { groupMembers, survivors } from "../helpers/processes.ts";
import { tempDir as tempDirNamed } from "../helpers/temp.ts";

/** A fresh temporary directory, removed after the test. */
const tempDir = () => tempDirNamed("lambda-sim-life-");

/** Milliseconds `action` takes. */
async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

type Exit = { name?: string; pid?: number; code: number | null; signal: string | null };

/** Every extension and runtime exit, in order. */
function exits(sim: Simulator): { extensions: Exit[]; runtimes: Exit[] } {
  const seen = { extensions: [] as Exit[], runtimes: [] as Exit[] };
  sim.events.on("extensionExit", (exit) => seen.extensions.push(exit));
  sim.events.on("runtimeExit", (exit) => seen.runtimes.push(exit));
  return seen;
}

/** An empty file `name` in `dir` (a switch the fixtures look for). */
function emptyFile(dir: string, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, "");
  return file;
}

/** A watched simulator, after one invoke, whose recorder extension (recording to `recorded`) ignores SHUTDOWN. */
async function afterOneInvokeIgnoringShutdown(options: SimulatorOptions = {}) {
  const recorded = join(tempDir(), "recorder.jsonl");
  const { sim, pids } = await startWatched(options);
  const seen = exits(sim);
  sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recorded, IGNORE_SHUTDOWN: "1" } });
  sim.spawnRuntime([ECHO_RUNTIME]);
  await sim.invoke({});
  return { sim, pids, seen, recorded };
}

describe("Init", () => {
  test("the runtime is started only after every external extension registered", async () => {
    const dir = tempDir();
    const agentRecord = join(dir, "agent.jsonl");
    const runtimeRecord = join(dir, "runtime.jsonl");
    const { sim, pids } = await startWatched();
    const registeredAt = new Map<string, number>();
    sim.events.on("extensionRegistered", ({ name }) => registeredAt.set(name, Date.now()));
    sim.spawnExtension([AGENT], { env: { RECORD_FILE: agentRecord, REGISTER_DELAY_MS: "700" } });
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: join(dir, "recorder.jsonl") } });
    sim.spawnRuntime([INSTRUMENTED], { env: { RECORD_FILE: runtimeRecord } });
    await sim.waitForExtensionsReady(30_000);

    expect([...registeredAt.keys()]).toEqual(["recorder.ts", "agent.ts"]);
    const runtimeStart = records(runtimeRecord).find((r) => "start" in r)?.t as number;
    const agentStart = records(agentRecord).find((r) => "started" in r)?.t as number;
    expect(runtimeStart).toBeGreaterThanOrEqual(registeredAt.get("agent.ts") as number);
    expect(runtimeStart).toBeGreaterThanOrEqual(registeredAt.get("recorder.ts") as number);
    // The slow one registers 700 ms after it started; the runtime waited for it.
    expect(runtimeStart - agentStart).toBeGreaterThanOrEqual(700);
    await endsClean(sim, pids);
  });

  test("init completes only when the runtime and every extension called next", async () => {
    const dir = tempDir();
    const agentRecord = join(dir, "agent.jsonl");
    const runtimeRecord = join(dir, "runtime.jsonl");
    const polled = join(dir, "runtime-polled");
    const { sim, pids } = await startWatched();
    const initEnd = sim
      .waitForEvent("initEnd", () => true, 30_000)
      .then((payload) => ({
        payload: payload as { status: string; durationMs: number },
        at: Date.now(),
      }));
    // The agent waits until the runtime is about to call /next, then 500 ms more, probes the
    // phase, and only then calls event/next for the first time.
    sim.spawnExtension([AGENT], {
      env: { RECORD_FILE: agentRecord, WAIT_FOR_FILE: polled, FIRST_NEXT_DELAY_MS: "500", PROBE_STATUS: "1" },
    });
    sim.spawnRuntime([INSTRUMENTED], { env: { RECORD_FILE: runtimeRecord, MARKER_FILE: polled } });
    const ended = await initEnd;

    expect(ended.payload.status).toBe("success");
    const agent = records(agentRecord);
    expect(agent.find((r) => "probedPhase" in r)?.probedPhase).toBe("Initializing");
    const firstNext = agent.find((r) => r.firstNext)?.t as number;
    const runtimePolled = records(runtimeRecord).find((r) => r.polling)?.t as number;
    expect(firstNext - runtimePolled).toBeGreaterThanOrEqual(500);
    expect(ended.at).toBeGreaterThanOrEqual(firstNext);
    expect(ended.payload.durationMs).toBeGreaterThanOrEqual(500);
    expect(sim.phase()).toBe("Ready");

    const response = await sim.invoke({ after: "init" });
    const state = await sim.waitForInvocationComplete(response.requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(state.initDurationMs).toBeGreaterThanOrEqual(500);
    await endsClean(sim, pids);
  });

  test("an extension's init/error fails the pending invoke with Extension.InitError; the next invoke re-inits", async () => {
    const dir = tempDir();
    const agentRecord = join(dir, "agent.jsonl");
    const broken = emptyFile(dir, "broken");
    const { sim, pids } = await startWatched();
    const initEnds: { phase: string; status: string; errorType?: string }[] = [];
    sim.events.on("initEnd", (e) => initEnds.push(e));
    sim.spawnExtension([AGENT], { env: { RECORD_FILE: agentRecord, INIT_ERROR_IF_FILE: broken } });
    sim.spawnRuntime([ECHO_RUNTIME]);

    const first = await sim.invoke({ n: 1 });
    expect(first.functionError).toBe("Unhandled");
    expect(first.errorType).toBe("Extension.InitError");
    expect(first.json()).toEqual({
      errorMessage: `RequestId: ${first.requestId} Error: agent could not start`,
      errorType: "Extension.InitError",
    });
    const failed = await sim.waitForInvocationComplete(first.requestId, 20_000);
    expect(failed.status).toBe(InvocationStatus.Error);
    expect(failed.errorType).toBe("Extension.InitError");
    // The environment is reset: nothing runs until the next invoke.
    await sim.waitFor((s) => s.phase() === "Uninitialized", 20_000);
    expect(sim.runtimePid()).toBeUndefined();
    expect(initEnds.length).toBeGreaterThanOrEqual(1);
    for (const end of initEnds)
      expect(end).toMatchObject({ status: "error", errorType: "Extension.InitError" });
    expect(initEnds.at(-1)?.phase).toBe("invoke");
    const initsSoFar = initCount(sim);

    rmSync(broken);
    const second = await sim.invoke({ n: 2 });
    expect(second.functionError).toBeUndefined();
    expect(second.json<{ echo: unknown }>().echo).toEqual({ n: 2 });
    const state = await sim.waitForInvocationComplete(second.requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(state.initDurationMs).toBeGreaterThan(0);
    expect(initCount(sim)).toBe(initsSoFar + 1);
    expect(initEnds.at(-1)).toMatchObject({ phase: "invoke", status: "success" });
    const agentPids = records(agentRecord)
      .filter((r) => "registered" in r)
      .map((r) => r.pid);
    expect(agentPids).toHaveLength(initsSoFar + 1);
    expect(new Set(agentPids).size).toBe(agentPids.length);
    await endsClean(sim, pids);
  });
});

describe("Invoke", () => {
  test("the caller gets the response while an extension still works; the invoke ends at its re-poll", async () => {
    const dir = tempDir();
    const recorded = join(dir, "recorder.jsonl");
    const { sim, pids } = await startWatched();
    const at: Record<string, number> = {};
    let overheadMs: number | undefined;
    sim.events.on("invocationResponse", () => {
      at.response = Date.now();
    });
    sim.events.on("runtimeDone", () => {
      at.runtimeDone = Date.now();
    });
    sim.events.on("invocationComplete", (invocation) => {
      at.complete = Date.now();
      overheadMs = invocation.extensionOverheadMs;
    });
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recorded, DELAY_AFTER_INVOKE_MS: "300" } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitForExtensionsReady(20_000);

    const response = await sim.invoke({ work: true });
    expect(response.json<{ echo: unknown }>().echo).toEqual({ work: true });
    // The caller has its answer; the extension is still busy with the INVOKE.
    expect(sim.invocationState(response.requestId)?.status).toBe(InvocationStatus.Running);
    expect(sim.phase()).toBe("Invoking");

    const state = await sim.waitForInvocationComplete(response.requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    const done = records(recorded).find((r) => r.done === response.requestId)?.t as number;
    expect(at.response).toBeLessThanOrEqual(done);
    expect(at.complete).toBeGreaterThanOrEqual(done);
    expect(state.durationMs).toBeGreaterThanOrEqual(300);
    const report = state.logs.find((line) => line.startsWith("REPORT ")) as string;
    expect(Number(/\tDuration: ([\d.]+) ms/.exec(report)?.[1])).toBeGreaterThanOrEqual(300);
    // Overhead: from the runtime's /next to the extension's event/next.
    expect(overheadMs).toBeGreaterThan(0);
    expect(overheadMs as number).toBeGreaterThanOrEqual(done - (at.runtimeDone as number) - 2);
    expect(overheadMs as number).toBeLessThan(state.durationMs as number);
    expect(state.extensionOverheadMs).toBe(overheadMs as number);
    await endsClean(sim, pids);
  });

  test("an extension crashing mid-invoke fails it with Extension.Crash; the next invoke is a cold start", async () => {
    const dir = tempDir();
    const agentRecord = join(dir, "agent.jsonl");
    const crashOnce = emptyFile(dir, "crash-once");
    const { sim, pids } = await startWatched();
    const seen = exits(sim);
    sim.spawnExtension([AGENT], { env: { RECORD_FILE: agentRecord, CRASH_ONCE_FILE: crashOnce } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitForExtensionsReady(20_000);
    const firstRuntime = sim.runtimePid() as number;
    const firstExtension = sim.registeredExtensions()[0]?.pid as number;

    // The runtime takes 500 ms; the extension dies as soon as it gets the INVOKE.
    const first = await sim.invoke({ sleepMs: 500 });
    expect(first.functionError).toBe("Unhandled");
    expect(first.errorType).toBe("Extension.Crash");
    const body = first.json<{ errorType: string; errorMessage: string }>();
    expect(body.errorType).toBe("Extension.Crash");
    expect(body.errorMessage).toStartWith(`RequestId: ${first.requestId} Error: `);
    const failed = await sim.waitForInvocationComplete(first.requestId, 20_000);
    expect(failed.status).toBe(InvocationStatus.Error);
    expect(failed.errorType).toBe("Extension.Crash");
    await sim.waitFor((s) => s.phase() === "Uninitialized", 20_000);
    expect(seen.extensions[0]).toMatchObject({ name: "agent.ts", code: 7, signal: null });

    const second = await sim.invoke({ n: 2 });
    expect(second.json<{ echo: unknown }>().echo).toEqual({ n: 2 });
    const state = await sim.waitForInvocationComplete(second.requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(state.initDurationMs).toBeGreaterThan(0);
    expect(second.json<{ env: { pid: number } }>().env.pid).not.toBe(firstRuntime);
    const secondExtension = sim.registeredExtensions()[0]?.pid as number;
    expect(secondExtension).toBeGreaterThan(0);
    expect(secondExtension).not.toBe(firstExtension);
    expect(records(agentRecord).filter((r) => r.crashing)).toHaveLength(1);
    await endsClean(sim, pids);
  });
});

describe("Shutdown", () => {
  test("an extension ignoring SHUTDOWN is SIGKILLed when the 2,000 ms budget ends", async () => {
    const { sim, pids, seen, recorded } = await afterOneInvokeIgnoringShutdown();
    const extensionPid = sim.registeredExtensions()[0]?.pid as number;

    const elapsed = await timed(() => sim.shutdown());
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(4000);
    expect(records(recorded).filter((r) => r.event?.eventType === "SHUTDOWN")).toHaveLength(1);
    expect(seen.extensions).toMatchObject([{ name: "recorder.ts", code: null, signal: "SIGKILL" }]);
    expect(await survivors(extensionPid)).toEqual([]);
    await endsClean(sim, pids);
  });

  test("with shutdownTimeoutMs: 300 the extension ignoring SHUTDOWN is killed after 300 ms", async () => {
    const { sim, pids, seen, recorded } = await afterOneInvokeIgnoringShutdown({ shutdownTimeoutMs: 300 });

    const before = Date.now();
    const elapsed = await timed(() => sim.shutdown());
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    const [shutdown] = records(recorded).filter((r) => r.event?.eventType === "SHUTDOWN");
    expect(shutdown.event.deadlineMs - before).toBeGreaterThanOrEqual(300);
    expect(shutdown.event.deadlineMs - before).toBeLessThan(300 + elapsed);
    expect(seen.extensions).toMatchObject([{ name: "recorder.ts", code: null, signal: "SIGKILL" }]);
    await endsClean(sim, pids);
  });

  test("without extensions the runtime is SIGKILLed and never sees SIGTERM", async () => {
    const dir = tempDir();
    const sigterm = join(dir, "sigterm");
    const { sim, pids } = await startWatched();
    const seen = exits(sim);
    sim.spawnRuntime([INSTRUMENTED], { env: { SIGTERM_FILE: sigterm } });
    await sim.invoke({});
    const runtimePid = sim.runtimePid() as number;

    const elapsed = await timed(() => sim.shutdown());
    expect(existsSync(sigterm)).toBe(false);
    expect(seen.runtimes).toMatchObject([{ pid: runtimePid, code: null, signal: "SIGKILL" }]);
    expect(elapsed).toBeLessThan(1500);
    await endsClean(sim, pids);
  });

  test("with an extension the runtime gets SIGTERM and its 300 ms before SIGKILL, then extensions get SHUTDOWN", async () => {
    const dir = tempDir();
    const sigterm = join(dir, "sigterm");
    const recorded = join(dir, "recorder.jsonl");
    const { sim, pids } = await startWatched();
    const seen = exits(sim);
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recorded } });
    sim.spawnRuntime([INSTRUMENTED], { env: { SIGTERM_FILE: sigterm } });
    await sim.invoke({});
    const runtimePid = sim.runtimePid() as number;

    await sim.shutdown();
    const lines = readFileSync(sigterm, "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    const sigtermAt = Number(lines[0]?.split(" ")[1]);
    // It ignored SIGTERM, so it was killed when its share ran out.
    expect(seen.runtimes).toMatchObject([{ pid: runtimePid, code: null, signal: "SIGKILL" }]);
    const [shutdown] = records(recorded).filter((r) => r.event?.eventType === "SHUTDOWN");
    expect(shutdown.t - sigtermAt).toBeGreaterThanOrEqual(250);
    expect(seen.extensions).toMatchObject([{ name: "recorder.ts", code: 0, signal: null }]);
    await endsClean(sim, pids);
  });

  test("extensions not subscribed to SHUTDOWN are killed at once", async () => {
    const dir = tempDir();
    const sigterm = join(dir, "sigterm");
    const recorded = join(dir, "recorder.jsonl");
    const { sim, pids } = await startWatched();
    const seen = exits(sim);
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recorded, EVENTS: "INVOKE" } });
    sim.spawnRuntime([INSTRUMENTED], { env: { SIGTERM_FILE: sigterm, EXIT_ON_SIGTERM: "1" } });
    await sim.invoke({});
    expect(sim.registeredExtensions()[0]?.events).toEqual(["INVOKE"]);

    const elapsed = await timed(() => sim.shutdown());
    expect(elapsed).toBeLessThan(1500);
    expect(existsSync(sigterm)).toBe(true);
    expect(seen.runtimes[0]).toMatchObject({ code: 0, signal: null });
    expect(seen.extensions).toMatchObject([{ name: "recorder.ts", code: null, signal: "SIGKILL" }]);
    expect(records(recorded).filter((r) => r.event?.eventType === "SHUTDOWN")).toEqual([]);
    await endsClean(sim, pids);
  });

  test("shutdown resolves only when no member of any process group it started is left", async () => {
    // Each cycle: two extensions that exit on SHUTDOWN by themselves and a runtime that dies on
    // SIGTERM. The check runs when the simulator says the shutdown phase ended and again when
    // shutdown() resolved. (Currently fails: see the report; the leftovers are the groups'
    // watchdog shells, SIGKILLed but not yet dead.)
    const leftovers: { cycle: number; at: string; processes: string[] }[] = [];
    // "<pid> (<command>) <state>" from /proc; a dying process has lost its command line already.
    const describe = (pid: number) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
        return `${pid} ${stat.slice(stat.indexOf("("), stat.lastIndexOf(")") + 3)}`;
      } catch {
        return `${pid} (gone)`;
      }
    };
    for (let cycle = 0; cycle < 30; cycle++) {
      const sim = await startSimulator();
      sim.spawnExtension([AGENT]);
      sim.spawnExtension([RECORDER]);
      sim.spawnRuntime([ECHO_RUNTIME]);
      await sim.invoke({ cycle });
      const leaders = [sim.runtimePid() as number, ...sim.registeredExtensions().map((e) => e.pid as number)];
      expect(leaders).toHaveLength(3);
      const check = (at: string) => {
        const pids = leaders.flatMap(groupMembers);
        if (pids.length > 0) leftovers.push({ cycle, at, processes: pids.map(describe) });
      };
      sim.events.on("shutdownEnd", () => check("shutdownEnd"));
      await sim.shutdown();
      check("shutdown() resolved");
      // Clean up before the next cycle, so a failure does not leak processes into other tests.
      for (const pid of leaders) expect(await survivors(pid)).toEqual([]);
    }
    expect(leftovers).toEqual([]);
  });
});
