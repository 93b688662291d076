// The sandbox listener's HTTP/1.1 server (src/http/http1.ts) on its own, over raw TCP: framing
// split at every byte, trailers, the malformed requests it refuses, 100-continue, pipelining
// behind an early answer, read backpressure, a cut body and a streamed answer to a client that
// goes away. The suites over the whole simulator prove it with real clients; these locate.
import { afterEach, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { type HttpHandler, type HttpListener, listenHttp } from "../../src/http/http1.ts";

const listeners: HttpListener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
});

function serve(handler: HttpHandler): number {
  const listener = listenHttp(handler, { hostname: "127.0.0.1", port: 0 });
  listeners.push(listener);
  return listener.port;
}

/** A raw client: what it received so far, and a wait for a pattern in it. */
function client(port: number) {
  const socket = connect({ host: "127.0.0.1", port });
  sockets.push(socket);
  let text = "";
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  socket.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
    wake();
  });
  socket.on("close", () => {
    closed = true;
    wake();
  });
  socket.on("error", () => {});
  return {
    socket,
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    /** Resolves when `check` holds, rejects after 5 s. */
    until(check: () => boolean, what: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(text)}`));
        }, 5000);
        const look = () => {
          if (!check()) return;
          clearTimeout(timer);
          waiters.delete(look);
          resolve();
        };
        waiters.add(look);
        look();
      });
    },
  };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Echoes method, path, body and trailers as JSON. */
const echo: HttpHandler = (req, res) => {
  const parts: Uint8Array[] = [];
  req.pipeBody({
    write: (chunk) => {
      parts.push(chunk);
      return undefined;
    },
    end: (map) => {
      const body = Buffer.concat(parts).toString();
      const trailers = Object.fromEntries(map);
      res.send(
        200,
        { "Content-Type": "application/json" },
        JSON.stringify({ method: req.method, path: req.path, query: req.query, body, trailers }),
      );
    },
    cut: () => {},
  });
};

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, fire: () => resolve() };
}

describe("HTTP/1.1 on Bun.listen", () => {
  test("a chunked body with trailers, sent one byte at a time, then a second request on the same connection", async () => {
    const port = serve(echo);
    const c = client(port);
    const request =
      "POST /x/response?a=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: E-Type, E-Body\r\n\r\n" +
      "6\r\nhello \r\n5;ext=1\r\nworld\r\n0\r\nE-Type: Oops\r\nE-Body: eyJ9\r\n\r\n" +
      "GET /second HTTP/1.1\r\nHost: h\r\n\r\n";
    for (const byte of request) {
      c.socket.write(byte);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await c.until(() => count(c.text, "HTTP/1.1 200") === 2 && c.text.includes('"/second"'), "two answers");
    const first = JSON.parse(c.text.slice(c.text.indexOf("{"), c.text.indexOf("}}") + 2));
    expect(first).toEqual({
      method: "POST",
      path: "/x/response",
      query: "a=1",
      body: "hello world",
      trailers: { "e-type": "Oops", "e-body": "eyJ9" },
    });
    expect(c.closed).toBe(false);
  });

  const refused: [string, string, number][] = [
    [
      "Content-Length with Transfer-Encoding",
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
    ],
    ["a negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400],
    [
      "two different Content-Lengths",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      400,
    ],
    ["an unknown HTTP version", "GET / HTTP/2.0\r\n\r\n", 505],
    ["a garbage request line", "HELLO\r\n\r\n", 400],
    ["a header line without a colon", "GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
    ["a bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
    ["a head over 64 KiB", `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`, 431],
  ];
  for (const [what, raw, status] of refused) {
    test(`${what}: answered ${status} with Connection: close, then closed`, async () => {
      let handled = 0;
      const port = serve((req, res) => {
        handled++;
        req.pipeBody({ write: () => undefined, end: () => res.send(200, {}, "ok"), cut: () => {} });
      });
      const c = client(port);
      c.socket.write(raw);
      await c.until(() => c.closed, "the close");
      expect(c.text).toStartWith(`HTTP/1.1 ${status} `);
      expect(c.text.toLowerCase()).toContain("connection: close");
      expect(count(c.text, "HTTP/1.1")).toBe(1);
      // A bad chunk is found in the body, after the head was handed on.
      expect(handled).toBe(raw.includes("zz") ? 1 : 0);
    });
  }

  test("Expect: 100-continue gets 100 Continue before the answer", async () => {
    const port = serve(echo);
    const c = client(port);
    c.socket.write("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    await c.until(() => c.text.includes("100 Continue"), "100 Continue");
    c.socket.write("hi");
    await c.until(() => c.text.includes('"body":"hi"'), "the answer");
    expect(c.text.indexOf("100 Continue")).toBeLessThan(c.text.indexOf("200 OK"));
  });

  test("an answer given before the body was read: the body is dropped and the pipelined request behind it served", async () => {
    const port = serve((req, res) => res.send(req.path === "/early" ? 403 : 200, {}, req.path));
    const c = client(port);
    c.socket.write(
      `POST /early HTTP/1.1\r\nContent-Length: 100000\r\n\r\n${"x".repeat(100_000)}GET /after HTTP/1.1\r\n\r\n`,
    );
    await c.until(() => c.text.includes("/after"), "the second answer");
    expect(c.text).toStartWith("HTTP/1.1 403 Forbidden");
    expect(count(c.text, "HTTP/1.1 ")).toBe(2);
  });

  test("a sink that waits pauses reading; the rest arrives once it resolves", async () => {
    let received = 0;
    const firstBytes = signal();
    const release = signal();
    const done = signal();
    const port = serve((req, res) => {
      req.pipeBody({
        write: (chunk) => {
          received += chunk.byteLength;
          if (received !== chunk.byteLength) return undefined;
          firstBytes.fire();
          return release.promise;
        },
        end: () => {
          res.send(200, {}, String(received));
          done.fire();
        },
        cut: () => {},
      });
    });
    const c = client(port);
    const total = 32 * 1024 * 1024;
    c.socket.write(`POST /big HTTP/1.1\r\nContent-Length: ${total}\r\n\r\n`);
    c.socket.write(Buffer.alloc(total, 97));
    await firstBytes.promise;
    // Paused: what the kernel buffers may still come in, not the whole 32 MiB.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toBeLessThan(total);
    release.fire();
    await done.promise;
    expect(received).toBe(total);
  });

  test("a client that closes mid-body cuts the sink; a streamed answer to a client that left is cancelled", async () => {
    let cut!: () => void;
    const wasCut = new Promise<void>((resolve) => {
      cut = resolve;
    });
    let cancelled!: () => void;
    const wasCancelled = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const port = serve((req, res) => {
      if (req.path === "/upload") {
        req.pipeBody({ write: () => undefined, end: () => {}, cut });
        return;
      }
      let n = 0;
      void res.sendStream(
        200,
        { "Content-Type": "text/plain" },
        new ReadableStream<Uint8Array>({
          pull: async (controller) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            controller.enqueue(new TextEncoder().encode(`piece ${n++}\n`));
          },
          cancel: () => cancelled(),
        }),
      );
    });
    const upload = client(port);
    upload.socket.write("POST /upload HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    await new Promise((resolve) => setTimeout(resolve, 20));
    upload.socket.destroy();
    await wasCut;

    const download = client(port);
    download.socket.write("GET /download HTTP/1.1\r\n\r\n");
    await download.until(() => download.text.includes("piece 2"), "three pieces");
    expect(download.text.toLowerCase()).toContain("transfer-encoding: chunked");
    download.socket.destroy();
    await wasCancelled;
  });

  test("a request pipelined behind a streamed answer is answered after the stream's last chunk", async () => {
    let finish!: () => void;
    const port = serve((req, res) => {
      if (req.path === "/second") {
        res.send(200, {}, "second");
        return;
      }
      void res.sendStream(
        200,
        {},
        new ReadableStream<Uint8Array>({
          start: (controller) => {
            controller.enqueue(new TextEncoder().encode("first part "));
            finish = () => {
              controller.enqueue(new TextEncoder().encode("last part"));
              controller.close();
            };
          },
        }),
      );
    });
    const c = client(port);
    c.socket.write("GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
    await c.until(() => c.text.includes("first part"), "the first part");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.text).not.toContain("second");
    finish();
    await c.until(() => c.text.endsWith("second"), "the second answer");
    expect(c.text.indexOf("0\r\n\r\n")).toBeLessThan(c.text.indexOf("second"));
  });
});
