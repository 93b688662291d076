/**
 * Watch mode (issue 13): from a file write to the new code, for a trivial Bun runtime with one
 * extension. change-to-ready: write -> the new environment's init done (its runtime and extension
 * both polled next); change-to-answer: write -> the first invoke answered by the new code (invokes
 * go on from the write; those before the watcher saw it are the old code's, the later ones wait
 * through the reload). Beside the floor, measured in the same run, taking turns: a
 * bare fs.watch that kills and respawns the same runtime, up to its first GET /next on a bare
 * Bun.serve. The watcher runs with `debounceMs` (the CLI's default is 50 ms; the floor has none).
 */
import { mkdtempSync, rmSync, watch as watchFile, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Simulator } from "../../src/index.ts";
import { watch } from "../../src/watch/watch.ts";
import { stop, track } from "./children.ts";
import { executable, simulatorPids } from "./sim-children.ts";
import { median, percentile, round } from "./stats.ts";

const runtime = resolve(import.meta.dir, "reload-runtime.ts");
const extension = resolve(import.meta.dir, "freeze-ext-a.ts");

export interface ReloadFigures {
  reloads: number;
  debounceMs: number;
  readyP50Ms: number;
  readyP90Ms: number;
  answerP50Ms: number;
  answerP90Ms: number;
  floorP50Ms: number;
  floorP90Ms: number;
  targetMarginMs: number;
  pass: boolean;
}

/** Resolves with the next value the subscription delivers, then unsubscribes. */
function once<T>(subscribe: (listener: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolveValue) => {
    const off = subscribe((value) => {
      off();
      resolveValue(value);
    });
  });
}

async function simulatorReloads(dir: string, debounceMs: number, pids: Set<number>) {
  const codeFile = join(dir, "sim-code.txt");
  writeFileSync(codeFile, "v0");
  const sim = await Simulator.start({ port: 0 });
  sim.spawnExtension([executable(extension)]);
  sim.spawnRuntime([process.execPath, runtime], { env: { CODE_FILE: codeFile } });
  await sim.waitFor((s) => s.phase() === "Ready", 30_000);
  const watcher = watch(sim, { paths: [codeFile], debounceMs, gitignore: false });
  const ready: number[] = [];
  const answered: number[] = [];
  return {
    async one(n: number) {
      for (const pid of simulatorPids(sim)) pids.add(pid);
      const initDone = once<unknown>((listener) =>
        sim.events.on("initEnd", (end) => end.status === "success" && listener(end)),
      );
      const started = performance.now();
      writeFileSync(codeFile, `v${n}`);
      // Invokes sent before the watcher saw the write are the old code's; the first new answer counts.
      const answer = (async () => {
        for (let tries = 0; tries < 10_000; tries++) {
          const code = (await sim.invoke({})).json<{ code: string }>().code;
          if (code === `v${n}`) return answered.push(performance.now() - started);
        }
        throw new Error(`reload ${n}: no answer from the new code`);
      })();
      await initDone;
      ready.push(performance.now() - started);
      await answer;
      await watcher.idle();
    },
    ready,
    answered,
    async close() {
      await watcher.close();
      await sim.shutdown();
    },
  };
}

async function floorReloads(dir: string) {
  const codeFile = join(dir, "floor-code.txt");
  writeFileSync(codeFile, "v0");
  let firstNext: (() => void) | undefined;
  const server = Bun.serve({
    port: 0,
    idleTimeout: 0,
    fetch(request) {
      if (new URL(request.url).pathname.endsWith("/invocation/next")) {
        firstNext?.();
        firstNext = undefined;
        return new Promise<Response>(() => {});
      }
      return new Response("not found", { status: 404 });
    },
  });
  let child: ReturnType<typeof Bun.spawn> | undefined;
  const spawn = () => {
    child = track(
      Bun.spawn([process.execPath, runtime], {
        env: { ...process.env, CODE_FILE: codeFile, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${server.port}` },
        stdout: "ignore",
        stderr: "inherit",
      }),
    );
  };
  const watcher = watchFile(codeFile, () => {
    child?.kill("SIGKILL");
    spawn();
  });
  const times: number[] = [];
  return {
    async one(n: number) {
      const reached = new Promise<void>((resolveNext) => {
        firstNext = resolveNext;
      });
      const started = performance.now();
      writeFileSync(codeFile, `v${n}`);
      await reached;
      times.push(performance.now() - started);
    },
    times,
    async close() {
      watcher.close();
      if (child) await stop(child, "SIGKILL");
      await server.stop(true);
    },
  };
}

/** `reloads` reloads of each, taking turns after two warm-up rounds. */
export async function runReloads(
  reloads: number,
  debounceMs: number,
  targetMarginMs: number,
  pids: Set<number>,
): Promise<ReloadFigures> {
  const dir = mkdtempSync(join(tmpdir(), "lambda-sim-reload-"));
  const sim = await simulatorReloads(dir, debounceMs, pids);
  const floor = await floorReloads(dir);
  try {
    for (let n = 1; n <= reloads + 2; n++) {
      await sim.one(n);
      await floor.one(n);
    }
  } finally {
    await sim.close();
    await floor.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const timed = (samples: number[]) => samples.slice(2);
  const ready = timed(sim.ready);
  const answered = timed(sim.answered);
  const floorTimes = timed(floor.times);
  const readyP50 = median(ready);
  const floorP50 = median(floorTimes);
  return {
    reloads,
    debounceMs,
    readyP50Ms: round(readyP50, 2),
    readyP90Ms: round(percentile(ready, 90), 2),
    answerP50Ms: round(median(answered), 2),
    answerP90Ms: round(percentile(answered, 90), 2),
    floorP50Ms: round(floorP50, 2),
    floorP90Ms: round(percentile(floorTimes, 90), 2),
    targetMarginMs,
    pass: readyP50 <= floorP50 + targetMarginMs,
  };
}
