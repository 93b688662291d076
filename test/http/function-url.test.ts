/**
 * The function URL front (`httpPort`): real HTTP clients (Bun's fetch, curl) in front of real
 * runtimes: the official Node RIC (test/fixtures/node-ric/url.mjs and stream.mjs) for the answers,
 * the echo runtime for the payload-format-2.0 event a request becomes.
 */
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { join } from "node:path";
import { ConfigurationError, type Simulator, type SimulatorOptions } from "../../src/index.ts";
import { ECHO_RUNTIME, FIXTURES, startSimulator } from "../helpers/fixtures.ts";
import { endsClean, startWatched } from "../helpers/leftovers.ts";

const TASK_ROOT = join(FIXTURES, "node-ric");
const BOOTSTRAP = join(TASK_ROOT, "bootstrap");
const SUPPORTED = process.platform === "linux" && process.arch === "x64";
const ricTest = test.skipIf(!SUPPORTED);
const decoder = new TextDecoder();

/** A simulator with a function URL on a free port, running the RIC with `handler`. */
async function ricFunction(handler: string, options: SimulatorOptions = {}) {
  const { sim, pids } = await startWatched({ taskRoot: TASK_ROOT, handler, httpPort: 0, ...options });
  sim.spawnRuntime([BOOTSTRAP]);
  return { sim, pids, url: sim.functionUrl() };
}

/** What the echo runtime answers through the function URL: the event it got, and its /next headers. */
interface Echoed {
  // biome-ignore lint/suspicious/noExplicitAny: the event is checked field by field.
  echo: any;
  headers: Record<string, string>;
}

/** What curl received, with the time each piece of stdout arrived. */
interface CurlRun {
  code: number;
  stdout: string;
  stderr: string;
  pieces: { text: string; at: number }[];
  endedAt: number;
}

/** Runs curl with `args`, recording when each piece of its output arrives. */
async function curl(args: string[]): Promise<CurlRun> {
  const proc = Bun.spawn(["curl", "-sS", ...args], { stdout: "pipe", stderr: "pipe" });
  const pieces: { text: string; at: number }[] = [];
  for await (const chunk of proc.stdout) pieces.push({ text: decoder.decode(chunk), at: performance.now() });
  const endedAt = performance.now();
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  return { code, stdout: pieces.map((p) => p.text).join(""), stderr, pieces, endedAt };
}

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Resolves true when a TCP connection to `port` is refused (nothing listens there). */
async function refused(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data: () => {} } });
    socket.end();
    return false;
  } catch {
    return true;
  }
}

describe("function URL, BUFFERED: Lambda's reading of the answer", () => {
  ricTest("an HTTP response object, a bare object, a string, base64 bytes, a string status", async () => {
    const { sim, pids, url } = await ricFunction("url.handler");

    const custom = await fetch(`${url}/custom`);
    expect(custom.status).toBe(201);
    expect(custom.headers.get("content-type")).toBe("text/plain");
    expect(custom.headers.get("x-custom")).toBe("yes");
    expect(custom.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; HttpOnly"]);
    const requestId = custom.headers.get("x-amzn-requestid") as string;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(custom.headers.get("x-amzn-trace-id")).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(await custom.text()).toBe("created /custom");
    expect(sim.invocationState(requestId)?.status).toBeDefined();

    // No statusCode: 200, application/json, the answer as the function returned it.
    const bare = await fetch(`${url}/bare?x=1&x=2`);
    expect(bare.status).toBe(200);
    expect(bare.headers.get("content-type")).toBe("application/json");
    expect(await bare.text()).toBe('{"path":"/bare","query":{"x":"1,2"}}');

    // A JSON string arrives unquoted.
    const text = await fetch(`${url}/string`);
    expect([text.status, text.headers.get("content-type"), await text.text()]).toEqual([
      200,
      "application/json",
      "just a string",
    ]);

    const binary = await fetch(`${url}/binary`);
    expect(binary.headers.get("content-type")).toBe("application/octet-stream");
    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255]);

    // A status given as a string counts; without headers the content type is application/json.
    const teapot = await fetch(`${url}/teapot`);
    expect([teapot.status, teapot.headers.get("content-type"), await teapot.text()]).toEqual([
      418,
      "application/json",
      "i'm a teapot",
    ]);
    await endsClean(sim, pids);
  });

  ricTest("a function error, a timeout and a crash are each a 502", async () => {
    const { sim, pids, url } = await ricFunction("url.handler", { timeoutSeconds: 1 });
    for (const [path, errorType] of [
      ["/fails", "TypeError"],
      ["/hangs", "Sandbox.Timedout"],
      ["/exits", "Runtime.ExitError"],
    ]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status).toBe(502);
      expect(response.headers.get("x-amzn-errortype")).toBe(errorType as string);
      expect(await response.text()).toBe("Internal Server Error");
    }
    // The environment was reset twice and serves again.
    expect((await fetch(`${url}/custom`)).status).toBe(201);
    await endsClean(sim, pids);
  });

  ricTest(
    "a streaming handler behind a BUFFERED URL: its bytes collected, read as a buffered answer",
    async () => {
      const { sim, pids, url } = await ricFunction("url.sse");
      const response = await fetch(`${url}/?events=2`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      const body = await response.text();
      // Not JSON, so not an HTTP response object: the prelude, 8 NULs and the events, as they were sent.
      expect(body).toStartWith('{"statusCode":201');
      expect(body).toEndWith(`${"\0".repeat(8)}data: event 0\n\ndata: event 1\n\n`);
      await endsClean(sim, pids);
    },
  );
});

describe("function URL: the request as a payload-format-2.0 event", () => {
  test("query string, repeated keys, cookies, headers, a binary body, request context", async () => {
    const { sim, pids } = await startWatched({ httpPort: 0 });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const url = sim.functionUrl();
    const port = Number(new URL(url).port);
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const response = await fetch(`${url}/orders/42?a=1&b=two%20words&a=3&flag`, {
      method: "POST",
      headers: {
        "Content-Type": "application/octet-stream",
        Cookie: "session=abc; theme=dark",
        "X-Custom-Header": "One",
        "User-Agent": "function-url-test/1.0",
      },
      body: bytes,
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-amzn-requestid");
    const { echo: event, headers: nextHeaders } = (await response.json()) as Echoed;
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/orders/42",
      rawQueryString: "a=1&b=two%20words&a=3&flag",
      cookies: ["session=abc", "theme=dark"],
      queryStringParameters: { a: "1,3", b: "two words", flag: "" },
      isBase64Encoded: true,
    });
    expect(Buffer.from(event.body, "base64")).toEqual(bytes);
    expect(event.headers).toMatchObject({
      "content-type": "application/octet-stream",
      "content-length": "5",
      "x-custom-header": "One",
      "user-agent": "function-url-test/1.0",
      host: `127.0.0.1:${port}`,
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-port": String(port),
      "x-forwarded-proto": "http",
    });
    // The cookie header travels as `cookies`; every header name is lower case.
    expect(event.headers.cookie).toBeUndefined();
    for (const name of Object.keys(event.headers)) expect(name).toBe(name.toLowerCase());
    // One trace: the header the function sees and the runtime's Lambda-Runtime-Trace-Id share a root.
    expect(nextHeaders["lambda-runtime-trace-id"]).toStartWith(`${event.headers["x-amzn-trace-id"]};`);
    const context = event.requestContext;
    expect(context).toMatchObject({
      accountId: "anonymous",
      apiId: expect.stringMatching(/^[a-z0-9]{32}$/),
      domainName: "127.0.0.1",
      domainPrefix: "127",
      http: {
        method: "POST",
        path: "/orders/42",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "function-url-test/1.0",
      },
      routeKey: "$default",
      stage: "$default",
    });
    // requestContext.requestId is the invocation's request id, as in Lambda.
    expect(context.requestId).toBe(requestId);
    expect(nextHeaders["lambda-runtime-aws-request-id"]).toBe(requestId as string);
    expect(context.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(context.timeEpoch - Date.now())).toBeLessThan(60_000);

    // A header sent twice reaches the function once, its values joined with commas (Bun's Headers
    // join them with ", " before the simulator sees the request).
    const run = await curl(["-H", "x-repeated: a", "-H", "x-repeated: b", url]);
    expect((JSON.parse(run.stdout) as Echoed).echo.headers["x-repeated"]).toBe("a, b");
    await endsClean(sim, pids);
  });

  test("text bodies by content type, no body, no query", async () => {
    const sim = await startSimulator({ httpPort: 0 });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const url = sim.functionUrl();
    const post = async (contentType: string | undefined, body: string) => {
      const headers: Record<string, string> = contentType ? { "Content-Type": contentType } : {};
      const response = await fetch(`${url}/`, { method: "POST", headers, body });
      return ((await response.json()) as Echoed).echo;
    };
    for (const type of ["application/json", "text/plain; charset=utf-8", "application/xml", "text/csv"]) {
      expect(await post(type, '{"a":"é"}')).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });
    }
    for (const type of ["application/x-www-form-urlencoded", "application/octet-stream", "image/png"]) {
      const event = await post(type, "a=1&b=2");
      expect(event.isBase64Encoded).toBe(true);
      expect(Buffer.from(event.body, "base64").toString()).toBe("a=1&b=2");
    }
    const get = ((await (await fetch(`${url}/`)).json()) as Echoed).echo;
    expect(get).toMatchObject({ rawPath: "/", rawQueryString: "", isBase64Encoded: false });
    expect(get.body).toBeUndefined();
    expect(get.queryStringParameters).toBeUndefined();
    expect(get.cookies).toBeUndefined();
  });

  test("a request whose event would pass 6 MB gets 413 and invokes nothing", async () => {
    const sim = await startSimulator({ httpPort: 0 });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const url = sim.functionUrl();
    for (const [type, size] of [
      ["text/plain", 6 * 1024 * 1024 + 1],
      // 5 MB of bytes are 6.7 MB in base64: the limit is on the event.
      ["application/octet-stream", 5 * 1024 * 1024],
    ] as const) {
      const response = await fetch(`${url}/upload`, {
        method: "POST",
        headers: { "Content-Type": type },
        body: new Uint8Array(size).fill(97),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get("x-amzn-errortype")).toBe("RequestTooLargeException");
      expect(await response.json()).toEqual({
        Message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
      });
    }
    expect(sim.invocationStates()).toHaveLength(0);
    // Below the limit it goes through.
    const ok = await fetch(`${url}/upload`, { method: "POST", body: "x".repeat(1024 * 1024) });
    expect(ok.status).toBe(200);
  });
});

describe("function URL, RESPONSE_STREAM", () => {
  ricTest(
    "the prelude's status, headers and cookies, then each event as it is written (curl -N)",
    async () => {
      const { sim, pids, url } = await ricFunction("url.sse", { httpInvokeMode: "RESPONSE_STREAM" });
      const run = await curl(["-N", "-i", `${url}/?events=4&delayMs=300`]);
      expect(run.code).toBe(0);
      const [head = "", body = ""] = run.stdout.split("\r\n\r\n");
      const headLines = head.split("\r\n");
      expect(headLines[0]).toBe("HTTP/1.1 201 Created");
      expect(headLines).toContain("Content-Type: text/event-stream");
      expect(headLines).toContain("X-From: stream.mjs");
      expect(headLines.filter((line) => line.toLowerCase().startsWith("set-cookie:"))).toEqual([
        "set-cookie: a=1; Path=/",
        "set-cookie: b=2",
      ]);
      expect(body).toBe("data: event 0\n\ndata: event 1\n\ndata: event 2\n\ndata: event 3\n\n");
      // The handler writes the last event 900 ms after the first: the first was here long before.
      const first = run.pieces.find((piece) => piece.text.includes("data: event 0"));
      expect(first).toBeDefined();
      expect(run.pieces.find((piece) => piece.text.includes("data: event 3"))).not.toBe(first);
      expect(run.endedAt - (first?.at as number)).toBeGreaterThan(600);
      await endsClean(sim, pids);
    },
  );

  ricTest("an error mid-stream: the bytes sent stay, then the connection is cut", async () => {
    const { sim, pids, url } = await ricFunction("url.sseThenFail", { httpInvokeMode: "RESPONSE_STREAM" });
    const run = await curl(["-N", "-i", url]);
    // curl: (56) the connection was reset; no last chunk ended the body.
    expect(run.code).toBe(56);
    expect(run.stdout).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(run.stdout).toEndWith("\r\n\r\ndata: before the error\n\n");
    // Clients that read the body see the cut as an error, not a clean end.
    const response = await fetch(url);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await endsClean(sim, pids);
  });

  ricTest("a stream without a prelude: status 200 and its own content type", async () => {
    const { sim, pids, url } = await ricFunction("stream.chunks", { httpInvokeMode: "RESPONSE_STREAM" });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain");
    const lines = (await response.text()).split("\n").filter(Boolean);
    expect(lines.map((line) => line.split(" at ")[0])).toEqual(["chunk 0", "chunk 1", "chunk 2"]);
    await endsClean(sim, pids);
  });

  ricTest("a streaming handler that fails before its first byte: a 502", async () => {
    const { sim, pids, url } = await ricFunction("url.failsAtOnce", { httpInvokeMode: "RESPONSE_STREAM" });
    const response = await fetch(url);
    expect(response.status).toBe(502);
    expect(response.headers.get("x-amzn-errortype")).toBe("TypeError");
    expect(await response.text()).toBe("Internal Server Error");
    await endsClean(sim, pids);
  });

  ricTest("a buffered handler behind a RESPONSE_STREAM URL is answered as in BUFFERED mode", async () => {
    const { sim, pids, url } = await ricFunction("url.handler", { httpInvokeMode: "RESPONSE_STREAM" });
    const response = await fetch(`${url}/custom`);
    expect([response.status, await response.text()]).toEqual([201, "created /custom"]);
    expect((await fetch(`${url}/fails`)).status).toBe(502);
    await endsClean(sim, pids);
  });
});

describe("function URL: options and lifetime", () => {
  test("bad options are refused before any port is bound", async () => {
    const port = await freePort();
    for (const options of [
      { httpPort: 70_000 },
      { httpPort: 1.5 },
      { httpPort: 0, httpInvokeMode: "STREAM" },
      { httpInvokeMode: "BUFFERED" },
    ] as SimulatorOptions[]) {
      await expect(startSimulator({ port, ...options })).rejects.toBeInstanceOf(ConfigurationError);
      expect(await refused(port)).toBe(true);
    }
  });

  test("a function URL port in use: a clear error, and the main port is released", async () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
    try {
      const port = await freePort();
      let error: unknown;
      await startSimulator({ port, httpPort: taken.port }).catch((e: unknown) => {
        error = e;
      });
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain(`port ${taken.port} on 127.0.0.1 is already in use`);
      expect((error as Error).message).toContain("--http");
      expect(await refused(port)).toBe(true);
    } finally {
      taken.stop(true);
    }
  });

  test("functionUrl() without httpPort says how to get one", async () => {
    const sim: Simulator = await startSimulator();
    expect(() => sim.functionUrl()).toThrow(/httpPort/);
  });

  test("the server stops with the simulator, nothing of the runtime is left", async () => {
    const { sim, pids } = await startWatched({ httpPort: 0 });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const url = sim.functionUrl();
    expect((await fetch(url)).status).toBe(200);
    await endsClean(sim, pids);
    expect(await refused(Number(new URL(url).port))).toBe(true);
  });
});
