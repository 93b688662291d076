import { describe, expect, test } from "bun:test";
import { type InvocationState, InvocationStatus, type Simulator } from "../../src/index.ts";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Status {
  phase: string;
  functionName: string;
  functionVersion: string;
  functionArn: string;
  runtimeApi: string;
  runtimePid: number | null;
  initCount: number;
  queued: number;
  currentInvocation: string | null;
  invocations: { total: number; byStatus: Record<string, number> };
}

/** An invocation state as it travels over the wire: the status is a plain string. */
type WireState = Omit<InvocationState, "status"> & { status: `${InvocationStatus}` };

async function getJson<T>(sim: Simulator, path: string, expectedStatus = 200): Promise<T> {
  const response = await fetch(`${sim.url()}${path}`);
  expect(response.status).toBe(expectedStatus);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  return (await response.json()) as T;
}

const status = (sim: Simulator) => getJson<Status>(sim, "/_simulator/status");
const invocations = (sim: Simulator) => getJson<WireState[]>(sim, "/_simulator/invocations");
const invocation = (sim: Simulator, id: string) => getJson<WireState>(sim, `/_simulator/invocations/${id}`);

/** The test itself plays the runtime over the Runtime API, so it decides exactly when each step happens. */
function manualRuntime(sim: Simulator) {
  const api = `${sim.url()}/2018-06-01/runtime`;
  return {
    /** `GET /next`: the request id of the invocation handed over. */
    async next(): Promise<string> {
      const response = await fetch(`${api}/invocation/next`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      return response.headers.get("lambda-runtime-aws-request-id") as string;
    },
    /** `POST /response` for `id`. */
    async respond(id: string, body: string | Uint8Array, contentType = "application/json"): Promise<void> {
      const response = await fetch(`${api}/invocation/${id}/response`, {
        method: "POST",
        headers: { "Content-Type": contentType },
        body,
      });
      expect(response.status).toBe(202);
      await response.arrayBuffer();
    },
  };
}

describe("control API", () => {
  test("status of a fresh simulator without a runtime", async () => {
    const sim = await startSimulator({ functionName: "ctl", region: "eu-west-1", accountId: "111122223333" });
    expect(await status(sim)).toMatchObject({
      phase: "Uninitialized",
      functionName: "ctl",
      functionVersion: "$LATEST",
      functionArn: "arn:aws:lambda:eu-west-1:111122223333:function:ctl",
      runtimeApi: sim.runtimeApiUrl(),
      runtimePid: null,
      initCount: 0,
      queued: 0,
      currentInvocation: null,
      invocations: { total: 0, byStatus: {} },
    });
    expect(await invocations(sim)).toEqual([]);
  });

  test("status after invocations with a spawned runtime counts them by status", async () => {
    const sim = await startSimulator({ functionName: "ctl" });
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.invoke({ a: 1 });
    await sim.invoke({ fail: true });
    const last = await sim.invoke({ b: 2 });
    await sim.waitForInvocationComplete(last.requestId, 20_000);
    const body = await status(sim);
    expect(body).toMatchObject({
      phase: "Ready",
      runtimePid: sim.runtimePid() as number,
      initCount: 1,
      queued: 0,
      currentInvocation: null,
      invocations: { total: 3, byStatus: { success: 2, error: 1 } },
    });
    expect(body.runtimePid).toBeGreaterThan(0);
  });

  test("an invocation's state through queued, running, responded and complete", async () => {
    const sim = await startSimulator({ functionName: "ctl", timeoutSeconds: 30 });
    const runtime = manualRuntime(sim);
    const before = Date.now();
    const id = sim.enqueuePayload({ step: 1 });

    // Queued: no runtime has asked for work yet.
    const queued = await invocation(sim, id);
    expect(queued).toEqual({
      requestId: id,
      status: "queued",
      invocationType: "RequestResponse",
      // Given to the environment at once; it waits there for the runtime's /next.
      environmentId: sim.environments()[0]?.id as string,
      attempt: 1,
      enqueuedAt: queued.enqueuedAt,
      logs: [],
    });
    expect(queued.enqueuedAt).toBeGreaterThanOrEqual(before);
    expect((await status(sim)).queued).toBe(1);

    // Running: the runtime took it.
    expect(await runtime.next()).toBe(id);
    const running = await invocation(sim, id);
    expect(running.status).toBe("running");
    expect(running.startedAt).toBeGreaterThanOrEqual(running.enqueuedAt);
    expect(running.deadlineMs).toBeGreaterThanOrEqual((running.startedAt as number) + 29_000);
    expect(running.respondedAt).toBeUndefined();
    expect(running.completedAt).toBeUndefined();
    expect(running.response).toBeUndefined();
    expect(running.logs).toEqual([`START RequestId: ${id} Version: $LATEST`]);
    expect(await status(sim)).toMatchObject({
      phase: "Invoking",
      queued: 0,
      currentInvocation: id,
      invocations: { total: 1, byStatus: { running: 1 } },
    });

    // Responded but not complete: the runtime has not asked for the next event yet.
    await runtime.respond(id, '{"ok":true}');
    const responded = await invocation(sim, id);
    expect(responded.status).toBe("running");
    expect(responded.respondedAt).toBeGreaterThanOrEqual(responded.startedAt as number);
    expect(responded.completedAt).toBeUndefined();
    expect(responded.response).toEqual({
      contentType: "application/json",
      body: '{"ok":true}',
      encoding: "utf8",
    });

    // Complete: the runtime's next /next ends the invocation.
    const nextPoll = runtime.next();
    await sim.waitForInvocationComplete(id, 20_000);
    const done = await invocation(sim, id);
    expect(done.status).toBe("success");
    expect(done.completedAt).toBeGreaterThanOrEqual(done.respondedAt as number);
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(done.initDurationMs).toBeGreaterThanOrEqual(0);
    expect(done.errorType).toBeUndefined();
    expect(done.logs[0]).toBe(`START RequestId: ${id} Version: $LATEST`);
    expect(done.logs[1]).toBe(`END RequestId: ${id}`);
    expect(done.logs[2]).toMatch(new RegExp(`^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d{2} ms\\t`));
    expect(done.logs).toHaveLength(3);
    expect(await invocations(sim)).toEqual([done]);
    expect((await status(sim)).phase).toBe("Ready");

    // Leave the parked /next to the shutdown after the test.
    nextPoll.catch(() => {});
  });

  test("a response that is not UTF-8 is reported as base64", async () => {
    const sim = await startSimulator({ functionName: "ctl" });
    const runtime = manualRuntime(sim);
    const id = sim.enqueuePayload({});
    expect(await runtime.next()).toBe(id);
    const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);
    await runtime.respond(id, bytes, "application/octet-stream");
    const state = await invocation(sim, id);
    expect(state.response).toEqual({
      contentType: "application/octet-stream",
      body: Buffer.from(bytes).toString("base64"),
      encoding: "base64",
    });
  });

  test("failed and timed-out invocations show the error type, function error and platform lines", async () => {
    const sim = await startSimulator({ functionName: "ctl", timeoutSeconds: 1 });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const failed = await sim.invoke({ fail: true, log: "about to fail" });
    const timedOut = await sim.invoke({ sleepMs: 120_000 });
    await sim.waitForInvocationComplete(failed.requestId, 20_000);
    await sim.waitForInvocationComplete(timedOut.requestId, 20_000);

    const error = await invocation(sim, failed.requestId);
    expect(error.status).toBe("error");
    expect(error.errorType).toBe("Function.MyError");
    expect(error.response?.functionError).toBe("Unhandled");
    expect(JSON.parse(error.response?.body as string)).toEqual({
      errorType: "MyError",
      errorMessage: "boom",
    });
    expect(error.logs).toContain("about to fail");
    expect(error.logs.at(-1)).toMatch(/\tStatus: error\tError Type: Function\.MyError\t$/);

    const timeout = await invocation(sim, timedOut.requestId);
    expect(timeout.status).toBe(InvocationStatus.Timeout);
    expect(timeout.errorType).toBe("Sandbox.Timedout");
    expect(timeout.response?.functionError).toBe("Unhandled");
    expect(JSON.parse(timeout.response?.body as string)).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${timedOut.requestId} Error: Task timed out after 1.00 seconds`,
    });
    expect(timeout.logs.at(-1)).toMatch(/\tStatus: timeout\t$/);

    const all = await invocations(sim);
    expect(all.map((s) => s.requestId)).toEqual([failed.requestId, timedOut.requestId]);
    expect((await status(sim)).invocations).toEqual({ total: 2, byStatus: { error: 1, timeout: 1 } });
  });

  test("an Event invocation is listed with its type", async () => {
    const sim = await startSimulator({ functionName: "ctl" });
    const response = await fetch(`${sim.url()}/2015-03-31/functions/ctl/invocations`, {
      method: "POST",
      headers: { "X-Amz-Invocation-Type": "Event" },
      body: '{"async":1}',
    });
    expect(response.status).toBe(202);
    const id = response.headers.get("x-amzn-requestid") as string;
    expect(id).toMatch(UUID);
    // No runtime yet: the 202 did not wait for anything.
    expect(await invocation(sim, id)).toMatchObject({
      requestId: id,
      status: "queued",
      invocationType: "Event",
    });
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitForInvocationComplete(id, 20_000);
    const done = await invocation(sim, id);
    expect(done.status).toBe("success");
    expect(JSON.parse(done.response?.body as string).echo).toEqual({ async: 1 });
  });

  test.each([
    ["POST", "/_simulator/status"],
    ["DELETE", "/_simulator/invocations"],
    ["PUT", "/_simulator/invocations/00000000-0000-4000-8000-000000000000"],
  ])("%s %s is 405", async (method, path) => {
    const sim = await startSimulator();
    const response = await fetch(`${sim.url()}${path}`, { method });
    expect(response.status).toBe(405);
    await response.arrayBuffer();
  });

  test.each([
    ["an unknown request id", "00000000-0000-4000-8000-000000000000"],
    ["a malformed id", "not-an-id"],
  ])("%s is a 404 JSON error", async (_, id) => {
    const sim = await startSimulator();
    const body = await getJson<{ errorType: string; errorMessage: string }>(
      sim,
      `/_simulator/invocations/${id}`,
      404,
    );
    expect(body).toEqual({ errorType: "ResourceNotFoundException", errorMessage: `No invocation ${id}` });
  });
});
