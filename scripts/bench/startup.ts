/** Start-up times: the library (`Simulator.start` until it resolves) and the compiled binary (until its ready line). */
import { existsSync } from "node:fs";
import { Simulator } from "../../src/index.ts";
import { stop, track } from "./children.ts";
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

export interface BinaryStartFigures extends StartFigures {
  path: string;
  /** Runs where SIGTERM did not end the binary within 3 s and it had to be SIGKILLed. */
  forcedKills: number;
  /** Median ms from SIGTERM to exit. */
  medianStopMs: number;
}

/**
 * One spawn of `binary serve --port 0`: milliseconds from spawn to the line with `http://`, then
 * SIGTERM and the wait for its exit.
 */
async function binaryStartOnce(
  binary: string,
  timeoutMs: number,
): Promise<{ readyMs: number; stopMs: number; forced: boolean }> {
  const seen: string[] = [];
  const t0 = performance.now();
  const child = track(
    Bun.spawn([binary, "serve", "--port", "0"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    }),
    { group: true },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const found = await Promise.race([
      Promise.any([
        findLine(child.stdout, "http://", seen).then((line) => line ?? Promise.reject(new Error("EOF"))),
        findLine(child.stderr, "http://", seen).then((line) => line ?? Promise.reject(new Error("EOF"))),
      ]).catch(() => undefined),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    const elapsed = performance.now() - t0;
    if (found === "timeout" || found === undefined) {
      const why =
        found === "timeout" ? `no ready line within ${timeoutMs} ms` : "it exited without a ready line";
      throw new Error(`${binary} serve --port 0: ${why}; output: ${seen.slice(-5).join(" | ") || "(none)"}`);
    }
    clearTimeout(timer);
    const stopStart = performance.now();
    const forced = await stop(child, "SIGTERM", 3000);
    return { readyMs: elapsed, stopMs: performance.now() - stopStart, forced };
  } finally {
    clearTimeout(timer);
    await stop(child, "SIGKILL", 1000);
  }
}

/** Median over `runs` spawns of the binary, or null when it does not exist. */
export async function binaryStart(
  binary: string,
  runs: number,
  targetMs: number,
): Promise<BinaryStartFigures | null> {
  if (!existsSync(binary)) return null;
  const ready: number[] = [];
  const stops: number[] = [];
  let forcedKills = 0;
  for (let i = 0; i < runs; i++) {
    const run = await binaryStartOnce(binary, 10_000);
    ready.push(run.readyMs);
    stops.push(run.stopMs);
    if (run.forced) forcedKills++;
    progress(
      `binary start ${i + 1}/${runs}: ready in ${run.readyMs.toFixed(1)} ms, exited ${run.stopMs.toFixed(1)} ms after SIGTERM${run.forced ? " (SIGKILLed)" : ""}`,
    );
  }
  return { path: binary, ...figures(ready, targetMs), forcedKills, medianStopMs: round(median(stops), 2) };
}
