/**
 * Soak (issue 14): `lambda-sim serve` with its default options, run in a child process of its own
 * (soak-child.ts, which adds a memory probe), one external extension subscribed to the Telemetry API
 * (soak-extension.ts) and a runtime that logs one line per invoke (log-runtime.ts). COUNT sequential
 * invokes over HTTP, then FROZEN_COUNT more against a second one started with --freeze. Every
 * SAMPLE_EVERY invokes: the child's VmRSS (read first, as the process holds it while in use), then
 * its JS heap after a full GC (bun:jsc heapStats). RSS swings by +-8 MB between samples with the
 * collector's cycles, so "RSS after N" is the median of the last SMOOTH samples. The target: that
 * within targetGrowthMb of RSS after the first SAMPLE_EVERY, and the heap flat (the last sample at
 * most 2 MB above the one at a tenth of the run, when every bounded buffer is full). Also reported:
 * the climb, RSS after N against the median of the samples from a tenth (at least the second
 * sample) to a fifth of the run, which is what a leak would make grow.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { stop, track } from "./children.ts";
import { INVOKE_PATH } from "./invoke-load.ts";
import { progress } from "./progress.ts";
import { executable, vmRssBytes } from "./sim-children.ts";
import { median, round } from "./stats.ts";

const child = resolve(import.meta.dir, "soak-child.ts");
const extension = resolve(import.meta.dir, "soak-extension.ts");
const runtime = resolve(import.meta.dir, "log-runtime.ts");
const MB = 1024 * 1024;
const HEAP_FLAT_MB = 2;
const SMOOTH = 5;

/** One reading of the child's memory. */
export interface SoakSample {
  invokes: number;
  rssMb: number;
  heapMb: number;
}

/** One soak run's curve and verdict. */
export interface SoakRun {
  flags: string[];
  invokes: number;
  durationMs: number;
  samples: SoakSample[];
  rssFirstMb: number;
  rssLastMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
  /** RSS after N minus the median RSS from a tenth (the second sample at least) to a fifth of the run. */
  rssClimbMb: number;
  heapSettledMb: number;
  heapLastMb: number;
  pass: boolean;
}

/** Both runs: default options, then with --freeze. */
export interface SoakFigures {
  sampleEvery: number;
  targetGrowthMb: number;
  heapFlatMb: number;
  runs: SoakRun[];
  pass: boolean;
}

/** The child's children (its runtime and extension), for the bench's leftover check. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Reads a child's stdout line by line. */
function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return async () => {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the soak child exited");
      text += decoder.decode(value, { stream: true });
    }
    const end = text.indexOf("\n");
    const line = text.slice(0, end);
    text = text.slice(end + 1);
    return line;
  };
}

async function soakOnce(
  flags: string[],
  invokes: number,
  sampleEvery: number,
  targetGrowthMb: number,
  pids: Set<number>,
): Promise<SoakRun> {
  const proc = track(
    Bun.spawn(
      [
        process.execPath,
        executable(child),
        "--port",
        "0",
        "--extension",
        executable(extension),
        ...flags,
        "--",
        process.execPath,
        runtime,
      ],
      // Function logs are echoed on stderr, one line per invoke: not wanted in the bench's output.
      { stdin: "pipe", stdout: "pipe", stderr: "ignore" },
    ),
  );
  const nextLine = lineReader(proc.stdout);
  try {
    const ready = await nextLine();
    const url = /ready on (\S+)/.exec(ready)?.[1];
    if (!url) throw new Error(`unexpected first line from serve: ${ready}`);
    const samples: SoakSample[] = [];
    const started = performance.now();
    for (let n = 1; n <= invokes; n++) {
      const response = await fetch(url + INVOKE_PATH, { method: "POST", body: '{"lines":1}' });
      const body = await response.text();
      if (response.status !== 200 || response.headers.has("x-amz-function-error")) {
        throw new Error(`invoke ${n} answered ${response.status}: ${body.slice(0, 200)}`);
      }
      if (n % sampleEvery === 0) {
        const rss = vmRssBytes(proc.pid);
        proc.stdin.write("sample\n");
        proc.stdin.flush();
        const probe = JSON.parse(await nextLine()) as { heapUsedBytes: number };
        samples.push({ invokes: n, rssMb: round(rss / MB, 1), heapMb: round(probe.heapUsedBytes / MB, 1) });
        if (n % (sampleEvery * 10) === 0)
          progress(`soak ${flags.join(" ") || "(defaults)"}: ${n} invokes, RSS ${round(rss / MB, 1)} MB`);
      }
    }
    const durationMs = performance.now() - started;
    for (const pid of childrenOf(proc.pid)) pids.add(pid);
    const first = samples[0] as SoakSample;
    const last = samples.at(-1) as SoakSample;
    const tenth = Math.max(0, Math.floor(samples.length / 10) - 1);
    const settled = samples[tenth] as SoakSample;
    const rssLast = median(samples.slice(-SMOOTH).map((s) => s.rssMb));
    // From the second sample on: the first is the warm-up's low point the target is measured from.
    const early = Math.min(Math.max(1, tenth), samples.length - 1);
    const rssEarly = median(
      samples.slice(early, Math.max(early + 1, Math.floor(samples.length / 5))).map((s) => s.rssMb),
    );
    const rssGrowthMb = round(rssLast - first.rssMb, 1);
    return {
      flags,
      invokes,
      durationMs: round(durationMs, 0),
      samples,
      rssFirstMb: first.rssMb,
      rssLastMb: round(rssLast, 1),
      rssPeakMb: Math.max(...samples.map((s) => s.rssMb)),
      rssGrowthMb,
      rssClimbMb: round(rssLast - rssEarly, 1),
      heapSettledMb: settled.heapMb,
      heapLastMb: last.heapMb,
      pass: rssGrowthMb <= targetGrowthMb && last.heapMb - settled.heapMb <= HEAP_FLAT_MB,
    };
  } finally {
    // serve shuts its environment down on SIGTERM (the extension gets SHUTDOWN), then exits.
    await stop(proc, "SIGTERM", 5000);
  }
}

/** Runs the soak: `invokes` with the defaults, then `frozenInvokes` with --freeze. */
export async function runSoak(
  invokes: number,
  frozenInvokes: number,
  sampleEvery: number,
  targetGrowthMb: number,
  pids: Set<number>,
): Promise<SoakFigures> {
  const runs = [
    await soakOnce([], invokes, sampleEvery, targetGrowthMb, pids),
    await soakOnce(["--freeze"], frozenInvokes, sampleEvery, targetGrowthMb, pids),
  ];
  return { sampleEvery, targetGrowthMb, heapFlatMb: HEAP_FLAT_MB, runs, pass: runs.every((run) => run.pass) };
}

if (import.meta.main) {
  const [invokes = "100000", frozen = "10000"] = Bun.argv.slice(2);
  const figures = await runSoak(Number(invokes), Number(frozen), 1000, 16, new Set());
  for (const run of figures.runs) {
    console.log(
      `${run.flags.join(" ") || "defaults"}: ${run.invokes} invokes in ${run.durationMs} ms; RSS ${run.rssFirstMb} -> ${run.rssLastMb} MB (peak ${run.rssPeakMb}, +${run.rssGrowthMb}, climb ${run.rssClimbMb}); heap ${run.heapSettledMb} -> ${run.heapLastMb} MB; ${run.pass ? "pass" : "FAIL"}`,
    );
    console.log(run.samples.map((s) => `${s.invokes / 1000}k:${s.rssMb}/${s.heapMb}`).join(" "));
  }
}
