// Property-based fuzzing (fast-check, fixed seed) of the sandbox listener of a one-environment
// simulator, which also serves the Invoke and control APIs: its own HTTP/1.1 server
// (src/http/http1.ts) and every route behind it, over raw TCP. Random methods, paths under every API
// prefix (request ids that ended, that never existed, garbage), HTTP versions, headers (framing
// ones included, wrong case, huge) and bodies, well-formed or not. Whatever comes, the answer is a
// status Lambda may give in the API's error shape (generators, properties and the setup, shared
// with `bun run fuzz`: fuzz-support.ts); afterwards the simulator still serves an invoke and its log
// has no stack trace.
import { describe, expect, test } from "bun:test";
import { fuzzListeners, runs, SEED, StatusCounts, sandboxSetup, stackTraces } from "./fuzz-support.ts";

const RUNS = runs(700);

describe("fuzzing the sandbox listener", () => {
  test(`${RUNS} random requests (seed ${SEED}): Lambda's statuses and shapes, never a hang or a crash; invokes still work`, async () => {
    const setup = await sandboxSetup();
    const counts = new StatusCounts();
    await fuzzListeners(setup.targets, setup.ids, { seed: SEED, numRuns: RUNS, counts });
    if (process.env.FUZZ_VERBOSE) console.log(counts.toObject());
    expect(counts.size).toBeGreaterThan(5);
    await setup.stillServes();
    expect(stackTraces(setup.lines)).toEqual([]);
  }, 120_000);
});
