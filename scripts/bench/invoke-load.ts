/** Sequential Invoke API calls over HTTP (fetch keeps the connection alive), timed one by one. */
import { percentile, round } from "./stats.ts";

export const INVOKE_PATH = "/2015-03-31/functions/function/invocations";
/** The tiny JSON event every invoke sends. */
export const PAYLOAD = JSON.stringify({ hello: "world", n: 1 });

export interface InvokeFigures {
  warmup: number;
  count: number;
  totalMs: number;
  invokesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

async function invokeOnce(url: string): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: PAYLOAD,
  });
  const body = await response.text();
  if (response.status !== 200 || response.headers.has("x-amz-function-error")) {
    throw new Error(`invoke failed: HTTP ${response.status} ${body.slice(0, 200)}`);
  }
}

/** Checks that an answer is the runtime's, once, outside the timed loop. */
export async function checkAnswer(baseUrl: string): Promise<void> {
  const response = await fetch(baseUrl + INVOKE_PATH, { method: "POST", body: PAYLOAD });
  const body = await response.json();
  if (response.status !== 200 || (body as { answer?: unknown }).answer !== 42) {
    throw new Error(`unexpected answer from ${baseUrl}: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
}

/** `warmup` untimed invokes, then `count` timed sequential ones. */
export async function runInvokes(baseUrl: string, warmup: number, count: number): Promise<InvokeFigures> {
  const url = baseUrl + INVOKE_PATH;
  await checkAnswer(baseUrl);
  for (let i = 0; i < warmup; i++) await invokeOnce(url);
  Bun.gc(true);
  const samples = new Float64Array(count);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await invokeOnce(url);
    samples[i] = performance.now() - t0;
  }
  const totalMs = performance.now() - started;
  const list = Array.from(samples);
  return {
    warmup,
    count,
    totalMs: round(totalMs, 1),
    invokesPerSec: round((count * 1000) / totalMs, 0),
    p50Ms: round(percentile(list, 50)),
    p99Ms: round(percentile(list, 99)),
    meanMs: round(totalMs / count),
    maxMs: round(Math.max(...list)),
  };
}
