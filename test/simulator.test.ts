import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { LOG_LIMIT_BYTES } from "../src/core/invocation.ts";
import { InvocationBuilder, InvocationStatus, Simulator } from "../src/index.ts";
import { ECHO_RUNTIME, FIXTURES, startSimulator } from "./helpers/fixtures.ts";
import { groupMembers } from "./helpers/processes.ts";

describe("Simulator library", () => {
  test("invoke round-trips a payload through a real runtime process with Lambda's headers", async () => {
    const sim = await startSimulator({
      functionName: "orders",
      region: "eu-west-1",
      accountId: "111122223333",
    });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const response = await sim.invoke({ orderId: 42 });
    const body = response.json<{ echo: unknown; headers: Record<string, string> }>();
    expect(body.echo).toEqual({ orderId: 42 });
    expect(body.headers["lambda-runtime-aws-request-id"]).toBe(response.requestId);
    expect(response.requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(body.headers["lambda-runtime-invoked-function-arn"]).toBe(
      "arn:aws:lambda:eu-west-1:111122223333:function:orders",
    );
    expect(body.headers["lambda-runtime-trace-id"]).toMatch(
      /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/,
    );
    const deadline = Number(body.headers["lambda-runtime-deadline-ms"]);
    const state = sim.invocationState(response.requestId);
    expect(deadline).toBe(state?.deadlineMs as number);
    expect(deadline - (state?.startedAt as number)).toBeGreaterThanOrEqual(2900);
  });

  test("builder, enqueue with client context and cognito identity, waitForInvocationComplete", async () => {
    const sim = await Simulator.builder().functionName("builder-fn").timeout(5).memorySize(256).build();
    try {
      sim.spawnRuntime([ECHO_RUNTIME]);
      const id = sim.enqueue(
        new InvocationBuilder()
          .payload({ a: 1 })
          .clientContext({ custom: { k: "v" } })
          .cognitoIdentity({ cognitoIdentityId: "id-1", cognitoIdentityPoolId: "pool-1" }),
      );
      const state = await sim.waitForInvocationComplete(id, 20_000);
      expect(state.status).toBe(InvocationStatus.Success);
      const body = JSON.parse(state.response?.body ?? "{}");
      expect(JSON.parse(body.headers["lambda-runtime-client-context"])).toEqual({ custom: { k: "v" } });
      expect(JSON.parse(body.headers["lambda-runtime-cognito-identity"])).toEqual({
        cognitoIdentityId: "id-1",
        cognitoIdentityPoolId: "pool-1",
      });
      expect(state.logs[0]).toBe(`START RequestId: ${id} Version: $LATEST`);
      expect(state.logs.at(-1)).toMatch(/^REPORT RequestId: .*\tMemory Size: 256 MB\t/);
    } finally {
      await sim.shutdown();
    }
  });

  test("await using shuts the runtime's whole process group down", async () => {
    let pid = 0;
    {
      await using sim = await Simulator.start();
      sim.spawnRuntime([ECHO_RUNTIME]);
      await sim.invoke({});
      pid = sim.runtimePid() as number;
      expect(groupMembers(pid).length).toBeGreaterThan(0);
    }
    expect(groupMembers(pid)).toEqual([]);
  });

  test("waitFor is event-driven and rejects on timeout", async () => {
    const sim = await startSimulator();
    await expect(sim.waitFor((s) => s.phase() === "Ready", 200)).rejects.toThrow(/timed out after 200 ms/);
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitFor((s) => s.phase() === "Ready", 20_000);
    expect(sim.runtimePid()).toBeGreaterThan(0);
  });

  test("runtime environment carries every variable Lambda sets, on top of PATH", async () => {
    const sim = await startSimulator({ functionName: "env-fn", environment: { MY_VAR: "x" } });
    const env = sim.runtimeEnvironment();
    expect(env.PATH).toBe(process.env.PATH as string);
    expect(env.AWS_LAMBDA_RUNTIME_API).toBe(sim.runtimeApiUrl());
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.AWS_LAMBDA_LOG_GROUP_NAME).toBe("/aws/lambda/env-fn");
    for (const key of [
      "_HANDLER",
      "LAMBDA_TASK_ROOT",
      "LAMBDA_RUNTIME_DIR",
      "AWS_LAMBDA_FUNCTION_NAME",
      "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "TZ",
      "LANG",
    ]) {
      expect(env[key]).toBeTruthy();
    }
    expect(env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe("on-demand");
    expect(env.AWS_LAMBDA_LOG_FORMAT).toBe("Text");
    expect(env.MY_VAR).toBe("x");
    expect(env.AWS_EXECUTION_ENV).toBeUndefined();
  });

  test("reserved and malformed environment variables are refused like Lambda refuses them", async () => {
    await expect(Simulator.start({ port: 0, environment: { AWS_REGION: "x" } })).rejects.toThrow(
      /reserved keys/,
    );
    await expect(Simulator.start({ port: 0, environment: { "1BAD": "x" } })).rejects.toThrow(/invalid key/);
    await expect(Simulator.start({ port: 0, memorySizeMB: 64 })).rejects.toThrow(/memorySizeMB/);
  });

  test("with the JSON log format, START and REPORT become platform.start / platform.report JSON records", async () => {
    const sim = await startSimulator({ logFormat: "JSON" });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const response = await sim.invoke({ a: 1 });
    const state = await sim.waitForInvocationComplete(response.requestId, 20_000);
    const records = state.logs.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    expect(records.map((r) => r.type)).toEqual(["platform.start", "platform.report"]);
    expect(records[0].record).toEqual({ requestId: response.requestId, version: "$LATEST" });
    const report = records[1].record;
    expect(report.status).toBe("success");
    expect(report.metrics.memorySizeMB).toBe(128);
    // Billed = duration + init rounded up to the millisecond (the JSON figures are rounded to 3 decimals).
    const spent = report.metrics.durationMs + report.metrics.initDurationMs;
    expect(report.metrics.billedDurationMs).toBeGreaterThanOrEqual(Math.floor(spent));
    expect(report.metrics.billedDurationMs).toBeLessThanOrEqual(Math.ceil(spent) + 1);
    expect(state.logs.some((line) => line.startsWith("END "))).toBe(false);
  });

  test("an invocation keeps a bounded log: the newest lines up to REPORT, never the whole output", async () => {
    const sim = await startSimulator();
    sim.spawnRuntime([join(FIXTURES, "telemetry", "runtime.ts")]);
    const response = await sim.invoke({ lines: 40_000 });
    const state = await sim.waitForInvocationComplete(response.requestId, 30_000);
    const size = state.logs.reduce((n, line) => n + line.length + 1, 0);
    expect(size).toBeLessThanOrEqual(LOG_LIMIT_BYTES);
    expect(state.logs.at(-1)).toStartWith(`REPORT RequestId: ${response.requestId}`);
    expect(state.logs).toContain("line 39999");
    expect(state.logs).not.toContain("line 0");
  });
});

describe("Simulator.start", () => {
  /** A port that nothing listens on: bound and released by a throw-away server. */
  function freePort(): number {
    const probe = Bun.serve({ port: 0, fetch: () => new Response("") });
    const port = probe.port as number;
    probe.stop(true);
    return port;
  }

  test("invalid options are refused before anything listens: the port stays free", async () => {
    const port = freePort();
    await expect(Simulator.start({ port, asyncRetry: { maximumRetryAttempts: 7 } })).rejects.toThrow(
      "MaximumRetryAttempts",
    );
    await expect(Simulator.start({ port, memorySizeMB: 1 })).rejects.toThrow("memorySizeMB");
    // Nothing was left listening on the port: a new simulator gets it.
    const sim = await startSimulator({ port });
    expect(sim.port).toBe(port);
  });

  test("a port in use is a clear error, and nothing else is left running", async () => {
    const first = await startSimulator();
    await expect(Simulator.start({ port: first.port })).rejects.toThrow(
      `port ${first.port} on 127.0.0.1 is already in use`,
    );
  });

  test("onListening runs once the port listens, before start resolves; a runtime started there is served", async () => {
    const order: string[] = [];
    const sim = await Simulator.start(
      { port: 0 },
      {
        onListening: (simulator) => {
          order.push(`listening on ${simulator.port > 0 ? "a port" : "nothing"}`);
          simulator.spawnRuntime([ECHO_RUNTIME]);
        },
      },
    );
    try {
      order.push("started");
      expect(order).toEqual(["listening on a port", "started"]);
      expect((await sim.invoke({ early: true })).json<{ echo: unknown }>().echo).toEqual({ early: true });
    } finally {
      await sim.shutdown();
    }
  });

  test("an error thrown by onListening fails start and shuts everything down", async () => {
    const port = freePort();
    await expect(
      Simulator.start(
        { port },
        {
          onListening: (simulator) => {
            simulator.spawnRuntime([ECHO_RUNTIME]);
            throw new Error("changed my mind");
          },
        },
      ),
    ).rejects.toThrow("changed my mind");
    const sim = await startSimulator({ port });
    expect(sim.port).toBe(port);
  });
});
