import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanup,
  ECHO,
  type EchoBody,
  ENV_RUNTIME,
  expectUsageError,
  lines,
  marker,
  REPO_ROOT,
  runCli,
  spawnCli,
  tempDir,
  trackGroup,
  waitForGroupGone,
  waitForNoProcessWithArg,
} from "./harness.ts";

afterEach(cleanup);

function parseLines<T>(stdout: string): T[] {
  return lines(stdout).map((line) => JSON.parse(line) as T);
}

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, "gm"))?.length ?? 0;
}

describe("lambda-sim run", () => {
  test("inline, file and stdin events -> one JSON line each on stdout, logs on stderr, exit 0", async () => {
    const eventFile = join(tempDir(), "event.json");
    writeFileSync(eventFile, '{\n  "b": [2, 3]\n}\n');
    const tag = marker();
    const result = await runCli(
      ["run", "--event", '{"a":1}', "--event", eventFile, "--event", "-", "--", ECHO, tag],
      { stdin: '{"c":"from stdin"}' },
    );
    expect(result.code).toBe(0);
    const outputs = parseLines<EchoBody>(result.stdout);
    expect(outputs.map((o) => o.echo)).toEqual([{ a: 1 }, { b: [2, 3] }, { c: "from stdin" }]);
    // One environment, initialised once, serves all three.
    const pid = outputs[0]?.env.pid as number;
    expect(outputs.every((o) => o.env.pid === pid)).toBe(true);
    trackGroup(pid);

    expect(count(result.stderr, /^START RequestId: \S+ Version: \$LATEST$/)).toBe(3);
    expect(count(result.stderr, /^END RequestId: \S+$/)).toBe(3);
    expect(count(result.stderr, /^REPORT RequestId: \S+\tDuration: /)).toBe(3);
    expect(count(result.stderr, /Init Duration: /)).toBe(1);
    expect(result.stderr).toContain("init: runtime starting");
    // Every invocation ends with its own outcome, none cut short by the shutdown.
    expect(result.stderr).not.toMatch(/Status: |Sandbox\.Failure/);
    expect(result.stdout).not.toMatch(/START|END|REPORT|init: runtime/);

    await waitForGroupGone(pid);
    await waitForNoProcessWithArg(tag);
  });

  test("without --event it invokes once with {}", async () => {
    const result = await runCli(["run", "--", ECHO]);
    expect(result.code).toBe(0);
    expect(parseLines<EchoBody>(result.stdout).map((o) => o.echo)).toEqual([{}]);
  });

  test("a failing event -> exit 1, still one line per event, nothing left", async () => {
    const tag = marker();
    const result = await runCli([
      "run",
      "--event",
      '{"fail":true}',
      "--event",
      '{"after":1}',
      "--",
      ECHO,
      tag,
    ]);
    expect(result.code).toBe(1);
    const outputs = parseLines<Record<string, unknown>>(result.stdout);
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toEqual({ errorType: "MyError", errorMessage: "boom" });
    expect((outputs[1] as unknown as EchoBody).echo).toEqual({ after: 1 });
    expect(result.stderr).toMatch(/Status: error\tError Type: Function\.MyError/);
    expect(result.stderr).toMatch(/failed: Function\.MyError/);
    const pid = (outputs[1] as unknown as EchoBody).env.pid;
    trackGroup(pid);
    await waitForGroupGone(pid);
    await waitForNoProcessWithArg(tag);
  });

  test("a runtime that crashes mid-invocation -> exit 1, Runtime.ExitError, nothing left", async () => {
    const tag = marker();
    const result = await runCli(["run", "--event", '{"exit":3}', "--event", '{"n":2}', "--", ECHO, tag]);
    expect(result.code).toBe(1);
    const outputs = parseLines<Record<string, unknown>>(result.stdout);
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatchObject({ errorType: "Runtime.ExitError" });
    expect((outputs[1] as unknown as EchoBody).echo).toEqual({ n: 2 });
    await waitForNoProcessWithArg(tag);
  });

  test("SIGINT while an invocation runs -> exit 130 and the runtime group is gone", async () => {
    const tag = marker();
    const cli = spawnCli(["run", "--timeout", "120", "--event", '{"sleepMs":120000}', "--", ECHO, tag]);
    await cli.stderr.waitFor(/START RequestId: /);
    cli.proc.kill("SIGINT");
    expect(await cli.finished()).toBe(130);
    await waitForNoProcessWithArg(tag);
  });

  test("--env (repeatable) and --env-file reach the runtime; --env wins; flags shape Lambda's variables", async () => {
    const dir = tempDir();
    const envFile = join(dir, "function.env");
    writeFileSync(
      envFile,
      [
        "# a comment",
        "",
        "FROM_FILE=file value",
        "export EXPORTED=yes",
        'QUOTED="q v"',
        "OVERRIDDEN=file",
      ].join("\n"),
    );
    const result = await runCli([
      "run",
      "--env",
      "ONE=1",
      "--env=TWO=two=2",
      "--env",
      "OVERRIDDEN=flag",
      "--env",
      "EMPTY=",
      "--env-file",
      envFile,
      "--function-name",
      "orders",
      "--memory",
      "256",
      "--region",
      "eu-west-1",
      "--handler",
      "app.main",
      "--log-format",
      "JSON",
      "--task-root",
      dir,
      "--",
      join(REPO_ROOT, ENV_RUNTIME),
    ]);
    expect(result.code).toBe(0);
    const [answer] = parseLines<{ env: Record<string, string>; cwd: string }>(result.stdout);
    const env = answer?.env ?? {};
    expect(env).toMatchObject({
      ONE: "1",
      TWO: "two=2",
      EMPTY: "",
      FROM_FILE: "file value",
      EXPORTED: "yes",
      QUOTED: "q v",
      OVERRIDDEN: "flag",
      AWS_LAMBDA_FUNCTION_NAME: "orders",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
      AWS_REGION: "eu-west-1",
      _HANDLER: "app.main",
      AWS_LAMBDA_LOG_FORMAT: "JSON",
      LAMBDA_TASK_ROOT: dir,
    });
    expect(answer?.cwd).toBe(dir);
  });
});

describe("lambda-sim run: bad input -> exit 2, one line on stderr, nothing left running", () => {
  test("no bootstrap", async () => {
    expectUsageError(await runCli(["run", "--event", "{}"]), /run needs a bootstrap/);
  });

  test("missing bootstrap file", async () => {
    expectUsageError(await runCli(["run", "--", "./no/such/bootstrap"]), /no such file/);
  });

  test("bootstrap without the executable bit", async () => {
    const bootstrap = join(tempDir(), "bootstrap");
    writeFileSync(bootstrap, "#!/bin/sh\nexit 0\n");
    chmodSync(bootstrap, 0o600);
    expectUsageError(await runCli(["run", "--", bootstrap]), /permission denied \(not executable/);
  });

  test("port already in use", async () => {
    const occupier = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const tag = marker();
      const result = await runCli(["run", "--port", String(occupier.port), "--", ECHO, tag]);
      expectUsageError(result, /is already in use/);
      await waitForNoProcessWithArg(tag);
    } finally {
      await occupier.stop(true);
    }
  });

  const cases: [string, string[], RegExp][] = [
    [
      "--event: missing file",
      ["--event", "/no/such/event.json"],
      /--event "\/no\/such\/event\.json" is neither/,
    ],
    [
      "--event: invalid inline JSON",
      ["--event", "{bad"],
      /--event "\{bad" is neither a readable file nor valid JSON/,
    ],
    ["--event: a directory", ["--event", "/"], /--event "\/" is neither a readable file nor valid JSON/],
    ["--event without a value", ["--event"], /--event needs a value/],
    ["--memory 64", ["--memory", "64"], /--memory: 64 is not valid/],
    ["--timeout 0", ["--timeout", "0"], /--timeout: 0 is not valid/],
    ["--log-format XML", ["--log-format", "XML"], /--log-format must be Text or JSON/],
    ["--env NOEQUALS", ["--env", "NOEQUALS"], /--env expects KEY=VALUE/],
    ["--env AWS_REGION=x", ["--env", "AWS_REGION=x"], /reserved keys/],
    ["--env-file missing", ["--env-file", "/no/such/env"], /cannot read --env-file \/no\/such\/env/],
    ["unknown flag", ["--evnet", "{}"], /unknown option --evnet/],
  ];
  for (const [name, flags, message] of cases) {
    test(name, async () => {
      const tag = marker();
      expectUsageError(await runCli(["run", ...flags, "--", ECHO, tag]), message);
      await waitForNoProcessWithArg(tag);
    });
  }

  test("--event: a file that is not JSON names the file", async () => {
    const file = join(tempDir(), "bad.json");
    writeFileSync(file, "{not json");
    const tag = marker();
    expectUsageError(
      await runCli(["run", "--event", file, "--", ECHO, tag]),
      /--event .*bad\.json is not valid JSON/,
    );
    await waitForNoProcessWithArg(tag);
  });

  test("--event -: stdin that is not JSON", async () => {
    const tag = marker();
    expectUsageError(
      await runCli(["run", "--event", "-", "--", ECHO, tag], { stdin: "nope" }),
      /--event stdin is not valid JSON/,
    );
    await waitForNoProcessWithArg(tag);
  });
});
