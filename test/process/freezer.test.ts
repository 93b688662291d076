import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FreezeMode } from "../../src/index.ts";
import { FIXTURES, startSimulator } from "../helpers/fixtures.ts";
import { groupMembers, isStopped } from "../helpers/processes.ts";

const SHELL_PARENT = join(FIXTURES, "runtimes", "shell-parent.sh");
const ECHO = join(FIXTURES, "runtimes", "echo.ts");

/** Descendants of `pid` (children, grandchildren...) from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop() as number;
    let text = "";
    try {
      text = readFileSync(`/proc/${current}/task/${current}/children`, "latin1").trim();
    } catch {}
    for (const child of text ? text.split(" ").map(Number) : []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

describe("FreezeMode.Process", () => {
  test("stops the bootstrap's descendants too, not only the pid it spawned, and thaws them for the next invoke", async () => {
    const sim = await startSimulator({ freezeMode: FreezeMode.Process });
    sim.spawnRuntime([SHELL_PARENT]);
    const first = await sim.invoke({ n: 1 });
    await sim.waitForInvocationComplete(first.requestId, 20_000);
    await sim.waitForFrozen(20_000);
    const leader = sim.runtimePid() as number;
    const runtimePid = first.json<{ env: { pid: number } }>().env.pid;
    expect(runtimePid).not.toBe(leader);
    expect(descendants(leader)).toContain(runtimePid);
    expect(isStopped(leader)).toBe(true);
    expect(isStopped(runtimePid)).toBe(true);
    const epoch = sim.freezeEpoch();

    const second = await sim.invoke({ n: 2 });
    expect(second.json<{ env: { pid: number } }>().env.pid).toBe(runtimePid);
    await sim.waitForInvocationComplete(second.requestId, 20_000);
    await sim.waitForFrozen(20_000);
    expect(sim.freezeEpoch()).toBeGreaterThan(epoch);
  });

  test("registerPidForFreeze stops and continues a process started outside the simulator", async () => {
    const outside = Bun.spawn(["sleep", "30"]);
    try {
      const sim = await startSimulator({ freezeMode: FreezeMode.Process });
      sim.registerPidForFreeze(outside.pid);
      sim.spawnRuntime([ECHO]);
      await sim.waitForFrozen(20_000);
      expect(isStopped(outside.pid)).toBe(true);
      // At the verified thaw, the outside process runs again.
      const thawed = sim.waitForEvent("thawed").then(() => isStopped(outside.pid));
      const response = await sim.invoke({});
      expect(response.functionError).toBeUndefined();
      expect(await thawed).toBe(false);
    } finally {
      outside.kill("SIGKILL");
    }
  });

  test("an invocation queued while a freeze is in flight is delivered only after a verified thaw", async () => {
    const sim = await startSimulator({ freezeMode: FreezeMode.Process });
    sim.spawnRuntime([ECHO]);
    const order: string[] = [];
    sim.events.on("frozen", () => order.push("frozen"));
    sim.events.on("thawed", () => order.push("thawed"));
    sim.events.on("invocationDispatch", () => order.push("dispatch"));
    // Enqueue the second invocation the moment the first completes, when the freeze starts.
    sim.events.on("invocationComplete", (invocation) => {
      order.push("complete");
      if (order.filter((e) => e === "complete").length === 1)
        sim.enqueuePayload({ n: 2, after: invocation.id });
    });
    const first = sim.enqueuePayload({ n: 1 });
    await sim.waitFor((s) => s.invocationStates().filter((i) => i.status === "success").length === 2, 20_000);
    // Every dispatch happens while thawed: never between a "frozen" and the next "thawed".
    let frozen = false;
    for (const event of order) {
      if (event === "frozen") frozen = true;
      if (event === "thawed") frozen = false;
      if (event === "dispatch") expect(frozen).toBe(false);
    }
    expect(sim.invocationState(first)?.status).toBe("success");
  });

  test("shutdown while frozen continues every process first: SHUTDOWN reaches the extension, nothing stays stopped", async () => {
    const sim = await startSimulator({ freezeMode: FreezeMode.Process });
    sim.spawnExtension([join(FIXTURES, "extensions", "recorder.ts")]);
    sim.spawnRuntime([ECHO]);
    const response = await sim.invoke({});
    await sim.waitForInvocationComplete(response.requestId, 20_000);
    await sim.waitForFrozen(20_000);
    const pids = [sim.runtimePid() as number, ...sim.registeredExtensions().map((e) => e.pid as number)];
    for (const pid of pids) expect(isStopped(pid)).toBe(true);
    const exits: { name: string; code: number | null }[] = [];
    sim.events.on("extensionExit", (exit) => exits.push(exit));
    await sim.shutdown();
    // The extension handled SHUTDOWN and exited by itself (code 0), which a stopped process cannot do.
    expect(exits).toEqual([expect.objectContaining({ name: "recorder.ts", code: 0 })]);
    for (const pid of pids) expect(groupMembers(pid)).toEqual([]);
  });
});
