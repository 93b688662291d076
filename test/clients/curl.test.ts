/**
 * The client matrix with curl: a runtime and two extensions in sh + curl (test/fixtures/clients/curl/),
 * and curl as the caller of the Invoke API. HTTP/1.0 requests (/next, /response, register, event/next),
 * `Expect: 100-continue` on a 2 MB /response, a chunked request body (2 MB /response, subscriptions).
 * Pipelining (which curl no longer does) is in raw-tcp.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Simulator } from "../../src/index.ts";
import { startSimulator } from "../helpers/fixtures.ts";
import { shutdownTracked } from "../helpers/leftovers.ts";
import { tempDir } from "../helpers/temp.ts";
import { startSink, stopSinks } from "./sink.ts";
import {
  CLIENT_FIXTURES,
  type ClientRecord,
  expectScenarioPassed,
  type InvokeOutcome,
  runScenario,
} from "./support.ts";

const DIR = join(CLIENT_FIXTURES, "curl");
const INVOKES = 21;
const MODES = ["http1.0", "expect", "chunked"] as const;
const BIG_BYTES = 2 * 1024 * 1024;

afterEach(async () => {
  await shutdownTracked();
  stopSinks();
});

/** Runs curl to completion; resolves with its stdout, rejecting with its stderr when it fails. */
async function curl(args: string[]): Promise<string> {
  const child = Bun.spawn(["curl", "-sS", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`curl ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

/** Invokes through the Invoke API with curl (HTTP/1.1): request id, function error and the body's bytes. */
async function curlInvoke(sim: Simulator, payload: unknown, dir: string, i: number): Promise<InvokeOutcome> {
  const body = join(dir, `answer-${i}`);
  const headers = await curl([
    "-D",
    "-",
    "-o",
    body,
    "--data-binary",
    JSON.stringify(payload),
    `${sim.url()}/2015-03-31/functions/${sim.config.functionName}/invocations`,
  ]);
  const header = (name: string) => new RegExp(`^${name}: *(.*?)\\r?$`, "im").exec(headers)?.[1] ?? undefined;
  const status = /^HTTP\/[\d.]+ (\d+)/.exec(headers)?.[1];
  return {
    requestId: header("x-amzn-RequestId") as string,
    functionError: status === "200" ? header("X-Amz-Function-Error") : `HTTP status ${status}`,
    payload: new Uint8Array(readFileSync(body)),
  };
}

describe("curl (sh + curl runtime and extensions, curl as the invoker)", () => {
  test("curl is on PATH", () => {
    if (!Bun.which("curl")) throw new Error("curl is not on PATH: the client matrix needs it");
  });

  test(`${INVOKES} invokes: HTTP/1.0, Expect: 100-continue and chunked 2 MB answers, byte-exact to the caller`, async () => {
    const dir = tempDir("client-matrix-curl-");
    const big = randomBytes(BIG_BYTES);
    const bigFile = join(dir, "big.bin");
    writeFileSync(bigFile, big);
    const sink = startSink();
    const env = { SINK_PORT: String(sink.port) };
    const run = await runScenario({
      runtime: [join(DIR, "bootstrap")],
      runtimeEnv: { BIG_FILE: bigFile },
      extensions: [
        { path: join(DIR, "telemetry-extension"), env },
        { path: join(DIR, "logs-extension"), env },
      ],
      invokes: INVOKES,
      invoke: (sim, i) => curlInvoke(sim, { i, mode: MODES[i % 3] }, dir, i),
      sinkBatches: () => sink.batches,
    });
    expectScenarioPassed(run);

    // What the caller got: the event back (HTTP/1.0 POST), or all 2 MB of the file, byte for byte.
    for (const [i, outcome] of run.outcomes.entries()) {
      const mode = MODES[i % 3];
      if (mode === "http1.0") {
        expect(JSON.parse(new TextDecoder().decode(outcome.payload))).toEqual({ i, mode });
      } else {
        expect({ i, mode, bytes: outcome.payload.byteLength }).toEqual({ i, mode, bytes: BIG_BYTES });
        expect(Buffer.from(outcome.payload).equals(big)).toBe(true);
      }
    }

    // How the runtime's requests went: the server answered 100 Continue before the 2 MB body was sent.
    const posts = run.runtime.filter(
      (r) => r.request === "POST /2018-06-01/runtime/invocation/{id}/response",
    );
    expect(posts.map((r) => [r.mode, r.version, r.statuses])).toEqual(
      run.outcomes.map((_, i) => {
        const mode = MODES[i % 3] as string;
        if (mode === "expect") return [mode, "1.1", "HTTP/1.1 100 Continue|HTTP/1.1 202 Accepted"];
        return [mode, mode === "http1.0" ? "1.0" : "1.1", "HTTP/1.1 202 Accepted"];
      }),
    );
    const nexts = run.runtime.filter((r) => r.request === "GET /2018-06-01/runtime/invocation/next");
    // (The last /next is still waiting at shutdown: the runtime records a request once answered.)
    expect(nexts.length).toBe(INVOKES);
    expect(nexts.every((r) => r.version === "1.0")).toBe(true);
    for (const ext of run.extensions) {
      const sent = ext.records.filter((r: ClientRecord) => r.request !== undefined);
      expect(sent.length).toBe(INVOKES + 3);
      // Register and event/next over HTTP/1.0, the subscription (chunked body) over HTTP/1.1.
      expect(sent.map((r) => r.version)).toEqual(sent.map((_, i) => (i === 1 ? "1.1" : "1.0")));
    }
  });

  // Bun.serve does not tell the handler the HTTP version (oven-sh/bun#17250); the sandbox listener
  // (http1.ts) does its own HTTP/1.1 and knows.
  test("HTTP/1.0 requests without keep-alive are answered with Connection: close", async () => {
    const sim = await startSimulator();
    const routes: [string, string[]][] = [
      ["GET /2018-06-01/ping", []],
      ["GET /_simulator/status", []],
      ["GET /nowhere", []],
      ["POST /2020-01-01/extension/register", ["--data-binary", "{}"]],
      ["PUT /2022-07-01/telemetry", ["-X", "PUT", "--data-binary", "{}"]],
    ];
    const answers: Record<string, string | undefined> = {};
    for (const [route, options] of routes) {
      const path = route.split(" ")[1] as string;
      const headers = await curl([
        "--http1.0",
        "-D",
        "-",
        "-o",
        "/dev/null",
        ...options,
        `${sim.url()}${path}`,
      ]);
      answers[route] = /^connection: *(.*?)\r?$/im.exec(headers)?.[1]?.toLowerCase();
    }
    expect(answers).toEqual(Object.fromEntries(routes.map(([route]) => [route, "close"])));
  });
});
