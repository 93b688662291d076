#!/usr/bin/env bun
// Bench extension: subscribes to the Telemetry API over HTTP (platform and function records;
// maxItems 10000, maxBytes 1 MiB, timeoutMs 25) and counts the `function` records of every invoke.
// Like a real telemetry extension it holds each INVOKE (does not call event/next) until it has the
// invoke's platform.runtimeDone and its last log line (log-runtime.ts ends it with ` end <id>`),
// because the environment delivers nothing once the invoke is over. For a last line that also says
// ` report` it prints one line before releasing the invoke:
//   telemetry-counter report <requestId> function=<n> dropped=<n> batches=<n> firstAt=<ms> lastAt=<ms>
// (epoch milliseconds, performance.timeOrigin + performance.now()).
// SUBSCRIBE=0: registers for INVOKE but never subscribes (the no-subscriber baseline).
import { basename } from "node:path";
import { API, nextExtensionEvent, registerExtension } from "./lambda-api.ts";

const name = basename(Bun.main);
const subscribe = process.env.SUBSCRIBE !== "0";
const HOLD_LIMIT_MS = Number(process.env.HOLD_LIMIT_MS ?? 30_000);
const now = () => performance.timeOrigin + performance.now();

interface Finished {
  count: number;
  report: boolean;
  firstAt: number;
  lastAt: number;
}

// `function` records since the last end line; lines of one stream arrive in order.
let count = 0;
let firstAt = 0;
let dropped = 0;
let batches = 0;
const finished = new Map<string, Finished>();
const runtimeDone = new Set<string>();
let wake: (() => void) | undefined;
const END = / end (\S+)( report)?$/;

interface Event {
  type: string;
  record: unknown;
}

function receive(events: Event[]): void {
  batches++;
  for (const event of events) {
    if (event.type === "function") {
      if (count === 0) firstAt = now();
      count++;
      const text = typeof event.record === "string" ? event.record : "";
      if (text.includes(" end ")) {
        const match = END.exec(text);
        if (match?.[1]) {
          finished.set(match[1], { count, report: match[2] !== undefined, firstAt, lastAt: now() });
          count = 0;
        }
      }
    } else if (event.type === "platform.runtimeDone") {
      runtimeDone.add((event.record as { requestId: string }).requestId);
    } else if (event.type === "platform.logsDropped") {
      dropped += (event.record as { droppedRecords: number }).droppedRecords;
    }
  }
  wake?.();
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    receive((await request.json()) as Event[]);
    return new Response(null, { status: 200 });
  },
});

const headers = await registerExtension(name, ["INVOKE", "SHUTDOWN"]);

if (subscribe) {
  const response = await fetch(`${API}/2022-07-01/telemetry`, {
    method: "PUT",
    headers,
    body: JSON.stringify({
      schemaVersion: "2022-12-13",
      types: ["platform", "function"],
      buffering: { maxItems: 10_000, maxBytes: 1_048_576, timeoutMs: 25 },
      destination: { protocol: "HTTP", URI: `http://sandbox.localdomain:${server.port}/telemetry` },
    }),
  });
  if (!response.ok) {
    console.error(`${name}: subscribe answered ${response.status} ${await response.text()}`);
    process.exit(1);
  }
  await response.arrayBuffer();
}

/** Resolves once this invoke's runtimeDone and last line are in, or after HOLD_LIMIT_MS. */
async function hold(requestId: string): Promise<Finished | undefined> {
  const deadline = performance.now() + HOLD_LIMIT_MS;
  while (!(runtimeDone.has(requestId) && finished.has(requestId))) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  }
  return finished.get(requestId);
}

while (true) {
  const event = await nextExtensionEvent<{ eventType: string; requestId?: string }>(headers);
  const requestId = event.requestId ?? "";
  if (!subscribe) continue;
  const done = await hold(requestId);
  if (!done) {
    console.log(`${name} timeout ${requestId} function=${count} dropped=${dropped} batches=${batches}`);
  } else if (done.report) {
    console.log(
      `${name} report ${requestId} function=${done.count} dropped=${dropped} batches=${batches} firstAt=${done.firstAt.toFixed(3)} lastAt=${done.lastAt.toFixed(3)}`,
    );
  }
  finished.delete(requestId);
  runtimeDone.delete(requestId);
}
