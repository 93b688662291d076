// Property-based fuzzing (fast-check, fixed seed) of the sandbox listener's own HTTP/1.1 server
// (src/http/http1.ts) and the routes behind it, over raw TCP: random methods, paths under every API
// prefix, HTTP versions, headers (framing ones included) and bodies, well-formed or not. Whatever
// comes, the simulator answers with an HTTP status it may give (never a 5xx outside the protocol's
// 501/505, never a stack trace) or closes, within a bound; and afterwards it still serves an invoke.
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import fc from "fast-check";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";

// FUZZ_SEED and FUZZ_RUNS override them for a longer, different run.
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const junk = fc.string({ unit: "binary-ascii", maxLength: 40 });
const method = fc.oneof(
  fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"),
  token,
  junk,
);
const requestId = fc.oneof(fc.uuid(), fc.constant("00000000-0000-4000-8000-000000000000"), token, junk);
// /invocation/next is left out: a valid one is a long-poll that takes the runtime's invocations.
const path = fc.oneof(
  fc
    .tuple(requestId, fc.constantFrom("response", "error", "nope"))
    .map(([id, what]) => `/2018-06-01/runtime/invocation/${id}/${what}`),
  fc.constantFrom(
    "/2018-06-01/runtime/init/error",
    "/2018-06-01/ping",
    "/2018-06-01/runtime/invocation/next/x",
  ),
  fc.constantFrom(
    "/2020-01-01/extension/register",
    "/2020-01-01/extension/event/next",
    "/2020-01-01/extension/init/error",
    "/2020-01-01/extension/exit/error",
  ),
  fc.constantFrom(
    "/2022-07-01/telemetry",
    "/2020-08-15/logs",
    "/_simulator/status",
    "/_simulator/invocations",
  ),
  fc
    .tuple(
      fc.constantFrom("function", "nope", "arn:aws:lambda:us-east-1:123456789012:function:function"),
      fc.constantFrom("invocations", "response-streaming-invocations"),
    )
    .map(
      ([name, op]) =>
        `/${op === "invocations" ? "2015-03-31" : "2021-11-15"}/functions/${encodeURIComponent(name)}/${op}`,
    ),
  fc
    .tuple(fc.constantFrom("/2018-06-01/", "/2020-01-01/", "/_simulator/", "/"), junk)
    .map(([prefix, tail]) => prefix + tail),
);
const version = fc.oneof(
  fc.constantFrom("HTTP/1.1", "HTTP/1.0"),
  fc.constantFrom("HTTP/2.0", "HTTP/1.2", "HTTP/x", ""),
);
const header = fc.oneof(
  fc.tuple(token, fc.string({ unit: "grapheme-ascii", maxLength: 30 })),
  fc.tuple(
    fc.constantFrom(
      "Content-Type",
      "Lambda-Extension-Name",
      "Lambda-Extension-Identifier",
      "Lambda-Runtime-Function-Error-Type",
      "Lambda-Runtime-Function-Response-Mode",
      "X-Amz-Invocation-Type",
      "X-Amz-Log-Type",
      "X-Amz-Client-Context",
      "Expect",
      "Connection",
    ),
    fc.oneof(
      fc.constantFrom(
        "application/json",
        "streaming",
        "Event",
        "DryRun",
        "Tail",
        "100-continue",
        "close",
        "keep-alive",
        "x",
      ),
      token,
    ),
  ),
);
const body = fc.oneof(
  fc.constant(""),
  fc.json(),
  junk,
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
);
const framing = fc.constantFrom(
  "length",
  "length-short",
  "length-long",
  "chunked",
  "chunked-trailers",
  "chunked-bad",
  "both",
  "none",
);

/** The request's bytes: its head, headers and a body framed one way or another (often wrongly). */
const request = fc
  .record({ method, path, version, headers: fc.array(header, { maxLength: 6 }), body, framing })
  .map((r) => {
    const lines = [
      `${r.method} ${r.path} ${r.version}`.trimEnd(),
      "Host: sandbox",
      ...r.headers.map(([k, v]) => `${k}: ${v}`),
    ];
    const bytes = Buffer.byteLength(r.body, "latin1");
    let tail = "";
    switch (r.framing) {
      case "length":
        lines.push(`Content-Length: ${bytes}`);
        tail = r.body;
        break;
      case "length-short":
        lines.push(`Content-Length: ${bytes + 5}`);
        tail = r.body;
        break;
      case "length-long":
        lines.push(`Content-Length: ${Math.max(0, bytes - 1)}`);
        tail = r.body;
        break;
      case "chunked":
        lines.push("Transfer-Encoding: chunked");
        tail = `${bytes.toString(16)}\r\n${r.body}\r\n0\r\n\r\n`;
        break;
      case "chunked-trailers":
        lines.push("Transfer-Encoding: chunked", "Trailer: Lambda-Runtime-Function-Error-Type");
        tail = `${bytes.toString(16)}\r\n${r.body}\r\n0\r\nLambda-Runtime-Function-Error-Type: E\r\n\r\n`;
        break;
      case "chunked-bad":
        lines.push("Transfer-Encoding: chunked");
        tail = `zz\r\n${r.body}`;
        break;
      case "both":
        lines.push(`Content-Length: ${bytes}`, "Transfer-Encoding: chunked");
        tail = r.body;
        break;
      case "none":
        tail = r.body;
        break;
    }
    return `${lines.join("\r\n")}\r\n\r\n${tail}`;
  });

/** Sends `raw` on a new connection; the first status code it gets, or "closed", or "silent" after 0.5 s. */
function exchange(
  port: number,
  raw: string,
): Promise<{ status: number | "closed" | "silent"; text: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    const done = (status: number | "closed" | "silent") => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, text });
    };
    const timer = setTimeout(() => done("silent"), 500);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (match && match[1] !== "100" && text.includes("\r\n\r\n")) done(Number(match[1]));
      else if (match?.[1] === "100" && text.indexOf("\r\n\r\n") !== text.lastIndexOf("\r\n\r\n")) {
        const rest = /\r\n\r\nHTTP\/1\.1 (\d{3}) /.exec(text);
        if (rest) done(Number(rest[1]));
      }
    });
    socket.on("close", () => done("closed"));
    socket.on("error", () => {});
    socket.write(raw, "latin1");
  });
}

describe("fuzzing the sandbox listener", () => {
  test(`${RUNS} random requests (seed ${SEED}): Lambda's statuses or a close, never a hang or a crash; invokes still work`, async () => {
    const sim = await startSimulator({ functionName: "function" });
    sim.spawnRuntime([ECHO_RUNTIME]);
    expect((await sim.invoke({ before: true })).json<{ echo: unknown }>().echo).toEqual({ before: true });
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (raw) => {
        const { status, text } = await exchange(sim.port, raw);
        seen.set(String(status), (seen.get(String(status)) ?? 0) + 1);
        // A request whose body never ends ("length-short") may get no answer: that is HTTP.
        if (status === "silent") return raw.includes("Content-Length") && !raw.includes("Transfer-Encoding");
        if (status === "closed") return true;
        const allowed5xx = status === 501 || status === 505;
        return (status < 500 || allowed5xx) && !/\bat .*\.ts:\d+/.test(text);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The statuses the batch produced, for the record when it fails.
    if (process.env.FUZZ_VERBOSE) console.log(Object.fromEntries(seen));
    expect([...seen.keys()].length).toBeGreaterThan(3);
    expect((await sim.invoke({ after: true })).json<{ echo: unknown }>().echo).toEqual({ after: true });
  }, 120_000);
});
