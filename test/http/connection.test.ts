// Connection management on the wire (architecture traps: Bun.serve closed the socket after a
// `Connection: close` request without saying so, and pooling clients then reused the dead socket).
// Raw TCP, so nothing between the test and the server adds or hides a header.
import { describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/index.ts";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import { RawConnection } from "../helpers/raw-http.ts";

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
    expect([first.status, first.text, first.headers.connection]).toEqual([200, "pong", "close"]);
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
          // Absent, or `keep-alive` (node:http says so on the sandbox listener): anything but close.
          expect({ route: route.name, closing: answer.headers.connection === "close" }).toEqual({
            route: route.name,
            closing: false,
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
      expect([handedOut.headers["lambda-runtime-aws-request-id"], handedOut.text]).toEqual([
        second,
        '{"n":2}',
      ]);
    } finally {
      connection.destroy();
    }
  });
});
