#!/usr/bin/env bun
// Benchmark runtime whose handler waits: it long-polls /next, reads the event, waits SLEEP_MS
// (default 50) as a handler waiting on I/O would, and posts a constant small JSON answer. Waiting
// costs no CPU, so several environments of it scale with the simulator, not with the cores.
// It prints nothing per invocation and exits as soon as its API goes away, so it never outlives a bench.
import { serveInvocations } from "./lambda-api.ts";

const SLEEP_MS = Number(process.env.SLEEP_MS ?? 50);
const answer = JSON.stringify({ ok: true, answer: 42 });

await serveInvocations(async (next) => {
  await next.arrayBuffer();
  await Bun.sleep(SLEEP_MS);
  return answer;
});
