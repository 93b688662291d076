// Property-based fuzzing (fast-check, fixed seed) of the listeners of a several-environments
// simulator: the front on Bun.serve (Invoke and control APIs, sim.url()), each environment's own
// sandbox listener (sim.environments()[i].runtimeApi), and the function URL front (httpPort: 0).
// Same generators and properties as fuzz-sandbox.test.ts (fuzz-support.ts).
import { describe, expect, test } from "bun:test";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import {
  capturingLogger,
  type FuzzTarget,
  fuzzListeners,
  type KnownIds,
  runs,
  SEED,
  StatusCounts,
  stackTraces,
} from "./fuzz-support.ts";

const RUNS = runs(700);

describe("fuzzing the front, the environments' listeners and the function URL", () => {
  test(`${RUNS} random requests (seed ${SEED}) over 4 listeners: Lambda's statuses and shapes; invokes still work`, async () => {
    const { logger, lines } = capturingLogger();
    const sim = await startSimulator({
      functionName: "function",
      maxConcurrency: 2,
      provisionedConcurrency: 2,
      httpPort: 0,
      echoLogs: true,
      logger,
    });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const answers = await Promise.all([1, 2, 3].map((n) => sim.invoke({ before: n })));
    expect(answers.map((a) => a.json<{ echo: unknown }>().echo)).toEqual([
      { before: 1 },
      { before: 2 },
      { before: 3 },
    ]);
    const ids: KnownIds = {
      ended: sim.invocationStates().map((s) => s.requestId),
      registered: [],
      deregistered: [],
    };
    const portOf = (url: string) => Number(new URL(url.includes("://") ? url : `http://${url}`).port);
    const environments = sim.environments();
    expect(environments).toHaveLength(2);
    const targets: FuzzTarget[] = [
      { listener: "front", port: portOf(sim.url()) },
      ...environments.map((env): FuzzTarget => ({ listener: "sandbox", port: portOf(env.runtimeApi) })),
      { listener: "functionUrl", port: portOf(sim.functionUrl()) },
    ];
    const counts = new StatusCounts();
    await fuzzListeners(targets, ids, { seed: SEED, numRuns: RUNS, counts });
    if (process.env.FUZZ_VERBOSE) console.log(counts.toObject());
    expect(counts.size).toBeGreaterThan(5);
    expect((await sim.invoke({ after: true })).json<{ echo: unknown }>().echo).toEqual({ after: true });
    const viaUrl = await fetch(`${sim.functionUrl()}/after?x=1`, { method: "POST", body: "hi" });
    expect(viaUrl.status).toBe(200);
    expect(stackTraces(lines)).toEqual([]);
  }, 120_000);
});
