/** Starting a simulator from CLI flags, with signals wired so nothing outlives the command. */
import { ConfigurationError } from "../core/errors.ts";
import { Simulator } from "../simulator.ts";
import {
  extensionsFromArgs,
  FLAG_FOR_FIELD,
  type FunctionArgValues,
  simulatorOptionsFromArgs,
} from "./function-options.ts";
import { commandAfterDash, printUnexpected, UsageError } from "./usage.ts";

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
  const concurrency = options.maxConcurrency ?? Math.max(1, options.provisionedConcurrency ?? 0);
  if (concurrency > 1 && bootstrap.length === 0) {
    throw new UsageError(
      `--max-concurrency ${concurrency} needs a bootstrap (-- ./bootstrap): each environment starts its own runtime, and a runtime started by hand serves one environment only`,
    );
  }
  if (options.tenantIsolation && bootstrap.length === 0) {
    throw new UsageError(
      "--tenant-isolation needs a bootstrap (-- ./bootstrap): each tenant gets environments of its own, each starting its own runtime",
    );
  }
  try {
    // The library's default logger writes to stderr: stdout carries only what commands print on purpose.
    return await Simulator.start(
      { ...options, echoLogs: true },
      {
        // As soon as the port listens: the processes start while the simulator builds its routes.
        onListening: (simulator) => {
          try {
            for (const extension of extensions) simulator.spawnExtension([extension]);
            if (bootstrap.length > 0) simulator.spawnRuntime(bootstrap);
            else if (extensions.length > 0) simulator.startInit();
          } catch (error) {
            throw error instanceof ConfigurationError ? new UsageError(error.message) : error;
          }
        },
      },
    );
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(renameFields(error.message));
    throw error;
  }
}

/**
 * Shuts the simulator down on SIGINT/SIGTERM and on fatal errors, then exits; `beforeShutdown`
 * stops what could start processes meanwhile (watch mode's reloads).
 */
export function exitOnSignals(
  simulator: Simulator,
  onExit: () => void = () => {},
  beforeShutdown: () => Promise<void> = async () => {},
): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (code: number) => {
      if (stopping) return;
      stopping = true;
      await beforeShutdown().catch(() => {});
      await simulator.shutdown();
      onExit();
      resolve();
      process.exit(code);
    };
    process.on("SIGINT", () => void stop(0));
    process.on("SIGTERM", () => void stop(0));
    process.on("uncaughtException", (error) => {
      void printUnexpected(error).finally(() => stop(1));
    });
  });
}
