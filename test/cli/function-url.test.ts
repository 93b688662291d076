/**
 * `--http PORT`, `--http-invoke-mode` and `--no-stream-bandwidth-limit` on `serve` and `run`: the
 * function URL line serve prints, usage errors before anything starts, and citty's `--no-`
 * negation of a boolean flag that defaults to true.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseArgs } from "citty";
import {
  type FunctionArgValues,
  functionArgs,
  simulatorOptionsFromArgs,
} from "../../src/cli/function-options.ts";
import {
  cleanup,
  ECHO,
  type EchoBody,
  expectUsageError,
  lines,
  REPO_ROOT,
  runCli,
  type Served,
  startServe,
  waitForGroupGone,
  waitForReadyRuntime,
} from "./harness.ts";

afterEach(cleanup);

const RIC_ROOT = join(REPO_ROOT, "test", "fixtures", "node-ric");
const RIC = join(RIC_ROOT, "bootstrap");
const ricTest = test.skipIf(!(process.platform === "linux" && process.arch === "x64"));

/** `serve --http 0 <args>` and the function URL from the line it printed after the ready line. */
async function serveWithUrl(args: string[]): Promise<Served & { functionUrl: string; mode: string }> {
  const served = await startServe(["--http", "0", ...args]);
  const [, functionUrl, mode] = await served.stdout.waitFor(
    /^lambda-sim function URL (http:\/\/127\.0\.0\.1:\d+) \((\w+)\)$/m,
  );
  return { ...served, functionUrl: functionUrl as string, mode: mode as string };
}

/** Seconds curl took to download `url` in full, and how many bytes it got. */
async function download(url: string): Promise<{ bytes: number; seconds: number }> {
  const curl = Bun.spawn(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url], {
    stdout: "pipe",
  });
  const [bytes, seconds] = (await new Response(curl.stdout).text()).split(" ").map(Number);
  expect(await curl.exited).toBe(0);
  return { bytes: bytes as number, seconds: seconds as number };
}

describe("lambda-sim serve --http", () => {
  test("prints the function URL after the ready line; requests there invoke the function", async () => {
    const served = await serveWithUrl(["--", ECHO]);
    expect(served.mode).toBe("BUFFERED");
    expect(served.functionUrl).not.toBe(served.url);
    expect(lines(served.stdout.text)).toHaveLength(2);
    const pid = await waitForReadyRuntime(served.url);
    const response = await fetch(`${served.functionUrl}/hello?name=Ada`);
    expect(response.status).toBe(200);
    const { echo } = (await response.json()) as EchoBody & { echo: Record<string, unknown> };
    expect(echo).toMatchObject({ rawPath: "/hello", queryStringParameters: { name: "Ada" } });
    served.proc.kill("SIGTERM");
    expect(await served.finished()).toBe(0);
    await waitForGroupGone(pid);
    // The function URL went away with the process.
    expect(await fetch(served.functionUrl).catch(() => "refused")).toBe("refused");
  });

  ricTest("--http-invoke-mode RESPONSE_STREAM streams the prelude's answer", async () => {
    const served = await serveWithUrl([
      "--http-invoke-mode",
      "RESPONSE_STREAM",
      "--task-root",
      RIC_ROOT,
      "--handler",
      "url.sse",
      "--",
      RIC,
    ]);
    expect(served.mode).toBe("RESPONSE_STREAM");
    const response = await fetch(`${served.functionUrl}/?events=2`);
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(await response.text()).toBe("data: event 0\n\ndata: event 1\n\n");
  });

  const bootstrap = ["--", ECHO];
  for (const [args, message] of [
    [["--http", "web", ...bootstrap], /--http must be an integer, got "web"/],
    [["--http", "70000", ...bootstrap], /--http must be a port, 0-65535/],
    // A flag with no value only happens last: citty takes the next argument as its value.
    [["--http"], /--http needs a port/],
    [
      ["--http", "0", "--http-invoke-mode", "STREAM", ...bootstrap],
      /--http-invoke-mode must be BUFFERED or RESPONSE_STREAM/,
    ],
    [["--http-invoke-mode", "BUFFERED", ...bootstrap], /--http-invoke-mode needs --http PORT/],
  ] as const) {
    test(`${args.join(" ")} -> a usage error, nothing started`, async () => {
      expectUsageError(await runCli(["serve", "--port", "0", ...args]), message);
    });
  }

  test("a function URL port in use -> a usage error naming --http", async () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
    try {
      const result = await runCli(["serve", "--port", "0", "--http", String(taken.port), "--", ECHO]);
      expectUsageError(result, new RegExp(`port ${taken.port} on 127.0.0.1 is already in use.*--http`));
    } finally {
      taken.stop(true);
    }
  });
});

describe("--no-stream-bandwidth-limit", () => {
  test("citty negates the boolean flag that defaults to true; it maps to streamBandwidthLimit", () => {
    const options = (argv: string[]) =>
      simulatorOptionsFromArgs(parseArgs(argv, functionArgs) as FunctionArgValues, argv);
    expect(options([]).streamBandwidthLimit).toBe(true);
    expect(options(["--stream-bandwidth-limit"]).streamBandwidthLimit).toBe(true);
    expect(options(["--no-stream-bandwidth-limit"]).streamBandwidthLimit).toBe(false);
    // After `--` it belongs to the bootstrap, not to lambda-sim.
    expect(options(["--", "./bootstrap", "--no-stream-bandwidth-limit"]).streamBandwidthLimit).toBe(true);
  });

  test("run accepts it", async () => {
    const result = await runCli(["run", "--no-stream-bandwidth-limit", "--event", '{"a":1}', "--", ECHO]);
    expect(result.code).toBe(0);
    expect(JSON.parse(lines(result.stdout)[0] as string).echo).toEqual({ a: 1 });
  });

  // 10 MiB streamed: capped, the 4 MiB past the 6 MiB burst take about 2 s at 2 MiB/s.
  ricTest("a 10 MiB stream through the function URL: about 2 s capped, well under 1 s without", async () => {
    const timed = async (flags: string[]) => {
      const served = await serveWithUrl([
        "--http-invoke-mode",
        "RESPONSE_STREAM",
        ...flags,
        "--task-root",
        RIC_ROOT,
        "--handler",
        "stream.big",
        "--",
        RIC,
      ]);
      const result = await download(served.functionUrl);
      served.proc.kill("SIGTERM");
      expect(await served.finished()).toBe(0);
      return result;
    };
    const capped = await timed([]);
    const free = await timed(["--no-stream-bandwidth-limit"]);
    expect([capped.bytes, free.bytes]).toEqual([10 * 1024 * 1024, 10 * 1024 * 1024]);
    expect(capped.seconds).toBeGreaterThan(1.5);
    expect(free.seconds).toBeLessThan(1);
  });
});
