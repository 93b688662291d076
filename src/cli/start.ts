/** Starting a simulator from CLI flags, with signals wired so nothing outlives the command. */
import { consola } from "consola";
import { ConfigurationError } from "../core/errors.ts";
import { Simulator } from "../simulator.ts";
import {
  extensionsFromArgs,
  FLAG_FOR_FIELD,
  type FunctionArgValues,
  simulatorOptionsFromArgs,
} from "./function-options.ts";
import { commandAfterDash, UsageError } from "./usage.ts";

function renameFields(message: string): string {
  return message.replace(/\b([a-zA-Z]+):/g, (whole, field: string) =>
    FLAG_FOR_FIELD[field] ? `${FLAG_FOR_FIELD[field]}:` : whole,
  );
}

/**
 * Starts the simulator the shared flags describe, its extensions and, when `-- <bootstrap>` is
 * given, the runtime; configuration problems become UsageErrors.
 */
export async function startFromCli(args: FunctionArgValues, rawArgs: readonly string[]): Promise<Simulator> {
  const options = simulatorOptionsFromArgs(args, rawArgs);
  const extensions = extensionsFromArgs(args, rawArgs);
  const bootstrap = commandAfterDash(rawArgs);
  let simulator: Simulator;
  try {
    // The library's default logger writes to stderr: stdout carries only what commands print on purpose.
    simulator = await Simulator.start({ ...options, echoLogs: true });
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(renameFields(error.message));
    throw error;
  }
  try {
    for (const extension of extensions) simulator.spawnExtension([extension]);
  } catch (error) {
    await simulator.shutdown();
    throw error instanceof ConfigurationError ? new UsageError(error.message) : error;
  }
  if (bootstrap.length > 0) {
    try {
      simulator.spawnRuntime(bootstrap);
    } catch (error) {
      await simulator.shutdown();
      throw error instanceof ConfigurationError ? new UsageError(error.message) : error;
    }
  } else if (extensions.length > 0) {
    simulator.startInit();
  }
  return simulator;
}

/** Shuts the simulator down on SIGINT/SIGTERM and on fatal errors, then exits. */
export function exitOnSignals(simulator: Simulator, onExit: () => void = () => {}): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (code: number) => {
      if (stopping) return;
      stopping = true;
      await simulator.shutdown();
      onExit();
      resolve();
      process.exit(code);
    };
    process.on("SIGINT", () => void stop(0));
    process.on("SIGTERM", () => void stop(0));
    process.on("uncaughtException", (error) => {
      consola.error(error);
      void stop(1);
    });
  });
}
