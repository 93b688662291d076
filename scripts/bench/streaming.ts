/**
 * Response streaming (issue 12): InvokeWithResponseStream over HTTP against a simulator in a child
 * process (stream-child.ts, bandwidth cap off) whose runtime streams N bytes. Time to first byte
 * (request sent -> first PayloadChunk byte received, a 64 KiB stream), streamed throughput of a
 * 100 MB stream (MB/s between the first byte and the end), and the child's RSS growth while it
 * streams 100 MB (VmRSS sampled every 10 ms, peak minus the figure before, after a warm-up stream).
 */
import { resolve } from "node:path";
import { endByStdin, firstJsonLine, track } from "./children.ts";
import { executable, vmRssBytes } from "./sim-children.ts";
import { median, percentile, round } from "./stats.ts";

const child = resolve(import.meta.dir, "stream-child.ts");
const MB = 1024 * 1024;

export interface StreamingFigures {
  megabytes: number;
  throughputMbPerSec: number;
  ttfbP50Ms: number;
  ttfbP90Ms: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
  targetGrowthMb: number;
  pass: boolean;
}

/** One streamed invoke: when its first body byte and its end arrived (ms after sending), and its size. */
async function streamOnce(url: string, bytes: number) {
  const started = performance.now();
  const response = await fetch(`${url}/2021-11-15/functions/function/response-streaming-invocations`, {
    method: "POST",
    body: JSON.stringify({ bytes }),
  });
  let first: number | undefined;
  let received = 0;
  for await (const piece of response.body ?? new ReadableStream()) {
    first ??= performance.now() - started;
    received += piece.byteLength;
  }
  return { firstMs: first ?? 0, endMs: performance.now() - started, received };
}

/** Runs the streaming figures; `pids` collects the runtime the child started. */
export async function runStreaming(
  megabytes: number,
  ttfbRuns: number,
  targetGrowthMb: number,
  pids: Set<number>,
): Promise<StreamingFigures> {
  const proc = track(
    Bun.spawn([process.execPath, executable(child)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
  );
  try {
    const { url, runtimePid } = await firstJsonLine<{ url: string; runtimePid: number }>(
      proc,
      "stream-child.ts",
    );
    pids.add(runtimePid);
    const ttfb: number[] = [];
    for (let i = 0; i < ttfbRuns + 5; i++) {
      const run = await streamOnce(url, 64 * 1024);
      if (i >= 5) ttfb.push(run.firstMs);
    }
    await streamOnce(url, 10 * MB);
    const before = vmRssBytes(proc.pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, vmRssBytes(proc.pid));
    }, 10);
    const big = await streamOnce(url, megabytes * MB);
    clearInterval(sampler);
    peak = Math.max(peak, vmRssBytes(proc.pid));
    // The event-stream framing adds 100-odd bytes per piece: the payload is at least what was asked.
    if (big.received < megabytes * MB) throw new Error(`streamed ${big.received} bytes of ${megabytes * MB}`);
    const growth = (peak - before) / MB;
    return {
      megabytes,
      throughputMbPerSec: round(megabytes / ((big.endMs - big.firstMs) / 1000), 1),
      ttfbP50Ms: round(median(ttfb), 3),
      ttfbP90Ms: round(percentile(ttfb, 90), 3),
      rssBeforeMb: round(before / MB, 1),
      rssPeakMb: round(peak / MB, 1),
      rssGrowthMb: round(growth, 1),
      targetGrowthMb,
      pass: growth <= targetGrowthMb,
    };
  } finally {
    await endByStdin(proc);
  }
}
