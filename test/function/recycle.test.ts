// Simulator.recycle: a new deployment, as watch mode makes one. Every environment finishes (or
// cancels) its invocation, runs its shutdown phase (SHUTDOWN spindown) and fresh environments init
// from scratch: a new runtime and extension process, a new log stream, init telemetry, an Init
// Duration; what arrives meanwhile waits and is served by the new code.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvocationStatus, type Simulator, type SimulatorOptions } from "../../src/index.ts";
import { FIXTURES, RECORDER, records } from "../helpers/fixtures.ts";
import { endsClean, startWatched } from "../helpers/leftovers.ts";
import { tempDir } from "../helpers/temp.ts";

const VERSIONED = join(FIXTURES, "runtimes", "versioned.ts");

interface Answer {
  version: string;
  pid: number;
  logStream: string;
  greeting: string | null;
}

async function versionedFunction(options: SimulatorOptions = {}, extension = false) {
  const dir = tempDir("recycle-");
  const versionFile = join(dir, "version");
  const recordFile = join(dir, "record.jsonl");
  writeFileSync(versionFile, "v1");
  const { sim, pids } = await startWatched({ functionName: "deployed", captureTelemetry: true, ...options });
  if (extension) sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recordFile } });
  sim.spawnRuntime([VERSIONED], { env: { VERSION_FILE: versionFile } });
  const write = (version: string) => writeFileSync(versionFile, version);
  return { sim, pids, write, recordFile };
}

const answer = async (sim: Simulator, payload: unknown = {}) => (await sim.invoke(payload)).json<Answer>();

/** Resolves once the next invocation has been handed to a runtime. */
const dispatched = (sim: Simulator) =>
  new Promise<void>((resolve) => {
    const off = sim.events.on("invocationDispatch", () => {
      off();
      resolve();
    });
  });

describe("Simulator.recycle", () => {
  test("the next invoke is served by a fresh init of the new code: new runtime, extension, log stream, Init Duration", async () => {
    const { sim, pids, write, recordFile } = await versionedFunction({}, true);
    const first = await answer(sim);
    expect(first.version).toBe("v1");
    // The code changes on disk: nothing changes until a new init.
    write("v2");
    expect((await answer(sim)).version).toBe("v1");
    const extensionPid = sim.registeredExtensions()[0]?.pid;
    const events: string[] = [];
    sim.events.on("recycleStart", ({ reason }) => events.push(`start ${reason}`));
    sim.events.on("recycleEnd", ({ reason }) => events.push(`end ${reason}`));
    sim.events.on("shutdownStart", ({ reason }) => events.push(`shutdown ${reason}`));
    sim.events.on("initStart", ({ phase }) => events.push(`init ${phase}`));
    sim.clearTelemetryEvents();
    await sim.recycle({ reason: "change" });
    expect(events).toEqual(["start change", "shutdown spindown", "init init", "end change"]);
    const response = await sim.invoke({});
    const second = response.json<Answer>();
    expect(second.version).toBe("v2");
    expect(second.pid).not.toBe(first.pid);
    expect(second.logStream).not.toBe(first.logStream);
    expect(sim.registeredExtensions()[0]?.pid).not.toBe(extensionPid as number);
    // The old extension heard SHUTDOWN spindown; the new one registered.
    const shutdowns = records(recordFile).filter((r) => r.event?.eventType === "SHUTDOWN");
    expect(shutdowns.map((r) => r.event.shutdownReason)).toEqual(["spindown"]);
    expect(records(recordFile).filter((r) => r.registered === 200)).toHaveLength(2);
    const state = await sim.waitForInvocationComplete(response.requestId, 10_000);
    expect(state.initDurationMs).toBeGreaterThan(0);
    expect(state.logs.at(-1)).toContain("Init Duration:");
    expect(sim.getTelemetryEvents().map((e) => e.type)).toContain("platform.initStart");
    await endsClean(sim, pids);
  });

  test("invokes sent during a recycle wait and are all answered by the new code; the in-flight one ends on the old", async () => {
    const { sim, pids, write } = await versionedFunction();
    await answer(sim);
    const running = dispatched(sim);
    const slow = sim.invoke({ sleepMs: 300 });
    await running;
    write("v2");
    const recycled = sim.recycle({ reason: "change" });
    const during = await Promise.all(Array.from({ length: 5 }, () => sim.invoke({})));
    await recycled;
    expect((await slow).json<Answer>().version).toBe("v1");
    // One environment at a time, as before: the new one alone served them (no second one opened).
    expect(new Set(during.map((r) => r.json<Answer>().pid)).size).toBe(1);
    expect(during.map((r) => r.json<Answer>().version)).toEqual(["v2", "v2", "v2", "v2", "v2"]);
    expect(during.every((r) => !r.functionError)).toBe(true);
    await endsClean(sim, pids);
  });

  test("wait: false cancels the invocation in flight with Sandbox.Failure", async () => {
    const { sim, pids, write } = await versionedFunction();
    await answer(sim);
    const running = dispatched(sim);
    const slow = sim.invoke({ sleepMs: 10_000 });
    await running;
    write("v2");
    await sim.recycle({ wait: false });
    const cancelled = await slow;
    expect([cancelled.functionError, cancelled.errorType]).toEqual(["Unhandled", "Sandbox.Failure"]);
    expect((await answer(sim)).version).toBe("v2");
    expect(sim.invocationState(cancelled.requestId)?.status).toBe(InvocationStatus.Failure);
    await endsClean(sim, pids);
  });

  test("config: the new environments get the new environment variables; a bad value changes nothing", async () => {
    const { sim, pids } = await versionedFunction({ environment: { GREETING: "hello" } });
    expect((await answer(sim)).greeting).toBe("hello");
    await expect(sim.recycle({ config: { memorySizeMB: 1 } })).rejects.toThrow("memorySizeMB");
    expect((await answer(sim)).greeting).toBe("hello");
    await sim.recycle({ config: { environment: { GREETING: "bonjour" } } });
    expect((await answer(sim)).greeting).toBe("bonjour");
    expect(sim.config.environment).toEqual({ GREETING: "bonjour" });
    await endsClean(sim, pids);
  });

  test("every environment of a function with several is recycled", async () => {
    const { sim, pids, write } = await versionedFunction({ maxConcurrency: 3 });
    const before = await Promise.all(Array.from({ length: 3 }, () => sim.invoke({ sleepMs: 100 })));
    expect(new Set(before.map((r) => r.json<Answer>().pid)).size).toBe(3);
    write("v2");
    await sim.recycle();
    const after = await Promise.all(Array.from({ length: 3 }, () => sim.invoke({ sleepMs: 100 })));
    expect(after.map((r) => r.json<Answer>().version)).toEqual(["v2", "v2", "v2"]);
    const oldPids = new Set(before.map((r) => r.json<Answer>().pid));
    expect(after.some((r) => oldPids.has(r.json<Answer>().pid))).toBe(false);
    await endsClean(sim, pids);
  });

  test("an invoke sent from a recycleStart listener, and a second recycle behind the first, see the new code", async () => {
    const { sim, pids, write } = await versionedFunction();
    await answer(sim);
    write("v2");
    let fromListener: Promise<Answer> | undefined;
    const off = sim.events.on("recycleStart", () => {
      fromListener ??= sim.invoke({}).then((r) => r.json<Answer>());
    });
    const first = sim.recycle();
    const second = sim.recycle();
    await Promise.all([first, second]);
    off();
    expect((await fromListener)?.version).toBe("v2");
    expect((await answer(sim)).version).toBe("v2");
    await endsClean(sim, pids);
  });
});
