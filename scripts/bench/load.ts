#!/usr/bin/env bun
/**
 * Load (issue 14, part 3): many concurrent callers against one function, each sending a fixed number
 * of invokes through the Invoke API over HTTP (keep-alive), so "none lost" is an exact count. The
 * runtime (load-runtime.ts) answers at once: what is measured is the simulator's queueing and dispatch.
 *
 * The callers run in a child process (this file with --callers-child): Bun's fetch keeps at most 256
 * requests in flight per process unless BUN_CONFIG_MAX_HTTP_REQUESTS is set when that process starts,
 * and 512 callers need more. It also keeps the callers' CPU off the simulator's thread, as real
 * callers' would be; both processes' CPU use is reported, since on 2 cores the callers may be the limit.
 *
 * Order: each payload carries a sequence number taken at send time, but requests on different
 * connections can reach the server in another order than they were sent. So FIFO is checked against
 * the order the simulator received them: the first `invocationQueued` of each invocation on the bus,
 * emitted when it enters the function's queue. Each environment's `invocationStart`s must follow
 * that order, and so must the events its runtime received, as the runtime itself counts them (it
 * echoes its pid and how many events it had seen), which checks the bus against the processes.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Simulator } from "../../src/index.ts";
import { track } from "./children.ts";
import { INVOKE_PATH, invokeOnce } from "./invoke-load.ts";
import { progress } from "./progress.ts";
import { executable, stillRunning } from "./sim-children.ts";
import { percentile, round } from "./stats.ts";

const loadRuntime = resolve(import.meta.dir, "load-runtime.ts");
/** An invoke with no answer after this long counts as lost (the bench goes on). */
const LOST_AFTER_MS = 30_000;
/** Warm-up rounds allowed for the environments to reach maxConcurrency. */
const MAX_WARMUP_ROUNDS = 20;
/** Above this share of one core the callers' process, not the simulator, is likely the limit. */
const CLIENT_BOUND_CORES = 0.9;
/** The callers' process prints these lines around its timed phase, then its report. */
const TIMED_START = "timed-start";
const TIMED_END = "timed-end";
/** How long the last invocations may take to complete after their callers have their answers. */
const COMPLETE_WAIT_MS = 5000;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux whatever the kernel's HZ). */
const USER_HZ = 100;

/** One load case as bench.ts asks for it. */
export interface LoadCaseSpec {
  maxConcurrency: number;
  callers: number;
}

/** What one load case measured; `pass` = all answered, none lost or errored, order kept. */
export interface LoadCase extends LoadCaseSpec {
  /** Environments when the timed phase started (must be maxConcurrency). */
  environments: number;
  invokesPerCaller: number;
  /** Timed invokes sent, and how each ended at its caller. */
  sent: number;
  answered: number;
  /** Answered, but not 200 with this invoke's own stamp echoed (wrong answer, function error, 4xx/5xx). */
  errored: number;
  /** No answer at all: a connection dropped or nothing within LOST_AFTER_MS. */
  lost: number;
  /** Invocations the simulator received during the case (warm-up invokes of the callers included). */
  received: number;
  /** Fewest and most of them started by one environment: how evenly the environments shared the load. */
  perEnvironmentMin: number;
  perEnvironmentMax: number;
  /** Of those, started more than once, or never completed, or completed with an error type. */
  duplicateStarts: number;
  notCompleted: number;
  failedOnBus: number;
  /** Adjacent pairs of an environment's starts out of arrival order, on the bus and as its runtime saw them. */
  orderViolations: number;
  runtimeOrderViolations: number;
  /** Adjacent arrivals whose send stamps are out of order: how much the connections reorder (not a fault). */
  arrivalVsSendInversions: number;
  /** Timed invokes whose arrival and send stamp were both known, the pool of that comparison. */
  sendStampsCompared: number;
  durationMs: number;
  invokesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU used over the timed phase, in cores (1 = one core busy throughout); runtimes: all of them, null off Linux. */
  clientCores: number;
  simulatorCores: number;
  runtimeCores: number | null;
  /** The callers' process was near one full core: the figures may be the client's limit. */
  clientBound: boolean;
  /** The first few error and loss messages. */
  errors: string[];
  pass: boolean;
}

/** The load section of the bench. */
export interface LoadFigures {
  invokesPerCaller: number;
  warmupPerCaller: number;
  cases: LoadCase[];
  pass: boolean;
}

type Outcome = "ok" | "error" | "lost";

interface Echo {
  seq: number | null;
  requestId: string;
  pid: number;
  order: number;
}

/** What the callers' process reports, one array entry per timed invoke. */
interface CallerReport {
  seq: number[];
  latencyMs: number[];
  outcome: Outcome[];
  /** From the runtime's echo; "" / -1 when there was none. */
  requestId: string[];
  pid: number[];
  order: number[];
  warmupFailed: number;
  errors: string[];
  durationMs: number;
  cpuMs: number;
}

// ---- the callers' process ----

async function send(
  url: string,
  seq: number,
  caller: number,
): Promise<{ outcome: Outcome; echo?: Echo; detail?: string }> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ seq, caller }),
      signal: AbortSignal.timeout(LOST_AFTER_MS),
    });
    const text = await response.text();
    if (response.status !== 200 || response.headers.has("x-amz-function-error")) {
      return { outcome: "error", detail: `seq ${seq}: HTTP ${response.status} ${text.slice(0, 200)}` };
    }
    let echo: Echo | undefined;
    try {
      echo = JSON.parse(text) as Echo;
    } catch {}
    if (echo?.seq !== seq) {
      return { outcome: "error", detail: `seq ${seq}: answered ${text.slice(0, 200)}` };
    }
    return { outcome: "ok", echo };
  } catch (error) {
    return {
      outcome: "lost",
      detail: `seq ${seq}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** Runs the callers: `warmup` untimed invokes each (connections opened), then `invokes` timed ones each. */
async function runCallers(
  url: string,
  callers: number,
  warmup: number,
  invokes: number,
): Promise<CallerReport> {
  let nextSeq = 0;
  const report: CallerReport = {
    seq: [],
    latencyMs: [],
    outcome: [],
    requestId: [],
    pid: [],
    order: [],
    warmupFailed: 0,
    errors: [],
    durationMs: 0,
    cpuMs: 0,
  };
  const note = (detail: string | undefined) => {
    if (detail !== undefined && report.errors.length < 5) report.errors.push(detail);
  };
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < warmup; i++) {
        const answer = await send(url, nextSeq++, caller);
        if (answer.outcome !== "ok") {
          report.warmupFailed++;
          note(`warm-up ${answer.detail}`);
        }
      }
    }),
  );
  process.stdout.write(`${TIMED_START}\n`);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < invokes; i++) {
        // Taken at send time: the order the callers sent in, across all of them.
        const seq = nextSeq++;
        const t0 = performance.now();
        const answer = await send(url, seq, caller);
        report.latencyMs.push(performance.now() - t0);
        report.seq.push(seq);
        report.outcome.push(answer.outcome);
        report.requestId.push(answer.echo?.requestId ?? "");
        report.pid.push(answer.echo?.pid ?? -1);
        report.order.push(answer.echo?.order ?? -1);
        note(answer.detail);
      }
    }),
  );
  report.durationMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  report.cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(`${TIMED_END}\n`);
  return report;
}

// ---- the bench side ----

/** The lines of a child's stdout as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** CPU ms used so far by these processes (user + system, from /proc), or null where that is not readable. */
function processesCpuMs(pids: readonly number[]): number | null {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return null;
    }
  }
  return (ticks * 1000) / USER_HZ;
}

/** Adjacent descents of a sequence of arrival indices (an unknown invocation counts as one). */
function descents(indices: readonly (number | undefined)[]): number {
  let count = 0;
  for (let i = 1; i < indices.length; i++) {
    const before = indices[i - 1];
    const here = indices[i];
    if (before === undefined || here === undefined || here < before) count++;
  }
  return count;
}

async function measureCase(
  spec: LoadCaseSpec,
  invokesPerCaller: number,
  warmupPerCaller: number,
  pids: Set<number>,
): Promise<LoadCase> {
  const { maxConcurrency, callers } = spec;
  const sim = await Simulator.start({ port: 0, maxConcurrency });
  const remember = () => {
    for (const e of sim.environments()) if (e.runtimePid !== null) pids.add(e.runtimePid);
  };
  try {
    sim.spawnRuntime([executable(loadRuntime)]);
    const url = sim.url() + INVOKE_PATH;
    // Every environment is opened and warm before the callers start, so no cold start is timed.
    const warmRound = () =>
      Promise.all(Array.from({ length: Math.max(maxConcurrency, 64) }, () => invokeOnce(url)));
    let rounds = 0;
    while (sim.environments().length < maxConcurrency && rounds < MAX_WARMUP_ROUNDS) {
      await warmRound();
      rounds++;
    }
    await warmRound();
    remember();
    const environments = sim.environments().length;
    if (environments !== maxConcurrency) {
      throw new Error(`load: maxConcurrency ${maxConcurrency}: ${environments} environments after warm-up`);
    }

    const arrival = new Map<string, number>();
    const starts = new Map<string, string[]>();
    const startCount = new Map<string, number>();
    const completed = new Set<string>();
    let failedOnBus = 0;
    const offs = [
      // Emitted again when an environment takes it from the function's queue: the first one is arrival.
      sim.events.on("invocationQueued", (invocation) => {
        if (!arrival.has(invocation.id)) arrival.set(invocation.id, arrival.size);
      }),
      sim.events.on("invocationStart", (invocation) => {
        const environment = invocation.environmentId ?? "?";
        let list = starts.get(environment);
        if (!list) {
          list = [];
          starts.set(environment, list);
        }
        list.push(invocation.id);
        startCount.set(invocation.id, (startCount.get(invocation.id) ?? 0) + 1);
      }),
      sim.events.on("invocationComplete", (invocation) => {
        if (!arrival.has(invocation.id) || completed.has(invocation.id)) return;
        completed.add(invocation.id);
        if (invocation.errorType !== undefined) failedOnBus++;
      }),
    ];
    Bun.gc(true);

    const runtimePids = sim.environments().flatMap((e) => (e.runtimePid === null ? [] : [e.runtimePid]));
    const child = track(
      Bun.spawn(
        [
          process.execPath,
          import.meta.path,
          "--callers-child",
          url,
          String(callers),
          String(warmupPerCaller),
          String(invokesPerCaller),
        ],
        {
          env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(Math.max(256, callers * 2)) },
          stdout: "pipe",
          stderr: "inherit",
        },
      ),
    );
    // The simulator's and the runtimes' CPU are read at the callers' own marks around their timed phase.
    let cpu0 = process.cpuUsage();
    let runtimeCpu0: number | null = null;
    let wall0 = performance.now();
    let simulatorCpuMs = 0;
    let runtimeCpuMs: number | null = null;
    let wallMs = 0;
    let text = "";
    for await (const line of lines(child.stdout)) {
      if (line === TIMED_START) {
        cpu0 = process.cpuUsage();
        runtimeCpu0 = processesCpuMs(runtimePids);
        wall0 = performance.now();
      } else if (line === TIMED_END) {
        const cpu = process.cpuUsage(cpu0);
        simulatorCpuMs = (cpu.user + cpu.system) / 1000;
        const runtimeCpu1 = processesCpuMs(runtimePids);
        runtimeCpuMs = runtimeCpu0 === null || runtimeCpu1 === null ? null : runtimeCpu1 - runtimeCpu0;
        wallMs = performance.now() - wall0;
      } else {
        text += line;
      }
    }
    const code = await child.exited;
    // A caller has its answer before the runtime's next /next completes the invocation: wait for those.
    await sim.waitFor(() => completed.size === arrival.size, COMPLETE_WAIT_MS).catch(() => {});
    for (const off of offs) off();
    remember();
    if (code !== 0) throw new Error(`load: the callers' process exited ${code}`);
    const report = JSON.parse(text) as CallerReport;

    const sent = report.outcome.length;
    const answered = report.outcome.filter((o) => o === "ok").length;
    const errored = report.outcome.filter((o) => o === "error").length;
    const lost = report.outcome.filter((o) => o === "lost").length;

    let orderViolations = 0;
    for (const ids of starts.values()) orderViolations += descents(ids.map((id) => arrival.get(id)));
    // The runtimes' own view: per runtime process, its events in the order it counted them.
    const byRuntime = new Map<number, { order: number; id: string }[]>();
    report.pid.forEach((pid, i) => {
      if (report.outcome[i] !== "ok") return;
      let list = byRuntime.get(pid);
      if (!list) {
        list = [];
        byRuntime.set(pid, list);
      }
      list.push({ order: report.order[i] as number, id: report.requestId[i] as string });
    });
    let runtimeOrderViolations = 0;
    for (const list of byRuntime.values()) {
      list.sort((a, b) => a.order - b.order);
      runtimeOrderViolations += descents(list.map(({ id }) => arrival.get(id)));
    }
    // Send stamps in arrival order, for the timed invokes answered (their request ids are known).
    const seqById = new Map<string, number>();
    report.requestId.forEach((id, i) => {
      if (id !== "") seqById.set(id, report.seq[i] as number);
    });
    const stampsInArrivalOrder = [...arrival.keys()].flatMap((id) => {
      const seq = seqById.get(id);
      return seq === undefined ? [] : [seq];
    });
    const arrivalVsSendInversions = descents(stampsInArrivalOrder);

    let duplicateStarts = 0;
    for (const n of startCount.values()) if (n > 1) duplicateStarts++;
    const notCompleted = arrival.size - completed.size;
    const perEnvironment = [...starts.values()].map((ids) => ids.length);

    const clientCores = report.cpuMs / report.durationMs;
    const simulatorCores = wallMs > 0 ? simulatorCpuMs / wallMs : 0;
    const runtimeCores = runtimeCpuMs === null || wallMs <= 0 ? null : runtimeCpuMs / wallMs;
    const pass =
      answered === sent &&
      errored === 0 &&
      lost === 0 &&
      report.warmupFailed === 0 &&
      duplicateStarts === 0 &&
      notCompleted === 0 &&
      failedOnBus === 0 &&
      orderViolations === 0 &&
      runtimeOrderViolations === 0 &&
      arrival.size === sent + callers * warmupPerCaller;
    return {
      maxConcurrency,
      callers,
      environments,
      invokesPerCaller,
      sent,
      answered,
      errored: errored + report.warmupFailed,
      lost,
      received: arrival.size,
      perEnvironmentMin: Math.min(...perEnvironment),
      perEnvironmentMax: Math.max(...perEnvironment),
      duplicateStarts,
      notCompleted,
      failedOnBus,
      orderViolations,
      runtimeOrderViolations,
      arrivalVsSendInversions,
      sendStampsCompared: stampsInArrivalOrder.length,
      durationMs: round(report.durationMs, 1),
      invokesPerSec: round((sent * 1000) / report.durationMs, 0),
      p50Ms: round(percentile(report.latencyMs, 50), 2),
      p99Ms: round(percentile(report.latencyMs, 99), 2),
      maxMs: round(Math.max(...report.latencyMs), 2),
      clientCores: round(clientCores, 2),
      simulatorCores: round(simulatorCores, 2),
      runtimeCores: runtimeCores === null ? null : round(runtimeCores, 2),
      clientBound: clientCores >= CLIENT_BOUND_CORES,
      errors: report.errors,
      pass,
    };
  } finally {
    remember();
    await sim.shutdown();
  }
}

/**
 * Runs each load case in turn, `invokesPerCaller` timed invokes per caller after `warmupPerCaller`
 * untimed ones; `pids` collects every runtime the simulators started.
 */
export async function runLoad(
  cases: readonly LoadCaseSpec[],
  invokesPerCaller: number,
  warmupPerCaller: number,
  pids: Set<number>,
): Promise<LoadFigures> {
  const results: LoadCase[] = [];
  for (const spec of cases) {
    const result = await measureCase(spec, invokesPerCaller, warmupPerCaller, pids);
    progress(
      `load: ${spec.callers} callers, maxConcurrency ${spec.maxConcurrency}: ${result.answered}/${result.sent} answered, ${result.lost} lost, ${result.errored} errored, ${result.orderViolations + result.runtimeOrderViolations} order violations; ${result.invokesPerSec} invokes/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; CPU cores: callers ${result.clientCores}, simulator ${result.simulatorCores}, runtimes ${result.runtimeCores ?? "?"}`,
    );
    for (const error of result.errors) progress(`load:   ${error}`);
    results.push(result);
  }
  return {
    invokesPerCaller,
    warmupPerCaller,
    cases: results,
    pass: results.every((c) => c.pass),
  };
}

if (import.meta.main) {
  const args = Bun.argv.slice(2);
  if (args[0] === "--callers-child") {
    const [url, callers, warmup, invokes] = args.slice(1);
    const report = await runCallers(url as string, Number(callers), Number(warmup), Number(invokes));
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    // Standalone: `bun scripts/bench/load.ts [--load-invokes N]` prints this section's figures as JSON.
    const { values } = parseArgs({
      args,
      options: { "load-invokes": { type: "string", default: "50" } },
    });
    const pids = new Set<number>();
    const figures = await runLoad(
      [
        { maxConcurrency: 1, callers: 64 },
        { maxConcurrency: 8, callers: 512 },
      ],
      Number(values["load-invokes"]),
      1,
      pids,
    );
    process.stdout.write(`${JSON.stringify({ ...figures, leftover: stillRunning([...pids]) }, null, 2)}\n`);
  }
}
