#!/usr/bin/env bun
// The simulator alone in its own process, streaming: `stream-child.ts`. It starts a Simulator with
// the bandwidth cap off and the streaming runtime, prints one JSON line {"url", "runtimePid"} when
// the runtime is ready, and runs until its stdin ends (a line or EOF). The callers live in the
// parent, so this process's RSS is the simulator's own (the runtime is a child in its own group).
import { resolve } from "node:path";
import { Simulator } from "../../src/index.ts";

const sim = await Simulator.start({ port: 0, streamBandwidthLimit: false });
sim.spawnRuntime([process.execPath, resolve(import.meta.dir, "stream-runtime.ts")]);
await sim.waitFor((s) => s.phase() === "Ready", 30_000);
process.stdout.write(`${JSON.stringify({ url: sim.url(), runtimePid: sim.runtimePid() })}\n`);
for await (const _ of Bun.stdin.stream()) break;
await sim.shutdown();
process.exit(0);
