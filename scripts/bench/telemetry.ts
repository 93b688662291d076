/**
 * Telemetry API throughput and per-invoke cost.
 *
 * Throughput: log-runtime.ts writes LINES log lines (~60 B each) in one invoke; telemetry-counter.ts,
 * subscribed over HTTP (platform + function, maxItems 10000, maxBytes 1 MiB, timeoutMs 25), counts
 * the `function` records and holds the INVOKE until it has them all and the invoke's
 * platform.runtimeDone, then prints a report line. Timed from just before `sim.invoke` to the moment
 * the subscriber received the last record (its clock: performance.timeOrigin + performance.now()).
 *
 * Cost per invoke: warm sequential invokes of one log line with the same extension subscribed vs
 * registered for INVOKE but not subscribed (and a runtime alone, for reference), in alternating
 * blocks. Response = until `sim.invoke` resolves; cycle = until the invocation is complete, which
 * with the subscriber includes holding the INVOKE until its telemetry arrived (a timeoutMs flush).
 */
import { resolve } from "node:path";
import { Simulator } from "../../src/index.ts";
import { type LatencyFigures, latency } from "./freeze-thaw.ts";
import { progress } from "./progress.ts";
import { executable, simulatorPids } from "./sim-children.ts";
import { median, round } from "./stats.ts";

const dir = import.meta.dir;
const QUEUE_LIMIT_BYTES = 64 * 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();

export interface ThroughputRun {
  /** Invoke start -> caller has the response. */
  responseMs: number;
  /** Invoke start -> the subscriber received the last of the lines. */
  allReceivedMs: number;
  /** Invoke start -> invocation complete (the extension released the INVOKE). */
  completeMs: number;
  received: number;
  dropped: number;
  recordsPerSec: number;
}

export interface SmallInvokeFigures {
  response: LatencyFigures;
  cycle: LatencyFigures;
}

export interface TelemetryFigures {
  lines: number;
  lineBytes: number;
  buffering: { maxItems: number; maxBytes: number; timeoutMs: number };
  queueLimitBytes: number;
  runs: ThroughputRun[];
  /** Median over the runs. */
  allReceivedMs: number;
  recordsPerSec: number;
  allDelivered: boolean;
  small: {
    warmup: number;
    count: number;
    subscribed: SmallInvokeFigures;
    unsubscribed: SmallInvokeFigures;
    runtimeOnly: SmallInvokeFigures;
    addedResponseP50Ms: number;
    addedCycleP50Ms: number;
  };
}

type Target = "subscribed" | "unsubscribed" | "runtimeOnly";

async function startEnvironment(target: Target): Promise<Simulator> {
  // A 60 s function timeout: the throughput invoke must not hit Lambda's default 3 s on a slow machine.
  const sim = await Simulator.start({
    port: 0,
    timeoutSeconds: 60,
    telemetryQueueLimitBytes: QUEUE_LIMIT_BYTES,
  });
  if (target !== "runtimeOnly") {
    sim.spawnExtension([executable(resolve(dir, "telemetry-counter.ts"))], {
      env: { SUBSCRIBE: target === "subscribed" ? "1" : "0" },
    });
  }
  sim.spawnRuntime([executable(resolve(dir, "log-runtime.ts"))]);
  await sim.waitForExtensionsReady(15_000);
  if (target === "subscribed" && sim.telemetrySubscriptions().length !== 1) {
    throw new Error("telemetry-counter.ts did not subscribe");
  }
  return sim;
}

async function smallInvoke(sim: Simulator): Promise<[number, number]> {
  const t0 = performance.now();
  const response = await sim.invoke({ lines: 1 });
  const t1 = performance.now();
  const state = await sim.waitForInvocationComplete(response.requestId, 10_000);
  const t2 = performance.now();
  if (response.functionError || state.status !== "success") {
    throw new Error(`invoke ${response.requestId} ended ${state.status}: ${response.text().slice(0, 200)}`);
  }
  return [t1 - t0, t2 - t0];
}

async function throughputRun(sim: Simulator, lines: number): Promise<ThroughputRun> {
  const reported = sim.waitForEvent(
    "log",
    (entry) => entry.source === "extension" && / (report|timeout) /.test(entry.line),
    60_000,
  ) as Promise<{ line: string }>;
  const t0 = now();
  const response = await sim.invoke({ lines, report: true });
  const responded = now();
  const { line } = await reported;
  const state = await sim.waitForInvocationComplete(response.requestId, 60_000);
  const completed = now();
  if (response.functionError || state.status !== "success") {
    throw new Error(`invoke ${response.requestId} ended ${state.status}: ${response.text().slice(0, 200)}`);
  }
  const field = (key: string) => Number(new RegExp(` ${key}=(\\S+)`).exec(line)?.[1] ?? Number.NaN);
  if (!line.includes(` report ${response.requestId} `)) {
    throw new Error(`the subscriber did not get every line of ${response.requestId}: ${line}`);
  }
  const allReceivedMs = field("lastAt") - t0;
  return {
    responseMs: round(responded - t0, 1),
    allReceivedMs: round(allReceivedMs, 1),
    completeMs: round(completed - t0, 1),
    received: field("function"),
    dropped: field("dropped"),
    recordsPerSec: round((field("function") * 1000) / allReceivedMs, 0),
  };
}

export async function runTelemetry(
  lines: number,
  runs: number,
  warmup: number,
  count: number,
  blocks: number,
  pids: Set<number>,
): Promise<TelemetryFigures> {
  const sims = new Map<Target, Simulator>();
  try {
    for (const target of ["subscribed", "unsubscribed", "runtimeOnly"] as const) {
      sims.set(target, await startEnvironment(target));
    }
    for (const sim of sims.values()) for (const pid of simulatorPids(sim)) pids.add(pid);
    const subscribedSim = sims.get("subscribed") as Simulator;

    progress(
      `telemetry: ${runs} x ${lines.toLocaleString("en-US")} log lines in one invoke, subscriber over HTTP`,
    );
    for (let i = 0; i < 5; i++) await smallInvoke(subscribedSim);
    const results: ThroughputRun[] = [];
    for (let run = 0; run < runs; run++) {
      const result = await throughputRun(subscribedSim, lines);
      progress(
        `telemetry run ${run + 1}/${runs}: ${result.received} records (dropped ${result.dropped}) all received after ${result.allReceivedMs} ms, ${result.recordsPerSec} records/s`,
      );
      results.push(result);
    }

    progress(
      `telemetry: one-line invokes, ${warmup} warm-up + ${count} timed each, subscribed / not / runtime only`,
    );
    const targets = [...sims.keys()];
    for (const sim of sims.values()) for (let i = 0; i < warmup; i++) await smallInvoke(sim);
    Bun.gc(true);
    const response = new Map<Target, number[]>(targets.map((t) => [t, []]));
    const cycle = new Map<Target, number[]>(targets.map((t) => [t, []]));
    for (let block = 0; block < blocks; block++) {
      const size = Math.floor((count * (block + 1)) / blocks) - Math.floor((count * block) / blocks);
      const order = block % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const sim = sims.get(target) as Simulator;
        for (let i = 0; i < size; i++) {
          const [r, c] = await smallInvoke(sim);
          response.get(target)?.push(r);
          cycle.get(target)?.push(c);
        }
      }
    }
    const figures = (target: Target): SmallInvokeFigures => ({
      response: latency(response.get(target) as number[]),
      cycle: latency(cycle.get(target) as number[]),
    });
    const subscribed = figures("subscribed");
    const unsubscribed = figures("unsubscribed");
    const allReceivedMs = median(results.map((r) => r.allReceivedMs));
    return {
      lines,
      lineBytes: 60,
      buffering: { maxItems: 10_000, maxBytes: 1_048_576, timeoutMs: 25 },
      queueLimitBytes: QUEUE_LIMIT_BYTES,
      runs: results,
      allReceivedMs: round(allReceivedMs, 1),
      recordsPerSec: round((lines * 1000) / allReceivedMs, 0),
      allDelivered: results.every((r) => r.received === lines && r.dropped === 0),
      small: {
        warmup,
        count,
        subscribed,
        unsubscribed,
        runtimeOnly: figures("runtimeOnly"),
        addedResponseP50Ms: round(subscribed.response.p50Ms - unsubscribed.response.p50Ms),
        addedCycleP50Ms: round(subscribed.cycle.p50Ms - unsubscribed.cycle.p50Ms),
      },
    };
  } finally {
    for (const sim of sims.values()) for (const pid of simulatorPids(sim)) pids.add(pid);
    await Promise.all([...sims.values()].map((sim) => sim.shutdown()));
  }
}
