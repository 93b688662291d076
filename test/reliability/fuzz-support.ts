/**
 * Shared parts of the fuzz suites (test/reliability/fuzz-*.test.ts and scripts/fuzz.ts): fast-check
 * generators of HTTP requests, a raw TCP exchange that reads one whole answer, the properties every
 * answer must have (a status Lambda may give, Lambda's error shape for the API, no stack trace), a
 * log capture, a batch runner that counts answers by status, and the simulators the long run
 * (`bun run fuzz`) starts: the same three set-ups as the suites.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { type ConsolaInstance, createConsola, LogLevels } from "consola/core";
import fc from "fast-check";
import type { Simulator } from "../../src/index.ts";
import { AGENT, ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import { tempDir } from "../helpers/temp.ts";

/** Seed of the quick batches (FUZZ_SEED overrides it). */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
/** Runs of a quick batch, scaled by a suite's share (FUZZ_RUNS overrides the base). */
export function runs(base: number): number {
  return process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : base;
}

// ---- Generators ---------------------------------------------------------------------------------

/** An RFC 9110 token (method or header name). */
export const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
/** Any ASCII, control characters included. */
export const junk = fc.string({ unit: "binary-ascii", maxLength: 40 });
/** A method: a usual one, another token, or garbage. */
export const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS") },
  { weight: 1, arbitrary: fc.constantFrom("get", "post", "Put") },
  { weight: 1, arbitrary: token },
  { weight: 1, arbitrary: junk },
);
/** An HTTP version, supported or not. */
export const version = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("HTTP/1.1", "HTTP/1.0") },
  { weight: 1, arbitrary: fc.constantFrom("HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/x", "http/1.1", "") },
);

/** Request ids the simulator knows in some state (filled in by a suite once it has invoked). */
export interface KnownIds {
  /** Invocations that ended. */
  ended: string[];
  /** Extension ids: registered now, registered in an environment that is gone, never registered. */
  registered: string[];
  deregistered: string[];
}

/** A request id: one that ended, a well-formed one never seen, or garbage. */
export function requestId(ids: KnownIds): fc.Arbitrary<string> {
  return fc.oneof(
    ids.ended.length ? fc.constantFrom(...ids.ended) : fc.uuid(),
    fc.uuid(),
    fc.constant("00000000-0000-4000-8000-000000000000"),
    token,
    junk.map(encodeURIComponent),
  );
}

/** An extension identifier header value: registered, deregistered, unknown, empty or garbage. */
export function extensionId(ids: KnownIds): fc.Arbitrary<string> {
  return fc.oneof(
    ids.registered.length ? fc.constantFrom(...ids.registered) : fc.uuid(),
    ids.deregistered.length ? fc.constantFrom(...ids.deregistered) : fc.uuid(),
    fc.uuid(),
    fc.constant(""),
    token,
  );
}

/** Names of the invoke paths' functions: the right one, another, an ARN, a qualified name. */
const functionName = fc.constantFrom(
  "function",
  "nope",
  "arn:aws:lambda:us-east-1:123456789012:function:function",
  "arn:aws:lambda:us-east-1:123456789012:function:function:$LATEST",
  "function:nope",
  "arn:aws:lambda:eu-west-1:000000000000:function:other",
  "",
);

/** Paths under every API prefix; `/runtime/invocation/next` is left to `longPoll` handling. */
export function path(ids: KnownIds): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .tuple(requestId(ids), fc.constantFrom("response", "error", "nope", ""))
      .map(([id, what]) => `/2018-06-01/runtime/invocation/${id}/${what}`),
    fc.constantFrom(
      "/2018-06-01/runtime/invocation/next",
      "/2018-06-01/runtime/init/error",
      "/2018-06-01/ping",
      "/2018-06-01/runtime/invocation/next/x",
      "/2018-06-01/runtime/invocation/",
      "/2018-06-01/runtime/invocation/next?x=1",
    ),
    fc.constantFrom(
      "/2020-01-01/extension/register",
      "/2020-01-01/extension/event/next",
      "/2020-01-01/extension/init/error",
      "/2020-01-01/extension/exit/error",
      "/2020-01-01/extension/register/x",
    ),
    fc.constantFrom("/2022-07-01/telemetry", "/2020-08-15/logs", "/2022-07-01/telemetry/x"),
    fc.oneof(
      fc.constantFrom(
        "/_simulator/status",
        "/_simulator/environments",
        "/_simulator/invocations",
        "/_simulator/extensions",
        "/_simulator/telemetry",
        "/_simulator/telemetry?type=platform.report",
        "/_simulator/telemetry?type=",
      ),
      requestId(ids).map((id) => `/_simulator/invocations/${id}`),
    ),
    fc
      .tuple(
        functionName,
        fc.constantFrom("invocations", "response-streaming-invocations"),
        fc.constantFrom("", "?Qualifier=$LATEST", "?Qualifier=nope", "?Qualifier=", "?x=%zz"),
      )
      .map(
        ([name, op, query]) =>
          `/${op === "invocations" ? "2015-03-31" : "2021-11-15"}/functions/${encodeURIComponent(name)}/${op}${query}`,
      ),
    fc
      .tuple(
        fc.constantFrom(
          "/2018-06-01/",
          "/2020-01-01/",
          "/_simulator/",
          "/2015-03-31/functions/",
          "/2021-11-15/functions/",
          "/",
          "",
          "*",
          "http://sandbox/",
        ),
        junk,
      )
      .map(([prefix, tail]) => prefix + tail),
  );
}

/** The header names the APIs read, in canonical, lower and odd case. */
const KNOWN_HEADERS = [
  "Content-Type",
  "Lambda-Extension-Name",
  "Lambda-Extension-Accept-Feature",
  "Lambda-Extension-Function-Error-Type",
  "Lambda-Runtime-Function-Error-Type",
  "Lambda-Runtime-Function-Error-Body",
  "Lambda-Runtime-Function-Response-Mode",
  "Lambda-Runtime-Function-XRay-Error-Cause",
  "X-Amz-Invocation-Type",
  "X-Amz-Log-Type",
  "X-Amz-Client-Context",
  "X-Amz-Tenant-Id",
  "Expect",
  "Connection",
  "Host",
];
const headerName = fc.oneof(
  fc.constantFrom(...KNOWN_HEADERS),
  fc.constantFrom(...KNOWN_HEADERS).map((n) => n.toLowerCase()),
  fc.constantFrom(...KNOWN_HEADERS).map((n) => n.toUpperCase()),
);
const headerValue = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=",
    ";;;",
    "streaming",
    "buffered",
    "Event",
    "DryRun",
    "RequestResponse",
    "Tail",
    "None",
    "100-continue",
    "close",
    "keep-alive",
    "accountId",
    "e30=",
    "bm90IGpzb24=",
    "!!!",
    "Runtime.Custom",
    "",
  ),
  token,
  fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
  // A huge value (still under the 64 KiB head limit of the sandbox listener, most of the time).
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => "v".repeat(n)),
);

/** One header line: a known name with a typical or odd value, or anything token-shaped. */
export function header(ids: KnownIds): fc.Arbitrary<[string, string]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(headerName, headerValue) },
    {
      weight: 2,
      arbitrary: fc.tuple(
        fc.constantFrom("Lambda-Extension-Identifier", "lambda-extension-identifier"),
        extensionId(ids),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(token, fc.string({ unit: "grapheme-ascii", maxLength: 30 })) },
  );
}

/** A JSON text nested `depth` levels deep. */
export function deepJson(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** A body: empty, JSON, invalid JSON, deep nesting, ASCII junk or random bytes (as latin1 text). */
export const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant("") },
  { weight: 3, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.constantFrom("{", '{"a":', "[1,]", "nul", '"\\u12"', "{}}", "\u00ff\u00fe") },
  { weight: 1, arbitrary: fc.constantFrom(deepJson(1_000), `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`) },
  { weight: 2, arbitrary: junk },
  {
    weight: 2,
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
  },
);

/** How the body is framed: right, announced longer or shorter, chunked (with trailers, broken), both. */
export const framing = fc.constantFrom(
  "length",
  "length",
  "length-short",
  "length-long",
  "length-negative",
  "length-conflict",
  "chunked",
  "chunked",
  "chunked-trailers",
  "chunked-bad",
  "chunked-upper",
  "both",
  "none",
);

/** A request, structured; `raw()` turns it into bytes. */
export interface FuzzRequest {
  method: string;
  path: string;
  version: string;
  host: boolean;
  headers: [string, string][];
  body: string;
  framing: string;
}

/** A random request for a listener whose known ids are `ids`. */
export function request(ids: KnownIds): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method,
      path: path(ids),
      version,
      host: fc.constantFrom(true, true, true, true, false),
      headers: fc.array(header(ids), { maxLength: 6 }),
      body,
      framing,
    })
    .map((r) => avoidLongPolls(r, ids));
}

/**
 * A valid `GET .../invocation/next` or `event/next` with a registered id is a long-poll that takes
 * an invocation or event from the real runtime or extension: such requests become POSTs (405), or
 * get an unknown id.
 */
function avoidLongPolls(r: FuzzRequest, ids: KnownIds): FuzzRequest {
  const get = r.method === "GET" || r.method === "HEAD";
  if (get && r.path.startsWith("/2018-06-01/runtime/invocation/next") && !r.path.includes("next/")) {
    return { ...r, method: "POST" };
  }
  // Reports of a registered extension's errors reset the environment: out of scope here.
  const exts = [
    "/2020-01-01/extension/event/next",
    "/2020-01-01/extension/init/error",
    "/2020-01-01/extension/exit/error",
  ];
  if (exts.includes(r.path)) {
    const headers = r.headers.map(([k, v]): [string, string] =>
      k.toLowerCase() === "lambda-extension-identifier" && ids.registered.includes(v)
        ? [k, "unknown"]
        : [k, v],
    );
    return { ...r, headers };
  }
  return r;
}

/** Whether the request announces more body than it sends (the server may wait, then see a close). */
export function incomplete(r: FuzzRequest): boolean {
  return r.framing === "length-short";
}

/** The request's bytes (latin1): head, headers and a body framed one way or another. */
export function raw(r: FuzzRequest): string {
  const lines = [`${r.method} ${r.path} ${r.version}`.trimEnd()];
  if (r.host) lines.push("Host: sandbox");
  lines.push(...r.headers.map(([k, v]) => `${k}: ${v}`));
  const bytes = Buffer.byteLength(r.body, "latin1");
  let tail = r.body;
  switch (r.framing) {
    case "length":
      lines.push(`Content-Length: ${bytes}`);
      break;
    case "length-short":
      lines.push(`Content-Length: ${bytes + 5}`);
      break;
    case "length-long":
      lines.push(`Content-Length: ${Math.max(0, bytes - 1)}`);
      break;
    case "length-negative":
      lines.push(`Content-Length: -${bytes}`);
      break;
    case "length-conflict":
      lines.push(`Content-Length: ${bytes}`, `Content-Length: ${bytes + 1}`);
      break;
    case "chunked":
      lines.push("Transfer-Encoding: chunked");
      tail = `${bytes.toString(16)}\r\n${r.body}\r\n0\r\n\r\n`;
      break;
    case "chunked-upper":
      lines.push("transfer-encoding: CHUNKED");
      tail = `${bytes.toString(16).toUpperCase()}\r\n${r.body}\r\n0\r\n\r\n`;
      break;
    case "chunked-trailers":
      lines.push("Transfer-Encoding: chunked", "Trailer: Lambda-Runtime-Function-Error-Type");
      tail = `${bytes.toString(16)}\r\n${r.body}\r\n0\r\nLambda-Runtime-Function-Error-Type: E\r\n\r\n`;
      break;
    case "chunked-bad":
      lines.push("Transfer-Encoding: chunked");
      tail = `zz\r\n${r.body}\r\n`;
      break;
    case "both":
      lines.push(`Content-Length: ${bytes}`, "Transfer-Encoding: chunked");
      break;
  }
  return `${lines.join("\r\n")}\r\n\r\n${tail}`;
}

// ---- The raw exchange ---------------------------------------------------------------------------

/** One answer as it came off the wire: its status (or how it failed), headers (lower-case) and body. */
export interface RawAnswer {
  status: number | "closed" | "silent";
  headers: Record<string, string>;
  body: string;
}

/** Options of `exchange`. */
export interface ExchangeOptions {
  /** Give up after this long: "silent" (default 2 s; a case that may wait sets less). */
  timeoutMs?: number;
  /** Half-close after writing (a body shorter than announced, then the end). */
  end?: boolean;
  /** The request was HEAD: the answer has no body whatever its Content-Length says. */
  head?: boolean;
}

/**
 * Sends `bytes` on a new connection and reads one whole answer (an interim 100 is skipped):
 * `closed` when the connection ended without one, `silent` when none came in time.
 */
export function exchange(
  port: number,
  bytes: string | Buffer,
  options: ExchangeOptions = {},
): Promise<RawAnswer> {
  const { timeoutMs = 2_000, end = false, head = false } = options;
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let input = Buffer.alloc(0);
    let settled = false;
    const done = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(
      () => done(parse(input, head, true) ?? { status: "silent", headers: {}, body: "" }),
      timeoutMs,
    );
    socket.on("data", (chunk: Buffer) => {
      input = Buffer.concat([input, chunk]);
      const answer = parse(input, head, false);
      if (answer) done(answer);
    });
    socket.on("close", () => done(parse(input, head, true) ?? { status: "closed", headers: {}, body: "" }));
    socket.on("error", () => {});
    socket.write(bytes, typeof bytes === "string" ? "latin1" : undefined);
    if (end) socket.end();
  });
}

/** The first final answer in `input` once complete (or, at the end of input, once its head is). */
function parse(input: Buffer, head: boolean, ended: boolean): RawAnswer | undefined {
  let start = 0;
  for (;;) {
    const headEnd = input.indexOf("\r\n\r\n", start);
    if (headEnd < 0) return undefined;
    const lines = input.subarray(start, headEnd).toString("latin1").split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!match) return undefined;
    const status = Number(match[1]);
    if (status >= 100 && status < 200) {
      start = headEnd + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      headers[name] =
        headers[name] === undefined
          ? line.slice(colon + 1).trim()
          : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
    }
    const rest = input.subarray(headEnd + 4);
    if (head || status === 204 || status === 304) return { status, headers, body: "" };
    const length = headers["content-length"];
    if (length !== undefined) {
      if (rest.byteLength < Number(length) && !ended) return undefined;
      return { status, headers, body: rest.subarray(0, Number(length)).toString("latin1") };
    }
    if ((headers["transfer-encoding"] ?? "").includes("chunked")) {
      if (!rest.includes("0\r\n\r\n") && !ended) return undefined;
      return { status, headers, body: dechunk(rest) };
    }
    return ended ? { status, headers, body: rest.toString("latin1") } : undefined;
  }
}

function dechunk(data: Buffer): string {
  let text = "";
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) return text;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!size) return text;
    text += data.subarray(eol + 2, eol + 2 + size).toString("latin1");
    at = eol + 4 + size;
  }
}

// ---- The properties -----------------------------------------------------------------------------

/** Which API a path belongs to, for the error shape its 4xx must have. */
export type Api = "invoke" | "sandbox" | "control" | "functionUrl" | "other";

/** The API of `path` on a listener (`functionUrl`: every path is the function URL's). */
export function apiOf(path: string, listener: "sandbox" | "front" | "functionUrl"): Api {
  if (listener === "functionUrl") return "functionUrl";
  if (/^\/(2015-03-31|2021-11-15)\/functions\//.test(path)) return "invoke";
  if (/^\/(2018-06-01|2020-01-01|2022-07-01|2020-08-15)\//.test(path)) return "sandbox";
  if (path.startsWith("/_simulator/")) return "control";
  return "other";
}

/** A stack frame (`at fn (file.ts:1:2)`) in any text. */
export const STACK_TRACE = /\bat .*\.[cm]?[jt]sx?:\d+|\n\s+at \S/;

/** Statuses of the HTTP layer's own plain-text answers to malformed requests. */
const PLAIN_STATUSES = new Set([400, 404, 405, 413, 431, 501, 505]);

/**
 * What is wrong with `answer` to a request of `api` (undefined: nothing): a 5xx Lambda does not give,
 * a stack trace, or a 4xx not in the API's error shape.
 */
export function problemWith(answer: RawAnswer, api: Api, head = false): string | undefined {
  const { status, headers, body } = answer;
  if (typeof status !== "number") return undefined;
  // The control API's successful answers report what the function did (its log lines, responses
  // and telemetry records): a stack trace there is the runtime's own, e.g. a crashed echo runtime.
  const reportsFunction = api === "control" && status < 400;
  if (!reportsFunction && STACK_TRACE.test(body)) return `a stack trace in the body: ${body.slice(0, 300)}`;
  const type = headers["content-type"] ?? "";
  if (status >= 500) {
    if (status === 501 || status === 505) return undefined;
    // Documented 5xx of the Invoke API and function URLs (a function's own failures) carry x-amzn-ErrorType.
    if (
      (api === "invoke" || api === "functionUrl") &&
      [502, 503, 504].includes(status) &&
      headers["x-amzn-errortype"]
    ) {
      return undefined;
    }
    return `a ${status} Lambda does not give: ${body.slice(0, 300)}`;
  }
  // A HEAD answer has no body to be in a shape.
  if (status < 400 || head) return undefined;
  if (!type.startsWith("application/json")) {
    if (PLAIN_STATUSES.has(status) && (body === "" || /^\d{3} [\w -]+\n?$/.test(body))) return undefined;
    return `a ${status} that is neither Lambda's JSON nor the HTTP layer's plain text: ${type} ${body.slice(0, 200)}`;
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return `a ${status} with a JSON type and no JSON: ${body.slice(0, 200)}`;
  }
  if (typeof parsed !== "object" || parsed === null) return `a ${status} whose body is not an object`;
  const lambdaShape = typeof parsed.errorType === "string" && typeof parsed.errorMessage === "string";
  const serviceShape =
    typeof headers["x-amzn-errortype"] === "string" &&
    (typeof parsed.Message === "string" || typeof parsed.message === "string");
  if (api === "invoke" || api === "functionUrl") {
    return serviceShape
      ? undefined
      : `a ${status} of the ${api} API without x-amzn-ErrorType and {Message}: ${body}`;
  }
  if (api === "sandbox" || api === "control") {
    return lambdaShape ? undefined : `a ${status} of the ${api} API not {errorMessage, errorType}: ${body}`;
  }
  return lambdaShape || serviceShape ? undefined : `a ${status} in no Lambda shape: ${body}`;
}

// ---- Logs and batches ---------------------------------------------------------------------------

/**
 * A consola logger that keeps every line it is given (pass it with `echoLogs: true`): the
 * simulator's own in `lines`, the runtime's and extensions' output (tagged by the simulator) in
 * `output`, as a stack trace a crashing runtime prints is not the simulator's.
 */
export function capturingLogger(): { logger: ConsolaInstance; lines: string[]; output: string[] } {
  const lines: string[] = [];
  const output: string[] = [];
  const logger = createConsola({
    level: LogLevels.verbose,
    reporters: [
      {
        log: (entry) => {
          const line = entry.args
            .map((arg) => (arg instanceof Error ? `${arg.stack}` : String(arg)))
            .join(" ");
          (entry.tag ? output : lines).push(line);
        },
      },
    ],
  });
  return { logger, lines, output };
}

/** Counts of answers by status, printable. */
export class StatusCounts {
  private readonly counts = new Map<string, number>();
  /** Counts one answer. */
  add(status: RawAnswer["status"]): void {
    const key = String(status);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  /** Adds another tally into this one. */
  merge(other: StatusCounts): void {
    for (const [key, n] of other.counts) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  /** How many distinct outcomes. */
  get size(): number {
    return this.counts.size;
  }
  /** The counts, sorted by status. */
  toObject(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** Where a batch sends its requests. */
export interface FuzzTarget {
  /** What the listener serves (decides the error shape). */
  listener: "sandbox" | "front" | "functionUrl";
  port: number;
  /** Ids known to this target's simulator, when they are not the batch's. */
  ids?: KnownIds;
}

/** Methods Bun.serve's parser knows; it closes the connection, unanswered, on any other (Bun 1.4.5). */
const BUN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

/** Whether `target` is a Bun.serve listener that drops a request of `method` without an answer. */
function bunDropsMethod(target: FuzzTarget, method: string): boolean {
  return target.listener !== "sandbox" && !BUN_METHODS.has(method);
}

/**
 * The property of one random request to one of `targets`: an answer in time, a close only where
 * HTTP allows one, and nothing `problemWith` objects to. Each answer is counted, then `onRun` is told.
 */
export function listenerProperty(
  targets: FuzzTarget[],
  ids: KnownIds,
  counts: StatusCounts,
  onRun?: () => void,
) {
  // With one set of ids, a plain tuple: the suites' fixed seeds keep generating the same batches.
  const own = targets.some((target) => target.ids !== undefined && target.ids !== ids);
  const arbitrary: fc.Arbitrary<[FuzzTarget, FuzzRequest]> = own
    ? fc
        .constantFrom(...targets)
        .chain((target) => request(target.ids ?? ids).map((r): [FuzzTarget, FuzzRequest] => [target, r]))
    : fc.tuple(fc.constantFrom(...targets), request(ids));
  return fc.asyncProperty(arbitrary, async ([target, r]) => {
    const answer = await exchange(target.port, raw(r), {
      end: incomplete(r),
      head: r.method === "HEAD",
      timeoutMs: 2_000,
    });
    counts.add(answer.status);
    onRun?.();
    if (answer.status === "silent") throw new Error("no answer within 2 s");
    // A close without an answer only where HTTP allows it: the request never ended.
    if (answer.status === "closed" && !incomplete(r) && !bunDropsMethod(target, r.method)) {
      throw new Error("closed without an answer");
    }
    const problem = problemWith(answer, apiOf(r.path, target.listener), r.method === "HEAD");
    if (problem) throw new Error(problem);
  });
}

/** Runs `numRuns` random requests against `targets` (seeded); rejects with fast-check's report. */
export async function fuzzListeners(
  targets: FuzzTarget[],
  ids: KnownIds,
  options: { seed: number; numRuns: number; counts: StatusCounts },
): Promise<void> {
  await fc.assert(listenerProperty(targets, ids, options.counts), {
    seed: options.seed,
    numRuns: options.numRuns,
  });
}

/** Lines of `lines` with a stack trace in them. */
export function stackTraces(lines: readonly string[]): string[] {
  return lines.filter((line) => STACK_TRACE.test(line));
}

// ---- Telemetry and Logs subscriptions -----------------------------------------------------------

/** A number at, inside or just past one of the bounds `[min, max]`, or anything. */
function around(min: number, max: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(min - 1, min, max, max + 1, (min + max) / 2 + 0.5, -1, 0),
    fc.integer({ min, max }),
    fc.constantFrom("1000", null, true, [], {}),
  );
}

/** A destination: inside the environment (a port that listens, one that does not, the APIs' own), outside, or malformed. */
function destination(ports: { sink: number; api: number }): fc.Arbitrary<unknown> {
  const host = fc.constantFrom(
    "sandbox.localdomain",
    "sandbox",
    "127.0.0.1",
    "localhost",
    "[::1]",
    "example.com",
    "10.0.0.1",
  );
  const port = fc.constantFrom(ports.sink, ports.sink, 1, ports.api, 0, 65_536, 8080);
  return fc.oneof(
    fc
      .tuple(
        fc.constantFrom("http", "https", "ftp", "HTTP"),
        host,
        port,
        fc.constantFrom("/", "/telemetry", "", "/a?b#c"),
      )
      .map(([scheme, h, p, tail]) => ({ protocol: "HTTP", URI: `${scheme}://${h}:${p}${tail}` })),
    fc.record(
      {
        protocol: fc.constantFrom("TCP", "tcp"),
        port,
        URI: fc.option(fc.constant("sandbox.localdomain"), { nil: undefined }),
      },
      { requiredKeys: ["protocol"] },
    ),
    fc.record(
      {
        protocol: fc.constantFrom("HTTP", "UDP", "", 1),
        URI: fc.oneof(fc.constantFrom("", "not a url", "http://"), junk),
      },
      { requiredKeys: [] },
    ),
    fc.constantFrom(null, "http://sandbox.localdomain:8080", [], 7),
  );
}

/** A Telemetry or Logs API subscription body: schema versions, types, buffering bounds, destinations. */
export function subscriptionBody(
  ports: { sink: number; api: number },
  api: "telemetry" | "logs",
): fc.Arbitrary<unknown> {
  const fields = {
    schemaVersion: fc.constantFrom(
      "2022-07-01",
      "2022-12-13",
      "2025-01-29",
      "2020-08-15",
      "2021-03-18",
      "2099-01-01",
      "",
      2022,
    ),
    types: fc.oneof(
      fc.subarray(["platform", "function", "extension"], { minLength: 1 }),
      fc.constantFrom([], ["bogus"], ["platform", "platform"], "platform", null),
    ),
    buffering: fc.record(
      {
        maxItems: around(1_000, 10_000),
        maxBytes: around(262_144, 1_048_576),
        timeoutMs: around(25, 30_000),
      },
      { requiredKeys: [] },
    ),
    destination: destination(ports),
    extra: fc.constantFrom(1, "x"),
  };
  // A valid subscription, to which one field of the above is given or taken away most of the time.
  const valid = fc.record({
    schemaVersion: fc.constantFrom(
      ...(api === "telemetry" ? ["2022-07-01", "2022-12-13", "2025-01-29"] : ["2020-08-15", "2021-03-18"]),
    ),
    types: fc.subarray(["platform", "function", "extension"], { minLength: 1 }),
    buffering: fc.record(
      {
        maxItems: fc.integer({ min: 1_000, max: 10_000 }),
        maxBytes: fc.integer({ min: 262_144, max: 1_048_576 }),
        timeoutMs: fc.integer({ min: 25, max: 30_000 }),
      },
      { requiredKeys: [] },
    ),
    destination: fc.constant({ protocol: "HTTP", URI: `http://sandbox.localdomain:${ports.sink}/` }),
  });
  const mutated = fc
    .tuple(valid, fc.constantFrom(...(Object.keys(fields) as (keyof typeof fields)[])), fc.boolean())
    .chain(([base, key, drop]) =>
      drop
        ? fc.constant(Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)))
        : fields[key].map((v) => ({ ...base, [key]: v })),
    );
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 5, arbitrary: mutated },
    { weight: 2, arbitrary: fc.record(fields, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.anything() },
  );
}

/** A random Telemetry or Logs subscription, raw, with the registered, the deregistered or an unknown id. */
export interface FuzzSubscription {
  path: string;
  method: string;
  id: string;
  headers: [string, string][];
  body: unknown;
}

/**
 * The property of one random subscription to the sandbox listener on `port` (init held open): an
 * answer in Lambda's shape, and a 200 only for the registered extension. `sinkPort` listens.
 */
export function subscriptionProperty(
  port: number,
  sinkPort: number,
  ids: KnownIds,
  counts: StatusCounts,
  onRun?: (accepted: boolean) => void,
) {
  const registered = ids.registered[0] ?? "none";
  const deregistered = ids.deregistered[0] ?? "none";
  const body = (api: "telemetry" | "logs") => subscriptionBody({ sink: sinkPort, api: port }, api);
  const subscription: fc.Arbitrary<FuzzSubscription> = fc
    .record({
      path: fc.constantFrom("/2022-07-01/telemetry", "/2020-08-15/logs"),
      method: fc.constantFrom("PUT", "PUT", "PUT", "POST"),
      id: fc.constantFrom(registered, registered, deregistered, "unknown"),
      headers: fc.array(header(ids), { maxLength: 2 }),
    })
    .chain((r) =>
      (r.path.includes("logs") ? body("logs") : body("telemetry")).map((b) => ({ ...r, body: b })),
    );
  return fc.asyncProperty(subscription, async (s) => {
    const answer = await exchange(port, rawSubscription(s));
    counts.add(answer.status);
    onRun?.(answer.status === 200);
    if (typeof answer.status !== "number") throw new Error(`no answer: ${answer.status}`);
    if (answer.status === 200 && s.id !== registered) {
      throw new Error("a subscription of an unknown id was accepted");
    }
    const problem = problemWith(answer, apiOf(s.path, "sandbox"));
    if (problem) throw new Error(problem);
  });
}

/** The bytes of a subscription request (framing headers of its own are left out). */
export function rawSubscription(s: FuzzSubscription): string {
  const text = s.body === undefined ? "" : (JSON.stringify(s.body) ?? "");
  const extra = s.headers.filter(([k]) => !/^(host|connection|expect|lambda-extension-identifier)$/i.test(k));
  const head = [
    `${s.method} ${s.path} HTTP/1.1`,
    "Host: sandbox",
    `Lambda-Extension-Identifier: ${s.id}`,
    ...extra.map(([k, v]) => `${k}: ${v}`),
  ];
  const bytes = Buffer.from(text);
  return `${head.join("\r\n")}\r\nContent-Length: ${bytes.byteLength}\r\n\r\n${bytes.toString("latin1")}`;
}

// ---- Simulators to fuzz (scripts/fuzz.ts) -------------------------------------------------------

/** A simulator ready to be fuzzed: where to send requests, the ids it knows, its captured log. */
export interface FuzzSetup {
  name: string;
  sim: Simulator;
  targets: FuzzTarget[];
  ids: KnownIds;
  lines: string[];
  /** Throws unless an invoke (and a function URL request where there is one) still works. */
  stillServes(): Promise<void>;
}

/** Throws `message` unless `condition` (the setups run outside bun:test too, without expect). */
function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function echoes(sim: Simulator, event: Record<string, unknown>): Promise<void> {
  const echo = (await sim.invoke(event)).json<{ echo: unknown }>().echo;
  ensure(
    JSON.stringify(echo) === JSON.stringify(event),
    `invoke ${JSON.stringify(event)} gave ${JSON.stringify(echo)}`,
  );
}

function portOf(url: string): number {
  return Number(new URL(url.includes("://") ? url : `http://${url}`).port);
}

/** One environment: its sandbox listener also serves the Invoke and control APIs (as fuzz-sandbox.test.ts). */
export async function sandboxSetup(): Promise<FuzzSetup> {
  const { logger, lines } = capturingLogger();
  const sim = await startSimulator({ functionName: "function", echoLogs: true, logger });
  sim.spawnRuntime([ECHO_RUNTIME]);
  for (let i = 0; i < 3; i++) await echoes(sim, { before: i });
  const ids: KnownIds = {
    ended: sim.invocationStates().map((state) => state.requestId),
    registered: [],
    deregistered: [],
  };
  return {
    name: "sandbox",
    sim,
    targets: [{ listener: "sandbox", port: sim.port, ids }],
    ids,
    lines,
    stillServes: () => echoes(sim, { after: true }),
  };
}

/** Two environments, the front on Bun.serve, their sandbox listeners and the function URL (as fuzz-listeners.test.ts). */
export async function listenersSetup(): Promise<FuzzSetup> {
  const { logger, lines } = capturingLogger();
  const sim = await startSimulator({
    functionName: "function",
    maxConcurrency: 2,
    provisionedConcurrency: 2,
    httpPort: 0,
    echoLogs: true,
    logger,
  });
  sim.spawnRuntime([ECHO_RUNTIME]);
  await Promise.all([1, 2, 3].map((n) => echoes(sim, { before: n })));
  const ids: KnownIds = {
    ended: sim.invocationStates().map((s) => s.requestId),
    registered: [],
    deregistered: [],
  };
  const environments = sim.environments();
  ensure(environments.length === 2, `${environments.length} environments, not 2`);
  return {
    name: "listeners",
    sim,
    targets: [
      { listener: "front", port: portOf(sim.url()), ids },
      ...environments.map((env): FuzzTarget => ({ listener: "sandbox", port: portOf(env.runtimeApi), ids })),
      { listener: "functionUrl", port: portOf(sim.functionUrl()), ids },
    ],
    ids,
    lines,
    stillServes: async () => {
      await echoes(sim, { after: true });
      const viaUrl = await fetch(`${sim.functionUrl()}/after?x=1`, { method: "POST", body: "hi" });
      ensure(viaUrl.status === 200, `the function URL answered ${viaUrl.status}`);
    },
  };
}

/** A setup whose extension (agent.ts) holds init open until `endInit`: subscriptions are accepted meanwhile. */
export interface ExtensionsSetup extends FuzzSetup {
  /** Lets init end (the agent polls for the gate file); invokes work after. */
  endInit(): Promise<void>;
}

/**
 * One environment with a real extension, recycled once: the first id deregistered, a new one
 * registered and init held open (as fuzz-extensions.test.ts).
 */
export async function extensionsSetup(): Promise<ExtensionsSetup> {
  const { logger, lines } = capturingLogger();
  const sim = await startSimulator({ functionName: "function", echoLogs: true, logger, timeoutSeconds: 5 });
  const gate = join(tempDir("fuzz-ext-"), "init-may-end");
  sim.spawnExtension([AGENT], { env: { WAIT_FOR_FILE: gate } });
  sim.spawnRuntime([ECHO_RUNTIME]);
  await sim.waitFor((s) => s.registeredExtensions().length === 1, 10_000);
  const [first] = sim.registeredExtensions();
  writeFileSync(gate, "");
  await echoes(sim, { first: true });
  // The next init waits on the gate again, with a new extension id; the first is deregistered.
  rmSync(gate);
  await sim.recycle();
  await sim.waitFor((s) => s.registeredExtensions().some((e) => e.id !== first?.id), 10_000);
  const [current] = sim.registeredExtensions();
  ensure(
    !existsSync(gate) && current !== undefined && first !== undefined,
    "the recycled init did not register",
  );
  const ids: KnownIds = {
    ended: sim.invocationStates().map((s) => s.requestId),
    registered: [current.id],
    deregistered: [first.id],
  };
  return {
    name: "extensions",
    sim,
    targets: [{ listener: "sandbox", port: sim.port, ids }],
    ids,
    lines,
    stillServes: () => echoes(sim, { after: true }),
    endInit: async () => {
      writeFileSync(gate, "");
      await echoes(sim, { initDone: true });
    },
  };
}
