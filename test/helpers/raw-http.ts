// HTTP on raw TCP for tests, so nothing between the test and the server adds or hides a header:
// write bytes, read answers one by one (by Content-Length), in order.
import { connect, type Socket } from "node:net";

/** One parsed answer. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body as latin1 text. */
  text: string;
}

/** One TCP connection to 127.0.0.1:`port`. */
export class RawConnection {
  /** Resolves when the server closes its side. */
  readonly closed: Promise<void>;
  private buffered = Buffer.alloc(0);
  private wake?: () => void;
  private ended = false;
  private readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect({ host: "127.0.0.1", port });
    this.socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      this.socket.on("end", () => resolve());
      this.socket.on("close", () => resolve());
    });
    this.closed.then(() => {
      this.ended = true;
      this.wake?.();
    });
    this.socket.on("error", () => {});
  }

  /** True once the server closed the connection. */
  get isClosed(): boolean {
    return this.ended;
  }

  write(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The next complete answer; rejects if the connection closes first or nothing comes in time. */
  async next(timeoutMs = 10_000): Promise<Answer> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const answer = this.take();
      if (answer) return answer;
      if (this.ended) throw new Error(`connection closed; unparsed: ${this.buffered.toString("latin1")}`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `no answer within ${timeoutMs} ms; got ${JSON.stringify(this.buffered.toString("latin1"))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
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
    const [statusLine = "", ...lines] = this.buffered.subarray(0, headEnd).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (this.buffered.length < headEnd + 4 + length) return undefined;
    const body = Buffer.from(this.buffered.subarray(headEnd + 4, headEnd + 4 + length));
    this.buffered = this.buffered.subarray(headEnd + 4 + length);
    return { status: Number(statusLine.split(" ")[1]), headers, body, text: body.toString("latin1") };
  }
}
