// Tenant isolation mode (TenancyConfig PER_TENANT): every invoke names a tenant (X-Amz-Tenant-Id),
// an execution environment serves one tenant only, the runtime gets Lambda-Runtime-Aws-Tenant-Id
// and telemetry records carry tenantId; Lambda's 400s for a missing or unexpected tenant id. Real
// runtime processes over real HTTP; the AWS SDK, the official Node RIC and the CLI as clients.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { Value } from "@sinclair/typebox/value";
import { RecordSchemas } from "../../src/core/telemetry/schemas.ts";
import {
  InvocationBuilder,
  ServiceError,
  type Simulator,
  type SimulatorOptions,
  type TelemetryEvent,
} from "../../src/index.ts";
import { cleanup, ECHO, expectUsageError, runCli, startServe } from "../cli/harness.ts";
import { ECHO_RUNTIME, FIXTURES, startSimulator } from "../helpers/fixtures.ts";
import { groupMembers } from "../helpers/processes.ts";

afterEach(cleanup);

interface Echo {
  echo: Record<string, unknown>;
  headers: Record<string, string>;
  env: { pid: number; runtimeApi: string; logStream: string };
}

const TENANT_REQUIRED =
  "The invoked function is enabled with tenancy configuration. Add a valid tenant ID in your request and try again.";
const TENANT_REFUSED =
  "The invoked function is not enabled with tenancy configuration. Remove the tenant ID from your request and try again.";

/** A tenant-isolation function with the echo runtime in every environment. */
async function isolated(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({
    tenantIsolation: true,
    maxConcurrency: 3,
    timeoutSeconds: 10,
    ...options,
  });
  sim.spawnRuntime([ECHO_RUNTIME]);
  return sim;
}

/** Invokes through the library as `tenant`. */
async function invokeAs(sim: Simulator, tenant: string, payload: object = {}) {
  const response = await sim.invoke(new InvocationBuilder().payload(payload).tenantId(tenant));
  expect(response.functionError).toBeUndefined();
  const body = response.json<Echo>();
  return {
    requestId: response.requestId,
    body,
    environmentId: sim.invocationState(response.requestId)?.environmentId,
  };
}

/** A direct Invoke API call with optional extra headers: status, headers and body. */
async function invokeHttp(sim: Simulator, headers: Record<string, string>, payload: unknown = {}) {
  const response = await fetch(`${sim.url()}/2015-03-31/functions/function/invocations`, {
    method: "POST",
    headers,
    body: JSON.stringify(payload),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Expects Lambda's 400 InvalidParameterValueException with `message`, in the Invoke API's shape. */
function expectInvalidParameter(answer: Awaited<ReturnType<typeof invokeHttp>>, message: string): void {
  expect(answer.status).toBe(400);
  expect(answer.headers.get("x-amzn-errortype")).toBe("InvalidParameterValueException");
  expect(answer.headers.get("content-type")).toBe("application/json");
  expect(answer.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  expect(JSON.parse(answer.text)).toEqual({ Type: "User", Message: message });
}

/** The error a call that must be refused failed with. */
function refusal(call: Promise<unknown>): Promise<Error> {
  return call.then(
    () => {
      throw new Error("expected the call to be refused");
    },
    (error: Error) => error,
  );
}

function sdkClient(sim: Simulator): LambdaClient {
  return new LambdaClient({
    endpoint: sim.url(),
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 1,
  });
}

describe("tenant isolation: placement", () => {
  test("blue and green never share an environment; each tenant reuses its own warm one", async () => {
    const sim = await isolated();
    const seen: Awaited<ReturnType<typeof invokeAs>>[] = [];
    for (const tenant of ["blue", "green", "blue", "green", "blue"]) seen.push(await invokeAs(sim, tenant));
    const blue = seen.filter((s) => s.body.headers["lambda-runtime-aws-tenant-id"] === "blue");
    const green = seen.filter((s) => s.body.headers["lambda-runtime-aws-tenant-id"] === "green");
    expect([blue.length, green.length]).toEqual([3, 2]);
    // Sequential invokes of one tenant stay on its one warm environment and runtime process.
    expect(new Set(blue.map((s) => s.environmentId)).size).toBe(1);
    expect(new Set(blue.map((s) => s.body.env.pid)).size).toBe(1);
    expect(new Set(green.map((s) => s.environmentId)).size).toBe(1);
    expect(blue[0]?.environmentId).not.toBe(green[0]?.environmentId);
    expect(blue[0]?.body.env.pid).not.toBe(green[0]?.body.env.pid);
    expect(blue[0]?.body.env.runtimeApi).not.toBe(green[0]?.body.env.runtimeApi);
    expect(sim.initCount()).toBe(2);

    // Concurrent invokes: blue scales out to a second environment of its own, never onto green's.
    const burst = await Promise.all([
      invokeAs(sim, "blue", { sleepMs: 400 }),
      invokeAs(sim, "blue", { sleepMs: 400 }),
      invokeAs(sim, "green", { sleepMs: 400 }),
    ]);
    const environments = sim.environments();
    expect(environments).toHaveLength(3);
    const tenantOf = new Map(environments.map((e) => [e.id, e.tenantId]));
    for (const answer of burst) {
      expect(tenantOf.get(answer.environmentId as string)).toBe(
        answer.body.headers["lambda-runtime-aws-tenant-id"],
      );
    }
    expect(environments.map((e) => e.tenantId).sort()).toEqual(["blue", "blue", "green"]);
    // The control API reports the same binding.
    const listed = (await (await fetch(`${sim.url()}/_simulator/environments`)).json()) as {
      id: string;
      tenantId: string | null;
    }[];
    expect(listed.map((e) => [e.id, e.tenantId])).toEqual(environments.map((e) => [e.id, e.tenantId]));
  });

  test("at the limit, a new tenant waits while every environment is busy for another; then an idle one is replaced (SHUTDOWN spindown)", async () => {
    const sim = await isolated({ maxConcurrency: 2 });
    const shutdowns: { environmentId: string; reason: string }[] = [];
    sim.events.on("shutdownEnd", ({ environmentId, reason }) => shutdowns.push({ environmentId, reason }));
    const dispatched: string[] = [];
    sim.events.on("invocationDispatch", (invocation) => dispatched.push(invocation.id));
    const blue = invokeAs(sim, "blue", { sleepMs: 800 });
    const green = invokeAs(sim, "green", { sleepMs: 800 });
    await sim.waitFor(() => dispatched.length === 2, 20_000);
    const redId = sim.enqueue(new InvocationBuilder().payload({ n: "red" }).tenantId("red"));
    // Both environments are bound to busy tenants and no third may exist: red waits in the queue.
    expect(sim.invocationState(redId)).toMatchObject({ status: "queued", environmentId: null });
    const [blueDone, greenDone] = await Promise.all([blue, green]);
    const red = await sim.waitForInvocationComplete(redId);
    expect(red.status).toBe("success");
    const redBody = JSON.parse(red.response?.body as string) as Echo;
    expect(redBody.headers["lambda-runtime-aws-tenant-id"]).toBe("red");
    // Red ran in a new environment, never in blue's or green's.
    expect([blueDone.environmentId, greenDone.environmentId]).not.toContain(red.environmentId);
    expect([blueDone.body.env.pid, greenDone.body.env.pid]).not.toContain(redBody.env.pid);
    // The idle environment of another tenant made room: it ran its shutdown phase with spindown.
    const retired = shutdowns.find((s) => s.environmentId !== red.environmentId);
    expect(retired?.reason).toBe("spindown");
    expect([blueDone.environmentId, greenDone.environmentId]).toContain(retired?.environmentId);
    const retiredPid =
      retired?.environmentId === blueDone.environmentId ? blueDone.body.env.pid : greenDone.body.env.pid;
    expect(groupMembers(retiredPid)).toEqual([]);
    expect(sim.environments().length).toBeLessThanOrEqual(2);
    expect(sim.environments().map((e) => e.tenantId)).toContain("red");
  });

  test("with at most one environment, each new tenant replaces the idle one; it has a Runtime API port of its own", async () => {
    const sim = await isolated({ maxConcurrency: 1 });
    const shutdowns: { environmentId: string; reason: string }[] = [];
    sim.events.on("shutdownEnd", ({ environmentId, reason }) => shutdowns.push({ environmentId, reason }));
    const blue = await invokeAs(sim, "blue");
    const green = await invokeAs(sim, "green");
    expect(green.environmentId).not.toBe(blue.environmentId);
    expect(green.body.env.pid).not.toBe(blue.body.env.pid);
    expect(shutdowns).toEqual([{ environmentId: blue.environmentId as string, reason: "spindown" }]);
    expect(groupMembers(blue.body.env.pid)).toEqual([]);
    // Not the main port: a retiring runtime's late request cannot reach its successor.
    expect(blue.body.env.runtimeApi).not.toEndWith(`:${sim.port}`);
    expect(green.body.env.runtimeApi).not.toBe(blue.body.env.runtimeApi);
    expect(sim.environments().map((e) => e.tenantId)).toEqual(["green"]);
  });

  test("with throttle the new tenant gets 429 while every environment is busy for another", async () => {
    const sim = await isolated({ maxConcurrency: 2, throttle: true });
    const dispatched: string[] = [];
    sim.events.on("invocationDispatch", (invocation) => dispatched.push(invocation.id));
    const busy = Promise.all([
      invokeAs(sim, "blue", { sleepMs: 600 }),
      invokeAs(sim, "green", { sleepMs: 600 }),
    ]);
    await sim.waitFor(() => dispatched.length === 2, 20_000);
    const refused = await invokeHttp(sim, { "X-Amz-Tenant-Id": "red" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-amzn-errortype")).toBe("TooManyRequestsException");
    expect(JSON.parse(refused.text)).toMatchObject({
      Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
    });
    // Answered is not yet idle: each environment is busy until its runtime polls again.
    for (const done of await busy) await sim.waitForInvocationComplete(done.requestId);
    // Once blue and green are idle, red is served by replacing one of them.
    const red = await invokeHttp(sim, { "X-Amz-Tenant-Id": "red" });
    expect(red.status).toBe(200);
    expect((JSON.parse(red.text) as Echo).headers["lambda-runtime-aws-tenant-id"]).toBe("red");
  });
});

describe("tenant isolation: Invoke API", () => {
  test("the AWS SDK's InvokeCommand TenantId reaches the runtime as Lambda-Runtime-Aws-Tenant-Id (sync and Event)", async () => {
    const sim = await isolated();
    const client = sdkClient(sim);
    const answer = await client.send(
      new InvokeCommand({ FunctionName: "function", TenantId: "blue", Payload: JSON.stringify({ n: 1 }) }),
    );
    expect(answer.StatusCode).toBe(200);
    const body = JSON.parse(new TextDecoder().decode(answer.Payload)) as Echo;
    expect(body.echo).toEqual({ n: 1 });
    expect(body.headers["lambda-runtime-aws-tenant-id"]).toBe("blue");
    const queued = await client.send(
      new InvokeCommand({
        FunctionName: "function",
        TenantId: "green",
        InvocationType: "Event",
        Payload: "{}",
      }),
    );
    expect(queued.StatusCode).toBe(202);
    const id = queued.$metadata.requestId as string;
    const state = await sim.waitForInvocationComplete(id);
    expect(state.status).toBe("success");
    expect(state.tenantId).toBe("green");
    expect((JSON.parse(state.response?.body as string) as Echo).headers["lambda-runtime-aws-tenant-id"]).toBe(
      "green",
    );
    expect(sim.environments().find((e) => e.id === state.environmentId)?.tenantId).toBe("green");
  });

  test("an invoke without a tenant id is refused: 400 InvalidParameterValueException, nothing runs", async () => {
    const sim = await isolated();
    expectInvalidParameter(await invokeHttp(sim, {}), TENANT_REQUIRED);
    expectInvalidParameter(await invokeHttp(sim, { "X-Amz-Tenant-Id": "" }), TENANT_REQUIRED);
    expectInvalidParameter(await invokeHttp(sim, { "X-Amz-Invocation-Type": "Event" }), TENANT_REQUIRED);
    expectInvalidParameter(await invokeHttp(sim, { "X-Amz-Invocation-Type": "DryRun" }), TENANT_REQUIRED);
    // The tenant id must satisfy the API model's TenantId shape (1-256 characters of a set).
    expectInvalidParameter(
      await invokeHttp(sim, { "X-Amz-Tenant-Id": "a|b" }),
      "1 validation error detected: Value 'a|b' at 'tenantId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9\\._:\\/=+\\-@ ]+",
    );
    const long = "t".repeat(257);
    expectInvalidParameter(
      await invokeHttp(sim, { "X-Amz-Tenant-Id": long }),
      `1 validation error detected: Value '${long}' at 'tenantId' failed to satisfy constraint: Member must have length less than or equal to 256`,
    );
    const error = await refusal(
      sdkClient(sim).send(new InvokeCommand({ FunctionName: "function", Payload: "{}" })),
    );
    expect(error.name).toBe("InvalidParameterValueException");
    expect(error.message).toBe(TENANT_REQUIRED);
    // The library refuses it the same way.
    const refused = await refusal(sim.invoke({ n: 1 }));
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({
      status: 400,
      errorType: "InvalidParameterValueException",
      message: TENANT_REQUIRED,
    });
    expect(sim.invocationStates()).toEqual([]);
    // Ids at the edge of the shape are fine, the DryRun with one too.
    expect((await invokeHttp(sim, { "X-Amz-Tenant-Id": "t".repeat(256) })).status).toBe(200);
    expect((await invokeHttp(sim, { "X-Amz-Tenant-Id": "org:a/b=c+d@e.f-g_h i" })).status).toBe(200);
    expect(
      (await invokeHttp(sim, { "X-Amz-Tenant-Id": "blue", "X-Amz-Invocation-Type": "DryRun" })).status,
    ).toBe(204);
  });

  test("a function without tenant isolation refuses a tenant id: 400 InvalidParameterValueException", async () => {
    const sim = await startSimulator();
    sim.spawnRuntime([ECHO_RUNTIME]);
    expectInvalidParameter(await invokeHttp(sim, { "X-Amz-Tenant-Id": "blue" }), TENANT_REFUSED);
    const error = await refusal(
      sdkClient(sim).send(new InvokeCommand({ FunctionName: "function", TenantId: "blue", Payload: "{}" })),
    );
    expect(error.name).toBe("InvalidParameterValueException");
    expect(error.message).toBe(TENANT_REFUSED);
    const refused = await refusal(sim.invoke(new InvocationBuilder().payload({}).tenantId("blue")));
    expect(refused).toMatchObject({
      status: 400,
      errorType: "InvalidParameterValueException",
      message: TENANT_REFUSED,
    });
    // Without a tenant id it is served as always, and the runtime sees no tenant header.
    const served = await invokeHttp(sim, {});
    expect(served.status).toBe(200);
    expect((JSON.parse(served.text) as Echo).headers["lambda-runtime-aws-tenant-id"]).toBeUndefined();
    expect(sim.environments().map((e) => e.tenantId)).toEqual([null]);
  });

  test("tenant isolation with provisioned concurrency is refused before anything starts, as Lambda refuses it", async () => {
    const error = await refusal(
      startSimulator({ tenantIsolation: true, maxConcurrency: 2, provisionedConcurrency: 1 }),
    );
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toMatch(/^provisionedConcurrency: .*tenant isolation/);
  });
});

describe("tenant isolation: telemetry", () => {
  test("platform.start, platform.runtimeDone and platform.report carry tenantId, in the exact schemas", async () => {
    const sim = await isolated({ captureTelemetry: true });
    const { requestId } = await invokeAs(sim, "blue", { n: 1 });
    await sim.waitForTelemetry("platform.report", (e) => e.record.requestId === requestId);
    const records = sim
      .getTelemetryEvents()
      .filter(
        (e): e is TelemetryEvent<"platform.start" | "platform.runtimeDone" | "platform.report"> =>
          (e.type === "platform.start" ||
            e.type === "platform.runtimeDone" ||
            e.type === "platform.report") &&
          (e.record as { requestId: string }).requestId === requestId,
      );
    expect(records.map((e) => e.type)).toEqual(["platform.start", "platform.runtimeDone", "platform.report"]);
    for (const event of records) {
      expect({ type: event.type, tenantId: event.record.tenantId }).toEqual({
        type: event.type,
        tenantId: "blue",
      });
      expect(Value.Check(RecordSchemas[event.type], event.record)).toBe(true);
    }
    // Init records belong to no invocation, so no tenant.
    const initStart = sim.getTelemetryEventsByType("platform.initStart")[0];
    expect(initStart?.record).not.toHaveProperty("tenantId");
  });

  test("with the JSON log format, the function's platform.start log line carries tenantId", async () => {
    const sim = await isolated({ logFormat: "JSON" });
    const { requestId } = await invokeAs(sim, "blue", { n: 1 });
    const state = await sim.waitForInvocationComplete(requestId, 20_000);
    const start = state.logs
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { type: string; record: Record<string, unknown> })
      .find((r) => r.type === "platform.start");
    expect(start?.record).toEqual({ requestId, version: "$LATEST", tenantId: "blue" });
  });
});

const RIC_SUPPORTED = process.platform === "linux" && process.arch === "x64";

describe("tenant isolation: clients", () => {
  test.skipIf(!RIC_SUPPORTED)(
    "the official Node RIC gives the handler context.tenantId, one environment per tenant",
    async () => {
      const taskRoot = join(FIXTURES, "node-ric");
      const sim = await startSimulator({
        tenantIsolation: true,
        maxConcurrency: 2,
        functionName: "node-ric",
        taskRoot,
        handler: "tenant.handler",
      });
      sim.spawnRuntime([join(taskRoot, "bootstrap")]);
      const response = await sim.invoke(new InvocationBuilder().payload({ n: 1 }).tenantId("blue"));
      expect(response.functionError).toBeUndefined();
      expect(response.json()).toMatchObject({ event: { n: 1 }, tenantId: "blue" });
      const other = await sim.invoke(new InvocationBuilder().payload({ n: 2 }).tenantId("green"));
      expect(other.json()).toMatchObject({ tenantId: "green" });
      expect(other.json<{ pid: number }>().pid).not.toBe(response.json<{ pid: number }>().pid);
    },
  );

  test("lambda-sim serve --tenant-isolation with lambda-sim invoke --tenant-id; no tenant id exits 2", async () => {
    const served = await startServe(["--tenant-isolation", "--max-concurrency", "2", "--", ECHO]);
    const ok = await runCli(["invoke", "--url", served.url, "--tenant-id", "blue", "--payload", '{"n":1}']);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as Echo).headers["lambda-runtime-aws-tenant-id"]).toBe("blue");
    const refused = await runCli(["invoke", "--url", served.url, "--payload", "{}"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(
      `lambda-sim: InvalidParameterValueException: ${JSON.stringify({ Type: "User", Message: TENANT_REQUIRED })}\n`,
    );
    const environments = (await (await fetch(`${served.url}/_simulator/environments`)).json()) as {
      tenantId: string | null;
    }[];
    expect(environments.map((e) => e.tenantId)).toEqual(["blue"]);
  });

  test("lambda-sim run --tenant-isolation --tenant-id runs every event as that tenant", async () => {
    const result = await runCli([
      "run",
      "--tenant-isolation",
      "--tenant-id",
      "blue",
      "--event",
      '{"n":1}',
      "--",
      ECHO,
    ]);
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as Echo;
    expect(answer.echo).toEqual({ n: 1 });
    expect(answer.headers["lambda-runtime-aws-tenant-id"]).toBe("blue");
  });

  test("the CLI refuses --tenant-isolation without a bootstrap or a tenant id, and --tenant-id without it", async () => {
    expectUsageError(
      await runCli(["serve", "--port", "0", "--tenant-isolation"]),
      /--tenant-isolation needs a bootstrap/,
    );
    expectUsageError(
      await runCli(["run", "--tenant-isolation", "--", ECHO]),
      /enabled with tenancy configuration\. Add a valid tenant ID .* \(give --tenant-id ID\)$/,
    );
    expectUsageError(
      await runCli(["run", "--tenant-id", "blue", "--", ECHO]),
      /not enabled with tenancy configuration\. .* \(--tenant-id needs --tenant-isolation\)$/,
    );
  });
});
