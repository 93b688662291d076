// Property-based fuzzing (fast-check, fixed seed) of the Extensions, Telemetry and Logs APIs past
// the identity check: a real extension (test/fixtures/extensions/agent.ts) registers, its id read
// from sim.registeredExtensions(); a recycle leaves that id deregistered and registers a new one.
// Subscriptions are open during init only, so the agent holds init open (WAIT_FOR_FILE) while the
// subscription bodies are fuzzed: schema versions, types, buffering bounds and destinations (a sink
// that listens, a closed port, the APIs' own port, outside hosts), with the registered, the
// deregistered or an unknown id. Then init ends and random requests of every API follow with those
// ids. Properties as in fuzz-support.ts; afterwards invokes work and the log has no stack trace.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  apiOf,
  exchange,
  extensionsSetup,
  fuzzListeners,
  header,
  problemWith,
  runs,
  SEED,
  StatusCounts,
  stackTraces,
  subscriptionBody,
} from "./fuzz-support.ts";

const RUNS = runs(400);

describe("fuzzing the extension APIs with registered, deregistered and unknown ids", () => {
  test(`${RUNS} random requests and ${RUNS} subscriptions (seed ${SEED}): Lambda's answers; invokes still work`, async () => {
    const sink = Bun.serve({ port: 0, fetch: () => new Response("") });
    try {
      const setup = await extensionsSetup();
      const { sim, ids, lines } = setup;
      const counts = new StatusCounts();

      const body = (api: "telemetry" | "logs") =>
        subscriptionBody({ sink: sink.port as number, api: sim.port }, api);
      const subscription = fc
        .record({
          path: fc.constantFrom("/2022-07-01/telemetry", "/2020-08-15/logs"),
          method: fc.constantFrom("PUT", "PUT", "PUT", "POST"),
          id: fc.constantFrom(
            ids.registered[0] as string,
            ids.registered[0] as string,
            ids.deregistered[0] as string,
            "unknown",
          ),
          headers: fc.array(header(ids), { maxLength: 2 }),
        })
        .chain((r) =>
          (r.path.includes("logs") ? body("logs") : body("telemetry")).map((b) => ({ ...r, body: b })),
        );
      let accepted = 0;
      const statuses = new Set<string>();
      await fc.assert(
        fc.asyncProperty(subscription, async (s) => {
          const text = s.body === undefined ? "" : JSON.stringify(s.body);
          const extra = s.headers.filter(
            ([k]) => !/^(host|connection|expect|lambda-extension-identifier)$/i.test(k),
          );
          const head = [
            `${s.method} ${s.path} HTTP/1.1`,
            "Host: sandbox",
            `Lambda-Extension-Identifier: ${s.id}`,
            ...extra.map(([k, v]) => `${k}: ${v}`),
          ];
          const bytes = Buffer.from(text ?? "");
          const raw = `${head.join("\r\n")}\r\nContent-Length: ${bytes.byteLength}\r\n\r\n${bytes.toString("latin1")}`;
          const answer = await exchange(sim.port, raw);
          counts.add(answer.status);
          if (typeof answer.status !== "number") throw new Error(`no answer: ${answer.status}`);
          if (answer.status === 200) accepted++;
          statuses.add(`${answer.status} ${answer.body.slice(0, 80)}`);
          // Only the registered extension may subscribe.
          if (answer.status === 200 && s.id !== ids.registered[0])
            throw new Error("a subscription of an unknown id was accepted");
          const problem = problemWith(answer, apiOf(s.path, "sandbox"));
          if (problem) throw new Error(problem);
        }),
        { seed: SEED, numRuns: RUNS },
      );
      if (process.env.FUZZ_VERBOSE) console.log([...statuses].slice(0, 40));
      expect(accepted).toBeGreaterThan(0);
      await setup.endInit();
      await fuzzListeners(setup.targets, ids, {
        seed: SEED,
        numRuns: RUNS,
        counts,
      });
      if (process.env.FUZZ_VERBOSE) console.log(counts.toObject(), { accepted });
      await setup.stillServes();
      expect(stackTraces(lines)).toEqual([]);
    } finally {
      await sink.stop(true);
    }
  }, 120_000);
});
