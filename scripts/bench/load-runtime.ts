#!/usr/bin/env bun
// Load bench runtime: answers at once, echoing the caller's stamp with what only the runtime can
// tell — its pid (which environment) and how many events it had received before this one — so the
// bench can check, independently of the simulator's own bus, that no event was swapped, duplicated
// or taken out of order. Exits as soon as its API goes away, so it never outlives a bench.
import { serveInvocations } from "./lambda-api.ts";

let order = 0;

await serveInvocations(async (next, requestId) => {
  const event = (await next.json()) as { seq?: unknown };
  return JSON.stringify({ seq: event.seq ?? null, requestId, pid: process.pid, order: order++ });
});
