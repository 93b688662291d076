import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvocationStatus, type Simulator, type SimulatorOptions } from "../../src/index.ts";
import { ECHO_RUNTIME, FIXTURES, INSTRUMENTED, initCount, RECORDER, records } from "../helpers/fixtures.ts";
import { endsClean, startWatched } from "../helpers/leftovers.ts";
import { tempDir as tempDirNamed } from "../helpers/temp.ts";

/** External extension written in sh + curl. */
const SHELL_EXTENSION = join(FIXTURES, "extensions", "shell-extension");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EXT = "/2020-01-01/extension";
const RT = "/2018-06-01/runtime";

/** A fresh temporary directory, removed after the test. */
const tempDir = () => tempDirNamed("lambda-sim-ext-");

/** A watched simulator with the recorder extension (writing to `recorded`) and the echo runtime. */
async function withRecorder(options: SimulatorOptions = {}) {
  const recorded = join(tempDir(), "recorder.jsonl");
  const { sim, pids } = await startWatched(options);
  sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recorded } });
  sim.spawnRuntime([ECHO_RUNTIME]);
  return { sim, pids, recorded };
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

/** One HTTP request to the simulator; fails instead of hanging. */
async function call(
  sim: Simulator,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {},
): Promise<Reply> {
  const response = await fetch(`${sim.url()}${path}`, {
    method,
    headers: init.headers,
    body: init.body,
    signal: init.signal ?? AbortSignal.timeout(10_000),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Registers `name` from the test process (an internal extension: no executable has that name). */
function register(
  sim: Simulator,
  name: string | undefined,
  body: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return call(sim, "POST", `${EXT}/register`, {
    headers: { ...(name === undefined ? {} : { "Lambda-Extension-Name": name }), ...headers },
    body,
  });
}

/** Asserts Lambda's error shape: status, JSON content type, exactly {errorMessage, errorType}. */
function expectLambdaError(reply: Reply, status: number, errorType: string, errorMessage?: string): void {
  expect({ status: reply.status, text: reply.text }).toMatchObject({ status });
  expect(reply.headers.get("content-type")).toStartWith("application/json");
  const body = JSON.parse(reply.text);
  expect(Object.keys(body).sort()).toEqual(["errorMessage", "errorType"]);
  expect(body.errorType).toBe(errorType);
  expect(typeof body.errorMessage).toBe("string");
  if (errorMessage !== undefined) expect(body.errorMessage).toBe(errorMessage);
}

/** Starts the instrumented runtime held before its first /next until `openGate` is called. */
async function gatedRuntime(sim: Simulator, env: Record<string, string> = {}) {
  const gate = join(tempDir(), "gate");
  const waiting = sim.waitForEvent("log", (p) => (p as { line?: string }).line === "gate: waiting", 20_000);
  sim.spawnRuntime([INSTRUMENTED], { env: { GATE_FILE: gate, ...env } });
  await waiting;
  return { openGate: () => writeFileSync(gate, "") };
}

/** An internal extension played by the test: `event/next` calls that stay pending until aborted. */
function pendingNext(sim: Simulator, id: string, aborts: AbortController[]): Promise<Response> {
  const abort = new AbortController();
  aborts.push(abort);
  return fetch(`${sim.url()}${EXT}/event/next`, {
    headers: { "Lambda-Extension-Identifier": id },
    signal: abort.signal,
  }).catch(() => new Response(null, { status: 499 }));
}

/** Invokes `event`, which fails with `errorType`; the reset then sends the recorder SHUTDOWN with `reason`. */
async function expectShutdownReason(
  options: SimulatorOptions,
  event: Record<string, unknown>,
  errorType: string,
  reason: string,
): Promise<void> {
  const { sim, pids, recorded } = await withRecorder(options);
  await sim.waitForExtensionsReady(20_000);
  const reset = sim.waitForEvent("shutdownEnd", (p) => (p as { reason?: string }).reason === reason, 20_000);
  const response = await sim.invoke(event);
  expect(response.errorType).toBe(errorType);
  await reset;
  const shutdowns = records(recorded).filter((r) => r.event?.eventType === "SHUTDOWN");
  expect(shutdowns.map((r) => r.event.shutdownReason)).toEqual([reason]);
  await endsClean(sim, pids);
}

describe("Extensions API: registration", () => {
  test("register answers 200, a UUID identifier and the function's details; accountId only on request", async () => {
    const dir = tempDir();
    const recorded = join(dir, "recorder.jsonl");
    const { sim, pids } = await startWatched({
      functionName: "orders",
      handler: "app.handler",
      accountId: "111122223333",
    });
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recorded } });
    const { openGate } = await gatedRuntime(sim);
    const details = { functionName: "orders", functionVersion: "$LATEST", handler: "app.handler" };

    const aborts: AbortController[] = [];
    const plain = await register(sim, "plain-agent", JSON.stringify({ events: [] }));
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toStartWith("application/json");
    const plainId = plain.headers.get("lambda-extension-identifier") as string;
    expect(plainId).toMatch(UUID);
    expect(JSON.parse(plain.text)).toEqual(details);

    const withAccount = await register(sim, "account-agent", JSON.stringify({ events: ["INVOKE"] }), {
      "Lambda-Extension-Accept-Feature": "accountId",
    });
    expect(withAccount.status).toBe(200);
    const accountId = withAccount.headers.get("lambda-extension-identifier") as string;
    expect(accountId).toMatch(UUID);
    expect(accountId).not.toBe(plainId);
    expect(JSON.parse(withAccount.text)).toEqual({ ...details, accountId: "111122223333" });

    const otherFeature = await register(sim, "feature-agent", "", {
      "Lambda-Extension-Accept-Feature": "somethingElse",
    });
    expect(otherFeature.status).toBe(200);
    expect(JSON.parse(otherFeature.text)).toEqual(details);
    const otherId = otherFeature.headers.get("lambda-extension-identifier") as string;

    // Init completes once the runtime and all four extensions called next.
    for (const id of [plainId, accountId, otherId]) void pendingNext(sim, id, aborts);
    openGate();
    await sim.waitForExtensionsReady(20_000);

    const [registration] = records(recorded).filter((r) => "registered" in r);
    expect(registration.registered).toBe(200);
    expect(registration.id).toMatch(UUID);
    expect(registration.body).toEqual({ ...details, accountId: "111122223333" });

    const registry = sim.registeredExtensions();
    expect(registry.map((e) => [e.name, e.external, e.events])).toEqual([
      ["recorder.ts", true, ["INVOKE", "SHUTDOWN"]],
      ["plain-agent", false, []],
      ["account-agent", false, ["INVOKE"]],
      ["feature-agent", false, []],
    ]);
    expect(registry[0]?.id).toBe(registration.id);
    expect(registry[0]?.pid).toBeGreaterThan(0);
    expect(registry[1]?.id).toBe(plainId);
    expect(registry[1]?.pid).toBeUndefined();
    expect(sim.extensionCount()).toBe(4);

    for (const abort of aborts) abort.abort();
    await endsClean(sim, pids);
  });

  test("bad registrations get 403 with Lambda's exact errors; registration closes at the runtime's first /next", async () => {
    const { sim, pids } = await startWatched();
    const { openGate } = await gatedRuntime(sim);

    const events = (list: unknown) => JSON.stringify({ events: list });
    expectLambdaError(
      await register(sim, undefined, events(["INVOKE"])),
      403,
      "Extension.InvalidExtensionName",
      "Empty extension name",
    );
    expectLambdaError(
      await register(sim, "", events(["INVOKE"])),
      403,
      "Extension.InvalidExtensionName",
      "Empty extension name",
    );
    let decoderMessage = "";
    try {
      JSON.parse("{not json");
    } catch (error) {
      decoderMessage = (error as Error).message;
    }
    expectLambdaError(
      await register(sim, "bad-json", "{not json"),
      403,
      "InvalidRequestFormat",
      decoderMessage,
    );
    expectLambdaError(
      await register(sim, "old-style", JSON.stringify({ events: [], configurationKeys: ["k"] })),
      403,
      "InvalidRequestFormat",
      "configurationKeys are deprecated; use environment variables instead",
    );
    expectLambdaError(
      await register(sim, "foo-agent", events(["INVOKE", "FOO"])),
      403,
      "Extension.InvalidEventType",
      "FOO: ErrorInvalidEventType",
    );
    expectLambdaError(
      await register(sim, "internal-agent", events(["INVOKE", "SHUTDOWN"])),
      403,
      "Extension.InvalidEventType",
      "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
    );
    expect(sim.extensionCount()).toBe(0);

    const first = await register(sim, "dup-agent", events([]));
    expect(first.status).toBe(200);
    expectLambdaError(
      await register(sim, "dup-agent", events([])),
      403,
      "Extension.InvalidExtensionState",
      "Extension with this name already registered",
    );
    expect(sim.registeredExtensions().map((e) => e.name)).toEqual(["dup-agent"]);

    const aborts: AbortController[] = [];
    void pendingNext(sim, first.headers.get("lambda-extension-identifier") as string, aborts);
    openGate();
    await sim.waitForExtensionsReady(20_000);
    expectLambdaError(
      await register(sim, "late-agent", events(["INVOKE"])),
      403,
      "Extension.RegistrationClosed",
      "Extension registration closed already",
    );
    expect(sim.extensionCount()).toBe(1);
    expect((await sim.invoke({ ok: 1 })).functionError).toBeUndefined();

    for (const abort of aborts) abort.abort();
    await endsClean(sim, pids);
  });

  test("the 11th extension is refused with Extension.TooManyExtensions; the 10 registered ones work", async () => {
    const dir = tempDir();
    const runtimeRecord = join(dir, "runtime.jsonl");
    const { sim, pids } = await startWatched();
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: join(dir, "recorder.jsonl") } });
    const names = Array.from({ length: 10 }, (_, i) => `internal-${i + 1}`);
    sim.spawnRuntime([INSTRUMENTED], {
      env: { RECORD_FILE: runtimeRecord, INTERNAL_EXTENSIONS: names.join(",") },
    });
    await sim.waitForExtensionsReady(30_000);

    const results = records(runtimeRecord).filter((r) => "internal" in r);
    expect(results.map((r) => [r.internal, r.status])).toEqual([
      ...names.slice(0, 9).map((name) => [name, 200]),
      ["internal-10", 403],
    ]);
    expect(results[9].id).toBeNull();
    expect(results[9].body).toEqual({
      errorMessage: "Extension limit (10) reached",
      errorType: "Extension.TooManyExtensions",
    });
    const registry = sim.registeredExtensions();
    expect(registry).toHaveLength(10);
    expect(registry.filter((e) => e.external).map((e) => e.name)).toEqual(["recorder.ts"]);
    expect(sim.extensionCount()).toBe(10);

    // All ten are INVOKE subscribers: the invocation completes only when each re-polled.
    const response = await sim.invoke({ n: 1 });
    const state = await sim.waitForInvocationComplete(response.requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    const invokes = records(runtimeRecord).filter((r) => r.internalEvent && r.event.eventType === "INVOKE");
    expect(invokes.map((r) => r.internalEvent).sort()).toEqual(names.slice(0, 9).sort());

    await endsClean(sim, pids);
  });
});

describe("Extensions API: identifiers and error reports", () => {
  test("event/next, init/error and exit/error refuse missing, malformed and unknown identifiers with 403", async () => {
    const { sim, pids, recorded } = await withRecorder();
    await sim.waitForExtensionsReady(20_000);
    const validId = records(recorded).find((r) => "registered" in r)?.id as string;
    expect(validId).toMatch(UUID);
    const unknown = crypto.randomUUID();

    const next = (headers: Record<string, string>) => call(sim, "GET", `${EXT}/event/next`, { headers });
    expectLambdaError(
      await next({}),
      403,
      "Extension.MissingExtensionIdentifier",
      "Missing Lambda-Extension-Identifier header",
    );
    expectLambdaError(
      await next({ "Lambda-Extension-Identifier": "not-a-uuid" }),
      403,
      "Extension.InvalidExtensionIdentifier",
      "Invalid Lambda-Extension-Identifier",
    );
    expectLambdaError(
      await next({ "Lambda-Extension-Identifier": unknown }),
      403,
      "Extension.UnknownExtensionIdentifier",
      `Unknown extension ${unknown}`,
    );

    for (const kind of ["init", "exit"]) {
      const post = (headers: Record<string, string>) =>
        call(sim, "POST", `${EXT}/${kind}/error`, {
          headers,
          body: JSON.stringify({ errorType: "Extension.X", errorMessage: "x" }),
        });
      const errorTypeHeader = { "Lambda-Extension-Function-Error-Type": "Extension.X" };
      expectLambdaError(
        await post(errorTypeHeader),
        403,
        "Extension.MissingExtensionIdentifier",
        "Missing Lambda-Extension-Identifier header",
      );
      expectLambdaError(
        await post({ ...errorTypeHeader, "Lambda-Extension-Identifier": "12345" }),
        403,
        "Extension.InvalidExtensionIdentifier",
        "Invalid Lambda-Extension-Identifier",
      );
      expectLambdaError(
        await post({ ...errorTypeHeader, "Lambda-Extension-Identifier": unknown }),
        403,
        "Extension.UnknownExtensionIdentifier",
        "Unknown Lambda-Extension-Identifier",
      );
      // The identifier is a UUID: an upper-case spelling names the same extension.
      for (const id of [validId, validId.toUpperCase()]) {
        expectLambdaError(
          await post({ "Lambda-Extension-Identifier": id }),
          403,
          "Extension.MissingHeader",
          "Lambda-Extension-Function-Error-Type not found",
        );
      }
    }

    // None of it disturbed the registered extension or the environment.
    expect(sim.registeredExtensions()[0]?.state).toBe("Ready");
    const response = await sim.invoke({ after: "errors" });
    expect(response.functionError).toBeUndefined();
    expect(initCount(sim)).toBe(1);
    await endsClean(sim, pids);
  });
});

describe("Extensions API: events", () => {
  test("INVOKE carries deadlineMs, requestId, invokedFunctionArn and tracing, never the payload", async () => {
    const { sim, pids, recorded } = await withRecorder({
      functionName: "orders",
      region: "eu-west-1",
      accountId: "111122223333",
    });
    const response = await sim.invoke({ secret: "payload-must-not-leak" });
    await sim.waitForInvocationComplete(response.requestId, 20_000);
    const runtimeHeaders = response.json<{ headers: Record<string, string> }>().headers;

    const [entry] = records(recorded).filter((r) => r.event?.eventType === "INVOKE");
    const event = entry.event;
    expect(Object.keys(event).sort()).toEqual([
      "deadlineMs",
      "eventType",
      "invokedFunctionArn",
      "requestId",
      "tracing",
    ]);
    expect(typeof event.deadlineMs).toBe("number");
    expect(event.deadlineMs).toBe(Number(runtimeHeaders["lambda-runtime-deadline-ms"]));
    expect(event.deadlineMs).toBe(sim.invocationState(response.requestId)?.deadlineMs as number);
    expect(event.requestId).toBe(response.requestId);
    expect(event.invokedFunctionArn).toBe("arn:aws:lambda:eu-west-1:111122223333:function:orders");
    expect(event.tracing).toEqual({
      type: "X-Amzn-Trace-Id",
      value: runtimeHeaders["lambda-runtime-trace-id"] as string,
    });
    expect(event.tracing.value).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    expect(entry.eventId).toMatch(UUID);
    expect(entry.eventId).not.toBe(response.requestId);
    expect(readFileSync(recorded, "utf8")).not.toContain("payload-must-not-leak");
    await endsClean(sim, pids);
  });

  test("SHUTDOWN on shutdown() is {eventType, shutdownReason: spindown, deadlineMs} with the 2,000 ms budget", async () => {
    const { sim, pids, recorded } = await withRecorder();
    await sim.invoke({});
    const before = Date.now();
    await sim.shutdown();
    const after = Date.now();

    const shutdowns = records(recorded).filter((r) => r.event?.eventType === "SHUTDOWN");
    expect(shutdowns).toHaveLength(1);
    const event = shutdowns[0].event;
    expect(Object.keys(event).sort()).toEqual(["deadlineMs", "eventType", "shutdownReason"]);
    expect(event.shutdownReason).toBe("spindown");
    expect(event.deadlineMs).toBeGreaterThanOrEqual(before + 2000);
    expect(event.deadlineMs).toBeLessThanOrEqual(after + 2000);
    expect(shutdowns[0].eventId).toMatch(UUID);
    // The recorder exits on SHUTDOWN by itself.
    expect(records(recorded).some((r) => r.exiting)).toBe(true);
    await endsClean(sim, pids);
  });

  test("SHUTDOWN reason is timeout after an invocation timed out", async () => {
    await expectShutdownReason({ timeoutSeconds: 1 }, { sleepMs: 10_000 }, "Sandbox.Timedout", "timeout");
  });

  test("SHUTDOWN reason is failure after the runtime crashed", async () => {
    await expectShutdownReason({}, { exit: 3 }, "Runtime.ExitError", "failure");
  });
});

describe("Extensions API: kinds of extensions", () => {
  test("an internal extension registered from inside the runtime process takes part in every invoke", async () => {
    const dir = tempDir();
    const runtimeRecord = join(dir, "runtime.jsonl");
    const { sim, pids } = await startWatched();
    sim.spawnRuntime([INSTRUMENTED], {
      env: { RECORD_FILE: runtimeRecord, INTERNAL_EXTENSIONS: "internal-agent" },
    });
    await sim.waitForExtensionsReady(20_000);
    const [registration] = records(runtimeRecord).filter((r) => r.internal === "internal-agent");
    expect(registration.status).toBe(200);

    const [info] = sim.registeredExtensions();
    expect(sim.registeredExtensions()).toHaveLength(1);
    expect(info).toMatchObject({
      name: "internal-agent",
      id: registration.id,
      events: ["INVOKE"],
      external: false,
    });
    expect(info?.pid).toBeUndefined();

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await sim.invoke({ i });
      expect(response.functionError).toBeUndefined();
      // Answered by the process that also hosts the extension.
      expect(response.json<{ env: { pid: number } }>().env.pid).toBe(sim.runtimePid() as number);
      const state = await sim.waitForInvocationComplete(response.requestId, 20_000);
      expect(state.status).toBe(InvocationStatus.Success);
      ids.push(response.requestId);
    }
    const seen = records(runtimeRecord)
      .filter((r) => r.internalEvent === "internal-agent")
      .map((r) => [r.status, r.event.eventType, r.event.requestId]);
    expect(seen).toEqual(ids.map((id) => [200, "INVOKE", id]));
    await endsClean(sim, pids);
  });

  test("a sh + curl extension registers, follows every INVOKE and exits on SHUTDOWN", async () => {
    const { sim, pids } = await startWatched();
    const lines: string[] = [];
    sim.events.on("log", (p) => {
      if (p.source === "extension" && p.extension === "shell-extension") lines.push(p.line);
    });
    const exits: { code: number | null; signal: string | null }[] = [];
    sim.events.on("extensionExit", ({ name, code, signal }) => {
      if (name === "shell-extension") exits.push({ code, signal });
    });
    sim.spawnExtension([SHELL_EXTENSION]);
    sim.spawnRuntime([ECHO_RUNTIME]);

    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await sim.invoke({ i });
      expect(response.json<{ echo: unknown }>().echo).toEqual({ i });
      const state = await sim.waitForInvocationComplete(response.requestId, 20_000);
      expect(state.status).toBe(InvocationStatus.Success);
      ids.push(response.requestId);
    }
    const [info] = sim.registeredExtensions();
    expect(info).toMatchObject({ name: "shell-extension", external: true, events: ["INVOKE", "SHUTDOWN"] });
    expect(lines[0]).toBe(`shell-extension registered ${info?.id}`);
    const invokes = lines.filter((l) => l.includes('"eventType":"INVOKE"'));
    expect(invokes).toHaveLength(2);
    ids.forEach((id, i) => {
      expect(invokes[i]).toContain(`"requestId":"${id}"`);
    });

    const started = performance.now();
    await sim.shutdown();
    // It left on its own after SHUTDOWN, well before the 2,000 ms budget would have it killed.
    expect(performance.now() - started).toBeLessThan(1900);
    expect(exits).toEqual([{ code: 0, signal: null }]);
    expect(
      lines.some((l) => l.includes('"eventType":"SHUTDOWN"') && l.includes('"shutdownReason":"spindown"')),
    ).toBe(true);
    expect(lines.at(-1)).toBe("shell-extension exiting");
    await endsClean(sim, pids);
  });
});

describe("Robustness", () => {
  test("a burst of malformed requests between two invokes gets Lambda's errors, never a 500 or a hang", async () => {
    const { sim, pids, recorded } = await withRecorder();
    const first = await sim.invoke({ n: 1 });
    await sim.waitForInvocationComplete(first.requestId, 20_000);
    const runtimePid = first.json<{ env: { pid: number } }>().env.pid;
    const extensionPid = sim.registeredExtensions()[0]?.pid;
    const validId = records(recorded).find((r) => "registered" in r)?.id as string;
    const unknown = crypto.randomUUID();
    const json = { "Content-Type": "application/json" };

    type Expectation = [status: number, errorType?: string];
    const burst: [string, string, { headers?: Record<string, string>; body?: string }, Expectation][] = [
      // Runtime API
      [
        "POST",
        `${RT}/invocation/${first.requestId}/response`,
        { headers: json, body: "{}" },
        [400, "InvalidRequestID"],
      ],
      [
        "POST",
        `${RT}/invocation/${unknown}/response`,
        { headers: json, body: "{bad json" },
        [400, "InvalidRequestID"],
      ],
      ["POST", `${RT}/invocation/not-an-id/error`, { body: "not json at all" }, [400, "InvalidRequestID"]],
      [
        "POST",
        `${RT}/invocation/${unknown}/error`,
        { headers: { "Lambda-Runtime-Function-Error-Type": "" } },
        [400, "InvalidRequestID"],
      ],
      [
        "POST",
        `${RT}/invocation/${unknown}/response`,
        { headers: { "Lambda-Runtime-Function-Response-Mode": "bogus" }, body: "{}" },
        [400, "InvalidFunctionResponseMode"],
      ],
      ["POST", `${RT}/init/error`, { headers: json, body: "{bad" }, [403, "InvalidStateTransition"]],
      ["POST", `${RT}/invocation/next`, {}, [405]],
      ["PUT", `${RT}/invocation/${unknown}/response`, { body: "{}" }, [405]],
      ["GET", `${RT}/invocation/${unknown}/error`, {}, [405]],
      ["DELETE", `${RT}/init/error`, {}, [405]],
      ["GET", `${RT}/invocation/`, {}, [404]],
      ["GET", `${RT}/nope`, {}, [404]],
      ["POST", "/2018-06-01/runtime", { body: "{}" }, [404]],
      // Extensions API
      [
        "POST",
        `${EXT}/register`,
        { body: JSON.stringify({ events: ["INVOKE"] }) },
        [403, "Extension.InvalidExtensionName"],
      ],
      [
        "POST",
        `${EXT}/register`,
        { headers: { "Lambda-Extension-Name": "x" }, body: "{" },
        [403, "InvalidRequestFormat"],
      ],
      [
        "POST",
        `${EXT}/register`,
        { headers: { "Lambda-Extension-Name": "x" }, body: "[1,2]" },
        [403, "InvalidRequestFormat"],
      ],
      [
        "POST",
        `${EXT}/register`,
        { headers: { "Lambda-Extension-Name": "x" }, body: JSON.stringify({ events: "INVOKE" }) },
        [403, "InvalidRequestFormat"],
      ],
      [
        "POST",
        `${EXT}/register`,
        { headers: { "Lambda-Extension-Name": "late" }, body: JSON.stringify({ events: ["INVOKE"] }) },
        [403, "Extension.RegistrationClosed"],
      ],
      [
        "POST",
        `${EXT}/register`,
        { headers: { "Lambda-Extension-Name": "recorder.ts" }, body: JSON.stringify({ events: [] }) },
        [403, "Extension.RegistrationClosed"],
      ],
      ["GET", `${EXT}/register`, {}, [405]],
      ["GET", `${EXT}/event/next`, {}, [403, "Extension.MissingExtensionIdentifier"]],
      [
        "GET",
        `${EXT}/event/next`,
        { headers: { "Lambda-Extension-Identifier": "zzz" } },
        [403, "Extension.InvalidExtensionIdentifier"],
      ],
      [
        "GET",
        `${EXT}/event/next`,
        { headers: { "Lambda-Extension-Identifier": unknown.toUpperCase() } },
        [403, "Extension.UnknownExtensionIdentifier"],
      ],
      ["POST", `${EXT}/event/next`, { headers: { "Lambda-Extension-Identifier": validId } }, [405]],
      ["POST", `${EXT}/init/error`, { body: "{" }, [403, "Extension.MissingExtensionIdentifier"]],
      [
        "POST",
        `${EXT}/exit/error`,
        {
          headers: { "Lambda-Extension-Identifier": unknown, "Lambda-Extension-Function-Error-Type": "E.x" },
        },
        [403, "Extension.UnknownExtensionIdentifier"],
      ],
      [
        "POST",
        `${EXT}/exit/error`,
        { headers: { "Lambda-Extension-Identifier": validId }, body: "{bad" },
        [403, "Extension.MissingHeader"],
      ],
      ["GET", `${EXT}/init/error`, {}, [405]],
      ["PATCH", `${EXT}/exit/error`, {}, [405]],
      ["GET", `${EXT}/event`, {}, [404]],
      ["POST", `${EXT}/nope`, { body: "{}" }, [404]],
      ["GET", "/2020-01-01/nothing/here", {}, [404]],
    ];
    expect(burst.length).toBeGreaterThanOrEqual(30);

    const replies = await Promise.all(burst.map(([method, path, init]) => call(sim, method, path, init)));
    replies.forEach((reply, i) => {
      const [method, path, , [status, errorType]] = burst[i] as (typeof burst)[number];
      const where = `${method} ${path}`;
      expect({ where, status: reply.status }).toEqual({ where, status });
      if (errorType) expectLambdaError(reply, status, errorType);
      else expect(reply.headers.get("content-type")).toStartWith("text/plain");
    });

    // State is consistent: same processes, same init, next invoke fine and complete.
    expect(sim.phase()).toBe("Ready");
    const second = await sim.invoke({ n: 2 });
    expect(second.json<{ echo: unknown }>().echo).toEqual({ n: 2 });
    expect(second.json<{ env: { pid: number } }>().env.pid).toBe(runtimePid);
    const state = await sim.waitForInvocationComplete(second.requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(sim.registeredExtensions()[0]?.pid).toBe(extensionPid as number);
    expect(initCount(sim)).toBe(1);
    const invokes = records(recorded).filter((r) => r.event?.eventType === "INVOKE");
    expect(invokes.map((r) => r.event.requestId)).toEqual([first.requestId, second.requestId]);
    await endsClean(sim, pids);
  });
});
