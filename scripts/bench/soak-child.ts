#!/usr/bin/env bun
// `lambda-sim serve` itself, in this process, with a memory probe: `soak-child.ts <serve args...>`.
// Each line "sample" on stdin makes it run a full GC and print one JSON line on stdout,
// {"rssBytes", "heapUsedBytes", "heapSizeBytes", "objectCount", "arrayBufferBytes", "top"}: the
// JS heap as bun:jsc counts it, and its most numerous object types. The serve command prints its
// ready line first, on the same stdout.
import { heapStats } from "bun:jsc";

process.argv = [process.argv[0] ?? "bun", "lambda-sim", "serve", ...Bun.argv.slice(2)];

async function answerSamples(): Promise<void> {
  let text = "";
  for await (const chunk of Bun.stdin.stream()) {
    text += new TextDecoder().decode(chunk);
    let end = text.indexOf("\n");
    while (end >= 0) {
      text = text.slice(end + 1);
      Bun.gc(true);
      const stats = heapStats();
      const top = Object.entries(stats.objectTypeCounts)
        .sort(([, a], [, b]) => b - a)
        .slice(0, 8);
      process.stdout.write(
        `${JSON.stringify({
          rssBytes: process.memoryUsage().rss,
          heapUsedBytes: stats.heapSize,
          heapSizeBytes: stats.heapCapacity,
          objectCount: stats.objectCount,
          arrayBufferBytes: process.memoryUsage().arrayBuffers,
          top: Object.fromEntries(top),
        })}\n`,
      );
      end = text.indexOf("\n");
    }
  }
}

void answerSamples();
await import("../../src/cli/main.ts");
