/**
 * The telemetry destination of the sh + curl extensions (a shell script cannot listen): a server in
 * the test process. `POST /<extension name>` takes a batch; `GET /drained/<name>?invokes=N` answers
 * `true` once that extension's deliveries hold a platform.report and a `client-matrix <id> done` line
 * for N request ids, or `false` after `drainMs`. The extension asks it at SHUTDOWN, before exiting.
 */
import type { TelemetryEvent } from "../../src/index.ts";
import type { ClientRecord } from "./support.ts";

export interface Sink {
  port: number;
  /** The batches of each extension, in arrival order. */
  batches: Map<string, ClientRecord[]>;
  stop(): void;
}

const sinks: Sink[] = [];

/** Stops every sink startSink made (for afterEach). */
export function stopSinks(): void {
  for (const sink of sinks.splice(0)) sink.stop();
}

/** Request ids with both their platform.report and their `done` line among `batches`. */
function doneCount(batches: ClientRecord[]): number {
  const reports = new Set<string>();
  const finished = new Set<string>();
  for (const event of batches.flatMap((b) => b.events ?? [])) {
    if (event.type === "platform.report") reports.add((event.record as { requestId: string }).requestId);
    const done = event.type === "function" && /^client-matrix (\S+) done$/.exec(String(event.record).trim());
    if (done) finished.add(done[1] as string);
  }
  return [...reports].filter((id) => finished.has(id)).length;
}

export function startSink(drainMs = 8_000): Sink {
  const batches = new Map<string, ClientRecord[]>();
  const waiters = new Set<() => void>();
  const of = (name: string) => {
    const list = batches.get(name) ?? [];
    batches.set(name, list);
    return list;
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "POST") {
        const list = of(url.pathname.slice(1));
        list.push({
          batch: list.length + 1,
          method: "POST",
          events: (await request.json()) as TelemetryEvent[],
        });
        for (const wake of [...waiters]) wake();
        return new Response("OK");
      }
      const drained = /^\/drained\/(.+)$/.exec(url.pathname);
      if (!drained) return new Response("not found", { status: 404 });
      const list = of(drained[1] as string);
      const invokes = Number(url.searchParams.get("invokes"));
      const ok = await new Promise<boolean>((resolve) => {
        const check = () => {
          if (doneCount(list) < invokes) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(false);
        }, drainMs);
        waiters.add(check);
        check();
      });
      return new Response(String(ok));
    },
  });
  const sink = { port: server.port as number, batches, stop: () => void server.stop(true) };
  sinks.push(sink);
  return sink;
}
