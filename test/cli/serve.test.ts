import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { groupMembers } from "../helpers/processes.ts";
import {
  cleanup,
  ECHO,
  type EchoBody,
  expectUsageError,
  invokeHttp,
  lines,
  marker,
  REPO_ROOT,
  runCli,
  STARTUP_MS,
  startServe,
  status,
  tempDir,
  trackGroup,
  trackProcess,
  waitForGroupGone,
  waitForNoProcessWithArg,
  waitForReadyRuntime,
} from "./harness.ts";

afterEach(cleanup);

describe("lambda-sim serve", () => {
  test("prints a ready line, runs init before any invoke and serves the Invoke API", async () => {
    const served = await startServe(["--", ECHO]);
    expect(served.url).toBe(`http://127.0.0.1:${served.port}`);
    expect(served.port).toBeGreaterThan(0);
    expect(served.runtimeApi).toBe(`127.0.0.1:${served.port}`);

    const pid = await waitForReadyRuntime(served.url);
    const before = await status(served.url);
    expect(before).toMatchObject({ phase: "Ready", runtimePid: pid, initCount: 1 });
    expect(before.invocations.total).toBe(0);
    expect(groupMembers(pid).length).toBeGreaterThan(0);

    const response = await invokeHttp(served.url, { hello: "world" });
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-amzn-requestid") as string;
    const body = (await response.json()) as EchoBody;
    expect(body.echo).toEqual({ hello: "world" });
    expect(body.headers["lambda-runtime-aws-request-id"]).toBe(requestId);
    expect(body.env.pid).toBe(pid);
    // Logs go to stderr; stdout has only the ready line.
    await served.stderr.waitFor(new RegExp(`REPORT RequestId: ${requestId}\\t`));
    expect(served.stderr.text).toContain(`START RequestId: ${requestId} Version: $LATEST`);
    expect(served.stderr.text).toContain("init: runtime starting");
    expect(lines(served.stdout.text)).toHaveLength(1);
    expect((await status(served.url)).initCount).toBe(1);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${signal} -> exit 0 and the runtime's whole process group is gone`, async () => {
      const served = await startServe(["--", ECHO]);
      const pid = await waitForReadyRuntime(served.url);
      expect((await invokeHttp(served.url, {})).status).toBe(200);
      served.proc.kill(signal);
      expect(await served.finished()).toBe(0);
      await waitForGroupGone(pid);
    });
  }

  test("SIGKILL of serve -> the watchdog still kills the runtime's process group", async () => {
    const served = await startServe(["--", ECHO]);
    const pid = await waitForReadyRuntime(served.url);
    expect(groupMembers(pid).length).toBeGreaterThan(1); // the runtime and its watchdog
    served.proc.kill("SIGKILL");
    await served.proc.exited;
    expect(served.proc.signalCode).toBe("SIGKILL");
    await waitForGroupGone(pid);
  });

  test("SIGINT while an invocation runs -> the caller gets an error, exit 0, nothing left", async () => {
    const served = await startServe(["--timeout", "120", "--", ECHO]);
    const pid = await waitForReadyRuntime(served.url);
    const pending = invokeHttp(served.url, { sleepMs: 120_000 }).catch((error: Error) => error);
    await served.stderr.waitFor(/START RequestId: /);
    served.proc.kill("SIGINT");
    const response = await pending;
    if (response instanceof Response) {
      expect(response.headers.get("x-amz-function-error")).toBe("Unhandled");
    }
    expect(await served.finished()).toBe(0);
    await waitForGroupGone(pid);
  });

  test("without a bootstrap it waits; a runtime started separately serves invocations", async () => {
    const served = await startServe([]);
    expect(served.stdout.text).toMatch(/no bootstrap/);
    const before = await status(served.url);
    expect(before).toMatchObject({ phase: "Uninitialized", runtimePid: null, initCount: 0 });

    const runtime = Bun.spawn([ECHO], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", AWS_LAMBDA_RUNTIME_API: served.runtimeApi },
      stdout: "ignore",
      stderr: "ignore",
      detached: true,
    });
    trackProcess(runtime);
    trackGroup(runtime.pid);

    const response = await invokeHttp(served.url, { external: true });
    expect(response.status).toBe(200);
    const body = (await response.json()) as EchoBody;
    expect(body.echo).toEqual({ external: true });
    expect(body.env.pid).toBe(runtime.pid);
    const second = (await (await invokeHttp(served.url, { n: 2 })).json()) as EchoBody;
    expect(second.echo).toEqual({ n: 2 });
    expect((await status(served.url)).initCount).toBe(1);

    served.proc.kill("SIGINT");
    expect(await served.finished()).toBe(0);
  });

  test("--function-name and --region shape the ARN the runtime sees", async () => {
    const served = await startServe(["--function-name", "orders", "--region", "eu-west-1", "--", ECHO]);
    const response = await invokeHttp(served.url, {}, "orders");
    expect(response.status).toBe(200);
    const body = (await response.json()) as EchoBody;
    expect(body.headers["lambda-runtime-invoked-function-arn"]).toBe(
      "arn:aws:lambda:eu-west-1:123456789012:function:orders",
    );
  });
});

describe("lambda-sim serve: bad input -> exit 2, one line on stderr, nothing left running", () => {
  test("missing bootstrap file", async () => {
    const tag = marker();
    const result = await runCli(["serve", "--port", "0", "--", "./no/such/bootstrap", tag]);
    expectUsageError(result, /no\/such\/bootstrap: no such file/);
    await waitForNoProcessWithArg(tag);
  });

  test("bootstrap without the executable bit", async () => {
    const bootstrap = join(tempDir(), "bootstrap");
    writeFileSync(bootstrap, "#!/bin/sh\nexit 0\n");
    chmodSync(bootstrap, 0o644);
    const result = await runCli(["serve", "--port", "0", "--", bootstrap]);
    expectUsageError(result, /permission denied \(not executable; try chmod \+x /);
  });

  test("bootstrap that is a directory", async () => {
    const result = await runCli(["serve", "--port", "0", "--", tempDir()]);
    expectUsageError(result, /is a directory/);
  });

  test("port already in use", async () => {
    const occupier = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const tag = marker();
      const result = await runCli(["serve", "--port", String(occupier.port), "--", ECHO, tag]);
      expectUsageError(result, new RegExp(`port ${occupier.port} on 127\\.0\\.0\\.1 is already in use`));
      await waitForNoProcessWithArg(tag);
    } finally {
      await occupier.stop(true);
    }
  });

  const cases: [string, string[], RegExp][] = [
    ["--memory abc", ["--memory", "abc"], /--memory must be an integer, got "abc"/],
    ["--memory 64", ["--memory", "64"], /--memory: 64 is not valid/],
    ["--memory 20000", ["--memory", "20000"], /--memory: 20000 is not valid/],
    ["--timeout 0", ["--timeout", "0"], /--timeout: 0 is not valid/],
    ["--timeout abc", ["--timeout", "abc"], /--timeout must be a number/],
    ["--init-timeout -1", ["--init-timeout=-1"], /--init-timeout: -1 is not valid/],
    ["--port abc", ["--port", "abc"], /--port must be an integer/],
    ["--port 70000", ["--port", "70000"], /--port must be 0-65535/],
    ["--log-format XML", ["--log-format", "XML"], /--log-format must be Text or JSON, got "XML"/],
    ["--env NOEQUALS", ["--env", "NOEQUALS"], /--env expects KEY=VALUE, got "NOEQUALS"/],
    ["--env =x", ["--env", "=x"], /--env expects KEY=VALUE/],
    ["--env AWS_REGION=x (reserved)", ["--env", "AWS_REGION=x"], /reserved keys.*AWS_REGION/],
    ["--env 1BAD=x (invalid key)", ["--env", "1BAD=x"], /invalid key/],
    ["--env without a value", ["--env"], /--env needs a value/],
    ["--function-name with a space", ["--function-name", "a b"], /--function-name: "a b" is not valid/],
    ["--region nowhere", ["--region", "nowhere"], /--region: "nowhere" is not valid/],
    ["--account-id 12", ["--account-id", "12"], /--account-id: "12" is not valid/],
    ["unknown flag --bogus", ["--bogus"], /unknown option --bogus/],
    ["unknown flag --bogus=1", ["--bogus=1"], /unknown option --bogus/],
    [
      "unreadable --env-file (missing)",
      ["--env-file", "/no/such/env"],
      /cannot read --env-file \/no\/such\/env: ENOENT/,
    ],
  ];
  for (const [name, flags, message] of cases) {
    test(name, async () => {
      const tag = marker();
      const result = await runCli(["serve", "--port", "0", ...flags, "--", ECHO, tag]);
      expectUsageError(result, message);
      await waitForNoProcessWithArg(tag);
    });
  }

  test("unreadable --env-file (a directory) and a malformed one", async () => {
    const dir = tempDir();
    expectUsageError(
      await runCli(["serve", "--port", "0", "--env-file", dir, "--", ECHO]),
      /cannot read --env-file .*: EISDIR/,
    );
    const file = join(dir, "bad.env");
    writeFileSync(file, "# comment\nGOOD=1\nnot a pair\n");
    expectUsageError(
      await runCli(["serve", "--port", "0", "--env-file", file, "--", ECHO]),
      /bad\.env:3: expected KEY=VALUE, got "not a pair"/,
    );
  });
});

describe("lambda-sim --help", () => {
  for (const args of [["--help"], ["serve", "--help"], ["run", "--help"], ["invoke", "--help"]]) {
    test(`${args.join(" ")} exits 0 with usage`, async () => {
      const result = await runCli(args, { timeoutMs: STARTUP_MS });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/USAGE/);
    });
  }
});
