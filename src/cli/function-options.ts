/** The function and server flags every command that starts a simulator shares. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ArgsDef } from "citty";
import { FreezeMode } from "../core/environment/freeze.ts";
import type { SimulatorOptions } from "../simulator-options.ts";
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
  extension: {
    type: "string",
    description: "External extension executable, started before the runtime (repeatable)",
  },
  "extensions-dir": {
    type: "string",
    description: "Start every executable in DIR as an extension, like /opt/extensions",
  },
  "shutdown-timeout": {
    type: "string",
    description: "Shutdown phase budget in ms, replacing Lambda's 0/500/2000 (debugging)",
  },
  "telemetry-file": { type: "string", description: "Append every telemetry event to FILE as JSON lines" },
  "telemetry-capture-mb": {
    type: "string",
    description:
      "Keep at most MB of telemetry (as JSON) in memory for the control API (default 4; oldest go first)",
  },
  freeze: {
    type: "boolean",
    description: "Freeze (SIGSTOP) every process between invocations, as Lambda does",
  },
  "max-concurrency": {
    type: "string",
    description: "Up to N execution environments at once, each with its own Runtime API port",
    default: "1",
  },
  throttle: {
    type: "boolean",
    description: "When every environment is busy, answer a synchronous invoke 429 instead of queueing it",
  },
  provisioned: {
    type: "string",
    description: "N environments initialised at start (provisioned concurrency)",
  },
  "idle-timeout": { type: "string", description: "Shut an environment down after SECONDS idle (spindown)" },
  "tenant-isolation": {
    type: "boolean",
    description:
      "Tenant isolation mode: every invoke needs X-Amz-Tenant-Id; an environment serves one tenant",
  },
  "async-retries": { type: "string", description: "Retries of a failed Event invocation, 0-2", default: "2" },
  "async-retry-delays": {
    type: "string",
    description: "Delays before those retries in ms, comma-separated",
    default: "60000,120000",
  },
  http: {
    type: "string",
    description: "Serve a function URL on PORT: each HTTP request invokes the function (0 picks a free port)",
  },
  "http-invoke-mode": {
    type: "string",
    description:
      "How the function URL answers: BUFFERED, or RESPONSE_STREAM (bytes as the runtime sends them)",
  },
  config: {
    type: "string",
    description:
      "Config file of these options (default: lambda-sim.json or lambda-sim.jsonc here, if present)",
  },
  "stream-bandwidth-limit": {
    type: "boolean",
    description: "Cap streamed responses as Lambda does: 6 MB uncapped, then 2 MB/s",
    negativeDescription: "Stream responses at full speed (tests of large streams)",
    default: true,
  },
} as const satisfies ArgsDef;

/** Parsed values of the shared flags. */
export type FunctionArgValues = { [K in keyof typeof functionArgs]?: string | boolean };

/** The external extensions the flags name: --extensions-dir executables in name order, then each --extension. */
export function extensionsFromArgs(args: FunctionArgValues, rawArgs: readonly string[]): string[] {
  const paths: string[] = [];
  const dir = args["extensions-dir"];
  if (typeof dir === "string" && dir !== "") {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (error) {
      throw new UsageError(
        `cannot read --extensions-dir ${dir}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
    for (const entry of entries) {
      if (entry.startsWith(".")) continue;
      const path = join(dir, entry);
      if (statSync(path).isFile()) paths.push(path);
    }
  }
  return [...paths, ...repeated(rawArgs, "extension")];
}

/** Parses `KEY=VALUE` lines (blank lines and `#` comments skipped, optional quotes removed). */
function parseEnvFile(text: string, source: string): Record<string, string> {
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

/** `--telemetry-capture-mb` in bytes. */
function captureMegabytes(value: string | undefined): number | undefined {
  const megabytes = numberFlag(value, "telemetry-capture-mb");
  if (megabytes === undefined) return undefined;
  if (!(megabytes > 0 && megabytes <= 65536)) {
    throw new UsageError(`--telemetry-capture-mb must be more than 0 and at most 65536, got ${megabytes}`);
  }
  return Math.ceil(megabytes * 1024 * 1024);
}

/** Turns the shared flags into simulator options (values are validated again by the config schema). */
export function simulatorOptionsFromArgs(
  args: FunctionArgValues,
  rawArgs: readonly string[],
): SimulatorOptions {
  let environment: Record<string, string> = {};
  const envFile = args["env-file"];
  if (typeof envFile === "string" && envFile !== "") {
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
  const logFormat = (args["log-format"] as string | undefined) ?? "Text";
  if (logFormat !== "Text" && logFormat !== "JSON") {
    throw new UsageError(`--log-format must be Text or JSON, got ${JSON.stringify(logFormat)}`);
  }
  const text = (name: keyof typeof functionArgs) => {
    const value = args[name];
    return typeof value === "string" ? value : undefined;
  };
  const port = numberFlag(text("port"), "port", true);
  const shutdownTimeoutMs = numberFlag(text("shutdown-timeout"), "shutdown-timeout", true);
  if (shutdownTimeoutMs !== undefined && shutdownTimeoutMs < 0) {
    throw new UsageError(`--shutdown-timeout must be 0 or more milliseconds, got ${shutdownTimeoutMs}`);
  }
  if (port !== undefined && (port < 0 || port > 65535))
    throw new UsageError(`--port must be 0-65535, got ${port}`);
  const httpPort = numberFlag(text("http"), "http", true);
  if (httpPort !== undefined && (httpPort < 0 || httpPort > 65535))
    throw new UsageError(`--http must be a port, 0-65535 (0 picks a free one), got ${httpPort}`);
  if (args.http === "") throw new UsageError("--http needs a port (0 picks a free one)");
  const httpInvokeMode = text("http-invoke-mode");
  if (httpInvokeMode !== undefined && httpInvokeMode !== "BUFFERED" && httpInvokeMode !== "RESPONSE_STREAM") {
    throw new UsageError(
      `--http-invoke-mode must be BUFFERED or RESPONSE_STREAM, got ${JSON.stringify(httpInvokeMode)}`,
    );
  }
  if (httpInvokeMode !== undefined && httpPort === undefined) {
    throw new UsageError("--http-invoke-mode needs --http PORT (the function URL it configures)");
  }
  return {
    host: text("host"),
    port,
    functionName: text("function-name"),
    functionVersion: text("function-version"),
    handler: text("handler"),
    memorySizeMB: numberFlag(text("memory"), "memory", true),
    timeoutSeconds: numberFlag(text("timeout"), "timeout"),
    initTimeoutSeconds: numberFlag(text("init-timeout"), "init-timeout"),
    region: text("region"),
    accountId: text("account-id"),
    logFormat,
    taskRoot: text("task-root"),
    environment,
    shutdownTimeoutMs,
    telemetryFile: text("telemetry-file"),
    telemetryCaptureLimitBytes: captureMegabytes(text("telemetry-capture-mb")),
    freezeMode: args.freeze === true ? FreezeMode.Process : FreezeMode.None,
    maxConcurrency: numberFlag(text("max-concurrency"), "max-concurrency", true),
    throttle: args.throttle === true,
    provisionedConcurrency: numberFlag(text("provisioned"), "provisioned", true),
    idleTimeoutSeconds: numberFlag(text("idle-timeout"), "idle-timeout"),
    tenantIsolation: args["tenant-isolation"] === true,
    asyncRetry: {
      maximumRetryAttempts: numberFlag(text("async-retries"), "async-retries", true),
      retryDelaysMs: (text("async-retry-delays") ?? "60000,120000").split(",").map((d) => {
        const delay = numberFlag(d.trim(), "async-retry-delays", true);
        if (delay === undefined || delay < 0) {
          throw new UsageError(
            `--async-retry-delays takes milliseconds separated by commas, got ${JSON.stringify(d)}`,
          );
        }
        return delay;
      }),
    },
    httpPort,
    httpInvokeMode,
    streamBandwidthLimit: args["stream-bandwidth-limit"] !== false,
    // The control API's /_simulator/telemetry serves what is captured.
    captureTelemetry: true,
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
  maxConcurrency: "--max-concurrency",
  provisionedConcurrency: "--provisioned",
  idleTimeoutSeconds: "--idle-timeout",
  tenantIsolation: "--tenant-isolation",
  httpPort: "--http",
  httpInvokeMode: "--http-invoke-mode",
};
