/** Paths of the fixture programs and a simulator factory that cleans up after each test. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Simulator, type SimulatorOptions } from "../../src/index.ts";

/** Directory of the fixture programs. */
export const FIXTURES = join(import.meta.dir, "..", "fixtures");
/** The TypeScript echo runtime (see its header for the switches it understands). */
export const ECHO_RUNTIME = join(FIXTURES, "runtimes", "echo.ts");

const started: Simulator[] = [];

/** Shuts down every simulator startSimulator made (test/setup.ts runs it after each test of every file). */
export async function shutdownStartedSimulators(): Promise<void> {
  await Promise.all(started.splice(0).map((simulator) => simulator.shutdown()));
}

/** How many times the simulator ran init (cold starts and retries). */
export function initCount(sim: Simulator): number {
  return (sim.status() as { initCount: number }).initCount;
}

/** Starts a simulator on a free port; it is shut down after the current test. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = await Simulator.start({ port: 0, ...options });
  started.push(simulator);
  return simulator;
}

/** External extension recording what it sees in $RECORD_FILE (see its header). */
export const RECORDER = join(FIXTURES, "extensions", "recorder.ts");
/** Its variant with delays, a status probe, init errors and a one-off crash (see its header). */
export const AGENT = join(FIXTURES, "extensions", "agent.ts");
/**
 * Runtime that records its start, can register internal extensions, wait on a gate file, handle
 * SIGTERM and record its steps (see its header).
 */
export const INSTRUMENTED = join(FIXTURES, "runtimes", "instrumented.ts");

/** The JSON lines a fixture appended to `file` (none if it does not exist yet). */
// biome-ignore lint/suspicious/noExplicitAny: records are free-form fixture output.
export function records(file: string): any[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
