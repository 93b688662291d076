// watch(): real files in temp dirs, real runtime and extension processes, a real Simulator.
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Simulator } from "../../src/index.ts";
import { type Watcher, type WatchOptions, watch } from "../../src/watch/watch.ts";
import { RECORDER as TELEMETRY_RECORDER } from "../fixtures/telemetry/support.ts";
import { RECORDER, records } from "../helpers/fixtures.ts";
import { shutdownTracked, startTracked } from "../helpers/leftovers.ts";
import { expectGroupGone } from "../helpers/processes.ts";
import { tempDir } from "../helpers/temp.ts";
import { project, WatchEvents, writeRuntime } from "./support.ts";

const watchers: Watcher[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
  await shutdownTracked();
});

interface Answer {
  version: string;
  pid: number;
  env: string | null;
}

async function answer(sim: Simulator, payload: unknown = {}): Promise<Answer> {
  const response = await sim.invoke(payload);
  expect(response.functionError).toBeUndefined();
  await sim.waitForInvocationComplete(response.requestId);
  return response.json() as Answer;
}

function startWatch(sim: Simulator, options: WatchOptions & { events: WatchEvents }): Watcher {
  const watcher = watch(sim, { ...options, onEvent: options.events.onEvent });
  watchers.push(watcher);
  return watcher;
}

describe("watch(): a change is a new deployment", () => {
  test("editing the runtime's source changes the next answer; SHUTDOWN spindown, new pid, the extension relaunched", async () => {
    const { dir, src, bootstrap } = project();
    const recordFile = join(tempDir("lambda-sim-watch-rec-"), "recorder.jsonl");
    const telemetryFile = join(tempDir("lambda-sim-watch-tel-"), "telemetry.jsonl");
    const sim = await startTracked();
    sim.spawnExtension([RECORDER], { env: { RECORD_FILE: recordFile } });
    sim.spawnExtension([TELEMETRY_RECORDER], { env: { RECORD_FILE: telemetryFile, TYPES: "platform" } });
    sim.spawnRuntime([bootstrap]);
    const before = await answer(sim);
    expect(before.version).toBe("v1");
    const streamBefore = sim.logStreamName;

    const events = new WatchEvents();
    startWatch(sim, { paths: [src], cwd: dir, events });
    const reloaded = events.next("reloaded");
    writeRuntime(bootstrap, "v2");
    const { files } = await reloaded;
    expect(files).toEqual([join("src", "bootstrap.ts")]);

    const after = await answer(sim);
    expect(after.version).toBe("v2");
    expect(after.pid).not.toBe(before.pid);
    await expectGroupGone(before.pid);
    // The recorder saw SHUTDOWN spindown, and a second one registered for the new environment.
    const seen = records(recordFile);
    const shutdowns = seen.filter((r) => r.event?.eventType === "SHUTDOWN");
    expect(shutdowns.map((r) => r.event.shutdownReason)).toEqual(["spindown"]);
    expect(seen.filter((r) => r.registered === 200)).toHaveLength(2);
    const ids = new Set(seen.filter((r) => r.registered === 200).map((r) => r.id));
    expect(ids.size).toBe(2);
    expect(sim.logStreamName).not.toBe(streamBefore); // a new log stream
    await sim.shutdown();
    // Each init's telemetry subscriber got that init's platform.initStart.
    const initStarts = records(telemetryFile).filter((r) => r.event?.type === "platform.initStart");
    expect(initStarts).toHaveLength(2);
  });

  test("twenty rapid writes -> one reload naming the file", async () => {
    const { dir, src, bootstrap } = project();
    const sim = await startTracked();
    sim.spawnRuntime([bootstrap]);
    await answer(sim);
    const events = new WatchEvents();
    let recycles = 0;
    sim.events.on("recycleStart", () => recycles++);
    const watcher = startWatch(sim, { paths: [src], cwd: dir, events, debounceMs: 80 });
    const reloaded = events.next("reloaded");
    for (let i = 0; i < 20; i++) writeRuntime(bootstrap, `v${i}`);
    expect((await reloaded).files).toEqual([join("src", "bootstrap.ts")]);
    await watcher.idle();
    // A later, different change is the second reload: nothing of the twenty writes came in between.
    const marker = events.next("reloaded");
    writeFileSync(join(src, "marker.txt"), "x");
    expect((await marker).files).toEqual([join("src", "marker.txt")]);
    expect(recycles).toBe(2);
    expect(events.count("change")).toBe(2);
    expect((await answer(sim)).version).toBe("v19");
  });

  test("invokes sent during a reload all succeed, answered by the new code", async () => {
    const { dir, src, bootstrap } = project();
    const sim = await startTracked();
    sim.spawnRuntime([bootstrap]);
    await answer(sim);
    const events = new WatchEvents();
    startWatch(sim, { paths: [src], cwd: dir, events });
    const during = new Promise<Answer[]>((resolve) => {
      const off = sim.events.on("recycleStart", () => {
        off();
        // From the next microtask: recycleStart is announced just before the old environments
        // stop taking invocations (an invoke made inside the listener itself still reaches one).
        queueMicrotask(() => resolve(Promise.all(Array.from({ length: 5 }, () => answer(sim)))));
      });
    });
    writeRuntime(bootstrap, "v2");
    const answers = await during;
    expect(answers.map((a) => a.version)).toEqual(["v2", "v2", "v2", "v2", "v2"]);
  });

  test("--on-change wait lets the in-flight invocation finish on the old code; cancel cuts it short", async () => {
    for (const mode of ["wait", "cancel"] as const) {
      const { dir, src, bootstrap } = project();
      const sim = await startTracked({ timeoutSeconds: 30 });
      sim.spawnRuntime([bootstrap]);
      await answer(sim);
      const events = new WatchEvents();
      startWatch(sim, { paths: [src], cwd: dir, events, onChange: mode });
      const started = sim.waitForEvent("invocationDispatch");
      const inFlight = sim.invoke({ sleepMs: 1500 });
      await started;
      const reloaded = events.next("reloaded");
      writeRuntime(bootstrap, "v2");
      const response = await inFlight;
      if (mode === "wait") {
        expect(response.functionError).toBeUndefined();
        expect((response.json() as Answer).version).toBe("v1");
      } else {
        expect(response.functionError).toBe("Unhandled");
      }
      await reloaded;
      expect((await answer(sim)).version).toBe("v2");
    }
  });
});

describe("watch(): builds", () => {
  test("a failing build keeps the old runtime answering; a build that succeeds swaps it", async () => {
    const { dir, src } = project();
    const out = join(tempDir("lambda-sim-watch-out-"), "bootstrap.ts");
    writeRuntime(out, "v1");
    const sim = await startTracked();
    sim.spawnRuntime([out]);
    const first = await answer(sim);
    const events = new WatchEvents();
    // The "build" copies the source to the runtime, unless the source says BROKEN.
    const build = `echo building; if grep -q BROKEN src/bootstrap.ts; then echo 'syntax error' >&2; exit 3; fi; cp src/bootstrap.ts '${out}'`;
    startWatch(sim, { paths: [src], cwd: dir, events, build });

    let ended = events.next("buildEnd");
    writeFileSync(join(src, "bootstrap.ts"), "BROKEN");
    const failed = (await ended).result;
    expect(failed).toMatchObject({ ok: false, exitCode: 3 });
    expect(events.all).toContainEqual({ type: "buildOutput", line: "syntax error", stream: "stderr" });
    expect(events.count("reloaded")).toBe(0);
    const still = await answer(sim);
    expect(still).toMatchObject({ version: "v1", pid: first.pid });

    ended = events.next("buildEnd");
    const reloaded = events.next("reloaded");
    writeRuntime(join(src, "bootstrap.ts"), "v2");
    expect((await ended).result).toMatchObject({ ok: true, exitCode: 0 });
    await reloaded;
    expect(events.all).toContainEqual({ type: "buildOutput", line: "building", stream: "stdout" });
    expect((await answer(sim)).version).toBe("v2");
  });

  test("a build that writes into a watched path is named once as probable build output", async () => {
    const { dir, src, bootstrap } = project();
    const sim = await startTracked();
    sim.spawnRuntime([bootstrap]);
    await answer(sim);
    const events = new WatchEvents();
    const watcher = startWatch(sim, {
      paths: [src],
      cwd: dir,
      events,
      build: "date +%s%N > src/generated.txt",
    });
    const notice = events.next("buildWroteWatched");
    writeFileSync(join(src, "handler.txt"), "edit");
    expect((await notice).files).toEqual([join("src", "generated.txt")]);
    await watcher.close();
    expect(events.count("buildWroteWatched")).toBe(1);
  });

  test("the config callback is read on each reload: new environment variables reach the new runtime", async () => {
    const { dir, src, bootstrap } = project();
    const sim = await startTracked();
    sim.spawnRuntime([bootstrap]);
    expect((await answer(sim)).env).toBeNull();
    const events = new WatchEvents();
    let broken = false;
    const config = () => {
      if (broken) throw new Error("bad env file");
      return { environment: { GREETING: "hello" } };
    };
    startWatch(sim, { paths: [src], cwd: dir, events, config });
    const reloaded = events.next("reloaded");
    writeFileSync(join(src, "x.txt"), "1");
    await reloaded;
    const { pid, env } = await answer(sim);
    expect(env).toBe("hello");
    // A config that cannot be read skips the reload: the running code stays.
    broken = true;
    const failing = events.next("error");
    writeFileSync(join(src, "x.txt"), "2");
    expect((await failing).error.message).toBe("bad env file");
    expect(events.count("reloaded")).toBe(1);
    expect(await answer(sim)).toMatchObject({ pid, env: "hello" });
  });
});

describe("watch(): a broken runtime", () => {
  test("a runtime that crashes at init is reported once per change, without looping; the next change recovers", async () => {
    const { dir, src, bootstrap } = project();
    const sim = await startTracked();
    sim.spawnRuntime([bootstrap]);
    await answer(sim);
    const inits: string[] = [];
    sim.events.on("initEnd", ({ status }) => inits.push(status));
    const events = new WatchEvents();
    const watcher = startWatch(sim, { paths: [src], cwd: dir, events });
    const failedInit = sim.waitForEvent("initEnd", ({ status }) => status !== "success");
    writeRuntime(bootstrap, "v2", { crash: true });
    await failedInit;
    await watcher.idle();
    const fixedInit = sim.waitForEvent("initEnd", ({ status }) => status === "success");
    writeRuntime(bootstrap, "v3");
    await fixedInit;
    // One failed init for the broken code, one good init for the fix: no retry loop in between.
    expect(inits).toEqual([inits[0] as string, "success"]);
    expect(inits[0]).not.toBe("success");
    expect((await answer(sim)).version).toBe("v3");
  });
});
