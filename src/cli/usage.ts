/** CLI plumbing shared by the commands: repeatable flags, the `--` bootstrap, clear exits. */
import { ConfigurationError } from "../core/errors.ts";

/** A mistake in how the CLI was called: one line on stderr, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Prints `error` as one clear line and exits: 2 for usage/configuration errors, 1 otherwise. */
export async function exitWithError(error: unknown): Promise<never> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError || error instanceof ConfigurationError) {
    process.stderr.write(`lambda-sim: ${message}\n`);
    process.exit(2);
  }
  await printUnexpected(error);
  process.exit(1);
}

/** Prints an error nobody anticipated, stack and all (consola is loaded only then: it is slow to load). */
export async function printUnexpected(error: unknown): Promise<void> {
  const { consola } = await import("consola");
  consola.error(error);
}

/** The part of the command line before `--`. */
function optionArgs(rawArgs: readonly string[]): string[] {
  const dash = rawArgs.indexOf("--");
  return dash === -1 ? [...rawArgs] : rawArgs.slice(0, dash);
}

/** The command after `--` (the bootstrap and its arguments), empty when absent. */
export function commandAfterDash(rawArgs: readonly string[]): string[] {
  const dash = rawArgs.indexOf("--");
  return dash === -1 ? [] : rawArgs.slice(dash + 1);
}

/** Every value of a repeatable flag (`--env A=1 --env B=2` or `--env=A=1`). */
export function repeated(rawArgs: readonly string[], flag: string): string[] {
  const values: string[] = [];
  const args = optionArgs(rawArgs);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === `--${flag}`) {
      const value = args[i + 1];
      if (value === undefined || (value.startsWith("--") && value !== "-")) {
        throw new UsageError(`--${flag} needs a value`);
      }
      values.push(value);
      i++;
    } else if (arg.startsWith(`--${flag}=`)) {
      values.push(arg.slice(flag.length + 3));
    }
  }
  return values;
}

/** Refuses flags the command does not define, naming them. */
export function assertKnownFlags(rawArgs: readonly string[], known: readonly string[]): void {
  const allowed = new Set([...known, "help", "h", "version"]);
  for (const arg of optionArgs(rawArgs)) {
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0] as string;
    const bare = name.startsWith("no-") ? name.slice(3) : name;
    if (!allowed.has(name) && !allowed.has(bare)) {
      throw new UsageError(`unknown option ${arg.split("=")[0]} (see --help)`);
    }
  }
}

/** Parses a number flag or explains what is wrong with it. */
export function numberFlag(value: string | undefined, flag: string, integer = false): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${flag} must be ${integer ? "an integer" : "a number"}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
