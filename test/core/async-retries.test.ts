import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvocationBuilder, type InvocationRequest } from "../../src/index.ts";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import { tempDir } from "../helpers/temp.ts";

/** An `Event` invocation request (what the Invoke API builds for X-Amz-Invocation-Type: Event). */
function event(payload: unknown): InvocationRequest {
  return { ...new InvocationBuilder().payload(payload).build(), invocationType: "Event" };
}

describe("asynchronous (Event) invocations", () => {
  test("a failing Event invocation is retried twice with the same request id, after the configured delays", async () => {
    const sim = await startSimulator({ asyncRetry: { retryDelaysMs: [100, 200] } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const dispatched: { id: string; attempt: number; at: number }[] = [];
    sim.events.on("invocationDispatch", (i) =>
      dispatched.push({ id: i.id, attempt: i.request.attempt ?? 1, at: performance.now() }),
    );
    const completed: number[] = [];
    sim.events.on("invocationComplete", () => completed.push(performance.now()));
    const id = sim.enqueue(event({ fail: true }));
    await sim.waitFor(
      (s) => s.invocationState(id)?.attempt === 3 && s.invocationState(id)?.status === "error",
      20_000,
    );
    expect(dispatched.map((d) => [d.id, d.attempt])).toEqual([
      [id, 1],
      [id, 2],
      [id, 3],
    ]);
    // Each retry waited at least its delay after the previous attempt ended.
    expect((dispatched[1]?.at as number) - (completed[0] as number)).toBeGreaterThanOrEqual(95);
    expect((dispatched[2]?.at as number) - (completed[1] as number)).toBeGreaterThanOrEqual(195);
    // No fourth attempt: the third failure is final.
    await sim.shutdown();
    expect(dispatched).toHaveLength(3);
  });

  test("a successful attempt ends the retries; RequestResponse failures are never retried", async () => {
    const sim = await startSimulator({ asyncRetry: { retryDelaysMs: [50] } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const attempts: number[] = [];
    sim.events.on("invocationDispatch", (i) => attempts.push(i.request.attempt ?? 1));
    // First attempt crashes the runtime (exit), the retry runs on a fresh runtime and succeeds.
    const crashOnce = join(tempDir("async-retry"), "crash-once");
    writeFileSync(crashOnce, "");
    const id = sim.enqueue(event({ exitIfFile: crashOnce }));
    await sim.waitFor((s) => s.invocationState(id)?.status === "success", 20_000);
    expect(sim.invocationState(id)?.attempt).toBe(2);
    const sync = await sim.invoke({ fail: true });
    expect(sync.functionError).toBe("Unhandled");
    await sim.waitForInvocationComplete(sync.requestId, 20_000);
    await sim.shutdown();
    expect(attempts).toEqual([1, 2, 1]);
  });

  test("maximumRetryAttempts 0 turns retries off; values Lambda refuses are refused", async () => {
    const sim = await startSimulator({ asyncRetry: { maximumRetryAttempts: 0, retryDelaysMs: [10] } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const attempts: number[] = [];
    sim.events.on("invocationDispatch", (i) => attempts.push(i.request.attempt ?? 1));
    const id = sim.enqueue(event({ fail: true }));
    await sim.waitForInvocationComplete(id, 20_000);
    // A retry would be dispatched 10 ms later; the next invocation proves the queue moved on without it.
    const after = await sim.invoke({ ok: true });
    await sim.waitForInvocationComplete(after.requestId, 20_000);
    expect(attempts).toEqual([1, 1]);
    await expect(startSimulator({ asyncRetry: { maximumRetryAttempts: 3 } })).rejects.toThrow(
      /must be 0, 1 or 2/,
    );
  });
});
