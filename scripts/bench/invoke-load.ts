/**
 * Sequential Invoke API calls over HTTP (fetch keeps the connection alive), timed one by one.
 * Several targets are measured in interleaved blocks (A B B A ...) so that both see the same machine:
 * on a small VM the scheduler's mood drifts over seconds, and back-to-back runs would compare moods.
 */
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

/** One Invoke API call; throws unless the function answered without error. */
export async function invokeOnce(url: string): Promise<void> {
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

/** Checks that an answer is the bench runtime's, once, outside the timed loop. */
async function checkAnswer(baseUrl: string): Promise<void> {
  const response = await fetch(baseUrl + INVOKE_PATH, { method: "POST", body: PAYLOAD });
  const text = await response.text();
  let answer: unknown;
  try {
    answer = (JSON.parse(text) as { answer?: unknown }).answer;
  } catch {}
  if (response.status !== 200 || answer !== 42) {
    throw new Error(`unexpected answer from ${baseUrl}: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
}

/**
 * For each target (name -> base URL): `warmup` untimed invokes, then `count` timed sequential
 * invokes split into `blocks` blocks, the targets taking turns block by block.
 */
export async function runInvokes(
  targets: Record<string, string>,
  warmup: number,
  count: number,
  blocks: number,
): Promise<Record<string, InvokeFigures>> {
  const names = Object.keys(targets);
  const urls = names.map((name) => `${targets[name]}${INVOKE_PATH}`);
  for (const name of names) await checkAnswer(targets[name] as string);
  for (const url of urls) for (let i = 0; i < warmup; i++) await invokeOnce(url);
  Bun.gc(true);

  const samples = names.map(() => new Float64Array(count));
  const elapsed = names.map(() => 0);
  const done = names.map(() => 0);
  for (let block = 0; block < blocks; block++) {
    const size = Math.floor((count * (block + 1)) / blocks) - Math.floor((count * block) / blocks);
    const order = block % 2 === 0 ? names.map((_, i) => i) : names.map((_, i) => names.length - 1 - i);
    for (const t of order) {
      const url = urls[t] as string;
      const out = samples[t] as Float64Array;
      const blockStart = performance.now();
      for (let i = 0; i < size; i++) {
        const t0 = performance.now();
        await invokeOnce(url);
        out[(done[t] as number) + i] = performance.now() - t0;
      }
      elapsed[t] = (elapsed[t] as number) + performance.now() - blockStart;
      done[t] = (done[t] as number) + size;
    }
  }

  const result: Record<string, InvokeFigures> = {};
  names.forEach((name, t) => {
    const list = Array.from(samples[t] as Float64Array);
    const totalMs = elapsed[t] as number;
    result[name] = {
      warmup,
      count,
      totalMs: round(totalMs, 1),
      invokesPerSec: round((count * 1000) / totalMs, 0),
      p50Ms: round(percentile(list, 50)),
      p99Ms: round(percentile(list, 99)),
      meanMs: round(totalMs / count),
      maxMs: round(Math.max(...list)),
    };
  });
  return result;
}
