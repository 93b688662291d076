import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanup,
  ECHO,
  type EchoBody,
  expectUsageError,
  lines,
  runCli,
  type Served,
  spawnCli,
  startServe,
  status,
  tempDir,
  waitForReadyRuntime,
} from "./harness.ts";

afterEach(cleanup);

/** A serve with the echo runtime, Ready; killed after the test by the harness. */
async function serveEcho(flags: string[] = []): Promise<Served> {
  const served = await startServe([...flags, "--", ECHO]);
  await waitForReadyRuntime(served.url);
  return served;
}

function onlyLine(stdout: string): EchoBody {
  const output = lines(stdout);
  expect(output).toHaveLength(1);
  return JSON.parse(output[0] as string) as EchoBody;
}

describe("lambda-sim invoke", () => {
  test("--payload JSON prints the response as one line and exits 0", async () => {
    const served = await serveEcho();
    const result = await runCli(["invoke", "--url", served.url, "--payload", '{"inline":true}']);
    expect(result.code).toBe(0);
    expect(onlyLine(result.stdout).echo).toEqual({ inline: true });
    expect(result.stderr).toBe("");
  });

  test("--payload @file and --payload - (stdin)", async () => {
    const served = await serveEcho();
    const file = join(tempDir(), "payload.json");
    writeFileSync(file, '{"from":"file"}');
    const fromFile = await runCli(["invoke", "--url", served.url, "--payload", `@${file}`]);
    expect(fromFile.code).toBe(0);
    expect(onlyLine(fromFile.stdout).echo).toEqual({ from: "file" });

    const fromStdin = await runCli(["invoke", "--url", served.url, "--payload", "-"], {
      stdin: '{"from":"stdin"}',
    });
    expect(fromStdin.code).toBe(0);
    expect(onlyLine(fromStdin.stdout).echo).toEqual({ from: "stdin" });
    expect((await status(served.url)).invocations.total).toBe(2);
  });

  test("without --payload it sends {} to the default function", async () => {
    const served = await serveEcho();
    const result = await runCli(["invoke", "--url", served.url]);
    expect(result.code).toBe(0);
    expect(onlyLine(result.stdout).echo).toEqual({});
  });

  test("--tail prints the invocation's log tail on stderr", async () => {
    const served = await serveEcho();
    const result = await runCli([
      "invoke",
      "--url",
      served.url,
      "--tail",
      "--payload",
      '{"log":"hello from the function"}',
    ]);
    expect(result.code).toBe(0);
    const body = onlyLine(result.stdout);
    const requestId = body.headers["lambda-runtime-aws-request-id"] as string;
    expect(result.stderr).toContain(`START RequestId: ${requestId} Version: $LATEST`);
    expect(result.stderr).toContain("hello from the function");
    expect(result.stderr).toContain(`END RequestId: ${requestId}`);
    expect(result.stderr).toMatch(new RegExp(`REPORT RequestId: ${requestId}\\tDuration: `));
  });

  test("a function error -> exit 1 with the error payload on stdout", async () => {
    const served = await serveEcho();
    const result = await runCli(["invoke", "--url", served.url, "--payload", '{"fail":true}']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ errorType: "MyError", errorMessage: "boom" });
  });

  test("--function by ARN, --qualifier and --invocation-type", async () => {
    const served = await serveEcho(["--function-name", "orders"]);
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
    const byArn = await runCli(["invoke", "--url", served.url, "--function", arn, "--qualifier", "$LATEST"]);
    expect(byArn.code).toBe(0);
    expect(onlyLine(byArn.stdout).headers["lambda-runtime-invoked-function-arn"]).toBe(`${arn}:$LATEST`);

    const invokeAs = (type: string) =>
      runCli(["invoke", "--url", served.url, "--function", "orders", "--invocation-type", type]);
    const dryRun = await invokeAs("DryRun");
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toBe("");
    expect(dryRun.stderr).toMatch(/^204 /);

    const event = await invokeAs("Event");
    expect(event.code).toBe(0);
    expect(event.stdout).toBe("");
    expect(event.stderr).toMatch(/^202 [0-9a-f-]{36}\n$/);
  });

  test("unknown function -> exit 2 with the error type on stderr", async () => {
    const served = await serveEcho();
    const result = await runCli(["invoke", "--url", served.url, "--function", "nope"]);
    expectUsageError(result, /ResourceNotFoundException/);
    expect(result.stderr).toMatch(/function:nope/);
    expect((await status(served.url)).invocations.total).toBe(0);
  });

  test("a payload that is not JSON -> exit 2 with InvalidRequestContentException", async () => {
    const served = await serveEcho();
    expectUsageError(
      await runCli(["invoke", "--url", served.url, "--payload", "{not json"]),
      /InvalidRequestContentException/,
    );
  });

  test("--invocation-type that Lambda does not know -> exit 2 with the error type", async () => {
    const served = await serveEcho();
    expectUsageError(
      await runCli(["invoke", "--url", served.url, "--invocation-type", "Sometimes"]),
      /InvalidParameterValueException/,
    );
  });

  test("unreachable URL -> exit 2 with a clear message", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = probe.port;
    await probe.stop(true);
    const result = await runCli(["invoke", "--url", `http://127.0.0.1:${port}`]);
    expectUsageError(
      result,
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}: .*is \`lambda-sim serve\` running\\?`),
    );
  });

  test("bad input -> exit 2 with one line", async () => {
    expectUsageError(await runCli(["invoke", "--url", "not a url"]), /--url "not a url" is not a URL/);
    expectUsageError(
      await runCli(["invoke", "--payload", "@/no/such/payload.json"]),
      /cannot read payload file \/no\/such\/payload\.json: ENOENT/,
    );
    expectUsageError(await runCli(["invoke", "--bogus"]), /unknown option --bogus/);
  });
});

describe("lambda-sim invoke --stream", () => {
  const STREAMER = "test/fixtures/runtimes/stream.py";

  test("prints each chunk as it arrives, exits 0 on a stream that ended well", async () => {
    const served = await startServe(["--", STREAMER]);
    await waitForReadyRuntime(served.url);
    const payload = JSON.stringify({ mode: "ok", chunks: 3, delay: 0.4 });
    const cli = spawnCli(["invoke", "--url", served.url, "--stream", "--payload", payload]);
    await cli.stdout.waitFor(/python chunk 0\n/);
    // The first chunk is on stdout while the runtime has yet to write the last one.
    expect(cli.stdout.text).not.toContain("python chunk 2");
    expect(await cli.finished()).toBe(0);
    expect(cli.stdout.text).toBe("python chunk 0\npython chunk 1\npython chunk 2\n");
  });

  test("a stream that ends in error: the partial bytes on stdout, the error on stderr, exit 1", async () => {
    const served = await startServe(["--", STREAMER]);
    await waitForReadyRuntime(served.url);
    const result = await runCli([
      "invoke",
      "--url",
      served.url,
      "--stream",
      "--payload",
      '{"mode":"trailer-error"}',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("half ");
    expect(result.stderr).toContain("the stream ended with ValueError");
    expect(result.stderr).toContain("bad value");
  });

  test("--stream with --invocation-type Event is a usage error", async () => {
    const result = await runCli(["invoke", "--stream", "--invocation-type", "Event"]);
    expectUsageError(result, /--stream takes RequestResponse or DryRun/);
  });
});
