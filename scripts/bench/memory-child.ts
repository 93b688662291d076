#!/usr/bin/env bun
// The simulator alone in its own process, for its RSS: `memory-child.ts <environments> <max>`.
// It starts a Simulator with maxConcurrency <max> and the sleep runtime, makes <max> invokes
// <environments> at a time (so as many environments open, every one warm), then lets the garbage
// collector run, prints one JSON line {"environments", "runtimePids", "rssBytes", "heapUsedBytes"}
// and idles until its stdin ends (a line or EOF), then shuts the simulator down and exits. The
// runtimes are its children, in their own process groups: /proc/<its pid> counts none of them.
import { resolve } from "node:path";
import { Simulator } from "../../src/index.ts";

const environments = Number(Bun.argv[2]);
const max = Number(Bun.argv[3]);
if (!(Number.isInteger(environments) && Number.isInteger(max) && environments >= 1 && max >= environments)) {
  console.error("usage: memory-child.ts <environments> <maxConcurrency>");
  process.exit(2);
}

const sim = await Simulator.start({ port: 0, maxConcurrency: max });
try {
  // 100 ms per invoke: long enough that concurrent invokes never find a free environment.
  sim.spawnRuntime([process.execPath, resolve(import.meta.dir, "sleep-runtime.ts")], {
    env: { SLEEP_MS: "100" },
  });
  for (let done = 0; done < max; done += environments) {
    const answers = await Promise.all(Array.from({ length: environments }, () => sim.invoke({ n: done })));
    const failed = answers.find((answer) => answer.functionError);
    if (failed) throw new Error(`invoke failed: ${failed.text().slice(0, 200)}`);
  }
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    await Bun.sleep(100);
  }
  const usage = process.memoryUsage();
  const list = sim.environments();
  process.stdout.write(
    `${JSON.stringify({
      environments: list.length,
      runtimePids: list.flatMap((e) => (e.runtimePid === null ? [] : [e.runtimePid])),
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
    })}\n`,
  );
  // Idle until the bench has read /proc/<pid>/status and says stop (or goes away).
  for await (const _ of Bun.stdin.stream()) break;
} finally {
  await sim.shutdown();
}
process.exit(0);
