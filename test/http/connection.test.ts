// Connection management on the wire (architecture traps: Bun.serve closed the socket after a
// `Connection: close` request without saying so, and pooling clients then reused the dead socket).
// Raw TCP, so nothing between the test and the server adds or hides a header.
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { Simulator } from "../../src/index.ts";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";

/** One parsed answer. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 connection: write bytes, read answers one by one (by Content-Length). */
class RawConnection {
  private buffered = "";
  private waiting?: () => void;
  /** Resolves when the server closes its side. */
  readonly closed: Promise<void>;
  private readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect({ host: "127.0.0.1", port });
    this.socket.setEncoding("latin1");
    this.socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      this.waiting?.();
    });
    this.closed = new Promise((resolve) => {
      this.socket.on("end", () => resolve());
      this.socket.on("close", () => resolve());
    });
    this.closed.then(() => this.waiting?.());
    this.socket.on("error", () => {});
  }

  write(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The next complete answer; rejects if the server closes first or nothing comes in time. */
  async next(timeoutMs = 10_000): Promise<Answer> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const answer = this.take();
      if (answer) return answer;
      if (this.socket.readyState !== "open" && this.socket.readyState !== "opening")
        throw new Error(`connection closed; unparsed: ${JSON.stringify(this.buffered)}`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(this.buffered)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** True when the server closes the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private take(): Answer | undefined {
    const headEnd = this.buffered.indexOf("\r\n\r\n");
    if (headEnd < 0) return undefined;
    const [statusLine = "", ...lines] = this.buffered.slice(0, headEnd).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (this.buffered.length < headEnd + 4 + length) return undefined;
    const body = this.buffered.slice(headEnd + 4, headEnd + 4 + length);
    this.buffered = this.buffered.slice(headEnd + 4 + length);
    return { status: Number(statusLine.split(" ")[1]), headers, body };
  }
}

function request(method: string, path: string, headers: Record<string, string> = {}, body = ""): string {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body || method === "POST" || method === "PUT") lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** One request of each API family the listener serves; each is answered without waiting on a runtime. */
const QUICK_ROUTES: { name: string; send: (headers: Record<string, string>) => string }[] = [
  { name: "Runtime API ping", send: (h) => request("GET", "/2018-06-01/ping", h) },
  {
    name: "Runtime API error (unknown request id)",
    send: (h) => request("POST", "/2018-06-01/runtime/invocation/nope/response", h, "{}"),
  },
  {
    name: "Extensions API register",
    send: (h) =>
      request("POST", "/2020-01-01/extension/register", { ...h, "Lambda-Extension-Name": "probe" }, "{}"),
  },
  {
    name: "Telemetry API (unknown extension)",
    send: (h) => request("PUT", "/2022-07-01/telemetry", { ...h, "Lambda-Extension-Identifier": "x" }, "{}"),
  },
  {
    name: "Logs API (unknown extension)",
    send: (h) => request("PUT", "/2020-08-15/logs", { ...h, "Lambda-Extension-Identifier": "x" }, "{}"),
  },
  { name: "control API", send: (h) => request("GET", "/_simulator/status", h) },
  { name: "unknown path", send: (h) => request("GET", "/nowhere", h) },
];

const INVOKE = {
  name: "Invoke API",
  send: (h: Record<string, string>) => request("POST", "/2015-03-31/functions/function/invocations", h, "{}"),
};

async function servingSimulator(): Promise<Simulator> {
  const sim = await startSimulator();
  const ready = sim.waitForEvent("initEnd");
  sim.spawnRuntime([ECHO_RUNTIME]);
  await ready;
  return sim;
}

describe("Connection: close", () => {
  test("every API family answers a Connection: close request with Connection: close, then closes", async () => {
    const sim = await servingSimulator();
    for (const route of [...QUICK_ROUTES, INVOKE]) {
      const connection = new RawConnection(sim.port);
      try {
        connection.write(route.send({ Connection: "close" }));
        const answer = await connection.next();
        const closed = await connection.closesWithin(5_000);
        expect({ route: route.name, connection: answer.headers.connection, closed }).toEqual({
          route: route.name,
          connection: "close",
          closed: true,
        });
      } finally {
        connection.destroy();
      }
    }
  });

  test("the close option is found among other connection options, in any case", async () => {
    const sim = await servingSimulator();
    const connection = new RawConnection(sim.port);
    connection.write(request("GET", "/2018-06-01/ping", { Connection: "TE, Close" }));
    expect((await connection.next()).headers.connection).toBe("close");
    expect(await connection.closesWithin(5_000)).toBe(true);
  });

  test("a request pipelined behind a Connection: close request is not served", async () => {
    const sim = await servingSimulator();
    const connection = new RawConnection(sim.port);
    connection.write(
      request("GET", "/2018-06-01/ping", { Connection: "close" }) + request("GET", "/nowhere"),
    );
    const first = await connection.next();
    expect([first.status, first.body, first.headers.connection]).toEqual([200, "pong", "close"]);
    expect(await connection.closesWithin(5_000)).toBe(true);
    await expect(connection.next(500)).rejects.toThrow("connection closed");
  });
});

describe("keep-alive", () => {
  test("sequential requests of every API family share one connection", async () => {
    const sim = await servingSimulator();
    const connection = new RawConnection(sim.port);
    try {
      for (let round = 0; round < 3; round++) {
        for (const route of [...QUICK_ROUTES, INVOKE]) {
          connection.write(route.send({}));
          const answer = await connection.next();
          expect({ route: route.name, connection: answer.headers.connection }).toEqual({
            route: route.name,
            connection: undefined,
          });
        }
      }
    } finally {
      connection.destroy();
    }
  });

  test("pipelined requests are all answered, in order, on the same connection", async () => {
    const sim = await servingSimulator();
    const connection = new RawConnection(sim.port);
    try {
      connection.write(QUICK_ROUTES.map((route) => route.send({})).join(""));
      const statuses: number[] = [];
      for (const _ of QUICK_ROUTES) statuses.push((await connection.next()).status);
      expect(statuses).toEqual([200, 400, 403, 403, 403, 200, 404]);
      expect(await connection.closesWithin(300)).toBe(false);
    } finally {
      connection.destroy();
    }
  });

  test("a runtime may pipeline its /response and its next /next in one write", async () => {
    const sim = await startSimulator();
    const connection = new RawConnection(sim.port);
    try {
      const first = sim.enqueuePayload({ n: 1 });
      connection.write(request("GET", "/2018-06-01/runtime/invocation/next"));
      const next = await connection.next();
      expect(next.headers["lambda-runtime-aws-request-id"]).toBe(first);
      connection.write(
        request("POST", `/2018-06-01/runtime/invocation/${first}/response`, {}, '{"ok":1}') +
          request("GET", "/2018-06-01/runtime/invocation/next"),
      );
      expect((await connection.next()).status).toBe(202);
      expect((await sim.waitForInvocationComplete(first)).status).toBe("success");
      const second = sim.enqueuePayload({ n: 2 });
      const handedOut = await connection.next();
      expect([handedOut.headers["lambda-runtime-aws-request-id"], handedOut.body]).toEqual([
        second,
        '{"n":2}',
      ]);
    } finally {
      connection.destroy();
    }
  });
});
