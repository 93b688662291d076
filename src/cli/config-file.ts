/**
 * The config file (`lambda-sim.json` or `lambda-sim.jsonc` in the working directory, or `--config
 * FILE`): read, validated against ConfigFileSchema, and merged under the command line, which wins.
 * Merging produces the same parsed args and raw argv the flags alone would, so every command keeps
 * reading its options one way.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { CONFIG_PROPERTIES, ConfigFileSchema, type ConfigKey } from "./config-schema.ts";
import { commandAfterDash, UsageError } from "./usage.ts";

/** The file names looked for in the working directory, in this order. */
export const CONFIG_FILE_NAMES = ["lambda-sim.json", "lambda-sim.jsonc"] as const;

/** A config file's validated contents. */
export type ConfigValues = Partial<Record<ConfigKey, unknown>>;

/** A loaded config file. */
export interface ConfigFile {
  path: string;
  values: ConfigValues;
}

/** Keys given as several flags (`--env A=1 --env B=2`). */
const REPEATED: ReadonlySet<string> = new Set(["env", "extension", "event", "watch", "ignore"]);

/** The config file named by `--config`, else the one in `cwd`, else none. */
export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string | undefined {
  if (explicit !== undefined) {
    if (explicit === "") throw new UsageError("--config needs a file");
    return resolve(cwd, explicit);
  }
  const found = CONFIG_FILE_NAMES.map((name) => resolve(cwd, name)).filter((path) => existsSync(path));
  if (found.length > 1) {
    throw new UsageError(
      `both ${CONFIG_FILE_NAMES.join(" and ")} exist; keep one, or pick one with --config`,
    );
  }
  return found[0];
}

/** Reads and validates the config file at `path`; every problem is a UsageError naming the key. */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let parsed: unknown;
  try {
    // JSONC: comments and trailing commas allowed, in both file names.
    parsed = Bun.JSONC.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${path} must hold one JSON object of options`);
  }
  const first = Value.Errors(ConfigFileSchema, parsed).First();
  if (first) {
    const key = first.path.split("/")[1] ?? "";
    if (!(key in CONFIG_PROPERTIES)) {
      throw new UsageError(
        `${path}: unknown key ${JSON.stringify(key)} (keys are the options of serve, run and watch as spelled on the command line, e.g. "function-name", and "bootstrap")`,
      );
    }
    const at = first.path.slice(key.length + 2);
    const where = at === "" ? "" : ` at ${at}`;
    throw new UsageError(
      `${path}: "${key}"${where} ${describe(first.message, CONFIG_PROPERTIES[key as ConfigKey])}, got ${JSON.stringify(first.value)}`,
    );
  }
  return { path, values: parsed as ConfigValues };
}

/** TypeBox's message, with the values a union of literals allows spelled out. */
function describe(message: string, schema: unknown): string {
  const anyOf = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (anyOf?.every((option) => option.const !== undefined)) {
    return `must be one of ${anyOf.map((option) => JSON.stringify(option.const)).join(", ")}`;
  }
  return message.replace(/^Expected/, "expected");
}

/** The option part of argv: before `--`. */
function optionPart(rawArgs: readonly string[]): readonly string[] {
  const dash = rawArgs.indexOf("--");
  return dash === -1 ? rawArgs : rawArgs.slice(0, dash);
}

/** True when the command line gives `--flag`, `--flag=...` or `--no-flag`. */
export function flagGiven(rawArgs: readonly string[], flag: string): boolean {
  return optionPart(rawArgs).some(
    (arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`) || arg === `--no-${flag}`,
  );
}

/**
 * The args and argv of the command line with the config file's values under them: a flag given on the
 * command line wins; `env` merges key by key (the command line's `--env` wins); other repeatable keys
 * are replaced by the command line's; `bootstrap` is used when nothing follows `--`. Keys the command
 * does not take (`watch` for `serve`, `event` for `watch`) are left out, so one file serves all three.
 */
export function mergeConfig<A extends Record<string, unknown>>(
  args: A,
  rawArgs: readonly string[],
  values: ConfigValues,
  commandKeys: readonly string[],
): { args: A; rawArgs: string[] } {
  const merged: Record<string, unknown> = { ...args };
  const before: string[] = [];
  const known = new Set(commandKeys);
  for (const [key, value] of Object.entries(values)) {
    if (key === "$schema" || key === "bootstrap" || !known.has(key) || value === undefined) continue;
    if (REPEATED.has(key)) {
      if (key === "env") {
        for (const [name, text] of Object.entries(value as Record<string, string>))
          before.push("--env", `${name}=${text}`);
      } else if (!flagGiven(rawArgs, key)) {
        for (const item of value as string[]) before.push(`--${key}`, item);
      }
      continue;
    }
    if (flagGiven(rawArgs, key)) continue;
    if (typeof value === "boolean") merged[key] = value;
    else if (Array.isArray(value)) merged[key] = value.join(",");
    else merged[key] = String(value);
  }
  const dash = rawArgs.indexOf("--");
  const options = dash === -1 ? [...rawArgs] : rawArgs.slice(0, dash);
  let bootstrap = commandAfterDash(rawArgs);
  const configured = values.bootstrap as string[] | undefined;
  if (bootstrap.length === 0 && configured && known.has("bootstrap")) bootstrap = configured;
  const argv = [...before, ...options, ...(bootstrap.length > 0 ? ["--", ...bootstrap] : [])];
  return { args: merged as A, rawArgs: argv };
}

/** Finds, loads and merges the config file for a command (see mergeConfig); none found -> unchanged. */
export function withConfigFile<A extends Record<string, unknown>>(
  args: A,
  rawArgs: readonly string[],
  commandKeys: readonly string[],
): { args: A; rawArgs: string[]; file?: ConfigFile } {
  const explicit = typeof args.config === "string" ? args.config : undefined;
  const path = findConfigFile(explicit);
  if (path === undefined) return { args, rawArgs: [...rawArgs] };
  const file = loadConfigFile(path);
  return { ...mergeConfig(args, rawArgs, file.values, [...commandKeys, "bootstrap"]), file };
}
