/**
 * HTTP/1.1 on `Bun.listen`, for the sandbox listener (what `AWS_LAMBDA_RUNTIME_API` points at).
 * Neither server Bun offers fits it: `Bun.serve` answers a chunked request before reading its
 * trailer section, then writes 400 over the trailers and kills the runtime's connection (a
 * streamed response's mid-stream error lives in those trailers); `node:http` reads them, but costs
 * ~20 ms to load and listen and tens of microseconds per request. This is the part of RFC 9112 the
 * Lambda APIs use: Content-Length and chunked bodies (with trailers), keep-alive and pipelining,
 * `Connection: close`, HTTP/1.0, `Expect: 100-continue`, and backpressure both ways.
 */
import type { Socket, TCPSocketListener } from "bun";
import { LambdaError } from "../core/errors.ts";
import { bindError } from "./errors.ts";

/** The client closed the connection before the body it announced was complete. */
export class BodyCutError extends Error {
  constructor() {
    super("HTTP request detected as truncated");
  }
}

/** Where a body goes piece by piece; a pending `write` pauses reading until it settles. */
export interface BodySink {
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** The body ended; `trailers` holds the trailer fields of a chunked body (lower-case names). */
  end(trailers: ReadonlyMap<string, string>): void;
  /** The connection closed before the body ended. */
  cut(): void;
}

/** A request: its head parsed, its body still arriving. */
export interface HttpRequest {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly target: string;
  /** The target's path, without the query. */
  readonly path: string;
  /** The query without `?` ("" when none). */
  readonly query: string;
  /** Header fields in order, names as sent; repeated fields stay separate. */
  readonly rawHeaders: readonly [string, string][];
  /** A header (any casing); repeated fields joined with ", ". */
  header(name: string): string | undefined;
  /** The whole body; rejects with BodyCutError if the connection closes first, with 413 past `limitBytes`. */
  body(limitBytes: number): Promise<Uint8Array>;
  /** Hands the body to `sink` as it arrives. */
  pipeBody(sink: BodySink): void;
}

/** The answer to one request. */
export interface HttpResponse {
  /** True once the connection is gone. */
  readonly closed: boolean;
  /** Runs `listener` when the connection closes before the answer was written. */
  onAbort(listener: () => void): void;
  /** Writes a complete answer (with Content-Length); ignored once one was written or the client is gone. */
  send(status: number, headers: Readonly<Record<string, string>>, body?: Uint8Array | string): void;
  /** Writes the head, then `body` chunked as it comes, waiting for the client; cancels it if the client goes. */
  sendStream(
    status: number,
    headers: Readonly<Record<string, string>>,
    body: ReadableStream<Uint8Array>,
  ): Promise<void>;
}

/** Serves one request; it must answer through `res`, now or later. */
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => void;

/** A bound listener. */
export interface HttpListener {
  readonly port: number;
  stop(): Promise<void>;
}

const MAX_HEAD_BYTES = 64 * 1024;
/** Body bytes buffered for a handler that has not asked for them yet, before reading pauses. */
const UNREAD_BODY_BYTES = 1024 * 1024;
/** Bytes queued for a slow client before a streamed answer waits for it. */
const OUTGOING_HIGH_WATER = 256 * 1024;
/** Pieces of one write up to this size are joined into one buffer first. */
const COALESCE_BYTES = 64 * 1024;
const CRLF = Buffer.from("\r\n");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  202: "Accepted",
  204: "No Content",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Payload Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

let dateSecond = 0;
let dateValue = "";
/** The Date header, formatted once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** A malformed request: answered with `status` and the connection closed. */
class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" };
type ChunkState = "size" | "data" | "data-end" | "trailers";

/** One request and its answer, on one connection. */
class Exchange implements HttpRequest, HttpResponse {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly rawHeaders: [string, string][];
  readonly keepAlive: boolean;
  readonly head: boolean;
  private readonly fields = new Map<string, string>();
  /** Body bytes that arrived before anyone asked for them. */
  unread: Uint8Array[] = [];
  unreadBytes = 0;
  sink?: BodySink;
  bodyDone = false;
  bodyCut = false;
  trailers = new Map<string, string>();
  /** An answer has begun: nothing else may be written for this request. */
  answered = false;
  /** The whole answer has been written: the connection may go on to the next request. */
  finished = false;
  private aborts: (() => void)[] = [];
  /** Stops a streamed answer whose client went away. */
  private stopStream?: () => void;

  constructor(
    private readonly connection: Connection,
    method: string,
    target: string,
    version: string,
    rawHeaders: [string, string][],
  ) {
    this.method = method;
    this.target = target;
    const mark = target.indexOf("?");
    const pathPart = mark === -1 ? target : target.slice(0, mark);
    // An absolute-form target (a proxy's) is routed by its path.
    this.path = pathPart.startsWith("/") ? pathPart : `/${pathPart.replace(/^[a-z]+:\/\/[^/]*\/?/i, "")}`;
    this.query = mark === -1 ? "" : target.slice(mark + 1);
    this.rawHeaders = rawHeaders;
    for (const [name, value] of rawHeaders) {
      const key = name.toLowerCase();
      const known = this.fields.get(key);
      this.fields.set(key, known === undefined ? value : `${known}, ${value}`);
    }
    const connectionField = this.fields.get("connection");
    const options =
      connectionField
        ?.toLowerCase()
        .split(",")
        .map((o) => o.trim()) ?? [];
    this.keepAlive = version === "1.1" ? !options.includes("close") : options.includes("keep-alive");
    this.head = method === "HEAD";
  }

  header(name: string): string | undefined {
    return this.fields.get(name.toLowerCase());
  }

  get closed(): boolean {
    return this.connection.isClosed;
  }

  onAbort(listener: () => void): void {
    if (this.connection.isClosed && !this.answered) listener();
    else this.aborts.push(listener);
  }

  body(limitBytes: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let size = 0;
      let refused = false;
      this.pipeBody({
        write: (chunk) => {
          size += chunk.byteLength;
          if (size > limitBytes && !refused) {
            refused = true;
            reject(new LambdaError(413, "RequestEntityTooLarge", "Request body too large"));
          }
          if (!refused) chunks.push(chunk);
          return undefined;
        },
        end: () => {
          if (!refused) resolve(chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks));
        },
        cut: () => reject(new BodyCutError()),
      });
    });
  }

  pipeBody(sink: BodySink): void {
    if (this.sink) throw new Error("the body is already being read");
    this.sink = sink;
    const unread = this.unread;
    this.unread = [];
    this.unreadBytes = 0;
    for (const chunk of unread) void sink.write(chunk);
    if (this.bodyDone) sink.end(this.trailers);
    else if (this.bodyCut) sink.cut();
    this.connection.resumeReading();
  }

  send(status: number, headers: Readonly<Record<string, string>>, body: Uint8Array | string = ""): void {
    if (this.answered || this.connection.isClosed) return;
    this.answered = true;
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    const head = this.headText(status, headers, `Content-Length: ${bytes.byteLength}\r\n`);
    this.connection.write(this.head || bytes.byteLength === 0 ? Buffer.from(head, "latin1") : [head, bytes]);
    this.finished = true;
    this.connection.answered(this);
  }

  async sendStream(
    status: number,
    headers: Readonly<Record<string, string>>,
    body: ReadableStream<Uint8Array>,
  ): Promise<void> {
    if (this.answered || this.connection.isClosed) {
      await body.cancel().catch(() => {});
      return;
    }
    this.answered = true;
    const reader = body.getReader();
    const connection = this.connection;
    connection.write(Buffer.from(this.headText(status, headers, "Transfer-Encoding: chunked\r\n"), "latin1"));
    this.stopStream = () => void reader.cancel().catch(() => {});
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (connection.isClosed) return;
        if (done) break;
        if (value.byteLength === 0 || this.head) continue;
        connection.write([`${value.byteLength.toString(16)}\r\n`, value, CRLF]);
        await connection.writable();
      }
      this.stopStream = undefined;
      connection.write(Buffer.from(this.head ? "" : "0\r\n\r\n"));
      this.finished = true;
      connection.answered(this);
    } catch {
      // The body failed mid-way: end the connection without the final chunk, so the client sees a cut.
      connection.destroy();
    }
  }

  /** The connection closed: a body still coming is cut, an unanswered request aborted. */
  lost(): void {
    if (!this.bodyDone && !this.bodyCut) {
      this.bodyCut = true;
      this.sink?.cut();
    }
    if (!this.answered) for (const listener of this.aborts.splice(0)) listener();
    this.stopStream?.();
    this.stopStream = undefined;
  }

  private headText(status: number, headers: Readonly<Record<string, string>>, framing: string): string {
    let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\nDate: ${httpDate()}\r\n${framing}`;
    for (const name in headers) {
      const lower = name.toLowerCase();
      if (lower === "content-length" || lower === "transfer-encoding" || lower === "connection") continue;
      text += `${name}: ${headers[name]}\r\n`;
    }
    const closing = !this.keepAlive || this.connection.closingAfterAnswer;
    if (closing) text += "Connection: close\r\n";
    else if (this.connection.http10) text += "Connection: keep-alive\r\n";
    return `${text}\r\n`;
  }
}

/**
 * The bytes received and not yet parsed, as the buffers they came in: a body passes through as
 * views of them, and only a line split between two buffers is joined (with a prefix of the second).
 */
class InputBytes {
  private buffers: Buffer[] = [];
  size = 0;

  push(bytes: Buffer): void {
    if (bytes.byteLength === 0) return;
    this.buffers.push(bytes);
    this.size += bytes.byteLength;
  }

  /** The next line without its CRLF (consumed), or undefined until it is complete; longer than `max`: 431/400. */
  line(max: number, status: number, what: string): Buffer | undefined {
    for (;;) {
      const first = this.buffers[0];
      if (!first) return undefined;
      const at = first.indexOf(CRLF);
      if (at !== -1 && at <= max) {
        this.drop(at + 2);
        return first.subarray(0, at);
      }
      if (at > max || first.byteLength > max + 1) throw new ProtocolError(status, what);
      const second = this.buffers[1];
      if (!second) return undefined;
      const prefix = Math.min(second.byteLength, max + 2);
      this.buffers[0] = Buffer.concat([first, second.subarray(0, prefix)]);
      if (prefix === second.byteLength) this.buffers.splice(1, 1);
      else this.buffers[1] = second.subarray(prefix);
    }
  }

  /** Up to `most` bytes, as a view of the next buffer (consumed). */
  take(most: number): Buffer {
    const first = this.buffers[0] as Buffer;
    const piece = first.byteLength <= most ? first : first.subarray(0, most);
    this.drop(piece.byteLength);
    return piece;
  }

  /** The next `count` bytes (at most a few), or undefined until they are there (not consumed). */
  peek(count: number): Buffer | undefined {
    if (this.size < count) return undefined;
    const first = this.buffers[0] as Buffer;
    if (first.byteLength >= count) return first.subarray(0, count);
    return Buffer.concat(this.buffers).subarray(0, count);
  }

  drop(count: number): void {
    this.size -= count;
    while (count > 0) {
      const first = this.buffers[0] as Buffer;
      if (first.byteLength > count) {
        this.buffers[0] = first.subarray(count);
        return;
      }
      count -= first.byteLength;
      this.buffers.shift();
    }
  }
}

/** One client connection: its parser state and its outgoing bytes. */
class Connection {
  isClosed = false;
  http10 = false;
  /** Set when the current request's answer must be the last (bad framing, or the client asked). */
  closingAfterAnswer = false;
  private readonly input = new InputBytes();
  /** The head being read: its lines so far and their size. */
  private headLines: string[] = [];
  private headBytes = 0;
  private current?: Exchange;
  private framing: Framing = { kind: "none" };
  private chunkState: ChunkState = "size";
  private chunkLeft = 0;
  private paused = false;
  private processing = false;
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private drains: (() => void)[] = [];

  constructor(
    private readonly socket: Socket<undefined>,
    private readonly handler: HttpHandler,
  ) {}

  data(bytes: Buffer): void {
    this.input.push(bytes);
    this.process();
  }

  /** Reading resumes after a sink or a handler caught up. */
  resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    this.process();
  }

  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.current?.lost();
    for (const drain of this.drains.splice(0)) drain();
  }

  /** Queues bytes for the client, in order; small pieces go out together, in one write. */
  write(bytes: Uint8Array | (string | Uint8Array)[]): void {
    if (this.isClosed) return;
    const parts = (Array.isArray(bytes) ? bytes : [bytes]).map((part) =>
      typeof part === "string" ? Buffer.from(part, "latin1") : part,
    );
    let total = 0;
    for (const part of parts) total += part.byteLength;
    // One write per answer where it is small: a head and its body in separate writes would leave
    // in separate packets (no Nagle here), costing the client a round of reads.
    const pieces = parts.length > 1 && total <= COALESCE_BYTES ? [Buffer.concat(parts, total)] : parts;
    for (const piece of pieces) {
      if (piece.byteLength === 0) continue;
      if (this.outgoing.length > 0) {
        this.outgoing.push(piece);
        this.outgoingBytes += piece.byteLength;
        continue;
      }
      const written = this.socket.write(piece);
      if (written < piece.byteLength) {
        const rest = piece.subarray(Math.max(0, written));
        this.outgoing.push(rest);
        this.outgoingBytes += rest.byteLength;
      }
    }
  }

  /** Resolves once the queued bytes are few enough to send more. */
  writable(): Promise<void> | undefined {
    if (this.outgoingBytes < OUTGOING_HIGH_WATER || this.isClosed) return undefined;
    return new Promise((resolve) => this.drains.push(resolve));
  }

  drain(): void {
    while (this.outgoing.length > 0) {
      const piece = this.outgoing[0] as Uint8Array;
      const written = this.socket.write(piece);
      if (written < piece.byteLength) {
        this.outgoing[0] = piece.subarray(Math.max(0, written));
        this.outgoingBytes -= Math.max(0, written);
        return;
      }
      this.outgoing.shift();
      this.outgoingBytes -= piece.byteLength;
    }
    if (this.ending) this.socket.end();
    if (this.outgoingBytes < OUTGOING_HIGH_WATER) for (const drain of this.drains.splice(0)) drain();
  }

  private ending = false;

  /** The current request has its answer: close, or go on with the next request once its body is read. */
  answered(exchange: Exchange): void {
    if (exchange !== this.current) return;
    if (!exchange.keepAlive || this.closingAfterAnswer) {
      this.end();
      return;
    }
    // An answer given before its body was read: the rest of the body is read and dropped.
    if (!exchange.bodyDone && !exchange.sink)
      exchange.pipeBody({ write: () => undefined, end() {}, cut() {} });
    if (exchange.bodyDone) this.next();
  }

  /** Ends the connection at once (no final chunk): the client sees a cut answer. */
  destroy(): void {
    this.socket.terminate();
    this.closed();
  }

  private end(): void {
    this.ending = true;
    if (this.outgoing.length === 0) this.socket.end();
    this.closed();
  }

  private next(): void {
    this.current = undefined;
    this.framing = { kind: "none" };
    if (this.input.size > 0) this.process();
  }

  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.isClosed && !this.paused) {
        const exchange = this.current;
        if (!exchange) {
          if (!this.readHead()) return;
          continue;
        }
        if (exchange.bodyDone) return;
        if (!this.readBody(exchange)) return;
      }
    } catch (error) {
      this.refuse(error instanceof ProtocolError ? error : new ProtocolError(400, "bad request"));
    } finally {
      this.processing = false;
    }
  }

  /** Parses a request head; false when more bytes are needed. */
  private readHead(): boolean {
    for (;;) {
      const line = this.input.line(MAX_HEAD_BYTES - this.headBytes, 431, "request head too large");
      if (line === undefined) return false;
      this.headBytes += line.byteLength + 2;
      // Empty lines before a request line are tolerated (RFC 9112 2.2).
      if (line.byteLength === 0 && this.headLines.length === 0) continue;
      if (line.byteLength === 0) break;
      this.headLines.push(line.toString("latin1"));
    }
    const lines = this.headLines;
    this.headLines = [];
    this.headBytes = 0;
    const requestLine = (lines[0] ?? "").split(" ");
    if (requestLine.length !== 3) throw new ProtocolError(400, "malformed request line");
    const [method = "", target = "", protocol = ""] = requestLine;
    if (!TOKEN.test(method) || target === "" || /[\s\0]/.test(target)) {
      throw new ProtocolError(400, "malformed request line");
    }
    const version = /^HTTP\/1\.([01])$/.exec(protocol)?.[1];
    if (version === undefined) {
      throw new ProtocolError(/^HTTP\/\d+\.\d+$/.test(protocol) ? 505 : 400, "unsupported HTTP version");
    }
    const rawHeaders: [string, string][] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      const name = colon === -1 ? "" : line.slice(0, colon);
      if (!TOKEN.test(name)) throw new ProtocolError(400, "malformed header field");
      rawHeaders.push([name, line.slice(colon + 1).trim()]);
    }
    const exchange = new Exchange(this, method, target, `1.${version}`, rawHeaders);
    this.http10 = version === "0";
    this.framing = framingOf(exchange);
    this.chunkState = "size";
    this.current = exchange;
    if (this.framing.kind === "none") exchange.bodyDone = true;
    else if ((exchange.header("expect") ?? "").toLowerCase() === "100-continue" && !this.http10) {
      this.write(Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1"));
    }
    try {
      this.handler(exchange, exchange);
    } catch {
      exchange.send(
        500,
        { "Content-Type": "application/json" },
        '{"errorMessage":"Internal Server Error","errorType":"InternalServerError"}\n',
      );
    }
    if (exchange.bodyDone && exchange.finished && exchange === this.current) this.next();
    return true;
  }

  /** Moves body bytes to the request; false when more bytes are needed. */
  private readBody(exchange: Exchange): boolean {
    const framing = this.framing;
    const input = this.input;
    if (framing.kind === "length") {
      if (input.size === 0) return false;
      const piece = input.take(framing.left);
      framing.left -= piece.byteLength;
      this.deliver(exchange, piece);
      if (framing.left === 0) this.bodyEnded(exchange);
      return true;
    }
    // Chunked.
    switch (this.chunkState) {
      case "size": {
        const line = input.line(1024, 400, "malformed chunk size");
        if (line === undefined) return false;
        const sizeText = line.toString("latin1").split(";")[0]?.trim() ?? "";
        if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw new ProtocolError(400, "malformed chunk size");
        this.chunkLeft = Number.parseInt(sizeText, 16);
        this.chunkState = this.chunkLeft === 0 ? "trailers" : "data";
        return true;
      }
      case "data": {
        if (input.size === 0) return false;
        const piece = input.take(this.chunkLeft);
        this.chunkLeft -= piece.byteLength;
        if (this.chunkLeft === 0) this.chunkState = "data-end";
        this.deliver(exchange, piece);
        return true;
      }
      case "data-end": {
        const end = input.peek(2);
        if (end === undefined) return false;
        if (end[0] !== 13 || end[1] !== 10) throw new ProtocolError(400, "malformed chunk");
        input.drop(2);
        this.chunkState = "size";
        return true;
      }
      case "trailers": {
        const bytes = input.line(MAX_HEAD_BYTES, 431, "trailers too large");
        if (bytes === undefined) return false;
        const line = bytes.toString("latin1");
        if (line === "") {
          this.bodyEnded(exchange);
          return true;
        }
        const colon = line.indexOf(":");
        const name = colon === -1 ? "" : line.slice(0, colon);
        if (!TOKEN.test(name)) throw new ProtocolError(400, "malformed trailer field");
        exchange.trailers.set(name.toLowerCase(), line.slice(colon + 1).trim());
        return true;
      }
    }
  }

  private deliver(exchange: Exchange, piece: Buffer): void {
    if (piece.byteLength === 0) return;
    // A view, not a copy: Bun hands every `data` callback a buffer of its own.
    const chunk: Uint8Array = piece;
    const sink = exchange.sink;
    if (!sink) {
      exchange.unread.push(chunk);
      exchange.unreadBytes += chunk.byteLength;
      if (exchange.unreadBytes > UNREAD_BODY_BYTES) this.pause();
      return;
    }
    const wait = sink.write(chunk);
    if (wait) {
      this.pause();
      void wait.then(() => this.resumeReading());
    }
  }

  private bodyEnded(exchange: Exchange): void {
    exchange.bodyDone = true;
    exchange.sink?.end(exchange.trailers);
    if (exchange.finished) this.next();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  /** Answers a malformed request and closes the connection. */
  private refuse(error: ProtocolError): void {
    const exchange = this.current;
    this.closingAfterAnswer = true;
    if (exchange && !exchange.answered) {
      exchange.send(error.status, { "Content-Type": "text/plain" }, `${error.status} ${error.message}\n`);
    } else if (!exchange) {
      const body = `${error.status} ${error.message}\n`;
      this.write(
        Buffer.from(
          `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? "Unknown"}\r\nDate: ${httpDate()}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
          "latin1",
        ),
      );
    }
    exchange?.lost();
    this.end();
  }
}

/** How the request's body is framed (RFC 9112 6.3); conflicting or malformed framing is refused. */
function framingOf(exchange: Exchange): Framing {
  const encoding = exchange.header("transfer-encoding");
  const length = exchange.header("content-length");
  if (encoding !== undefined) {
    if (length !== undefined) throw new ProtocolError(400, "both Content-Length and Transfer-Encoding");
    const codings = encoding
      .toLowerCase()
      .split(",")
      .map((c) => c.trim());
    if (codings.at(-1) !== "chunked") throw new ProtocolError(400, "unsupported Transfer-Encoding");
    if (codings.length > 1) throw new ProtocolError(501, "unsupported Transfer-Encoding");
    return { kind: "chunked" };
  }
  if (length === undefined) return { kind: "none" };
  const values = new Set(length.split(",").map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only)) {
    throw new ProtocolError(400, "malformed Content-Length");
  }
  const left = Number(only);
  return left === 0 ? { kind: "none" } : { kind: "length", left };
}

/** Serves `handler` on `hostname:port` (0 picks a free one). */
export function listenHttp(
  handler: HttpHandler,
  options: { hostname: string; port: number; portFlag?: string },
): HttpListener {
  const { hostname, port, portFlag = "--port" } = options;
  const connections = new Map<Socket<undefined>, Connection>();
  let listener: TCPSocketListener<undefined>;
  try {
    listener = Bun.listen<undefined>({
      hostname,
      port,
      socket: {
        open(socket) {
          socket.setNoDelay(true);
          connections.set(socket, new Connection(socket, handler));
        },
        data(socket, bytes) {
          connections.get(socket)?.data(bytes);
        },
        drain(socket) {
          connections.get(socket)?.drain();
        },
        close(socket) {
          connections.get(socket)?.closed();
          connections.delete(socket);
        },
        error(socket) {
          connections.get(socket)?.closed();
          connections.delete(socket);
        },
      },
    });
  } catch (error) {
    throw bindError(error, hostname, port, portFlag);
  }
  return {
    port: listener.port,
    stop: async () => {
      listener.stop(true);
      for (const [socket, connection] of connections) {
        connection.closed();
        socket.terminate();
      }
      connections.clear();
    },
  };
}
