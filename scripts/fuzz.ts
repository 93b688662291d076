#!/usr/bin/env bun
/**
 * `bun run fuzz [--runs N] [--seed S]`: the long run of the fuzz suite (issue 14). It starts the
 * suites' three simulators (test/reliability/fuzz-support.ts): one environment whose sandbox
 * listener serves every API; two environments behind the Bun.serve front, with their own sandbox
 * listeners and the function URL; one environment with a real extension, recycled so that one
 * extension id is deregistered and another is registered while init is held open. A twentieth of
 * the runs are Telemetry/Logs subscriptions inside that init window, the rest random raw requests
 * over the six listeners. Then every simulator must still serve an invoke and have logged no stack
 * trace. Prints the seed first (rerun with it), progress on stderr, the counts by status at the
 * end; exits 1 on a broken property (with fast-check's shrunk counterexample) or a failed check.
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { shutdownStartedSimulators } from "../test/helpers/fixtures.ts";
import { removeTempDirs } from "../test/helpers/temp.ts";
import {
  extensionsSetup,
  type FuzzRequest,
  type FuzzSetup,
  type FuzzTarget,
  listenerProperty,
  listenersSetup,
  raw,
  rawSubscription,
  StatusCounts,
  sandboxSetup,
  stackTraces,
  subscriptionProperty,
} from "../test/reliability/fuzz-support.ts";

const PROGRESS_EVERY = 5_000;
const USAGE = "usage: bun run fuzz [--runs N (default 100000)] [--seed S (default random)]";

/** The options, or a usage error (exit 2). */
function options(): { runs: number; seed: number } {
  const { values } = parseArgs({
    options: { runs: { type: "string" }, seed: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = Number(values.runs ?? 100_000);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
    console.error(`fuzz: --runs must be a positive integer and --seed an integer\n${USAGE}`);
    process.exit(2);
  }
  return { runs, seed };
}

const { runs, seed } = options();
const subscriptions = Math.floor(runs / 20);
const requests = runs - subscriptions;
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
const counts = new StatusCounts();
let sink: ReturnType<typeof Bun.serve> | undefined;

let cleaning: Promise<void> | undefined;
/** The exit status a signal asked for; the batch may still be winding down meanwhile. */
let signalled: number | undefined;
/** Stops every simulator (and their processes), the sink and the temporary files; once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await shutdownStartedSimulators();
    await sink?.stop(true);
    removeTempDirs();
  })();
  return cleaning;
}
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.once(signal, () => {
    signalled = code;
    console.error(`\nfuzz: ${signal} after ${seconds()} s: stopping the simulators`);
    void cleanUp().finally(() => process.exit(code));
  });
}

let done = 0;
/** Counts one run and says how far it got every PROGRESS_EVERY runs. */
function ran(): void {
  done++;
  if (done % PROGRESS_EVERY === 0) {
    const rate = Math.round(done / ((performance.now() - started) / 1000));
    console.error(`fuzz: ${done}/${runs} in ${seconds()} s (${rate}/s) ${JSON.stringify(counts.toObject())}`);
  }
}

/** Prints a broken property's details; true when it broke. */
function broke<T>(what: string, details: fc.RunDetails<T>, bytes: (value: T) => string): boolean {
  if (!details.failed) return false;
  // Requests to simulators being stopped fail: not a broken property.
  if (signalled !== undefined) return true;
  console.log(`\nfuzz: ${what}: property broken after ${details.numRuns} runs (seed ${seed}, runs ${runs})`);
  console.log(fc.defaultReportMessage(details) ?? "");
  const error = details.errorInstance;
  console.log(`the error: ${error instanceof Error ? error.message : String(error)}`);
  if (details.counterexample !== null) {
    console.log(`the shrunk request, as sent: ${JSON.stringify(bytes(details.counterexample))}`);
  }
  console.log(`rerun: bun run fuzz --seed ${seed} --runs ${runs}`);
  return true;
}

let accepted = 0;
/** The counts so far, by status (subscriptions and requests together). */
function summary(): void {
  console.log(`fuzz: ${done} runs in ${seconds()} s; subscriptions accepted: ${accepted}`);
  console.log(JSON.stringify(counts.toObject(), null, 2));
}

async function main(): Promise<number> {
  console.log(`fuzz: seed ${seed}, ${runs} runs (${subscriptions} subscriptions, ${requests} requests)`);
  console.log(`fuzz: rerun with bun run fuzz --seed ${seed} --runs ${runs}`);
  sink = Bun.serve({ port: 0, fetch: () => new Response("") });
  const extensions = await extensionsSetup();
  const setups: FuzzSetup[] = [await sandboxSetup(), await listenersSetup(), extensions];
  console.error(`fuzz: simulators up in ${seconds()} s`);

  if (subscriptions > 0) {
    const property = subscriptionProperty(
      extensions.sim.port,
      sink.port as number,
      extensions.ids,
      counts,
      (ok) => {
        if (ok) accepted++;
        ran();
      },
    );
    const details = await fc.check(property, { seed, numRuns: subscriptions });
    if (broke("subscriptions", details, ([s]) => rawSubscription(s))) {
      summary();
      return 1;
    }
  }
  await extensions.endInit();

  const targets = setups.flatMap((setup) => setup.targets);
  const property = listenerProperty(targets, { ended: [], registered: [], deregistered: [] }, counts, ran);
  const details = await fc.check(property, { seed, numRuns: requests });
  const request = ([[target, r]]: [[FuzzTarget, FuzzRequest]]) =>
    `${target.listener}:${target.port} ${raw(r)}`;
  if (broke("requests", details, request)) {
    summary();
    return 1;
  }

  let failed = false;
  for (const setup of setups) {
    try {
      await setup.stillServes();
    } catch (error) {
      console.log(`fuzz: the ${setup.name} simulator no longer serves: ${(error as Error).message}`);
      failed = true;
    }
    const traces = stackTraces(setup.lines);
    if (traces.length) {
      console.log(
        `fuzz: the ${setup.name} simulator logged ${traces.length} stack trace(s):\n${traces.join("\n")}`,
      );
      failed = true;
    }
  }
  summary();
  console.log(
    failed ? "fuzz: properties held, but a check after the batch failed" : "fuzz: no property broke",
  );
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.log(`fuzz: ${(error as Error).stack ?? error}`);
} finally {
  await cleanUp();
}
process.exit(signalled ?? code);
