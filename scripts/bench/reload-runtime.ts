#!/usr/bin/env bun
// Benchmark runtime for watch mode: its "code" is the file $CODE_FILE, read once at init as a
// handler module would be; every invocation is answered with that text. It exits as soon as its
// API goes away, so it never outlives a bench.
import { readFileSync } from "node:fs";
import { serveInvocations } from "./lambda-api.ts";

const code = readFileSync(process.env.CODE_FILE as string, "utf8");
await serveInvocations(async (next) => {
  await next.arrayBuffer();
  return JSON.stringify({ code });
});
