/**
 * The fault table (issue 14, part 2): what a buggy runtime, a crashing or stuck extension, a broken
 * telemetry subscriber, an impatient caller or a killed CI job does to the simulator. Each row is a
 * fault and the terminal outcome Lambda gives it; library rows run with and without
 * FreezeMode.Process. Every row asserts that each invocation it caused reaches a terminal status with
 * Lambda's error type, that no process of the trees it started is left 1 s after the end (and none is
 * left stopped), and, where the simulator is still up, that the next invoke works. Real processes
 * throughout; every wait is on an event (simulator, stream, listener) with a timeout, and /proc is
 * re-read only for process deaths, which nothing announces.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import {
  FreezeMode,
  InvocationStatus,
  type Simulator,
  type SimulatorOptions,
  type TelemetryEvent,
} from "../../src/index.ts";
import { cleanup, REPO_ROOT, spawnProcess, status, trackGroup } from "../cli/harness.ts";
import { AGENT, ECHO_RUNTIME, FIXTURES, RECORDER, startSimulator } from "../helpers/fixtures.ts";
import { trackPids } from "../helpers/leftovers.ts";
import { groupMembers, isAlive, isStopped } from "../helpers/processes.ts";
import { tempDir } from "../helpers/temp.ts";

afterEach(cleanup);

const FAULTS = join(FIXTURES, "faults");
const LIFECYCLE_RUNTIME = join(FIXTURES, "runtimes", "lifecycle.ts");
const FORKING_BOOTSTRAP = join(FAULTS, "forking-bootstrap.sh");
const MUTE_RUNTIME = join(FAULTS, "mute-runtime.ts");
const FORWARDER = join(FAULTS, "telemetry-forwarder.ts");
const STUCK_EXTENSION = join(FAULTS, "stuck-extension.ts");
const LIBRARY_HOST = join(FAULTS, "library-host.ts");
const BINARY = join(REPO_ROOT, "dist", "lambda-sim");
/** Statuses an invocation never leaves. */
const TERMINAL = new Set<string>([
  InvocationStatus.Success,
  InvocationStatus.Error,
  InvocationStatus.Failure,
  InvocationStatus.Timeout,
]);
/** What the table promises: no process of a finished tree is left after this long. */
const GONE_MS = 1000;

// ---- Process trees -------------------------------------------------------------------------------

/** The command line of `pid`, for a readable failure. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim().slice(0, 120);
  } catch {
    return "(gone)";
  }
}

/** Members of these process groups still alive after `GONE_MS`, with their /proc state (T = stopped). */
async function leftAfterGrace(
  pgids: Iterable<number>,
): Promise<{ pid: number; stopped: boolean; command: string }[]> {
  const groups = [...pgids];
  const until = performance.now() + GONE_MS;
  let left = groups.flatMap(groupMembers);
  // Deaths of non-children are announced by nothing: re-read /proc until the grace is over.
  while (left.length > 0 && performance.now() < until) {
    await Bun.sleep(10);
    left = groups.flatMap(groupMembers);
  }
  return left.map((pid) => ({ pid, stopped: isStopped(pid), command: commandOf(pid) }));
}

/** Asserts that nothing of these process groups is alive (or stopped) 1 s from now at the latest. */
async function expectTreesGone(pgids: Iterable<number>): Promise<void> {
  expect(await leftAfterGrace(pgids)).toEqual([]);
}

// ---- Telemetry subscriber the test controls ------------------------------------------------------

type SubscriberMode = "down" | "slow" | "failing";

/**
 * The destination of the forwarder extension's subscription, in the test process: `down` listens
 * nowhere (a port that was free), `slow` answers each batch 1.5 s late, `failing` answers 500 to the
 * first two batches and 200 after. It keeps what it was sent, by answer.
 */
function subscriber(mode: SubscriberMode) {
  const accepted: TelemetryEvent[] = [];
  const rejected: TelemetryEvent[][] = [];
  let posts = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const events = (await request.json()) as TelemetryEvent[];
      posts++;
      if (mode === "failing" && posts <= 2) {
        rejected.push(events);
        return new Response("unavailable", { status: 500 });
      }
      if (mode === "slow") await new Promise((resolve) => setTimeout(resolve, 1500));
      accepted.push(...events);
      return new Response("ok");
    },
  });
  const port = server.port as number;
  if (mode === "down") server.stop(true);
  return {
    port,
    accepted,
    rejected,
    stop: () => server.stop(true),
  };
}

/** One key per telemetry event, to find duplicates. */
const keyOf = (event: TelemetryEvent) => JSON.stringify(event);

// ---- The library table ---------------------------------------------------------------------------

/** What one row's fault left for the common checks. */
interface Faulted {
  /** The invocations the fault touched and the terminal outcome each must reach. */
  outcomes: { id: string; status: InvocationStatus; errorType?: string }[];
  /** The environment was reset: every process group from before the fault must be gone. */
  resets: boolean;
}

/** One fault: how to set it up, provoke it, and what to check beyond the common assertions. */
interface Row {
  name: string;
  options?: SimulatorOptions;
  /** Init fails before the fault: the environment is never Ready before it. */
  initFails?: boolean;
  /** Starts the function's processes (the simulator is up, nothing spawned yet). */
  setup(sim: Simulator, dir: string): Promise<void> | void;
  /** Provokes the fault; `frozen` tells whether the environment freezes between invokes. */
  fault(sim: Simulator, dir: string, frozen: boolean): Promise<Faulted>;
  /** Extra checks once the simulator is shut down. */
  after?(): Promise<void> | void;
  /** Resources to release whatever happened. */
  release?(): void;
}

/** A row's fault helper: waits until the invocation is in the runtime's hands. */
function dispatched(sim: Simulator, payload: unknown): Promise<{ id: string; answer: Promise<unknown> }> {
  const started = sim.waitForEvent("invocationDispatch", () => true, 20_000);
  const answer = sim.invoke(payload).catch((error: unknown) => error);
  return started.then((invocation) => ({ id: invocation.id, answer }));
}

/** Invokes once and returns the request id once the invocation is terminal. */
async function invokeOnce(sim: Simulator, payload: unknown): Promise<string> {
  const { requestId } = await sim.invoke(payload);
  await sim.waitForInvocationComplete(requestId, 20_000);
  return requestId;
}

/** The rows for a telemetry subscriber in `mode`: invokes never stall, records never duplicate. */
function telemetryRow(mode: SubscriberMode): Row {
  let listener: ReturnType<typeof subscriber> | undefined;
  let stats: { offered: number; delivered: number } | undefined;
  return {
    name: `telemetry subscriber ${mode === "down" ? "down" : mode === "slow" ? "answering 1.5 s late" : "answering 500"}: invokes never stall, no record duplicated`,
    setup(sim) {
      listener = subscriber(mode);
      sim.spawnExtension([FORWARDER], { env: { DEST_PORT: String(listener.port) } });
      sim.spawnRuntime([ECHO_RUNTIME]);
    },
    async fault(sim) {
      const http = listener as ReturnType<typeof subscriber>;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        ids.push(await invokeOnce(sim, { log: `invoke ${i}` }));
        // A delivery waits 1.5 s (slow) or retries (down, failing); the invocation never does.
        expect(performance.now() - started).toBeLessThan(1000);
      }
      if (mode === "failing") {
        // Lambda retries a batch the subscriber refused: its records arrive later, exactly once.
        const retried = () => {
          const have = new Set(http.accepted.map(keyOf));
          return http.rejected.length === 2 && http.rejected.flat().every((event) => have.has(keyOf(event)));
        };
        // Delivery (and so a retry) happens only while the environment is thawed, in an invoke:
        // invokes of 100 ms leave room for the retry backoff (50 ms, then 100 ms).
        for (let i = 0; i < 20 && !retried(); i++) ids.push(await invokeOnce(sim, { sleepMs: 100 }));
        expect(retried()).toBe(true);
      }
      const [subscription] = sim.telemetrySubscriptions();
      stats = subscription;
      expect(subscription?.offered).toBeGreaterThan(0);
      if (mode === "down") expect(subscription?.delivered).toBe(0);
      return { outcomes: ids.map((id) => ({ id, status: InvocationStatus.Success })), resets: false };
    },
    after() {
      const http = listener as ReturnType<typeof subscriber>;
      const keys = http.accepted.map(keyOf);
      expect(keys.length - new Set(keys).size).toBe(0);
      if (mode === "down") expect(http.accepted).toEqual([]);
      // Everything acknowledged was counted as delivered (and nothing more) up to the snapshot.
      if (mode === "failing") expect(stats?.delivered).toBeLessThanOrEqual(keys.length);
    },
    release: () => listener?.stop(),
  };
}

const rows: Row[] = [
  {
    name: "runtime SIGKILLed mid-invoke: Runtime.ExitError, the environment is reset",
    setup: (sim) => sim.spawnRuntime([ECHO_RUNTIME]),
    async fault(sim) {
      const { id } = await dispatched(sim, { sleepMs: 30_000 });
      process.kill(sim.runtimePid() as number, "SIGKILL");
      return {
        outcomes: [{ id, status: InvocationStatus.Error, errorType: "Runtime.ExitError" }],
        resets: true,
      };
    },
  },
  {
    name: "runtime SIGKILLed while idle: no invocation fails, the next invoke cold-starts",
    setup: (sim) => sim.spawnRuntime([ECHO_RUNTIME]),
    async fault(sim, _, frozen) {
      const id = await invokeOnce(sim, {});
      if (frozen) await sim.waitForFrozen(20_000);
      const pid = sim.runtimePid() as number;
      const exited = sim.waitForEvent("runtimeExit", (exit) => exit.pid === pid, 10_000);
      process.kill(pid, "SIGKILL");
      await exited;
      return { outcomes: [{ id, status: InvocationStatus.Success }], resets: true };
    },
  },
  {
    name: "runtime exits during init: Runtime.ExitError for the invoke that re-ran init, the next one re-inits",
    initFails: true,
    setup(sim, dir) {
      sim.spawnRuntime([LIFECYCLE_RUNTIME], {
        env: { FIXTURE_STATE_DIR: dir, FIXTURE_INIT_CRASHES: "2", FIXTURE_INIT_CRASH_CODE: "3" },
      });
    },
    async fault(sim) {
      // The init-phase init crashes with nobody waiting; the invoke re-runs init, which crashes too.
      const answer = await sim.invoke({ n: 1 });
      expect(answer.errorType).toBe("Runtime.ExitError");
      return {
        outcomes: [{ id: answer.requestId, status: InvocationStatus.Error, errorType: "Runtime.ExitError" }],
        resets: true,
      };
    },
  },
  {
    name: "runtime leaves an orphaned grandchild that ignores SIGTERM: it dies with the tree",
    setup(sim, dir) {
      sim.spawnExtension([RECORDER], { env: { RECORD_FILE: join(dir, "recorder.jsonl") } });
      sim.spawnRuntime([FORKING_BOOTSTRAP], { env: { GRANDCHILD_PID_FILE: join(dir, "grandchild.pid") } });
    },
    async fault(sim, dir) {
      const id = await invokeOnce(sim, {});
      const grandchild = Number(readFileSync(join(dir, "grandchild.pid"), "utf8"));
      expect(isAlive(grandchild)).toBe(true);
      // Not a child of the runtime any more, but a member of its process group.
      expect(groupMembers(sim.runtimePid() as number)).toContain(grandchild);
      return { outcomes: [{ id, status: InvocationStatus.Success }], resets: false };
    },
  },
  {
    name: "runtime closes stdout and stderr, then keeps serving",
    setup: (sim) => sim.spawnRuntime([MUTE_RUNTIME]),
    async fault(sim) {
      const ids = [await invokeOnce(sim, { n: 1 }), await invokeOnce(sim, { n: 2, sleepMs: 50 })];
      return { outcomes: ids.map((id) => ({ id, status: InvocationStatus.Success })), resets: false };
    },
  },
  {
    name: "extension crashes during an invoke: Extension.Crash, the environment is reset",
    setup(sim, dir) {
      const crashOnce = join(dir, "crash-once");
      writeFileSync(crashOnce, "");
      sim.spawnExtension([AGENT], { env: { RECORD_FILE: join(dir, "r.jsonl"), CRASH_ONCE_FILE: crashOnce } });
      sim.spawnRuntime([ECHO_RUNTIME]);
    },
    async fault(sim) {
      const answer = await sim.invoke({ sleepMs: 300 });
      expect(answer.errorType).toBe("Extension.Crash");
      return {
        outcomes: [{ id: answer.requestId, status: InvocationStatus.Error, errorType: "Extension.Crash" }],
        resets: true,
      };
    },
  },
  {
    name: "extension never polls again: the invoke times out with Sandbox.Timedout",
    options: { timeoutSeconds: 1 },
    setup(sim, dir) {
      const stuckOnce = join(dir, "stuck-once");
      writeFileSync(stuckOnce, "");
      sim.spawnExtension([STUCK_EXTENSION], { env: { STUCK_ONCE_FILE: stuckOnce } });
      sim.spawnRuntime([ECHO_RUNTIME]);
    },
    async fault(sim) {
      const answer = await sim.invoke({ stuck: true });
      return {
        outcomes: [{ id: answer.requestId, status: InvocationStatus.Timeout, errorType: "Sandbox.Timedout" }],
        resets: true,
      };
    },
  },
  telemetryRow("down"),
  telemetryRow("slow"),
  telemetryRow("failing"),
  {
    name: "caller disconnects mid-invoke: the invocation still ends, the environment serves on",
    setup: (sim) => sim.spawnRuntime([ECHO_RUNTIME]),
    async fault(sim) {
      const controller = new AbortController();
      const started = sim.waitForEvent("invocationDispatch", () => true, 20_000);
      const call = fetch(`${sim.url()}/2015-03-31/functions/function/invocations`, {
        method: "POST",
        body: JSON.stringify({ sleepMs: 300 }),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      const { id } = await started;
      controller.abort();
      expect(await call).toBeInstanceOf(Error);
      return { outcomes: [{ id, status: InvocationStatus.Success }], resets: false };
    },
  },
];

/** Whatever the row did: the next invoke after the fault answers, and everything is terminal. */
async function expectServesOn(sim: Simulator): Promise<void> {
  const next = await sim.invoke({ next: true });
  expect({ functionError: next.functionError, errorType: next.errorType }).toEqual({
    functionError: undefined,
    errorType: undefined,
  });
  expect((await sim.waitForInvocationComplete(next.requestId, 20_000)).status).toBe(InvocationStatus.Success);
}

describe.each([FreezeMode.None, FreezeMode.Process])("faults (FreezeMode.%s)", (freezeMode) => {
  test.each(rows.map((row) => [row.name, row] as const))("%s", async (_, row) => {
    const dir = tempDir("lambda-sim-faults-");
    const sim = await startSimulator({ timeoutSeconds: 20, freezeMode, echoLogs: false, ...row.options });
    const pids = trackPids(sim);
    try {
      await row.setup(sim, dir);
      if (!row.initFails) await sim.waitForExtensionsReady(20_000);
      const before = new Set(pids);
      const { outcomes, resets } = await row.fault(sim, dir, freezeMode === FreezeMode.Process);
      for (const outcome of outcomes) {
        const state = await sim.waitForInvocationComplete(outcome.id, 20_000);
        expect({ id: state.requestId, status: state.status, errorType: state.errorType }).toEqual({
          id: outcome.id,
          status: outcome.status,
          errorType: outcome.errorType,
        });
      }
      // The next invoke waits for the reset (a shutdown phase with its budget) and a new init.
      await expectServesOn(sim);
      if (resets) await expectTreesGone([...before]);
      expect(sim.invocationStates().filter((s) => !TERMINAL.has(s.status))).toEqual([]);
      await sim.shutdown();
      expect(pids.size).toBeGreaterThan(0);
      await expectTreesGone(pids);
      await row.after?.();
    } finally {
      row.release?.();
    }
  });
});

// ---- The simulator itself killed -----------------------------------------------------------------

/** A simulator process: where it listens, the process groups of its function, and its output. */
interface Host {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  pids: number[];
  /** Resolves when `pattern` shows up on stdout or stderr. */
  printed(pattern: RegExp): Promise<unknown>;
  /** Resolves when the process and its output ended. */
  finished(): Promise<void>;
}

/** Starts `command` in the repo root with its output collected (see spawnProcess). */
function spawnHost(command: string[], env: Record<string, string> = {}) {
  const host = spawnProcess(command, { env });
  return {
    ...host,
    proc: host.proc as Subprocess<"ignore", "pipe", "pipe">,
    printed: (pattern: RegExp) =>
      Promise.any([host.stdout.waitFor(pattern, 20_000), host.stderr.waitFor(pattern, 20_000)]),
    finished: async () => {
      await host.finished();
    },
  };
}

/** POSTs `payload` to the Invoke API at `url`. */
function invokeAt(url: string, payload: unknown): Promise<Response> {
  return fetch(`${url}/2015-03-31/functions/function/invocations`, {
    method: "POST",
    body: JSON.stringify(payload),
  });
}

/** `lambda-sim serve` (`cli`: source or compiled) with the echo runtime and an extension, after one invoke. */
async function serveHost(cli: string[], freeze: boolean): Promise<Host> {
  const host = spawnHost([
    ...cli,
    "serve",
    "--port",
    "0",
    ...(freeze ? ["--freeze"] : []),
    "--extension",
    RECORDER,
    "--",
    ECHO_RUNTIME,
  ]);
  const [, url = ""] = await host.stdout.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\b/, 20_000);
  const answer = await invokeAt(url, {});
  expect(answer.status).toBe(200);
  const requestId = answer.headers.get("x-amzn-requestid") as string;
  await answer.arrayBuffer();
  // The invocation is complete once its REPORT line is out; frozen right after that with --freeze.
  await host.stderr.waitFor(new RegExp(`REPORT RequestId: ${requestId}\\t`), 20_000);
  const seen = (await status(url)) as unknown as { runtimePid: number; extensions: { pid?: number }[] };
  const pids = [seen.runtimePid, ...seen.extensions.map((e) => e.pid as number)];
  for (const pid of pids) trackGroup(pid);
  return { ...host, url, pids };
}

/** A bun process using the library (test/fixtures/faults/library-host.ts), after one invoke. */
async function libraryHost(freeze: boolean): Promise<Host> {
  const host = spawnHost(["bun", LIBRARY_HOST], freeze ? { FREEZE: "1" } : {});
  const [, json] = await host.stdout.waitFor(/^ready (.+)$/m, 20_000);
  const ready = JSON.parse(json as string) as { url: string; pids: number[] };
  for (const pid of ready.pids) trackGroup(pid);
  return { ...host, url: ready.url, pids: ready.pids };
}

const hosts: { name: string; skip: boolean; start(freeze: boolean): Promise<Host> }[] = [
  { name: "lambda-sim serve", skip: false, start: (freeze) => serveHost(["bun", "src/cli/main.ts"], freeze) },
  // The compiled binary, when `bun run build` made one (skipped otherwise).
  {
    name: "compiled lambda-sim serve",
    skip: !existsSync(BINARY),
    start: (freeze) => serveHost([BINARY], freeze),
  },
  { name: "a library user", skip: false, start: (freeze) => libraryHost(freeze) },
];

const signals = ["SIGTERM", "SIGINT", "SIGKILL"] as const;
const states = ["frozen", "warm", "invoking"] as const;

describe.each(hosts)("$name killed", (host) => {
  const cases = signals.flatMap((signal) =>
    states.map((state) => [`${signal} while ${state}`, signal, state] as const),
  );
  test.skipIf(host.skip).each(cases)("%s: nothing is left", async (_, signal, state) => {
    const running = await host.start(state === "frozen");
    expect(running.pids.length).toBe(2);
    for (const pid of running.pids) expect(isStopped(pid)).toBe(state === "frozen");
    let call: Promise<Response | Error> | undefined;
    if (state === "invoking") {
      const marker = `invoking-${crypto.randomUUID()}`;
      call = invokeAt(running.url, { log: marker, sleepMs: 60_000 }).catch((error: Error) => error);
      await running.printed(new RegExp(marker));
    }
    running.proc.kill(signal);
    await running.finished();
    // serve shuts down on SIGTERM and SIGINT and exits 0; the library leaves signals to its user.
    if (signal !== "SIGKILL" && host.name !== "a library user") expect(running.proc.exitCode).toBe(0);
    else expect(running.proc.signalCode).toBe(signal);
    if (call) {
      // The caller is never left hanging: an error answer in Lambda's shape, or a closed connection.
      const outcome = await call;
      if (outcome instanceof Response) {
        expect(outcome.headers.get("x-amz-function-error")).toBe("Unhandled");
        expect(Object.keys((await outcome.json()) as object).sort()).toEqual(["errorMessage", "errorType"]);
      }
    }
    await expectTreesGone(running.pids);
  });
});
