// The Telemetry API and the legacy Logs API over real HTTP/TCP (reference 3, 4.5, traps 3, 11-13):
// subscription answers and errors, destinations, event order across a whole lifecycle, the replay of
// init events, bulk and slow delivery, and when platform.report may arrive. Extensions are real
// processes (test/fixtures/extensions/telemetry-recorder.ts and test/fixtures/telemetry/*); where the
// test process itself plays an extension it talks to the simulator over HTTP like one.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FreezeMode, InvocationBuilder, type Simulator, type TelemetryEvent } from "../../src/index.ts";
import {
  ANNOUNCING_RECORDER,
  arrival,
  checkTrackedGone,
  delivered,
  eventProblems,
  expectAllValid,
  lifecycleClock,
  nextLog,
  RECORDER,
  type RecorderEntry,
  readRecorder,
  requestIdOf,
  scratchDir,
  startTracked,
  TELEMETRY_RUNTIME,
} from "../fixtures/telemetry/support.ts";
import { ECHO_RUNTIME } from "../helpers/fixtures.ts";

// Every simulator is shut down and none of its process groups may be left.
afterEach(checkTrackedGone);

const UUID = "3f0c8a4e-2d5b-4c8e-9a1f-6b7d8e9f0a1b";

// ---- The test process as an extension ------------------------------------------------------------

/** Registers an extension from the test process; this opens the init phase of a simulator without a runtime. */
async function registerProbe(sim: Simulator, name: string): Promise<string> {
  const response = await fetch(`${sim.url()}/2020-01-01/extension/register`, {
    method: "POST",
    headers: { "Lambda-Extension-Name": name },
    body: JSON.stringify({ events: [] }),
  });
  expect(response.status).toBe(200);
  return response.headers.get("lambda-extension-identifier") as string;
}

interface Answer {
  status: number;
  text: string;
  contentType: string | null;
}

/** PUT a subscription body (a value to serialise, or raw text) to one of the two APIs. */
async function subscribe(
  sim: Simulator,
  api: "telemetry" | "logs",
  id: string | null,
  body: unknown,
): Promise<Answer> {
  const path = api === "telemetry" ? "2022-07-01/telemetry" : "2020-08-15/logs";
  const response = await fetch(`${sim.url()}/${path}`, {
    method: "PUT",
    headers: {
      "Content-Type": "application/json",
      ...(id === null ? {} : { "Lambda-Extension-Identifier": id }),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    text: await response.text(),
    contentType: response.headers.get("content-type"),
  };
}

/** The parsed `{errorType, errorMessage}` of an error answer. */
function lambdaError(answer: Answer): { errorType: string; errorMessage: string } {
  const body = JSON.parse(answer.text) as { errorType: string; errorMessage: string };
  expect(Object.keys(body).sort()).toEqual(["errorMessage", "errorType"]);
  expect(body.errorMessage.length).toBeGreaterThan(0);
  return body;
}

function body(destination: object, overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: "2022-12-13",
    types: ["platform", "function"],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    destination,
    ...overrides,
  };
}

/** An HTTP listener in the test on 127.0.0.1 only: what was posted, by path. */
function listener() {
  const batches = new Map<string, TelemetryEvent[][]>();
  const waiters = new Map<string, () => void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const events = (await request.json()) as TelemetryEvent[];
      batches.set(path, [...(batches.get(path) ?? []), events]);
      waiters.get(path)?.();
      return new Response("ok");
    },
  });
  return {
    port: server.port as number,
    batches,
    /** Resolves when `path` got a batch (rejects after `ms`). */
    received(path: string, ms = 15_000): Promise<void> {
      if (batches.has(path)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing delivered to ${path} within ${ms} ms`)), ms);
        waiters.set(path, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    stop: () => server.stop(true),
  };
}

/** Runs `use` with a tracked simulator and a listener, stopping both afterwards whatever happens. */
async function withListener(use: (sim: Simulator, http: ReturnType<typeof listener>) => Promise<void>) {
  const sim = await startTracked();
  const http = listener();
  try {
    await use(sim, http);
  } finally {
    await sim.shutdown();
    http.stop();
  }
}

// ---- Subscription API ----------------------------------------------------------------------------

describe("PUT /2022-07-01/telemetry and /2020-08-15/logs", () => {
  test('a valid subscription answers 200 with the JSON string "OK", never 202', async () => {
    await withListener(async (sim, http) => {
      const id = await registerProbe(sim, "probe");
      const answer = await subscribe(
        sim,
        "telemetry",
        id,
        body({ protocol: "HTTP", URI: `http://sandbox:${http.port}/t` }),
      );
      expect(answer).toEqual({ status: 200, text: '"OK"', contentType: "application/json" });
      const logsId = await registerProbe(sim, "logs-probe");
      const logs = await subscribe(sim, "logs", logsId, {
        types: ["platform"],
        destination: { protocol: "HTTP", URI: `http://sandbox:${http.port}/l` },
      });
      expect(logs).toEqual({ status: 200, text: '"OK"', contentType: "application/json" });
      expect(sim.telemetrySubscriptions().map(({ name, api }) => ({ name, api }))).toEqual([
        { name: "probe", api: "telemetry" },
        { name: "logs-probe", api: "logs" },
      ]);
    });
  });

  test("invalid requests get 400 ValidationError (Telemetry API) and 400 Logs.ValidationError (Logs API)", async () => {
    const sim = await startTracked();
    const id = await registerProbe(sim, "probe");
    const destination = { protocol: "HTTP", URI: "http://sandbox.localdomain:4243/telemetry" };
    const cases: [string, unknown][] = [
      ["bad schemaVersion", body(destination, { schemaVersion: "2021-01-01" })],
      ["maxItems 10", body(destination, { buffering: { maxItems: 10 } })],
      ["maxBytes too big", body(destination, { buffering: { maxBytes: 2 * 1024 * 1024 } })],
      ["timeoutMs 10", body(destination, { buffering: { timeoutMs: 10 } })],
      ["empty types", body(destination, { types: [] })],
      ["unknown type", body(destination, { types: ["platform", "metrics"] })],
      ["missing destination", { schemaVersion: "2022-12-13", types: ["platform"] }],
      ["not JSON", "{not json"],
    ];
    const logsCases: [string, unknown][] = [
      ["bad schemaVersion", { ...body(destination), schemaVersion: "2022-12-13" }],
      ["maxItems 10", { types: ["platform"], buffering: { maxItems: 10 }, destination }],
      ["empty types", { types: [], destination }],
      ["missing destination", { types: ["platform"] }],
    ];
    const apis = [
      ["telemetry", cases, "ValidationError"],
      ["logs", logsCases, "Logs.ValidationError"],
    ] as const;
    for (const [api, apiCases, errorType] of apis) {
      for (const [what, request] of apiCases) {
        const answer = await subscribe(sim, api, id, request);
        expect({ what, status: answer.status, errorType: lambdaError(answer).errorType }).toEqual({
          what,
          status: 400,
          errorType,
        });
      }
    }
    expect(sim.telemetrySubscriptions()).toEqual([]);
  });

  test("a missing, malformed or unknown Lambda-Extension-Identifier gets 403", async () => {
    const sim = await startTracked();
    await registerProbe(sim, "probe");
    const valid = body({ protocol: "HTTP", URI: "http://sandbox:4243/t" });
    for (const api of ["telemetry", "logs"] as const) {
      const results = [];
      for (const id of [null, "not-a-uuid", UUID]) {
        const answer = await subscribe(
          sim,
          api,
          id,
          api === "logs" ? { ...valid, schemaVersion: "2021-03-18" } : valid,
        );
        results.push({ status: answer.status, errorType: lambdaError(answer).errorType });
      }
      expect({ api, results }).toEqual({
        api,
        results: [
          { status: 403, errorType: "Extension.MissingExtensionIdentifier" },
          { status: 403, errorType: "Extension.InvalidExtensionIdentifier" },
          { status: 403, errorType: "Extension.UnknownExtensionIdentifier" },
        ],
      });
    }
  });

  test("subscribing after init is refused with 403 Telemetry.SubscriptionClosed (SUBSCRIBE_LATE=1)", async () => {
    const dir = scratchDir();
    const file = join(dir, "late.jsonl");
    const sim = await startTracked();
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: file, SUBSCRIBE_LATE: "1" } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const response = await sim.invoke({});
    await sim.waitForInvocationComplete(response.requestId);
    await sim.shutdown();
    const [entries = []] = readRecorder(file);
    const subscribed = entries.find((e) => e.subscribed !== undefined) as RecorderEntry;
    expect(subscribed.subscribed).toBe(403);
    expect(JSON.parse(subscribed.body as string)).toEqual({
      errorType: "Telemetry.SubscriptionClosed",
      errorMessage: "Telemetry API subscription is closed",
    });
    expect(delivered(entries)).toEqual([]);
    expect(sim.telemetrySubscriptions()).toEqual([]);
  });

  test("a destination outside the environment is refused with a message naming the host and the reason", async () => {
    const sim = await startTracked();
    const id = await registerProbe(sim, "probe");
    for (const URI of ["http://example.com:1234/", "http://10.1.2.3:4243/telemetry"]) {
      const answer = await subscribe(sim, "telemetry", id, body({ protocol: "HTTP", URI }));
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      const error = lambdaError(answer);
      expect(error.errorType).toBe("ValidationError");
      expect(error.errorMessage).toContain(new URL(URI).hostname);
      expect(error.errorMessage).toMatch(/outside the execution environment/);
    }
    expect(sim.telemetrySubscriptions()).toEqual([]);
  });

  test("sandbox, sandbox.localdomain, localhost and 127.0.0.1 are accepted and delivered to 127.0.0.1", async () => {
    await withListener(async (sim, http) => {
      const hosts = ["sandbox", "sandbox.localdomain", "localhost", "127.0.0.1"];
      for (const host of hosts) {
        const id = await registerProbe(sim, `probe-${host}`);
        const answer = await subscribe(
          sim,
          "telemetry",
          id,
          body({ protocol: "HTTP", URI: `http://${host}:${http.port}/${host}` }),
        );
        expect({ host, status: answer.status, text: answer.text }).toEqual({
          host,
          status: 200,
          text: '"OK"',
        });
      }
      // The listener binds 127.0.0.1 only: whatever arrives was delivered there. Init events are replayed.
      await Promise.all(hosts.map((host) => http.received(`/${host}`)));
      for (const host of hosts) {
        const events = (http.batches.get(`/${host}`) ?? []).flat();
        expectAllValid(events);
        expect(events[0]?.type).toBe("platform.initStart");
      }
    });
  });

  test("port 9001 and the simulator's own port are refused as destinations", async () => {
    const sim = await startTracked();
    const id = await registerProbe(sim, "probe");
    const destinations = [
      { protocol: "HTTP", URI: "http://sandbox:9001/telemetry" },
      { protocol: "HTTP", URI: `http://sandbox.localdomain:${sim.port}/telemetry` },
      { protocol: "HTTP", URI: `http://127.0.0.1:${sim.port}/` },
      { protocol: "TCP", port: 9001 },
      { protocol: "TCP", port: sim.port },
    ];
    for (const destination of destinations) {
      const answer = await subscribe(sim, "telemetry", id, body(destination));
      const error = lambdaError(answer);
      const port = "port" in destination ? destination.port : Number(new URL(destination.URI).port);
      expect({ destination, status: answer.status, errorType: error.errorType }).toEqual({
        destination,
        status: 400,
        errorType: "ValidationError",
      });
      expect(error.errorMessage).toContain(String(port));
    }
    expect(sim.telemetrySubscriptions()).toEqual([]);
  });
});

// ---- Delivery ------------------------------------------------------------------------------------

/** A label per event carrying what the order test checks. */
function label(event: TelemetryEvent, ids: Record<string, string>): string {
  const name = (id: string | undefined) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id;
  const record = event.record as Record<string, unknown>;
  switch (event.type) {
    case "function":
    case "extension":
      return `${event.type} ${typeof event.record === "string" ? event.record : JSON.stringify(event.record)}`;
    case "platform.initStart":
      return `initStart ${record.phase}`;
    case "platform.initRuntimeDone":
    case "platform.initReport":
      return `${event.type.slice(9)} ${record.phase} ${record.status}`;
    case "platform.extension":
      return `extension ${record.name} ${record.state}`;
    case "platform.telemetrySubscription":
      return `telemetrySubscription ${record.name}`;
    case "platform.start":
      return `start ${name(requestIdOf(event))}`;
    case "platform.runtimeDone":
    case "platform.report":
      return `${event.type.slice(9)} ${name(requestIdOf(event))} ${record.status}${record.errorType ? ` ${record.errorType}` : ""}`;
    default:
      return event.type;
  }
}

/** Labels of one init's events; the subscription and the runtime's init log race (reference 3.5), so those two are sorted. */
function initLabels(labels: string[]): string[] {
  return [labels[0] as string, ...labels.slice(1, 3).sort(), ...labels.slice(3)];
}

describe("delivery", () => {
  test("the shutdown phase flushes everything buffered at once, however many batches it takes", async () => {
    const file = join(scratchDir(), "flush.jsonl");
    const sim = await startTracked();
    // timeoutMs 30 s: nothing leaves on a timer during the test. The subscriber answers nothing before SHUTDOWN,
    // so the 3,000 lines pile up behind one batch in flight: three batches are buffered when the shutdown starts.
    sim.spawnExtension([ANNOUNCING_RECORDER], {
      env: { RECORD_FILE: file, TYPES: "platform,function", STALL_UNTIL_INVOKE: "1000", TIMEOUT_MS: "30000" },
    });
    sim.spawnRuntime([TELEMETRY_RUNTIME]);
    const last = nextLog(sim, (log) => log.line === "line 2999", 60_000);
    const response = await sim.invoke({ lines: 3000 });
    await sim.waitForInvocationComplete(response.requestId);
    expect(await last).toBeDefined();
    expect(sim.telemetrySubscriptions()[0]?.delivered).toBe(0);
    await sim.shutdown();

    const [entries = []] = readRecorder(file);
    const events = delivered(entries);
    expectAllValid(events);
    const lines = events.filter((e) => e.type === "function" && /^line \d+$/.test(e.record as string));
    expect(lines.length).toBe(3000);
    // The recorder waits at most 1.5 s for the report: a tail left to a 30 s timer would never reach it.
    expect(events.at(-1)?.type).toBe("platform.report");
    expect(requestIdOf(events.at(-1) as TelemetryEvent)).toBe(response.requestId);
    expect(entries.at(-1)?.exiting).toBe(true);
  });

  const orderCases = [
    { protocol: "HTTP", freezeMode: FreezeMode.None },
    { protocol: "TCP", freezeMode: FreezeMode.None },
    { protocol: "HTTP", freezeMode: FreezeMode.Process },
  ] as const;
  for (const { protocol, freezeMode } of orderCases) {
    test(`event order for a cold start, warm invoke, error, timeout and shutdown over ${protocol} (FreezeMode.${freezeMode})`, async () => {
      const file = join(scratchDir(), "events.jsonl");
      const sim = await startTracked({ captureTelemetry: true, freezeMode });
      const clock = lifecycleClock(sim);
      sim.spawnExtension([RECORDER], { env: { RECORD_FILE: file, PROTOCOL: protocol } });
      sim.spawnRuntime([ECHO_RUNTIME]);
      const cold = await sim.invoke({});
      const warm = await sim.invoke({ log: "warm line" });
      const failed = await sim.invoke({ fail: true });
      expect(failed.errorType).toBe("Function.MyError");
      const timedOut = await sim.invoke(new InvocationBuilder().payload({ sleepMs: 2000 }).timeout(0.5));
      expect(timedOut.errorType).toBe("Sandbox.Timedout");
      const reinit = await sim.invoke({});
      await sim.waitForInvocationComplete(reinit.requestId);
      await sim.shutdown();

      const ids = {
        cold: cold.requestId,
        warm: warm.requestId,
        failed: failed.requestId,
        timedOut: timedOut.requestId,
        reinit: reinit.requestId,
      };
      const processes = readRecorder(file);
      expect(processes.length).toBe(2);
      const [first = [], second = []] = processes.map(delivered);
      for (const entries of processes) {
        expect(entries[0]?.subscribed).toBe(200);
        expect(entries[0]?.body).toBe('"OK"');
        expect(new Set(entries.flatMap((e) => (e.how ? [e.how] : [])))).toEqual(
          new Set([protocol.toLowerCase()]),
        );
      }
      expectAllValid([...first, ...second]);
      expectAllValid(sim.getTelemetryEvents());
      const ext = "telemetry-recorder.ts";
      const initOf = (phase: string) => [
        `initStart ${phase}`,
        "function init: runtime starting",
        `telemetrySubscription ${ext}`,
        `initRuntimeDone ${phase} success`,
        `extension ${ext} Ready`,
        `initReport ${phase} success`,
      ];
      expect(initLabels(first.map((e) => label(e, ids)))).toEqual([
        ...initLabels(initOf("init")),
        "start cold",
        "runtimeDone cold success",
        "report cold success",
        "start warm",
        "function warm line",
        "runtimeDone warm success",
        "report warm success",
        "start failed",
        "runtimeDone failed error Function.MyError",
        "report failed error Function.MyError",
        "start timedOut",
        "runtimeDone timedOut timeout Sandbox.Timedout",
        "report timedOut timeout Sandbox.Timedout",
      ]);
      expect(initLabels(second.map((e) => label(e, ids)))).toEqual([
        ...initLabels(initOf("invoke")),
        "start reinit",
        "runtimeDone reinit success",
        "report reinit success",
      ]);
      // The capture saw the same events, in production order.
      const captured = sim.getTelemetryEvents().map((e) => label(e, ids));
      const split = captured.lastIndexOf("initStart invoke");
      expect([...initLabels(captured.slice(0, split)), ...initLabels(captured.slice(split))]).toEqual([
        ...initLabels(first.map((e) => label(e, ids))),
        ...initLabels(second.map((e) => label(e, ids))),
      ]);
      // Only the cold invoke reports an init duration; the timeout's report reached the old subscriber at its reset.
      const reports = [...first, ...second].filter((e) => e.type === "platform.report");
      const initDurations = reports.map((e) => "initDurationMs" in (e.record as { metrics: object }).metrics);
      expect(initDurations).toEqual([true, false, false, false, true]);
      const timeoutReport = arrival(
        processes[0] as RecorderEntry[],
        (e) => e.type === "platform.report" && requestIdOf(e) === ids.timedOut,
      );
      expect(timeoutReport?.received).toBeGreaterThanOrEqual(clock.completed.get(ids.timedOut) as number);
    });
  }

  test("init events produced before the subscription are replayed to the init-time subscriber", async () => {
    const file = join(scratchDir(), "replay.jsonl");
    const sim = await startTracked({ captureTelemetry: true });
    // The recorder subscribes a second time (replacing the first) only once the runtime's init log line was
    // delivered to its first subscription: by then initStart and that line exist, so only a replay gives them.
    sim.spawnExtension([ANNOUNCING_RECORDER], {
      env: { RECORD_FILE: file, RESUBSCRIBE_AFTER: "init: runtime starting", TYPES: "platform,function" },
    });
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitForExtensionsReady();
    const response = await sim.invoke({});
    await sim.waitForInvocationComplete(response.requestId);
    await sim.shutdown();

    const [entries = []] = readRecorder(file);
    const subscriptions = entries.filter((e) => e.subscribed !== undefined);
    expect(subscriptions.map((e) => [e.subscribed, e.path])).toEqual([
      [200, "/first"],
      [200, "/telemetry"],
    ]);
    const second = entries
      .filter((e) => e.path === "/telemetry" && e.event)
      .map((e) => e.event as TelemetryEvent);
    expectAllValid(second);
    const captured = sim.getTelemetryEvents();
    const initLog = captured.findIndex((e) => e.type === "function" && e.record === "init: runtime starting");
    const subscribedAt = captured.findLastIndex((e) => e.type === "platform.telemetrySubscription");
    expect(initLog).toBeGreaterThan(0);
    expect(initLog).toBeLessThan(subscribedAt);
    expect(second[0]?.type).toBe("platform.initStart");
    expect(second[0]?.record).toMatchObject({ phase: "init" });
    expect(second.some((e) => e.type === "function" && e.record === "init: runtime starting")).toBe(true);
    // Replayed events are the very events produced then, not copies with new times.
    const replayedStart = captured.find((e) => e.type === "platform.initStart");
    expect(second[0]).toEqual(replayedStart as TelemetryEvent);
    expect(second.map((e) => e.type)).toContain("platform.initReport");
  });

  test("10,000 log lines of one invoke arrive as function records, in order, none lost, none duplicated", async () => {
    const file = join(scratchDir(), "lines.jsonl");
    const sim = await startTracked();
    sim.spawnExtension([RECORDER], {
      env: {
        RECORD_FILE: file,
        TYPES: "platform,function",
        MAX_ITEMS: "10000",
        MAX_BYTES: "1048576",
        TIMEOUT_MS: "25",
      },
    });
    sim.spawnRuntime([TELEMETRY_RUNTIME]);
    const last = nextLog(sim, (log) => log.line === "line 9999", 60_000);
    const bulk = await sim.invoke({ lines: 10_000 });
    expect(bulk.json()).toMatchObject({ ok: true, lines: 10_000 });
    expect(await last).toBeDefined();
    // A second invoke: its report is produced after every line, and the recorder waits for it at shutdown.
    const after = await sim.invoke({});
    await sim.waitForInvocationComplete(after.requestId);
    await sim.shutdown();

    const [entries = []] = readRecorder(file);
    const events = delivered(entries);
    expectAllValid(events);
    const lines = events.filter((e) => e.type === "function" && /^line \d+$/.test(e.record as string));
    const indexes = lines.map((e) => Number((e.record as string).slice(5)));
    expect(indexes.length).toBe(10_000);
    expect(indexes).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    const report = events.findIndex(
      (e) => e.type === "platform.report" && requestIdOf(e) === after.requestId,
    );
    expect(report).toBeGreaterThan(events.indexOf(lines.at(-1) as TelemetryEvent));
  });

  test("a stuck subscriber never blocks invocations and gets platform.logsDropped once it catches up", async () => {
    const file = join(scratchDir(), "slow.jsonl");
    const sim = await startTracked({ telemetryQueueLimitBytes: 300_000 });
    const clock = lifecycleClock(sim);
    sim.spawnExtension([ANNOUNCING_RECORDER], {
      env: {
        RECORD_FILE: file,
        TYPES: "platform,function",
        STALL_UNTIL_INVOKE: "2",
        HOLD_INVOKE_FOR: "platform.logsDropped",
        MAX_ITEMS: "1000",
        MAX_BYTES: "262144",
        TIMEOUT_MS: "25",
      },
    });
    sim.spawnRuntime([TELEMETRY_RUNTIME]);
    const N = 10_000;
    let deliveredAtCompletion: number | undefined;
    const off = sim.events.on("invocationComplete", () => {
      deliveredAtCompletion ??= sim.telemetrySubscriptions()[0]?.delivered;
    });
    const last = nextLog(sim, (log) => log.line === `line ${N - 1}`, 60_000);
    const flood = await sim.invoke({ lines: N });
    await sim.waitForInvocationComplete(flood.requestId);
    off();
    // The subscriber has not acknowledged a single batch, yet the invocation completed.
    expect(deliveredAtCompletion).toBe(0);
    expect(await last).toBeDefined();
    // The second INVOKE releases the subscriber; the recorder holds it until platform.logsDropped arrived.
    const catchUp = await sim.invoke({});
    const state = await sim.waitForInvocationComplete(catchUp.requestId, 45_000);
    await sim.shutdown();

    const [entries = []] = readRecorder(file);
    const events = delivered(entries);
    expectAllValid(events);
    const dropped = entries.filter((e) => e.event?.type === "platform.logsDropped");
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped[0]?.received).toBeLessThanOrEqual(clock.completed.get(catchUp.requestId) as number);
    expect(state.status).toBe("success");
    const records = dropped.map((e) => e.event?.record as { droppedRecords: number; droppedBytes: number });
    const droppedRecords = records.reduce((sum, r) => sum + r.droppedRecords, 0);
    expect(droppedRecords).toBeGreaterThan(0);
    expect(records.every((r) => r.droppedBytes > 0)).toBe(true);
    // What did arrive is in order without duplicates, and the drop count covers every missing line.
    const indexes = events
      .filter((e) => e.type === "function" && /^line \d+$/.test(e.record as string))
      .map((e) => Number((e.record as string).slice(5)));
    expect(indexes.every((value, i) => i === 0 || value > (indexes[i - 1] as number))).toBe(true);
    expect(indexes.length).toBeLessThan(N);
    expect(droppedRecords).toBeGreaterThanOrEqual(N - indexes.length);
  });

  for (const freezeMode of [FreezeMode.None, FreezeMode.Process]) {
    test(`platform.report of invoke N is delivered only after N completed and froze: during N+1, or at shutdown (FreezeMode.${freezeMode})`, async () => {
      const file = join(scratchDir(), "report.jsonl");
      const sim = await startTracked({ captureTelemetry: true, freezeMode });
      const clock = lifecycleClock(sim);
      sim.spawnExtension([ANNOUNCING_RECORDER], {
        env: { RECORD_FILE: file, ANNOUNCE: "1", TYPES: "platform" },
      });
      sim.spawnRuntime([ECHO_RUNTIME]);
      const first = await sim.invoke({});
      await sim.waitForInvocationComplete(first.requestId);
      const announced = (id: string) => (log: { source: string; line: string }) =>
        log.source === "extension" && log.line === `recorder: got platform.report ${id}`;
      // The report exists at once, but the frozen environment receives nothing: a window 20x timeoutMs stays quiet.
      expect(sim.getTelemetryEventsByType("platform.report").map(requestIdOf)).toEqual([first.requestId]);
      expect(await nextLog(sim, announced(first.requestId), 500)).toBeUndefined();
      // Thawed for N+1, the subscriber gets it. (Under FreezeMode.Process it may be stopped again before it
      // reads the batch, which then waits for the next thaw: only the file's timestamps are checked then.)
      const reportOfFirst =
        freezeMode === FreezeMode.None ? nextLog(sim, announced(first.requestId), 20_000) : undefined;
      const second = await sim.invoke({});
      if (reportOfFirst) expect(await reportOfFirst).toBeDefined();
      await sim.waitForInvocationComplete(second.requestId);
      const shutdownAt = Date.now();
      await sim.shutdown();

      const [entries = []] = readRecorder(file);
      expectAllValid(delivered(entries));
      const firstReport = arrival(
        entries,
        (e) => e.type === "platform.report" && requestIdOf(e) === first.requestId,
      );
      const secondReport = arrival(
        entries,
        (e) => e.type === "platform.report" && requestIdOf(e) === second.requestId,
      );
      expect(firstReport?.received).toBeGreaterThanOrEqual(clock.completed.get(first.requestId) as number);
      expect(firstReport?.received).toBeGreaterThanOrEqual(clock.started.get(second.requestId) as number);
      expect(secondReport?.received).toBeGreaterThanOrEqual(shutdownAt);
      // runtimeDone, unlike the report, may arrive before the invocation is over; it never arrives after its report.
      const runtimeDone = entries.findIndex(
        (e) => e.event?.type === "platform.runtimeDone" && requestIdOf(e.event) === first.requestId,
      );
      expect(runtimeDone).toBeLessThan(entries.indexOf(firstReport as RecorderEntry));
    });

    test(`WAIT_REPORT_ON_INVOKE=1: the extension gets report N while it holds INVOKE N+1 (FreezeMode.${freezeMode})`, async () => {
      const file = join(scratchDir(), "wait-report.jsonl");
      const sim = await startTracked({ freezeMode });
      const clock = lifecycleClock(sim);
      sim.spawnExtension([RECORDER], {
        env: { RECORD_FILE: file, WAIT_REPORT_ON_INVOKE: "1", TYPES: "platform" },
      });
      sim.spawnRuntime([ECHO_RUNTIME]);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await sim.invoke({ i });
        await sim.waitForInvocationComplete(response.requestId);
        ids.push(response.requestId);
      }
      const shutdownAt = Date.now();
      await sim.shutdown();

      const [entries = []] = readRecorder(file);
      expectAllValid(delivered(entries));
      const reportOf = (id: string) =>
        arrival(entries, (e) => e.type === "platform.report" && requestIdOf(e) === id);
      for (let n = 0; n < 2; n++) {
        const report = reportOf(ids[n] as string);
        const next = ids[n + 1] as string;
        const invokeNext = entries.find((e) => e.extensionEvent?.requestId === next);
        expect(invokeNext).toBeDefined();
        // Delivered after INVOKE N+1 started and before the extension let N+1 complete.
        expect(report?.received).toBeGreaterThanOrEqual(clock.started.get(next) as number);
        expect(report?.received).toBeLessThanOrEqual(clock.completed.get(next) as number);
      }
      const lastReport = reportOf(ids[2] as string);
      expect(lastReport?.received).toBeGreaterThanOrEqual(shutdownAt);
      expect(entries.at(-1)?.exiting).toBe(true);
    });
  }

  test("a legacy Logs API subscriber (LOGS_API=1) gets platform.start/end/report/logsSubscription and string function records", async () => {
    const file = join(scratchDir(), "logs-api.jsonl");
    const sim = await startTracked({ logFormat: "JSON" });
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: file, LOGS_API: "1", TYPES: "platform,function" } });
    sim.spawnRuntime([ECHO_RUNTIME]);
    // A JSON line as a runtime may write it (spaces, a float written 1.50): the Logs API gets it as written.
    const line = '{"level": "INFO", "message": "structured", "ratio": 1.50}';
    const response = await sim.invoke({ log: line });
    await sim.waitForInvocationComplete(response.requestId);
    await sim.shutdown();

    const [entries = []] = readRecorder(file);
    expect(entries[0]).toMatchObject({ subscribed: 200, body: '"OK"' });
    const events = delivered(entries);
    const types = events.map((e) => e.type as string);
    for (const type of ["platform.logsSubscription", "platform.start", "platform.end", "platform.report"]) {
      expect(types).toContain(type);
    }
    expect(types).not.toContain("platform.telemetrySubscription");
    const id = response.requestId;
    const byType = (type: string) => events.find((e) => (e.type as string) === type)?.record;
    expect(byType("platform.logsSubscription")).toEqual({
      name: "telemetry-recorder.ts",
      state: "Subscribed",
      types: ["platform", "function"],
    });
    expect(byType("platform.start")).toEqual({ requestId: id, version: "$LATEST" });
    expect(byType("platform.end")).toEqual({ requestId: id });
    expect(byType("platform.runtimeDone")).toEqual({ requestId: id, status: "success" });
    const report = byType("platform.report") as { requestId: string; metrics: Record<string, number> };
    expect(Object.keys(report).sort()).toEqual(["metrics", "requestId"]);
    expect(report.requestId).toBe(id);
    expect(report.metrics.memorySizeMB).toBe(128);
    const order = ["platform.start", "platform.end", "platform.report"].map((t) => types.indexOf(t));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Logs API records of function output are always strings, even in the JSON log format.
    const functions = events.filter((e) => e.type === "function").map((e) => e.record);
    expect(functions).toEqual(["init: runtime starting", line]);
    for (const event of events) {
      expect(typeof event.time).toBe("string");
      expect(Object.keys(event).sort()).toEqual(["record", "time", "type"]);
    }
  });

  test("GET /_simulator/telemetry?type=platform.report returns the captured reports", async () => {
    const sim = await startTracked({ captureTelemetry: true });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const ids = [(await sim.invoke({ a: 1 })).requestId, (await sim.invoke({ a: 2 })).requestId];
    await sim.waitForInvocationComplete(ids[1] as string);
    const response = await fetch(`${sim.url()}/_simulator/telemetry?type=platform.report`);
    expect(response.status).toBe(200);
    const reports = (await response.json()) as TelemetryEvent[];
    expect(reports.map((e) => e.type)).toEqual(["platform.report", "platform.report"]);
    expect(reports.map(requestIdOf)).toEqual(ids);
    expect(reports).toEqual(JSON.parse(JSON.stringify(sim.getTelemetryEventsByType("platform.report"))));
    expect(reports.flatMap(eventProblems)).toEqual([]);
    const all = (await (await fetch(`${sim.url()}/_simulator/telemetry`)).json()) as TelemetryEvent[];
    expect(all.length).toBe(sim.getTelemetryEvents().length);
    expect(all[0]?.type).toBe("platform.initStart");
  });
});
