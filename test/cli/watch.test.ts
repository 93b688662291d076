// `lambda-sim watch` as a real process: real files in temp dirs, real runtimes and extensions.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDER, records } from "../helpers/fixtures.ts";
import { writeRuntime } from "../watch/support.ts";
import {
  type CliProcess,
  cleanup,
  ECHO,
  expectUsageError,
  invokeHttp,
  marker,
  runCli,
  spawnCli,
  tempDir,
  trackGroup,
  waitForGroupGone,
  waitForNoProcessWithArg,
} from "./harness.ts";

afterEach(cleanup);

interface Watching extends CliProcess {
  url: string;
}

/** Starts `lambda-sim watch --port 0 <args>` and waits until it watches. */
async function startWatchCli(args: string[]): Promise<Watching> {
  const cli = spawnCli(["watch", "--port", "0", ...args]);
  const [, url] = await cli.stdout.waitFor(/lambda-sim ready on (http:\/\/127\.0\.0\.1:\d+)/);
  await cli.stdout.waitFor(/lambda-sim watching /);
  return { ...cli, url: url as string };
}

interface Answer {
  version: string;
  pid: number;
  env: string | null;
}

async function answer(url: string): Promise<Answer> {
  const response = await invokeHttp(url, {});
  expect(response.status).toBe(200);
  expect(response.headers.get("x-amz-function-error")).toBeNull();
  const body = (await response.json()) as Answer;
  trackGroup(body.pid);
  return body;
}

/** A function in a temp dir: src/bootstrap.ts at v1. */
function functionDir(): { dir: string; src: string; bootstrap: string } {
  const dir = tempDir();
  const src = join(dir, "src");
  mkdirSync(src);
  const bootstrap = join(src, "bootstrap.ts");
  writeRuntime(bootstrap, "v1");
  return { dir, src, bootstrap };
}

describe("lambda-sim watch", () => {
  test("a change prints its trigger, relaunches runtime and extension; SIGINT leaves nothing behind", async () => {
    const { src, bootstrap } = functionDir();
    const recordFile = join(tempDir(), "recorder.jsonl");
    // On the command line of every process this test starts (runtimes and extensions), to find leftovers.
    const tag = marker();
    const extension = join(tempDir(), "recorder.ts");
    writeFileSync(
      extension,
      `#!/bin/sh\nRECORD_FILE='${recordFile}' exec ${JSON.stringify(RECORDER)} ${tag}\n`,
    );
    chmodSync(extension, 0o755);
    const cli = await startWatchCli(["--watch", src, "--extension", extension, "--", bootstrap, tag]);
    const before = await answer(cli.url);
    expect(before.version).toBe("v1");

    writeRuntime(bootstrap, "v2");
    await cli.stdout.waitFor(new RegExp(`lambda-sim change: ${bootstrap.replaceAll("/", "\\/")}\\n`));
    await cli.stdout.waitFor(/lambda-sim reloaded in \d+ ms/);
    const after = await answer(cli.url);
    expect(after.version).toBe("v2");
    expect(after.pid).not.toBe(before.pid);
    await waitForGroupGone(before.pid);
    const seen = records(recordFile);
    expect(seen.filter((r) => r.event?.eventType === "SHUTDOWN").map((r) => r.event.shutdownReason)).toEqual([
      "spindown",
    ]);
    const registered = seen.filter((r) => r.registered === 200);
    expect(registered).toHaveLength(2);
    // The cold start of the new code reports its Init Duration.
    await cli.stderr.waitFor(
      /REPORT RequestId: [^\n]*Init Duration: [\d.]+ ms[^\n]*\n[\s\S]*REPORT RequestId: [^\n]*Init Duration/,
    );

    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(0);
    await waitForGroupGone(after.pid);
    await waitForNoProcessWithArg(tag);
  });

  test("--build: a failure is one clear line and the old code keeps serving; the next good build swaps it", async () => {
    const { dir, src } = functionDir();
    const out = join(tempDir(), "bootstrap.ts");
    writeRuntime(out, "v1");
    const build = `cd '${dir}' && echo compiling && if grep -q BROKEN src/bootstrap.ts; then exit 4; fi && cp src/bootstrap.ts '${out}'`;
    const cli = await startWatchCli(["--watch", src, "--build", build, "--", out]);
    const first = await answer(cli.url);

    writeFileSync(join(src, "bootstrap.ts"), "BROKEN");
    await cli.stderr.waitFor(/\[build\] compiling\n/);
    await cli.stderr.waitFor(
      /lambda-sim: build failed \(exit code 4\); the previous code keeps serving; waiting for the next change\n/,
    );
    expect(await answer(cli.url)).toMatchObject({ version: "v1", pid: first.pid });

    writeRuntime(join(src, "bootstrap.ts"), "v2");
    await cli.stdout.waitFor(/lambda-sim reloaded in/);
    expect((await answer(cli.url)).version).toBe("v2");
    cli.proc.kill("SIGTERM");
    expect(await cli.finished()).toBe(0);
  });

  test("--build runs once before the start: the bootstrap it makes is served", async () => {
    const { src } = functionDir();
    const out = join(tempDir(), "made-by-build.ts");
    const cli = await startWatchCli([
      "--watch",
      src,
      "--build",
      `cp '${join(src, "bootstrap.ts")}' '${out}' && echo made`,
      "--",
      out,
    ]);
    expect(cli.stderr.text).toContain("[build] made\n");
    expect((await answer(cli.url)).version).toBe("v1");
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(0);
  });

  test("with --freeze, two environments and a telemetry file inside the watched dir: one reload per change", async () => {
    const { src, bootstrap } = functionDir();
    const telemetry = join(src, "telemetry.jsonl");
    const cli = await startWatchCli([
      "--watch",
      src,
      "--freeze",
      "--max-concurrency",
      "2",
      "--provisioned",
      "2",
      "--telemetry-file",
      telemetry,
      "--",
      bootstrap,
    ]);
    const before = await Promise.all([answer(cli.url), answer(cli.url)]);
    writeRuntime(bootstrap, "v2");
    await cli.stdout.waitFor(/lambda-sim reloaded in/);
    const after = await Promise.all([answer(cli.url), answer(cli.url), answer(cli.url)]);
    expect(after.map((a) => a.version)).toEqual(["v2", "v2", "v2"]);
    for (const { pid } of before) await waitForGroupGone(pid);
    // The telemetry the invocations wrote (a watched file) caused no reload: the next is the marker's.
    writeFileSync(join(src, "marker.txt"), "x");
    await cli.stdout.waitFor(/lambda-sim reloaded in \d+ ms \(.*marker\.txt\)\n/);
    expect(cli.stdout.text.match(/lambda-sim change: /g)).toHaveLength(2);
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(0);
  });

  test("Ctrl-C during the first build ends the build too", async () => {
    const { src, bootstrap } = functionDir();
    const tag = marker();
    const cli = spawnCli([
      "watch",
      "--port",
      "0",
      "--watch",
      src,
      "--build",
      `sh -c 'echo started; sleep 60' ${tag}`,
      "--",
      bootstrap,
    ]);
    await cli.stderr.waitFor(/\[build\] started\n/);
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(130);
    await waitForNoProcessWithArg(tag);
  });

  test("with --build the bootstrap is build output: the build writing it does not reload again", async () => {
    const { dir, src } = functionDir();
    writeRuntime(join(dir, "handler.ts"), "v1");
    const bootstrap = join(src, "built.ts");
    writeRuntime(bootstrap, "v0");
    const build = `cp '${join(dir, "handler.ts")}' '${bootstrap}'`;
    const cli = await startWatchCli([
      "--watch",
      src,
      "--watch",
      join(dir, "handler.ts"),
      "--build",
      build,
      "--",
      bootstrap,
    ]);
    writeRuntime(join(dir, "handler.ts"), "v2");
    await cli.stdout.waitFor(/lambda-sim reloaded in \d+ ms \(.*handler\.ts\)\n/);
    expect((await answer(cli.url)).version).toBe("v2");
    // The next reload is the next edit's: the build's own write caused none in between.
    writeFileSync(join(src, "marker.txt"), "x");
    await cli.stdout.waitFor(/lambda-sim reloaded in \d+ ms \(.*marker\.txt\)\n/);
    expect(cli.stdout.text.match(/lambda-sim change: /g)).toHaveLength(2);
    expect(cli.stderr.text).not.toContain("which is watched");
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(0);
  });

  test("the config file and the env file are re-read on each reload, and a change to them is a reload", async () => {
    const { src, bootstrap } = functionDir();
    const config = join(tempDir(), "lambda-sim.jsonc");
    writeFileSync(
      config,
      `{ // watched too\n "watch": [${JSON.stringify(src)}], "bootstrap": [${JSON.stringify(bootstrap)}] }`,
    );
    const envFile = join(tempDir(), ".env");
    writeFileSync(envFile, "OTHER=1\n");
    const cli = await startWatchCli(["--config", config, "--env-file", envFile]);
    expect((await answer(cli.url)).env).toBeNull();

    writeFileSync(envFile, "GREETING=from-env-file\n");
    await cli.stdout.waitFor(/lambda-sim change: .*\.env\n/);
    await cli.stdout.waitFor(/lambda-sim reloaded in/);
    expect((await answer(cli.url)).env).toBe("from-env-file");

    writeFileSync(
      config,
      JSON.stringify({ watch: [src], bootstrap: [bootstrap], env: { GREETING: "from-config" } }),
    );
    // The flag-less env from the file wins over the env file, as --env would.
    await cli.stdout.waitFor(/lambda-sim reloaded in \d+ ms \(.*lambda-sim\.jsonc\)/);
    expect((await answer(cli.url)).env).toBe("from-config");

    // A bad value keeps the running code and says why.
    const { pid } = await answer(cli.url);
    writeFileSync(config, JSON.stringify({ watch: [src], bootstrap: [bootstrap], memory: 1 }));
    await cli.stderr.waitFor(
      /lambda-sim: reload failed: .*"memory" .*got 1; the previous code keeps serving\n/,
    );
    expect(await answer(cli.url)).toMatchObject({ pid, env: "from-config" });
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(0);
  });

  test("a runtime that crashes at init is reported once, without a loop; the next change recovers", async () => {
    const { src, bootstrap } = functionDir();
    const cli = await startWatchCli(["--watch", src, "--", bootstrap]);
    await answer(cli.url);
    writeRuntime(bootstrap, "v2", { crash: true });
    await cli.stderr.waitFor(/init: broken on purpose\n/);
    await cli.stdout.waitFor(/lambda-sim reloaded in/);
    writeRuntime(bootstrap, "v3");
    await cli.stdout.waitFor(/lambda-sim reloaded in[\s\S]*lambda-sim reloaded in/);
    expect((await answer(cli.url)).version).toBe("v3");
    // One line of the broken init's output: it ran once.
    expect(cli.stderr.text.match(/init: broken on purpose/g)).toHaveLength(1);
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(0);
  });
});

describe("lambda-sim watch: bad input -> exit 2, one line", () => {
  test("no --watch, no bootstrap, a missing path, bad --debounce and --on-change", async () => {
    const dir = tempDir();
    expectUsageError(await runCli(["watch", "--port", "0", "--", ECHO]), /at least one --watch PATH/);
    expectUsageError(await runCli(["watch", "--port", "0", "--watch", dir]), /watch needs a bootstrap/);
    expectUsageError(
      await runCli(["watch", "--port", "0", "--watch", join(dir, "nope"), "--", ECHO]),
      /cannot watch .*nope: ENOENT/,
    );
    expectUsageError(
      await runCli(["watch", "--port", "0", "--watch", dir, "--debounce", "soon", "--", ECHO]),
      /--debounce must be an integer/,
    );
    expectUsageError(
      await runCli(["watch", "--port", "0", "--watch", dir, "--on-change", "restart", "--", ECHO]),
      /--on-change must be wait or cancel/,
    );
  });
});
