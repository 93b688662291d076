import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { groupMembers, isStopped } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";
import {
  cleanup,
  ECHO,
  expectUsageError,
  invokeHttp,
  lines,
  REPO_ROOT,
  runCli,
  startServe,
  tempDir,
  trackGroup,
  waitForGroupGone,
  waitForReadyRuntime,
} from "./harness.ts";

afterEach(cleanup);

const RECORDER = join(REPO_ROOT, "test", "fixtures", "extensions", "recorder.ts");

interface ExtensionView {
  name: string;
  pid: number;
  state: string;
  events: string[];
}

async function extensions(url: string): Promise<ExtensionView[]> {
  return (await (await fetch(`${url}/_simulator/extensions`)).json()) as ExtensionView[];
}

describe("lambda-sim extensions, telemetry and freezing flags", () => {
  test("--extensions-dir starts every executable there (name order) before the runtime; SIGTERM ends all", async () => {
    const dir = tempDir();
    copyFileSync(RECORDER, join(dir, "b-recorder"));
    copyFileSync(RECORDER, join(dir, "a-recorder"));
    writeFileSync(join(dir, ".hidden"), "not an extension");
    chmodSync(join(dir, "a-recorder"), 0o755);
    chmodSync(join(dir, "b-recorder"), 0o755);
    const served = await startServe(["--extensions-dir", dir, "--", ECHO]);
    const runtimePid = await waitForReadyRuntime(served.url);
    const registered = await extensions(served.url);
    expect(registered.map((e) => e.name).sort()).toEqual(["a-recorder", "b-recorder"]);
    for (const extension of registered) trackGroup(extension.pid);
    const response = await invokeHttp(served.url, { hello: 1 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { echo: unknown }).echo).toEqual({ hello: 1 });
    served.proc.kill("SIGTERM");
    expect(await served.finished()).toBe(0);
    for (const pid of [runtimePid, ...registered.map((e) => e.pid)]) await waitForGroupGone(pid);
  });

  test("--extension, --telemetry-file and --shutdown-timeout with run", async () => {
    const dir = tempDir();
    const telemetry = join(dir, "telemetry.jsonl");
    const record = join(dir, "record.jsonl");
    const result = await runCli([
      "run",
      "--extension",
      RECORDER,
      "--env",
      `RECORD_FILE=${record}`,
      "--telemetry-file",
      telemetry,
      "--shutdown-timeout",
      "300",
      "--event",
      '{"x":1}',
      "--",
      ECHO,
    ]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toHaveLength(1);
    const types = lines(readFileSync(telemetry, "utf8")).map(
      (line) => (JSON.parse(line) as { type: string }).type,
    );
    for (const type of [
      "platform.initStart",
      "platform.extension",
      "platform.start",
      "platform.runtimeDone",
      "platform.report",
    ]) {
      expect(types).toContain(type);
    }
    // The extension's environment came from --env too, and it saw the INVOKE and the SHUTDOWN.
    const events = lines(readFileSync(record, "utf8")).map(
      (line) => JSON.parse(line) as { event?: { eventType: string } },
    );
    expect(events.flatMap((e) => (e.event ? [e.event.eventType] : []))).toEqual(["INVOKE", "SHUTDOWN"]);
  });

  test("--freeze stops the runtime between invocations and thaws it for the next one", async () => {
    const served = await startServe(["--freeze", "--", ECHO]);
    const pid = await waitForReadyRuntime(served.url);
    const first = await invokeHttp(served.url, { n: 1 });
    expect(first.status).toBe(200);
    const frozen = async () =>
      ((await (await fetch(`${served.url}/_simulator/status`)).json()) as { frozen: boolean }).frozen;
    await waitUntil(frozen, 30_000, "the environment to be frozen");
    expect(isStopped(pid)).toBe(true);
    const second = await invokeHttp(served.url, { n: 2 });
    expect(((await second.json()) as { env: { pid: number } }).env.pid).toBe(pid);
    served.proc.kill("SIGINT");
    expect(await served.finished()).toBe(0);
    await waitForGroupGone(pid);
    expect(groupMembers(pid)).toEqual([]);
  });

  test("bad extension flags exit 2 with one line", async () => {
    expectUsageError(
      await runCli(["run", "--extension", "./nope", "--", ECHO]),
      /cannot start the extension: \.\/nope/,
    );
    expectUsageError(
      await runCli(["run", "--extensions-dir", "/no/such/dir", "--", ECHO]),
      /--extensions-dir/,
    );
    expectUsageError(await runCli(["run", "--shutdown-timeout", "soon", "--", ECHO]), /--shutdown-timeout/);
    expect(existsSync("./nope")).toBe(false);
  });

  test("--async-retries and --async-retry-delays: a failing Event invocation is tried three times", async () => {
    const served = await startServe(["--async-retry-delays", "50,50", "--", ECHO]);
    await waitForReadyRuntime(served.url);
    const accepted = await fetch(`${served.url}/2015-03-31/functions/function/invocations`, {
      method: "POST",
      headers: { "X-Amz-Invocation-Type": "Event" },
      body: JSON.stringify({ fail: true }),
    });
    expect(accepted.status).toBe(202);
    const id = accepted.headers.get("x-amzn-requestid") as string;
    const state = async () =>
      (await (await fetch(`${served.url}/_simulator/invocations/${id}`)).json()) as {
        attempt: number;
        status: string;
      };
    await waitUntil(
      async () => {
        const s = await state();
        return s.attempt === 3 && s.status === "error";
      },
      30_000,
      "the third attempt to fail",
    );
    served.proc.kill("SIGTERM");
    expect(await served.finished()).toBe(0);
    expectUsageError(await runCli(["run", "--async-retries", "5", "--", ECHO]), /must be 0, 1 or 2/);
  });
});
