/** The function and server flags every command that starts a simulator shares. */
import { readFileSync } from "node:fs";
import type { ArgsDef } from "citty";
import type { SimulatorOptions } from "../simulator.ts";
import { numberFlag, repeated, UsageError } from "./usage.ts";

/** citty definitions of the shared flags. */
export const functionArgs = {
  host: { type: "string", description: "Address to listen on", default: "127.0.0.1" },
  port: { type: "string", description: "Port for every API (0 picks a free one)", default: "9001" },
  "function-name": { type: "string", description: "Function name", default: "function" },
  "function-version": { type: "string", description: "Function version", default: "$LATEST" },
  handler: { type: "string", description: "Handler, passed as _HANDLER", default: "index.handler" },
  memory: { type: "string", description: "Memory size in MB (128-10240)", default: "128" },
  timeout: { type: "string", description: "Function timeout in seconds", default: "3" },
  "init-timeout": { type: "string", description: "Init phase limit in seconds", default: "10" },
  region: { type: "string", description: "AWS region", default: "us-east-1" },
  "account-id": { type: "string", description: "AWS account id", default: "123456789012" },
  env: { type: "string", description: "Function environment variable KEY=VALUE (repeatable)" },
  "env-file": { type: "string", description: "File of KEY=VALUE lines for the function's environment" },
  "log-format": { type: "string", description: "Log format: Text or JSON", default: "Text" },
  "task-root": { type: "string", description: "Function code directory (LAMBDA_TASK_ROOT, runtime cwd)" },
} as const satisfies ArgsDef;

type FunctionArgValues = { [K in keyof typeof functionArgs]?: string };

/** Parses `KEY=VALUE` lines (blank lines and `#` comments skipped, optional quotes removed). */
export function parseEnvFile(text: string, source: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!match)
      throw new UsageError(`${source}:${index + 1}: expected KEY=VALUE, got ${JSON.stringify(raw)}`);
    let value = match[2] as string;
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    env[match[1] as string] = value;
  });
  return env;
}

function envPairs(values: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Turns the shared flags into simulator options (values are validated again by the config schema). */
export function simulatorOptionsFromArgs(
  args: FunctionArgValues,
  rawArgs: readonly string[],
): SimulatorOptions {
  let environment: Record<string, string> = {};
  const envFile = args["env-file"];
  if (envFile) {
    let text: string;
    try {
      text = readFileSync(envFile, "utf8");
    } catch (error) {
      throw new UsageError(
        `cannot read --env-file ${envFile}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
    environment = parseEnvFile(text, envFile);
  }
  environment = { ...environment, ...envPairs(repeated(rawArgs, "env")) };
  const logFormat = args["log-format"] ?? "Text";
  if (logFormat !== "Text" && logFormat !== "JSON") {
    throw new UsageError(`--log-format must be Text or JSON, got ${JSON.stringify(logFormat)}`);
  }
  const port = numberFlag(args.port, "port", true);
  if (port !== undefined && (port < 0 || port > 65535))
    throw new UsageError(`--port must be 0-65535, got ${port}`);
  return {
    host: args.host,
    port,
    functionName: args["function-name"],
    functionVersion: args["function-version"],
    handler: args.handler,
    memorySizeMB: numberFlag(args.memory, "memory", true),
    timeoutSeconds: numberFlag(args.timeout, "timeout"),
    initTimeoutSeconds: numberFlag(args["init-timeout"], "init-timeout"),
    region: args.region,
    accountId: args["account-id"],
    logFormat,
    taskRoot: args["task-root"],
    environment,
  };
}

/** Flag names for configuration fields, so validation errors name what the user typed. */
export const FLAG_FOR_FIELD: Record<string, string> = {
  functionName: "--function-name",
  functionVersion: "--function-version",
  handler: "--handler",
  memorySizeMB: "--memory",
  timeoutSeconds: "--timeout",
  initTimeoutSeconds: "--init-timeout",
  region: "--region",
  accountId: "--account-id",
  logFormat: "--log-format",
  taskRoot: "--task-root",
  environment: "--env",
};
