/**
 * A process group's stdout and stderr as log lines, with a flush barrier: the group's watchdog
 * echoes a marker into both pipes on request, and since a pipe keeps the order of writes, once the
 * reader has seen the marker it has seen every line the process wrote before the request.
 */
import type { FileSink } from "bun";
import { forEachLine } from "./lines.ts";

/** Starts every marker line (ASCII record separator: never part of ordinary log text). */
const MARKER = "\u001e";
const FLUSH_TIMEOUT_MS = 2_000;

type Stream = "stdout" | "stderr";

/** Reads both pipes into `onLine`; `flush()` resolves once everything written before it was read. */
export class ProcessOutput {
  /** Resolves when both pipes reached end of file. */
  readonly drained: Promise<void>;
  private nextToken = 0;
  private wrote = false;
  private readonly pending = new Map<string, { streams: Set<Stream>; resolve: () => void }>();

  constructor(
    stdout: ReadableStream<Uint8Array>,
    stderr: ReadableStream<Uint8Array>,
    private readonly watchdog: FileSink,
    private readonly onLine: (line: string, stream: Stream) => void,
  ) {
    this.drained = Promise.all([this.read(stdout, "stdout"), this.read(stderr, "stderr")]).then(() => {
      for (const waiter of this.pending.values()) waiter.resolve();
      this.pending.clear();
    });
  }

  /**
   * Resolves once every line written before this call has reached `onLine`. A round trip through
   * the watchdog costs tens of microseconds, so unless `always`, a process that has not printed a
   * single line yet is taken to have nothing pending.
   */
  flush(always = false): Promise<void> {
    if (!this.wrote && !always) return Promise.resolve();
    const token = String(++this.nextToken);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, FLUSH_TIMEOUT_MS);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.pending.set(token, { streams: new Set(["stdout", "stderr"]), resolve: done });
      try {
        this.watchdog.write(`${token}\n`);
        this.watchdog.flush();
      } catch {
        // The group is gone: its pipes end, which resolves every flush.
      }
    });
  }

  private read(stream: ReadableStream<Uint8Array>, name: Stream): Promise<void> {
    return forEachLine(stream, (line) => {
      const marker = line.lastIndexOf(MARKER);
      if (marker === -1) {
        this.wrote = true;
        this.onLine(line, name);
        return;
      }
      // A line the process left unterminated ends where the marker starts.
      if (marker > 0) this.onLine(line.slice(0, marker), name);
      const waiter = this.pending.get(line.slice(marker + 1));
      if (!waiter) return;
      waiter.streams.delete(name);
      if (waiter.streams.size === 0) {
        this.pending.delete(line.slice(marker + 1));
        waiter.resolve();
      }
    });
  }
}
