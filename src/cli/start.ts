/** Starting a simulator from CLI flags, with signals wired so nothing outlives the command. */
import { type ConsolaReporter, consola, createConsola, LogLevels } from "consola";
import { ConfigurationError } from "../core/errors.ts";
import { Simulator, type SimulatorOptions } from "../simulator.ts";
import { FLAG_FOR_FIELD } from "./function-options.ts";
import { UsageError } from "./usage.ts";

function renameFields(message: string): string {
  return message.replace(/\b([a-zA-Z]+):/g, (whole, field: string) =>
    FLAG_FOR_FIELD[field] ? `${FLAG_FOR_FIELD[field]}:` : whole,
  );
}

/** Writes each log line to stderr as it is, after `[tag] ` for runtime and extension output. */
const plainStderr: ConsolaReporter = {
  log: ({ tag, args }) => {
    process.stderr.write(`${tag ? `[${tag}] ` : ""}${args.map(String).join(" ")}\n`);
  },
};

/** Starts the simulator and, when given, the bootstrap; configuration problems become UsageErrors. */
export async function startFromCli(options: SimulatorOptions, bootstrap: string[]): Promise<Simulator> {
  let simulator: Simulator;
  try {
    // Logs go to stderr so that stdout carries only what commands print on purpose. Level and
    // reporter are explicit: consola's defaults hide them when NODE_ENV=test or TEST is set (as
    // under `bun test`) and prefix every line with `[log]` when CI is set.
    const logger = createConsola({ level: LogLevels.info, reporters: [plainStderr] });
    simulator = await Simulator.start({ ...options, echoLogs: true, logger });
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(renameFields(error.message));
    throw error;
  }
  if (bootstrap.length > 0) {
    try {
      simulator.spawnRuntime(bootstrap);
    } catch (error) {
      await simulator.shutdown();
      throw error instanceof ConfigurationError ? new UsageError(error.message) : error;
    }
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
