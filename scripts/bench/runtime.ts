#!/usr/bin/env bun
// Benchmark runtime: the smallest keep-alive custom runtime. It long-polls /next, reads the event and
// posts a constant small JSON answer. The simulator and the bare floor relay both run this same program.
// It prints nothing per invocation and exits as soon as its API goes away, so it never outlives a bench.
import { serveInvocations } from "./lambda-api.ts";

const answer = JSON.stringify({ ok: true, answer: 42 });

await serveInvocations(async (next) => {
  await next.arrayBuffer();
  return answer;
});
