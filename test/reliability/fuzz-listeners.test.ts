// Property-based fuzzing (fast-check, fixed seed) of the listeners of a several-environments
// simulator: the front on Bun.serve (Invoke and control APIs, sim.url()), each environment's own
// sandbox listener (sim.environments()[i].runtimeApi), and the function URL front (httpPort: 0).
// Same generators and properties as fuzz-sandbox.test.ts; the setup is shared with `bun run fuzz`
// (fuzz-support.ts, listenersSetup).
import { describe, expect, test } from "bun:test";
import { fuzzListeners, listenersSetup, runs, SEED, StatusCounts, stackTraces } from "./fuzz-support.ts";

const RUNS = runs(700);

describe("fuzzing the front, the environments' listeners and the function URL", () => {
  test(`${RUNS} random requests (seed ${SEED}) over 4 listeners: Lambda's statuses and shapes; invokes still work`, async () => {
    const setup = await listenersSetup();
    expect(setup.targets).toHaveLength(4);
    const counts = new StatusCounts();
    await fuzzListeners(setup.targets, setup.ids, { seed: SEED, numRuns: RUNS, counts });
    if (process.env.FUZZ_VERBOSE) console.log(counts.toObject());
    expect(counts.size).toBeGreaterThan(5);
    await setup.stillServes();
    expect(stackTraces(setup.lines)).toEqual([]);
  }, 120_000);
});
