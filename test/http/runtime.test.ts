// Runtime API (`/2018-06-01`, reference section 1) over real HTTP: what a runtime sees on GET /next,
// what it may post, and the exact status codes and error bodies of every misuse. Runtimes are real
// processes (fixtures) or the test itself speaking HTTP with fetch or a raw socket, where the test
// needs to see the status codes a runtime would get.
import { afterEach, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { InvocationBuilder, type InvokeResponse, type Simulator } from "../../src/index.ts";
import { ECHO_RUNTIME, FIXTURES, initCount } from "../helpers/fixtures.ts";
import { shutdownTracked, startTracked as start } from "../helpers/leftovers.ts";
import { tempDir } from "../helpers/temp.ts";

const INSPECT_RUNTIME = join(FIXTURES, "runtimes", "inspect.ts");
const CURL_BOOTSTRAP = join(FIXTURES, "runtimes", "curl-bootstrap.sh");
const MAX_RESPONSE = 6_291_556;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATE_TRANSITION = (to: string) =>
  `State transition from RuntimeResponseSentState to ${to} failed for runtime. Error: State transition is not allowed`;

/** Requests a test leaves open (a runtime's pending /next); settled by the shutdown in afterEach. */
const dangling: Promise<unknown>[] = [];

// Every simulator is shut down and every runtime process group must be gone.
afterEach(() => shutdownTracked({ settle: () => Promise.allSettled(dangling.splice(0)) }));

// ---- The test acting as the runtime ----------------------------------------------------------

interface Delivered {
  id: string;
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** What the test runtime may post (fetch's BodyInit subset it uses). */
type RequestBody = string | Uint8Array;

interface ApiAnswer {
  status: number;
  contentType: string | null;
  text: string;
  json<T = unknown>(): T;
}

/** A runtime played by the test with fetch (no process): every status code is visible. */
class FetchRuntime {
  constructor(private readonly sim: Simulator) {}

  url(path: string): string {
    return `${this.sim.url()}/2018-06-01/runtime${path}`;
  }

  /** Starts GET /next; the promise is also registered as dangling so shutdown can settle it. */
  startNext(): Promise<Delivered> {
    const promise = fetch(this.url("/invocation/next")).then(async (response) => ({
      id: response.headers.get("lambda-runtime-aws-request-id") ?? "",
      status: response.status,
      headers: response.headers,
      body: new Uint8Array(await response.arrayBuffer()),
    }));
    dangling.push(promise);
    return promise;
  }

  async next(): Promise<Delivered> {
    const delivered = await this.startNext();
    expect(delivered.status).toBe(200);
    return delivered;
  }

  async post(path: string, body: RequestBody = "", headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const response = await fetch(this.url(path), { method: "POST", headers, body });
    return answer(response.status, response.headers.get("content-type"), await response.text());
  }

  respond(id: string, body: RequestBody, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.post(`/invocation/${id}/response`, body, headers);
  }

  error(id: string, body: RequestBody, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.post(`/invocation/${id}/error`, body, headers);
  }
}

function answer(status: number, contentType: string | null, text: string): ApiAnswer {
  return { status, contentType, text, json: <T>() => JSON.parse(text) as T };
}

/**
 * Sends one HTTP/1.1 request byte for byte (header names exactly as given, empty values kept),
 * so the test controls what fetch would normalise.
 */
function rawRequest(
  sim: Simulator,
  method: string,
  path: string,
  headerLines: string[],
  body: string | Uint8Array = "",
): Promise<ApiAnswer> {
  const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
  const head = [
    `${method} ${path} HTTP/1.1`,
    `host: ${sim.runtimeApiUrl()}`,
    ...headerLines,
    `content-length: ${bytes.byteLength}`,
    "connection: close",
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect(sim.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      try {
        resolve(parseRawResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(Buffer.concat([Buffer.from(head, "latin1"), bytes]));
  });
}

/** POSTs `body` as the runtime's answer to invocation `id`, with exactly `headerLines` (see rawRequest). */
function rawPost(
  sim: Simulator,
  id: string,
  kind: "response" | "error",
  headerLines: string[],
  body: string,
): Promise<ApiAnswer> {
  return rawRequest(sim, "POST", `/2018-06-01/runtime/invocation/${id}/${kind}`, headerLines, body);
}

function parseRawResponse(raw: Buffer): ApiAnswer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`incomplete HTTP response: ${JSON.stringify(raw.toString("latin1"))}`);
  const [statusLine = "", ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.subarray(end + 4);
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    const parts: Buffer[] = [];
    let offset = 0;
    while (offset < body.length) {
      const lineEnd = body.indexOf("\r\n", offset);
      const size = Number.parseInt(body.subarray(offset, lineEnd).toString("latin1"), 16);
      if (!size) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return answer(Number(statusLine.split(" ")[1]), headers.get("content-type") ?? null, body.toString("utf8"));
}

/** The Invoke API, as an AWS SDK calls it. */
async function invokeOverHttp(sim: Simulator, payload: string): Promise<Response> {
  return fetch(`${sim.url()}/2015-03-31/functions/${sim.config.functionName}/invocations`, {
    method: "POST",
    body: payload,
  });
}

function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

// ---- GET /next ---------------------------------------------------------------------------------

describe("GET /runtime/invocation/next", () => {
  test("hands out request id, deadline, invoked ARN with qualifier and trace id", async () => {
    const sim = await start({
      functionName: "orders",
      region: "eu-central-1",
      accountId: "210987654321",
      timeoutSeconds: 7,
    });
    sim.spawnRuntime([ECHO_RUNTIME]);
    await sim.waitFor((s) => s.phase() === "Ready", 30_000);

    const before = Date.now();
    const response = await sim.invoke(new InvocationBuilder().payload({ orderId: 42 }).qualifier("prod"));
    const after = Date.now();
    const body = response.json<{ echo: unknown; headers: Record<string, string> }>();
    const headers = body.headers;
    expect(response.functionError).toBeUndefined();
    expect(body.echo).toEqual({ orderId: 42 });

    // Request id: a lowercase UUID, the same one the caller knows.
    expect(headers["lambda-runtime-aws-request-id"]).toBe(response.requestId);
    expect(response.requestId).toMatch(UUID);

    // Deadline: integer epoch milliseconds = the moment the invoke started + the function timeout.
    const deadlineText = headers["lambda-runtime-deadline-ms"] as string;
    expect(deadlineText).toMatch(/^\d+$/);
    const deadline = Number(deadlineText);
    expect(deadline).toBeGreaterThanOrEqual(before + 7000);
    expect(deadline).toBeLessThanOrEqual(after + 7000);
    const state = sim.invocationState(response.requestId);
    expect(state?.deadlineMs).toBe(deadline);
    const sinceStart = deadline - (state?.startedAt as number);
    expect(sinceStart).toBeLessThanOrEqual(7000);
    expect(sinceStart).toBeGreaterThanOrEqual(6900);

    // ARN used to invoke, qualifier included.
    expect(headers["lambda-runtime-invoked-function-arn"]).toBe(
      "arn:aws:lambda:eu-central-1:210987654321:function:orders:prod",
    );

    // Trace id: Root=1-<epoch seconds hex>-<24 hex>;Parent=<16 hex>;Sampled=0|1
    const trace = headers["lambda-runtime-trace-id"] as string;
    const match = /^Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$/.exec(trace);
    expect(match).not.toBeNull();
    const epoch = Number.parseInt(match?.[1] as string, 16);
    expect(epoch).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 1);
    expect(epoch).toBeLessThanOrEqual(Math.floor(after / 1000) + 1);

    expect(headers["content-type"]).toBe("application/json");
    // Headers that must only be present when the caller passed them.
    expect(headers["lambda-runtime-client-context"]).toBeUndefined();
    expect(headers["lambda-runtime-cognito-identity"]).toBeUndefined();

    // Without a qualifier the ARN has none (the qualifier of an earlier invoke does not stick).
    const plain = await sim.invoke({ orderId: 43 });
    const plainHeaders = plain.json<{ headers: Record<string, string> }>().headers;
    expect(plainHeaders["lambda-runtime-invoked-function-arn"]).toBe(
      "arn:aws:lambda:eu-central-1:210987654321:function:orders",
    );
    expect(plainHeaders["lambda-runtime-aws-request-id"]).toBe(plain.requestId);
    expect(plain.requestId).not.toBe(response.requestId);
    expect(plainHeaders["lambda-runtime-trace-id"]).not.toBe(trace);
  });

  test("passes non-JSON text and raw binary payloads through byte for byte, with their content type", async () => {
    const sim = await start({ timeoutSeconds: 30 });
    sim.spawnRuntime([INSPECT_RUNTIME]);
    type Seen = { contentType: string; bodyBase64: string; headers: Record<string, string> };

    const text = "not JSON at all: ✓ <xml/> \u0000 tab\there\r\nend";
    const textResult = await sim.invoke(new InvocationBuilder().payload(text, "text/plain; charset=utf-8"));
    expect(textResult.functionError).toBeUndefined();
    const seenText = textResult.json<Seen>();
    expect(seenText.contentType).toBe("text/plain; charset=utf-8");
    expect(Buffer.from(seenText.bodyBase64, "base64")).toEqual(Buffer.from(text, "utf8"));

    // Every byte value, invalid UTF-8 included, plus random bytes.
    const binary = new Uint8Array(256 + 4096);
    for (let i = 0; i < 256; i++) binary[i] = i;
    crypto.getRandomValues(binary.subarray(256));
    const binaryResult = await sim.invoke(new InvocationBuilder().payload(binary));
    const seenBinary = binaryResult.json<Seen>();
    expect(seenBinary.contentType).toBe("application/octet-stream");
    expect(seenBinary.headers["lambda-runtime-aws-request-id"]).toBe(binaryResult.requestId);
    expect(new Uint8Array(Buffer.from(seenBinary.bodyBase64, "base64"))).toEqual(binary);

    // An empty payload stays empty.
    const empty = await sim.invoke(new InvocationBuilder().payload(new Uint8Array(0)));
    expect(empty.json<Seen>().bodyBase64).toBe("");
  });

  test("a binary response reaches the caller byte for byte with its content type", async () => {
    const sim = await start({ timeoutSeconds: 30 });
    sim.spawnRuntime([INSPECT_RUNTIME]);
    const logged = sim.waitForEvent("log", (log) => log.line.startsWith("random-bytes:"));
    const response = await sim.invoke({ randomBytes: 65_536 });
    const [, id, base64] = (await logged).line.split(":");
    expect(id).toBe(response.requestId);
    expect(response.functionError).toBeUndefined();
    expect(response.contentType).toBe("application/octet-stream");
    expect(response.payload.byteLength).toBe(65_536);
    expect(new Uint8Array(response.payload)).toEqual(new Uint8Array(Buffer.from(base64 as string, "base64")));
  });

  // Without `idleTimeout: 0` the server would close a silent request after Elysia's default of 30 s
  // (Bun.serve's own default is 10 s), and only at the next 4 s timer tick: measured with Bun 1.4.5,
  // a 10 s idle timeout fires at ~12 s, a 3 s one at ~4 s. An 11 s wait passes even with the option
  // removed, so the invocation arrives after 36 s, beyond any default.
  test("a long-poll held open for 36 s still receives the invocation (no idle timeout)", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const pollStarted = Date.now();
    const delivered = runtime.startNext();
    // The external runtime's first /next ends its init: the poll is now parked in the server.
    await sim.waitFor((s) => s.phase() === "Ready", 10_000);
    let invoked: Promise<InvokeResponse> | undefined;
    // The timer only schedules the invocation; the only timing assertion is its lower bound.
    const timer = setTimeout(() => {
      invoked = sim.invoke({ late: true });
    }, 36_000);
    try {
      const invocation = await delivered;
      expect(invocation.status).toBe(200);
      expect(invoked).toBeDefined();
      expect(new TextDecoder().decode(invocation.body)).toBe('{"late":true}');
      const state = sim.invocationState(invocation.id);
      expect(state?.enqueuedAt as number).toBeGreaterThanOrEqual(pollStarted + 35_500);
      expect((await runtime.respond(invocation.id, '{"ok":true}')).status).toBe(202);
      const result = await (invoked as Promise<InvokeResponse>);
      expect(result.requestId).toBe(invocation.id);
      expect(result.json()).toEqual({ ok: true });
    } finally {
      clearTimeout(timer);
    }
  }, 60_000);
});

// ---- POST /response and /error ------------------------------------------------------------------

describe("POST /runtime/invocation/{id}/response and /error", () => {
  test("an unknown request id gets 400 InvalidRequestID and changes nothing", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = sim.invoke({ n: 1 });
    const invocation = await runtime.next();
    const unknown = crypto.randomUUID();
    const expected = { errorMessage: "Invalid request ID", errorType: "InvalidRequestID" };

    const response = await runtime.respond(unknown, '{"wrong":true}');
    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/json");
    expect(response.json()).toEqual(expected);
    const error = await runtime.error(unknown, '{"errorType":"X","errorMessage":"y"}');
    expect(error.status).toBe(400);
    expect(error.json()).toEqual(expected);
    // Not even a UUID.
    expect((await runtime.respond("not-a-request-id", "{}")).json()).toEqual(expected);

    expect(sim.invocationState(invocation.id)?.response).toBeUndefined();
    expect((await runtime.respond(invocation.id, '{"right":true}')).status).toBe(202);
    const result = await invoked;
    expect(result.json()).toEqual({ right: true });
    expect(result.functionError).toBeUndefined();
  });

  test("a second answer gets 403 InvalidStateTransition; the first answer wins", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);

    // /response, then /response and /error again.
    const first = sim.invoke({ n: 1 });
    const one = await runtime.next();
    const accepted = await runtime.respond(one.id, '{"first":true}');
    expect(accepted.status).toBe(202);
    expect(accepted.json()).toEqual({ status: "OK" });
    const again = await runtime.respond(one.id, '{"second":true}');
    expect(again.status).toBe(403);
    expect(again.json()).toEqual({
      errorMessage: STATE_TRANSITION("InvocationResponse"),
      errorType: "InvalidStateTransition",
    });
    const errorAfter = await runtime.error(one.id, '{"errorType":"E","errorMessage":"late"}');
    expect(errorAfter.status).toBe(403);
    expect(errorAfter.json()).toEqual({
      errorMessage: STATE_TRANSITION("InvocationErrorResponse"),
      errorType: "InvalidStateTransition",
    });
    const firstResult = await first;
    expect(firstResult.json()).toEqual({ first: true });
    expect(firstResult.functionError).toBeUndefined();

    // /error, then /response: still 403, the error stays.
    const second = sim.invoke({ n: 2 });
    const two = await runtime.next();
    expect(sim.invocationState(one.id)?.status).toBe("success");
    expect((await runtime.error(two.id, '{"errorType":"E","errorMessage":"boom"}')).status).toBe(202);
    const responseAfter = await runtime.respond(two.id, '{"late":true}');
    expect(responseAfter.status).toBe(403);
    expect(responseAfter.json<{ errorMessage: string }>().errorMessage).toBe(
      STATE_TRANSITION("InvocationResponse"),
    );
    const secondResult = await second;
    expect(secondResult.functionError).toBe("Unhandled");
    expect(secondResult.json()).toEqual({ errorType: "E", errorMessage: "boom" });

    // Once the runtime asked for the next event, the old id is simply not current: 400.
    runtime.startNext();
    await sim.waitForInvocationComplete(two.id);
    const stale = await runtime.respond(two.id, "{}");
    expect(stale.status).toBe(400);
    expect(stale.json<{ errorType: string }>().errorType).toBe("InvalidRequestID");
  });

  test("a URL-encoded request id is decoded", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = sim.invoke({ n: 1 });
    const invocation = await runtime.next();
    const encoded = invocation.id.replaceAll("-", "%2D");
    expect(encoded).not.toBe(invocation.id);
    const response = await runtime.respond(encoded, '{"encoded":true}');
    expect(response.status).toBe(202);
    expect((await invoked).json()).toEqual({ encoded: true });

    const failing = sim.invoke({ n: 2 });
    const next = await runtime.next();
    const fullyEncoded = [...next.id]
      .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`)
      .join("");
    expect((await runtime.error(fullyEncoded, '{"errorType":"E","errorMessage":"x"}')).status).toBe(202);
    expect((await failing).functionError).toBe("Unhandled");
  });

  test("/error takes the error type header in any casing and hands the body to the caller unchanged", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = invokeOverHttp(sim, '{"n":1}');
    const invocation = await runtime.next();
    // Odd spacing, key order and extra fields: the caller must get these exact bytes.
    const body =
      '{ "stackTrace": ["at x"], "errorType" : "TypeError",\n "errorMessage":"x is not a function", "extra": 1 }';
    const posted = await rawPost(
      sim,
      invocation.id,
      "error",
      ["lambda-runtime-function-error-type: Function.LowerCaseHeader", "content-type: application/json"],
      body,
    );
    expect(posted.status).toBe(202);
    expect(posted.json()).toEqual({ status: "OK" });

    const response = await invoked;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await response.text()).toBe(body);
    runtime.startNext();
    const state = await sim.waitForInvocationComplete(invocation.id);
    expect(state.status).toBe("error");
    expect(state.errorType).toBe("Function.LowerCaseHeader");
    expect(state.response?.functionError).toBe("Unhandled");
    expect(state.logs.at(-1)).toContain("Status: error\tError Type: Function.LowerCaseHeader\t");
  });

  test("/error without the error type header takes errorType from the JSON body", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = sim.invoke({ n: 1 });
    const invocation = await runtime.next();
    const body =
      '{"errorMessage":"boom","errorType":"errorString","stackTrace":[{"path":"main.go","line":12}]}';
    const posted = await rawPost(sim, invocation.id, "error", ["Content-Type: application/json"], body);
    expect(posted.status).toBe(202);
    const result = await invoked;
    expect(result.functionError).toBe("Unhandled");
    expect(result.text()).toBe(body);
    expect(result.errorType).toBe("errorString");
    runtime.startNext();
    const state = await sim.waitForInvocationComplete(invocation.id);
    expect(state.errorType).toBe("errorString");
  });

  test("an empty X-Ray error cause header and Content-Type text/html are tolerated", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);

    // The C++ client always sends an empty Lambda-Runtime-Function-XRay-Error-Cause header.
    const first = sim.invoke({ n: 1 });
    const one = await runtime.next();
    const ok = await rawPost(
      sim,
      one.id,
      "response",
      ["Lambda-Runtime-Function-XRay-Error-Cause:", "Content-Type: application/json"],
      '{"ok":1}',
    );
    expect(ok.status).toBe(202);
    expect((await first).json()).toEqual({ ok: 1 });

    // ... and on /error, with text/html when its caller gave no content type.
    const second = sim.invoke({ n: 2 });
    const two = await runtime.next();
    const body = '{"errorMessage":"cpp failure","errorType":"Runtime.CppError"}';
    const failed = await rawPost(
      sim,
      two.id,
      "error",
      [
        "lambda-runtime-function-error-type: Runtime.CppError",
        "lambda-runtime-function-xray-error-cause:",
        "content-type: text/html",
      ],
      body,
    );
    expect(failed.status).toBe(202);
    const result = await second;
    expect(result.functionError).toBe("Unhandled");
    expect(result.text()).toBe(body);
    expect(result.errorType).toBe("Runtime.CppError");
  });
});

// ---- Response size limit -------------------------------------------------------------------------

describe("response size limit (6,291,556 bytes)", () => {
  test("one byte over: 413 RequestEntityTooLarge to the runtime, Function.ResponseSizeTooLarge to the caller", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = invokeOverHttp(sim, '{"big":true}');
    const invocation = await runtime.next();
    const posted = await runtime.respond(invocation.id, patterned(MAX_RESPONSE + 1), {
      "Content-Type": "application/json",
    });
    expect(posted.status).toBe(413);
    expect(posted.json()).toEqual({
      errorMessage: "Exceeded maximum allowed payload size (6291556 bytes).",
      errorType: "RequestEntityTooLarge",
    });

    const response = await invoked;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBe("Unhandled");
    const error = (await response.json()) as { errorType: string; errorMessage: string };
    expect(error.errorType).toBe("Function.ResponseSizeTooLarge");
    expect(error.errorMessage).toMatch(/exceeded maximum allowed payload size \(6291556 bytes\)\.$/);

    // The runtime counts as having answered: a retry is refused, and it must call /next again.
    const retry = await runtime.respond(invocation.id, "{}");
    expect(retry.status).toBe(403);
    expect(retry.json<{ errorType: string }>().errorType).toBe("InvalidStateTransition");
    runtime.startNext();
    const state = await sim.waitForInvocationComplete(invocation.id);
    expect(state.status).toBe("error");
    expect(state.errorType).toBe("Function.ResponseSizeTooLarge");
    expect(state.response?.functionError).toBe("Unhandled");
  });

  test("exactly 6,291,556 bytes pass unchanged", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = sim.invoke({ big: true });
    const invocation = await runtime.next();
    const payload = patterned(MAX_RESPONSE);
    const posted = await runtime.respond(invocation.id, payload, {
      "Content-Type": "application/octet-stream",
    });
    expect(posted.status).toBe(202);
    const result = await invoked;
    expect(result.functionError).toBeUndefined();
    expect(result.contentType).toBe("application/octet-stream");
    expect(result.payload.byteLength).toBe(MAX_RESPONSE);
    expect(Buffer.from(result.payload).equals(Buffer.from(payload))).toBe(true);
  });
});

// ---- POST /init/error ------------------------------------------------------------------------------

describe("POST /runtime/init/error", () => {
  test("after the runtime's first /next it is refused with 403 InvalidStateTransition", async () => {
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const delivered = runtime.startNext();
    await sim.waitFor((s) => s.phase() === "Ready", 10_000);
    const late = await runtime.post("/init/error", '{"errorType":"Runtime.Late","errorMessage":"late"}', {
      "Lambda-Runtime-Function-Error-Type": "Runtime.Late",
    });
    expect(late.status).toBe(403);
    const error = late.json<{ errorType: string; errorMessage: string }>();
    expect(error.errorType).toBe("InvalidStateTransition");
    expect(error.errorMessage).toMatch(
      /^State transition from \w+ to InitError failed for runtime\. Error: State transition is not allowed$/,
    );

    // Nothing changed: the parked /next still gets the next invocation.
    const invoked = sim.invoke({ after: true });
    const invocation = await delivered;
    expect(invocation.status).toBe(200);
    expect((await runtime.respond(invocation.id, '{"fine":true}')).status).toBe(202);
    expect((await invoked).json()).toEqual({ fine: true });
    expect(initCount(sim)).toBe(1);
  });

  test("an external runtime's /init/error before its first /next fails the pending invoke with the posted body", async () => {
    // `lambda-sim serve` without a bootstrap waits for a runtime started elsewhere (reference 1.6:
    // /init/error is valid "before the first next"); the test plays that runtime.
    const sim = await start({ timeoutSeconds: 60 });
    const runtime = new FetchRuntime(sim);
    const invoked = sim.invoke({ n: 1 });
    const body =
      '{"errorMessage": "Unable to import module \'app\': No module named \'app\'", "errorType": "Runtime.ImportModuleError", "stackTrace": []}';
    const posted = await runtime.post("/init/error", body, {
      "Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError",
    });
    expect({ status: posted.status, body: posted.text }).toEqual({ status: 202, body: '{"status":"OK"}' });
    const failed = await invoked;
    expect(failed.functionError).toBe("Unhandled");
    expect(failed.text()).toBe(body);
    const state = await sim.waitForInvocationComplete(failed.requestId);
    expect(state.status).toBe("error");
    expect(state.errorType).toBe("Runtime.ImportModuleError");

    // The restarted runtime's first /next is a new init and gets the next invocation.
    const second = sim.invoke({ n: 2 });
    const invocation = await runtime.next();
    expect((await runtime.respond(invocation.id, '{"fixed":true}')).status).toBe(202);
    expect((await second).json()).toEqual({ fixed: true });
  });
});

// ---- Routing ---------------------------------------------------------------------------------------

describe("routing", () => {
  test("wrong method on a known path is 405, an unknown path is 404, /ping answers pong", async () => {
    const sim = await start();
    const base = sim.url();
    const id = crypto.randomUUID();
    // Queued before the probes: none of them may take it (HEAD /next used to, through the GET handler).
    const queued = sim.enqueuePayload({ untouched: true });
    const wrongMethod: Array<[string, string]> = [
      ["HEAD", "/2018-06-01/runtime/invocation/next"],
      ["POST", "/2018-06-01/runtime/invocation/next"],
      ["PUT", "/2018-06-01/runtime/invocation/next"],
      ["GET", `/2018-06-01/runtime/invocation/${id}/response`],
      ["DELETE", `/2018-06-01/runtime/invocation/${id}/response`],
      ["GET", `/2018-06-01/runtime/invocation/${id}/error`],
      ["GET", "/2018-06-01/runtime/init/error"],
      ["POST", "/2018-06-01/ping"],
    ];
    for (const [method, path] of wrongMethod) {
      const response = await fetch(`${base}${path}`, { method });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 405 });
    }
    const unknown = [
      ["GET", "/2018-06-01/runtime/invocation"],
      ["GET", "/2018-06-01/runtime/invocation/next/extra"],
      ["POST", `/2018-06-01/runtime/invocation/${id}/answer`],
      ["GET", "/2018-06-01/runtime/restore/next"],
      ["GET", "/2018-06-02/runtime/invocation/next"],
      ["GET", "/nope"],
    ];
    for (const [method, path] of unknown) {
      const response = await fetch(`${base}${path}`, { method });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
      expect(response.headers.get("content-type")).toStartWith("text/plain");
    }
    const ping = await fetch(`${base}/2018-06-01/ping`);
    expect(ping.status).toBe(200);
    expect(await ping.text()).toBe("pong");
    // None of this touched the environment.
    expect(sim.phase()).toBe("Uninitialized");
    expect(sim.invocationState(queued)?.status).toBe("queued");
  });
});

// ---- A real-world shell runtime --------------------------------------------------------------------

describe("POSIX sh + curl bootstrap", () => {
  test("echoes three events, reading the request id from curl's header dump", async () => {
    const sim = await start({ timeoutSeconds: 30 });
    sim.spawnRuntime([CURL_BOOTSTRAP], { env: { TMPDIR: tempDir("runtime-test-") } });
    const lines: string[] = [];
    sim.events.on("log", (log) => {
      if (log.source === "function") lines.push(log.line);
    });
    const events = [{ first: 1 }, { second: "zwei ✓" }, { third: [1, 2, 3], nested: { ok: true } }];
    const pids = new Set<number>();
    const ids: string[] = [];
    for (const event of events) {
      const response = await sim.invoke(event);
      expect(response.functionError).toBeUndefined();
      expect(response.text()).toBe(JSON.stringify(event));
      expect(response.contentType).toBe("application/json");
      const state = await sim.waitForInvocationComplete(response.requestId, 30_000);
      expect(state.status).toBe("success");
      ids.push(response.requestId);
      pids.add(sim.runtimePid() as number);
    }
    expect(pids.size).toBe(1);
    expect(initCount(sim)).toBe(1);
    // The script printed each request id it parsed from the header dump.
    await sim.waitFor(() => ids.every((id) => lines.includes(`curl-bootstrap: handling ${id}`)), 30_000);
  });
});
