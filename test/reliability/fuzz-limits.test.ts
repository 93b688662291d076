// Limit cases of the fuzz suite (issue 14), over raw HTTP to a real simulator with a real runtime
// (limits-runtime.ts): bodies exactly at and one byte past each size limit of the platform
// reference (sync Invoke 6,291,456 bytes, async Invoke 1,048,576, buffered /response 6,291,556),
// and JSON nested 100,000 levels deep as an invoke payload, a runtime's response and /error body, a
// function URL body and a Telemetry/Logs subscription. Each case checks the exact status and error
// shape, that an invoke still works afterwards and that the simulator logged no stack trace. The
// Invoke API is exercised on both servers that carry it: the sandbox listener of a one-environment
// simulator (src/http/invoke-routes.ts) and the Bun.serve front of a several-environment one.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Simulator } from "../../src/index.ts";
import { AGENT, startSimulator } from "../helpers/fixtures.ts";
import { tempDir } from "../helpers/temp.ts";
import {
  capturingLogger,
  deepJson,
  exchange,
  problemWith,
  type RawAnswer,
  stackTraces,
} from "./fuzz-support.ts";

const RUNTIME = join(import.meta.dir, "limits-runtime.ts");
const SYNC_LIMIT = 6_291_456;
const ASYNC_LIMIT = 1_048_576;
const RESPONSE_LIMIT = 6_291_556;
const DEPTH = 100_000;
const INVOKE_PATH = "/2015-03-31/functions/function/invocations";
// The wire name real Lambda gives (see the field reports below), not the SDK model's shape name.
const TOO_LARGE = "RequestEntityTooLargeException";

/** A JSON object of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  return `{"pad":"${"a".repeat(bytes - 10)}"}`;
}

/** One HTTP/1.1 request's bytes (latin1), with a Content-Length. */
function rawRequest(method: string, path: string, headers: Record<string, string>, body = ""): string {
  return [
    `${method} ${path} HTTP/1.1`,
    "Host: sandbox",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${Buffer.byteLength(body, "latin1")}`,
    "",
    body,
  ].join("\r\n");
}

/** A simulator under test, its Invoke API port, and what it and its runtime said. */
interface Limits {
  sim: Simulator;
  /** The port serving the Invoke API. */
  port: number;
  /** The simulator's log lines (the property: no stack trace in them). */
  lines: string[];
  /** Lines the runtime printed (`limits-runtime <what> <status> <body>`). */
  runtime: string[];
}

function portOf(url: string): number {
  return Number(new URL(url.includes("://") ? url : `http://${url}`).port);
}

/** Starts the simulator of `listener`'s kind with limits-runtime.ts (after what `before` starts). */
async function start(listener: "sandbox" | "front", before?: (sim: Simulator) => void): Promise<Limits> {
  const { logger, lines } = capturingLogger();
  const several = listener === "front";
  const sim = await startSimulator({
    functionName: "function",
    echoLogs: true,
    logger,
    httpPort: 0,
    streamBandwidthLimit: false,
    ...(several ? { maxConcurrency: 2, provisionedConcurrency: 2 } : {}),
  });
  const runtime: string[] = [];
  sim.events.on("log", ({ source, line }) => {
    if (source === "function" && line.startsWith("limits-runtime ")) runtime.push(line);
  });
  before?.(sim);
  sim.spawnRuntime([RUNTIME]);
  return { sim, port: several ? portOf(sim.url()) : sim.port, lines, runtime };
}

/** Sends an Invoke API request of `body` to the listener under test. */
function invoke(limits: Limits, body: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return exchange(
    limits.port,
    rawRequest("POST", INVOKE_PATH, { "Content-Type": "application/json", ...headers }, body),
    { timeoutMs: 20_000 },
  );
}

/** The runtime's next printed answer after the `seen` it had printed before. */
async function runtimeSaid(limits: Limits, seen: number): Promise<string> {
  await limits.sim.waitFor(() => limits.runtime.length > seen, 10_000);
  return limits.runtime[seen] as string;
}

/** A normal invoke still answers 200 through the same listener, and nothing logged a stack trace. */
async function stillWorks(limits: Limits): Promise<void> {
  const answer = await invoke(limits, '{"after":true}');
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toEqual({ bytes: 14, head: '{"after":true}' });
  expect(stackTraces(limits.lines)).toEqual([]);
}

/** The Invoke API's 413 for a payload past `limit`, exactly. */
function expectTooLarge(answer: RawAnswer, limit: number, message?: string): void {
  expect(answer.status).toBe(413);
  expect(answer.headers["x-amzn-errortype"]).toBe(TOO_LARGE);
  expect(answer.headers["content-type"]).toStartWith("application/json");
  expect(answer.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(JSON.parse(answer.body)).toEqual({
    Type: "User",
    Message: message ?? `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
  });
  expect(problemWith(answer, "invoke")).toBeUndefined();
}

describe.each(["sandbox", "front"] as const)("limits on the %s listener's Invoke API", (listener) => {
  test(`a sync payload of ${SYNC_LIMIT} bytes is invoked; ${SYNC_LIMIT + 1} is 413 ${TOO_LARGE} and never reaches the runtime`, async () => {
    const limits = await start(listener);
    const at = await invoke(limits, jsonOfSize(SYNC_LIMIT));
    expect(at.status).toBe(200);
    expect(JSON.parse(at.body)).toEqual({ bytes: SYNC_LIMIT, head: '{"pad":"aaaaaaaa' });
    const before = limits.sim.invocationStates().length;
    expectTooLarge(await invoke(limits, jsonOfSize(SYNC_LIMIT + 1)), SYNC_LIMIT);
    expect(limits.sim.invocationStates()).toHaveLength(before);
    await stillWorks(limits);
  });

  test(`an Event payload of ${ASYNC_LIMIT} bytes is 202 and runs; ${ASYNC_LIMIT + 1} is 413 ${TOO_LARGE}`, async () => {
    const limits = await start(listener);
    const at = await invoke(limits, jsonOfSize(ASYNC_LIMIT), { "X-Amz-Invocation-Type": "Event" });
    expect([at.status, at.body]).toEqual([202, ""]);
    const id = at.headers["x-amzn-requestid"] as string;
    const state = await limits.sim.waitForInvocationComplete(id, 10_000);
    expect(JSON.parse(state.response?.body as string).bytes).toBe(ASYNC_LIMIT);
    const before = limits.sim.invocationStates().length;
    expectTooLarge(
      await invoke(limits, jsonOfSize(ASYNC_LIMIT + 1), { "X-Amz-Invocation-Type": "Event" }),
      ASYNC_LIMIT,
      `${ASYNC_LIMIT + 1} byte payload is too large for the Event invocation type (limit ${ASYNC_LIMIT} bytes)`,
    );
    expect(limits.sim.invocationStates()).toHaveLength(before);
    // The sync limit is not the async one: the same body is fine synchronously.
    expect((await invoke(limits, jsonOfSize(ASYNC_LIMIT + 1))).status).toBe(200);
    await stillWorks(limits);
  });

  test(`a /response of ${RESPONSE_LIMIT} bytes reaches the caller; ${RESPONSE_LIMIT + 1} is Function.ResponseSizeTooLarge, the runtime 413`, async () => {
    const limits = await start(listener);
    const at = await invoke(limits, JSON.stringify({ respondBytes: RESPONSE_LIMIT }));
    expect(at.status).toBe(200);
    expect(at.headers["x-amz-function-error"]).toBeUndefined();
    expect(at.body.length).toBe(RESPONSE_LIMIT);
    expect(await runtimeSaid(limits, 0)).toBe('limits-runtime response 202 {"status":"OK"}');

    const over = await invoke(limits, JSON.stringify({ respondBytes: RESPONSE_LIMIT + 1 }));
    expect(over.status).toBe(200);
    expect(over.headers["x-amz-function-error"]).toBe("Unhandled");
    const error = JSON.parse(over.body) as { errorType: string; errorMessage: string };
    expect(error.errorType).toBe("Function.ResponseSizeTooLarge");
    expect(error.errorMessage).toMatch(/exceeded maximum allowed payload size \(6291556 bytes\)\.$/);
    expect(await runtimeSaid(limits, 1)).toBe(
      'limits-runtime response 413 {"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}',
    );
    await stillWorks(limits);
  });

  test(`JSON ${DEPTH} levels deep: as a payload it is invoked, as a response and an /error body it reaches the caller as sent`, async () => {
    const limits = await start(listener);
    const deep = deepJson(DEPTH);
    const payload = await invoke(limits, deep);
    expect(payload.status).toBe(200);
    expect(JSON.parse(payload.body)).toEqual({ bytes: 2 * DEPTH, head: "[".repeat(16) });

    const response = await invoke(limits, JSON.stringify({ respondDeep: DEPTH }));
    expect(response.status).toBe(200);
    expect(response.headers["x-amz-function-error"]).toBeUndefined();
    expect(response.body === deep).toBe(true);
    expect(await runtimeSaid(limits, 1)).toBe('limits-runtime response 202 {"status":"OK"}');

    const error = await invoke(limits, JSON.stringify({ errorDeep: DEPTH }));
    expect(error.status).toBe(200);
    expect(error.headers["x-amz-function-error"]).toBe("Unhandled");
    expect(error.body === deep).toBe(true);
    expect(await runtimeSaid(limits, 2)).toBe('limits-runtime error 202 {"status":"OK"}');
    await stillWorks(limits);
  });
});

// What real Lambda answers, from field reports (botocore, the Java and JS v2 SDKs, 2017-2024):
// `x-amzn-ErrorType: RequestEntityTooLargeException` (though the API reference and the SDK model
// name the shape RequestTooLargeException), and for Event "<N> byte payload is too large for the
// Event invocation type (limit <limit> bytes)".
test("field reports: the 413 is RequestEntityTooLargeException, the Event one says the payload's size", async () => {
  const limits = await start("sandbox");
  const sync = await invoke(limits, jsonOfSize(SYNC_LIMIT + 1));
  expect(sync.headers["x-amzn-errortype"]).toBe("RequestEntityTooLargeException");
  const async = await invoke(limits, jsonOfSize(ASYNC_LIMIT + 1), { "X-Amz-Invocation-Type": "Event" });
  expect(async.headers["x-amzn-errortype"]).toBe("RequestEntityTooLargeException");
  const parsed = JSON.parse(async.body) as { Message?: string; message?: string };
  expect(parsed.Message ?? parsed.message).toBe(
    `${ASYNC_LIMIT + 1} byte payload is too large for the Event invocation type (limit ${ASYNC_LIMIT} bytes)`,
  );
});

describe("deep JSON through the function URL and the subscription APIs", () => {
  test(`a function URL request body ${DEPTH} levels deep is invoked and answered`, async () => {
    const limits = await start("front");
    const port = portOf(limits.sim.functionUrl());
    const sent = await exchange(
      port,
      rawRequest("POST", "/deep", { "Content-Type": "application/json" }, deepJson(DEPTH)),
    );
    expect(sent.status).toBe(200);
    // The event carries the body as a string: the runtime got more than the body's bytes.
    expect(JSON.parse(sent.body).bytes).toBeGreaterThan(2 * DEPTH);
    await stillWorks(limits);
  });

  /** A simulator whose extension (agent.ts) holds init open, so that subscriptions are accepted. */
  async function inInit(): Promise<{ limits: Limits; id: string; endInit: () => void }> {
    const gate = join(tempDir("fuzz-limits-"), "init-may-end");
    const limits = await start("sandbox", (sim) =>
      sim.spawnExtension([AGENT], { env: { WAIT_FOR_FILE: gate } }),
    );
    await limits.sim.waitFor((s) => s.registeredExtensions().length === 1, 10_000);
    const id = limits.sim.registeredExtensions()[0]?.id as string;
    return { limits, id, endInit: () => writeFileSync(gate, "") };
  }

  const SUBSCRIPTIONS = [
    { path: "/2022-07-01/telemetry", schemaVersion: "2022-12-13", validation: "ValidationError" },
    { path: "/2020-08-15/logs", schemaVersion: "2021-03-18", validation: "Logs.ValidationError" },
  ] as const;
  const deepObject = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;
  const destination = '{"protocol":"HTTP","URI":"http://sandbox.localdomain:1/"}';

  function subscribe(limits: Limits, path: string, id: string, body: string): Promise<RawAnswer> {
    const headers = { "Lambda-Extension-Identifier": id, "Content-Type": "application/json" };
    return exchange(limits.sim.port, rawRequest("PUT", path, headers, body));
  }

  test(`Telemetry and Logs subscription bodies ${DEPTH} levels deep are 400 ValidationError; init then ends and invokes work`, async () => {
    const { limits, id, endInit } = await inInit();
    for (const { path, schemaVersion, validation } of SUBSCRIPTIONS) {
      const version = `"schemaVersion":"${schemaVersion}"`;
      const cases: [string, string][] = [
        [deepJson(DEPTH), "body: Expected object"],
        [
          deepObject,
          path.includes("logs")
            ? "/types: Expected required property"
            : "/schemaVersion: Expected required property",
        ],
        [
          `{${version},"types":${deepJson(DEPTH)},"destination":${destination}}`,
          "/types/0: Expected union value",
        ],
        [
          `{${version},"types":["platform"],"destination":${deepObject}}`,
          "/destination: Expected union value",
        ],
      ];
      for (const [body, errorMessage] of cases) {
        const answer = await subscribe(limits, path, id, body);
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.body)).toEqual({ errorMessage, errorType: validation });
        expect(problemWith(answer, "sandbox")).toBeUndefined();
      }
    }
    endInit();
    await stillWorks(limits);
  });

  // Found by this suite: a subscription that passes the schema check (unknown members are allowed)
  // with a member nested 100,000 deep made the hub's JSON.stringify throw (stack overflow), a 500
  // Lambda does not give. The 400 is what other malformed bodies get (RIE's Go decoder stops at
  // 10,000 levels; Lambda's own answer is unknown).
  test(`a valid Telemetry/Logs subscription with a member ${DEPTH} levels deep is 400 ValidationError, not 500`, async () => {
    const { limits, id, endInit } = await inInit();
    for (const { path, schemaVersion, validation } of SUBSCRIPTIONS) {
      const body = `{"schemaVersion":"${schemaVersion}","types":["platform"],"buffering":${deepObject},"destination":${destination}}`;
      const answer = await subscribe(limits, path, id, body);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).errorType).toBe(validation);
    }
    endInit();
    await stillWorks(limits);
  });

  // Found by this suite: a function URL answer {"statusCode":200,"body":<JSON 100,000 deep>} made
  // JSON.stringify throw, answered 500 ServiceException. An answer that makes no HTTP response is a
  // 502 everywhere else; what Lambda does with this one is unknown, but not a 500.
  test(`a function URL answer whose body is JSON ${DEPTH} levels deep is a 502, not a 500`, async () => {
    const limits = await start("front");
    const order = JSON.stringify({ respondDeepBody: DEPTH });
    const answer = await exchange(
      portOf(limits.sim.functionUrl()),
      rawRequest("POST", "/deep", { "Content-Type": "application/json" }, order),
    );
    expect(answer.status).toBe(502);
    expect(answer.body).toBe("Internal Server Error");
    await stillWorks(limits);
  });
});
