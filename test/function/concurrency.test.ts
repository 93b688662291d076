// Several execution environments per function (reference trap 21): concurrent invocations on
// different environments, each with its own runtime process, Runtime API port and log stream;
// throttling, queueing, provisioned concurrency, idle spindown and isolation of failures. Real
// runtime processes over real HTTP; the AWS SDK as the Invoke API client.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { InvocationBuilder, type Simulator, type SimulatorOptions } from "../../src/index.ts";
import { AGENT, ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import { groupMembers } from "../helpers/processes.ts";

interface Echo {
  echo: Record<string, unknown>;
  env: { pid: number; runtimeApi: string; logStream: string; initType: string };
}

async function concurrent(options: SimulatorOptions): Promise<Simulator> {
  const sim = await startSimulator({ timeoutSeconds: 10, ...options });
  sim.spawnRuntime([ECHO_RUNTIME]);
  return sim;
}

/** A direct Invoke API call: status, headers and body. */
async function invokeHttp(sim: Simulator, payload: unknown, type = "RequestResponse") {
  const response = await fetch(`${sim.url()}/2015-03-31/functions/function/invocations`, {
    method: "POST",
    headers: { "X-Amz-Invocation-Type": type },
    body: JSON.stringify(payload),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("max concurrency", () => {
  test("two concurrent invokes overlap on two environments: own pids, ports and log streams", async () => {
    const sim = await concurrent({ maxConcurrency: 2 });
    const spans: { start: number; end: number; body: Echo }[] = [];
    const one = async () => {
      const start = performance.now();
      const response = await sim.invoke({ sleepMs: 500 });
      spans.push({ start, end: performance.now(), body: response.json<Echo>() });
      return response;
    };
    const [a, b] = await Promise.all([one(), one()]);
    expect(a.functionError).toBeUndefined();
    expect(b.functionError).toBeUndefined();
    const [first, second] = spans.sort((x, y) => x.start - y.start) as [(typeof spans)[0], (typeof spans)[0]];
    // The second started before the first ended: they ran at the same time.
    expect(second.start).toBeLessThan(first.end);
    expect(first.body.env.pid).not.toBe(second.body.env.pid);
    expect(first.body.env.runtimeApi).not.toBe(second.body.env.runtimeApi);
    expect(first.body.env.logStream).not.toBe(second.body.env.logStream);
    const states = [sim.invocationState(a.requestId), sim.invocationState(b.requestId)];
    expect(new Set(states.map((s) => s?.environmentId)).size).toBe(2);
    const environments = sim.environments();
    expect(environments).toHaveLength(2);
    expect(environments.map((e) => e.invocationsServed)).toEqual([1, 1]);
    // Each environment's API is on its own port, not the main one.
    for (const environment of environments) expect(environment.runtimeApi).not.toEndWith(`:${sim.port}`);
  });

  test("a warm environment is reused before a new one starts; at most N environments exist", async () => {
    const sim = await concurrent({ maxConcurrency: 3 });
    for (let i = 0; i < 5; i++) await sim.invoke({ n: i });
    expect(sim.environments()).toHaveLength(1);
    expect(sim.initCount()).toBe(1);
    await Promise.all(Array.from({ length: 6 }, (_, i) => sim.invoke({ sleepMs: 200, n: i })));
    expect(sim.environments().length).toBeLessThanOrEqual(3);
    expect(sim.environments().length).toBeGreaterThanOrEqual(2);
  });

  test("without --throttle the N+1th concurrent invoke waits and succeeds; queued Event invokes all run", async () => {
    const sim = await concurrent({ maxConcurrency: 1 });
    const [slow, queued] = await Promise.all([sim.invoke({ sleepMs: 300 }), sim.invoke({ n: 2 })]);
    expect(slow.functionError).toBeUndefined();
    expect(queued.json<Echo>().echo).toEqual({ n: 2 });
    const ids = Array.from({ length: 5 }, (_, i) =>
      sim.enqueue(new InvocationBuilder().payload({ event: i }).invocationType("Event")),
    );
    for (const id of ids) expect((await sim.waitForInvocationComplete(id)).status).toBe("success");
  });

  test("with --throttle the N+1th concurrent RequestResponse gets Lambda's 429; Event invokes stay queued", async () => {
    const sim = await concurrent({ maxConcurrency: 1, throttle: true });
    await sim.invoke({ warm: true });
    const busy = invokeHttp(sim, { sleepMs: 500 });
    await sim.waitForEvent("invocationDispatch");
    const refused = await invokeHttp(sim, { n: 2 });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-amzn-errortype")).toBe("TooManyRequestsException");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(JSON.parse(refused.text)).toEqual({
      Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      Type: "User",
      Message: "Rate Exceeded.",
    });
    const event = await invokeHttp(sim, { event: true }, "Event");
    expect(event.status).toBe(202);
    expect((await busy).status).toBe(200);
    const id = event.headers.get("x-amzn-requestid") as string;
    expect((await sim.waitForInvocationComplete(id)).status).toBe("success");
  });

  test("maxConcurrency 0 with throttle refuses every synchronous invoke, as reserved concurrency 0 does", async () => {
    const sim = await concurrent({ maxConcurrency: 0, throttle: true });
    const client = new LambdaClient({
      endpoint: sim.url(),
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
      maxAttempts: 1,
    });
    const error = await client
      .send(new InvokeCommand({ FunctionName: "function", Payload: "{}" }))
      .catch((e) => e);
    expect(error.name).toBe("TooManyRequestsException");
    expect(error.Reason).toBe("ReservedFunctionConcurrentInvocationLimitExceeded");
    expect(sim.environments()).toEqual([]);
  });

  test("a crash in one environment resets only that one; the other keeps serving", async () => {
    const sim = await concurrent({ maxConcurrency: 2 });
    const [held, crashed] = await Promise.all([sim.invoke({ sleepMs: 600 }), sim.invoke({ exit: 3 })]);
    expect(held.functionError).toBeUndefined();
    expect(crashed.errorType).toBe("Runtime.ExitError");
    const heldEnv = sim.invocationState(held.requestId)?.environmentId;
    const crashedEnv = sim.invocationState(crashed.requestId)?.environmentId;
    expect(heldEnv).not.toBe(crashedEnv);
    const survivor = sim.environments().find((e) => e.id === heldEnv);
    expect(survivor?.runtimePid).toBe(held.json<Echo>().env.pid);
  });

  test("the AWS SDK's InvokeCommand fired 20 at a time all answer, on at most 4 environments", async () => {
    const sim = await concurrent({ maxConcurrency: 4 });
    const client = new LambdaClient({
      endpoint: sim.url(),
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        client.send(
          new InvokeCommand({ FunctionName: "function", Payload: JSON.stringify({ n, sleepMs: 50 }) }),
        ),
      ),
    );
    const seen = answers.map((a) => (JSON.parse(new TextDecoder().decode(a.Payload)) as Echo).echo.n);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(answers.every((a) => a.FunctionError === undefined)).toBe(true);
    expect(sim.environments().length).toBeLessThanOrEqual(4);
  });

  test("shutdown ends every environment in parallel and leaves no process", async () => {
    const sim = await concurrent({ maxConcurrency: 3 });
    await Promise.all([
      sim.invoke({ sleepMs: 200 }),
      sim.invoke({ sleepMs: 200 }),
      sim.invoke({ sleepMs: 200 }),
    ]);
    const pids = sim.environments().map((e) => e.runtimePid as number);
    expect(new Set(pids).size).toBe(3);
    const reasons: string[] = [];
    sim.events.on("shutdownStart", ({ reason, environmentId }) => reasons.push(`${environmentId}:${reason}`));
    await sim.shutdown();
    expect(reasons).toHaveLength(3);
    for (const pid of pids) expect(groupMembers(pid)).toEqual([]);
  });
});

describe("provisioned concurrency and idle spindown", () => {
  test("provisioned environments init at start as provisioned-concurrency; no Init Duration on the first invoke", async () => {
    const sim = await startSimulator({ provisionedConcurrency: 2 });
    const inits: string[] = [];
    sim.events.on("initEnd", ({ environmentId, status }) => inits.push(`${environmentId}:${status}`));
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitFor(() => inits.length === 2, 20_000);
    expect(sim.environments().map((e) => e.initializationType)).toEqual([
      "provisioned-concurrency",
      "provisioned-concurrency",
    ]);
    const response = await sim.invoke({ n: 1 });
    expect(response.json<Echo>().env.initType).toBe("provisioned-concurrency");
    const state = await sim.waitForInvocationComplete(response.requestId);
    expect(state.initDurationMs).toBeUndefined();
    expect(state.logs.some((line) => line.startsWith("INIT_REPORT"))).toBe(false);
    expect(sim.initCount()).toBe(2);
  });

  test("an environment idle past --idle-timeout gets SHUTDOWN spindown; the next invoke cold-starts", async () => {
    const sim = await concurrent({ idleTimeoutSeconds: 0.3 });
    const first = await sim.invoke({ n: 1 });
    const firstEnv = sim.invocationState(first.requestId)?.environmentId;
    const down = await sim.waitForEvent(
      "shutdownEnd",
      ({ environmentId }) => environmentId === firstEnv,
      10_000,
    );
    expect(down.reason).toBe("spindown");
    expect(groupMembers(first.json<Echo>().env.pid)).toEqual([]);
    const second = await sim.invoke({ n: 2 });
    expect(second.json<Echo>().env.pid).not.toBe(first.json<Echo>().env.pid);
    const state = await sim.waitForInvocationComplete(second.requestId);
    expect(state.environmentId).not.toBe(firstEnv);
    expect(state.initDurationMs).toBeGreaterThan(0);
  });
});

describe("gates", () => {
  test("an environment held at the init-done gate names the extension it waits for, in the library and the control API", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gate-"));
    const release = join(dir, "release");
    const sim = await startSimulator({ timeoutSeconds: 10 });
    try {
      sim.spawnExtension([AGENT], { env: { WAIT_FOR_FILE: release } });
      sim.spawnRuntime([ECHO_RUNTIME]);
      const heldByAgent = (s: Simulator) =>
        s.environments()[0]?.waitingAt?.pending.includes("extension agent.ts") === true;
      await sim.waitFor(heldByAgent, 10_000);
      expect(sim.environments()[0]?.waitingAt?.gate).toBe("init done");
      expect(sim.phase()).toBe("Initializing");
      const listed = (await (await fetch(`${sim.url()}/_simulator/environments`)).json()) as {
        waitingAt: { gate: string; pending: string[] } | null;
      }[];
      expect(listed[0]?.waitingAt?.gate).toBe("init done");
      expect(listed[0]?.waitingAt?.pending).toContain("extension agent.ts");
      writeFileSync(release, "");
      await sim.waitForExtensionsReady(10_000);
      await sim.waitFor((s) => s.phase() === "Ready", 10_000);
      expect(sim.environments()[0]?.waitingAt).toBeNull();
      const answer = await sim.invoke({ ok: 1 });
      expect(answer.functionError).toBeUndefined();
    } finally {
      await sim.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
