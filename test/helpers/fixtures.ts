/** Paths of the fixture programs and a simulator factory that cleans up after each test. */
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

/** Starts a simulator on a free port; it is shut down after the current test. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = await Simulator.start({ port: 0, ...options });
  started.push(simulator);
  return simulator;
}
