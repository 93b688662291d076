// Property-based fuzzing (fast-check, fixed seed) of the sandbox listener of a one-environment
// simulator, which also serves the Invoke and control APIs: its own HTTP/1.1 server
// (src/http/http1.ts) and every route behind it, over raw TCP. Random methods, paths under every API
// prefix (request ids that ended, that never existed, garbage), HTTP versions, headers (framing
// ones included, wrong case, huge) and bodies, well-formed or not. Whatever comes, the answer is a
// status Lambda may give in the API's error shape (generators and properties: fuzz-support.ts);
// afterwards the simulator still serves an invoke and its log has no stack trace.
import { describe, expect, test } from "bun:test";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";
import {
  capturingLogger,
  fuzzListeners,
  type KnownIds,
  runs,
  SEED,
  StatusCounts,
  stackTraces,
} from "./fuzz-support.ts";

const RUNS = runs(700);

describe("fuzzing the sandbox listener", () => {
  test(`${RUNS} random requests (seed ${SEED}): Lambda's statuses and shapes, never a hang or a crash; invokes still work`, async () => {
    const { logger, lines } = capturingLogger();
    const sim = await startSimulator({ functionName: "function", echoLogs: true, logger });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const ids: KnownIds = { ended: [], registered: [], deregistered: [] };
    for (let i = 0; i < 3; i++) {
      const answer = await sim.invoke({ before: i });
      expect(answer.json<{ echo: unknown }>().echo).toEqual({ before: i });
    }
    ids.ended.push(...sim.invocationStates().map((state) => state.requestId));
    const counts = new StatusCounts();
    await fuzzListeners([{ listener: "sandbox", port: sim.port }], ids, {
      seed: SEED,
      numRuns: RUNS,
      counts,
    });
    if (process.env.FUZZ_VERBOSE) console.log(counts.toObject());
    expect(counts.size).toBeGreaterThan(5);
    expect((await sim.invoke({ after: true })).json<{ echo: unknown }>().echo).toEqual({ after: true });
    expect(stackTraces(lines)).toEqual([]);
  }, 120_000);
});
