/**
 * The function's configuration (what `CreateFunction` would hold) and the environment variables
 * Lambda derives from it for the runtime process (reference 5.1).
 */
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ConfigurationError } from "./errors.ts";
import { randomHex } from "./ids.ts";
import type { InitializationType } from "./vocabulary.ts";

/** Text or JSON, as `LoggingConfig.LogFormat`. */
export type LogFormat = "Text" | "JSON";

/** TypeBox schema of the function configuration, with Lambda's limits as bounds. */
export const FunctionConfigSchema = Type.Object({
  functionName: Type.String({ pattern: "^[a-zA-Z0-9_-]{1,64}$" }),
  functionVersion: Type.String({ pattern: "^(\\$LATEST|[0-9]{1,10})$" }),
  handler: Type.String({ minLength: 1, maxLength: 128 }),
  memorySizeMB: Type.Integer({ minimum: 128, maximum: 10240 }),
  /** Function timeout in seconds. Lambda takes whole seconds 1-900; fractions are allowed here for fast tests. */
  timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 900 }),
  initTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 900 }),
  region: Type.String({ pattern: "^[a-z]{2}(-[a-z]+)+-[0-9]$" }),
  accountId: Type.String({ pattern: "^[0-9]{12}$" }),
  logFormat: Type.Union([Type.Literal("Text"), Type.Literal("JSON")]),
  taskRoot: Type.String({ minLength: 1 }),
  environment: Type.Record(Type.String(), Type.String()),
  /** `TenancyConfig` `PER_TENANT`: every invoke names a tenant, and an environment serves one tenant only. */
  tenantIsolation: Type.Boolean(),
});

/** The validated function configuration. */
export type FunctionConfig = Static<typeof FunctionConfigSchema>;

/** Lambda's defaults (timeout 3 s, 128 MB, init 10 s, us-east-1). */
function defaultFunctionConfig(): FunctionConfig {
  return {
    functionName: "function",
    functionVersion: "$LATEST",
    handler: "index.handler",
    memorySizeMB: 128,
    timeoutSeconds: 3,
    initTimeoutSeconds: 10,
    region: "us-east-1",
    accountId: "123456789012",
    logFormat: "Text",
    taskRoot: process.cwd(),
    environment: {},
    tenantIsolation: false,
  };
}

/** Keys Lambda refuses in a function's environment variables. */
const RESERVED_ENVIRONMENT_KEYS: ReadonlySet<string> = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);

const ENV_KEY = /^[a-zA-Z][a-zA-Z0-9_]+$/;
const ENV_TOTAL_LIMIT = 4096;

/** Merges `partial` over the defaults and validates the result; throws ConfigurationError with every problem. */
export function resolveFunctionConfig(partial: Partial<FunctionConfig> = {}): FunctionConfig {
  const config: FunctionConfig = { ...defaultFunctionConfig(), ...stripUndefined(partial) };
  const problems: string[] = [];
  for (const error of Value.Errors(FunctionConfigSchema, config)) {
    const field = error.path.replace(/^\//, "") || "configuration";
    problems.push(`${field}: ${describeValue(error.value)} is not valid (${error.message})`);
  }
  problems.push(...environmentProblems(config.environment));
  if (problems.length > 0) throw new ConfigurationError(problems.join("; "));
  return config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describeValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** The reasons Lambda would refuse these user environment variables (empty when valid). */
function environmentProblems(environment: Record<string, string>): string[] {
  const problems: string[] = [];
  const reserved = Object.keys(environment).filter((k) => RESERVED_ENVIRONMENT_KEYS.has(k));
  if (reserved.length > 0) {
    problems.push(`environment: reserved keys cannot be set (Lambda refuses them): ${reserved.join(", ")}`);
  }
  const badKeys = Object.keys(environment).filter((k) => !ENV_KEY.test(k));
  if (badKeys.length > 0) {
    problems.push(
      `environment: invalid key(s) ${badKeys.map((k) => JSON.stringify(k)).join(", ")}: a key starts with a letter, has at least 2 characters and only letters, digits and _`,
    );
  }
  const size = Object.entries(environment).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > ENV_TOTAL_LIMIT) {
    problems.push(`environment: variables total ${size} bytes; Lambda allows at most ${ENV_TOTAL_LIMIT}`);
  }
  return problems;
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`. */
export function functionArn(config: FunctionConfig, qualifier?: string): string {
  const base = `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`;
  return qualifier ? `${base}:${qualifier}` : base;
}

/** A log stream name in Lambda's format: `YYYY/MM/DD/[<version>]<32 hex>`. */
export function newLogStreamName(config: FunctionConfig, now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "/");
  return `${day}/[${config.functionVersion}]${randomHex(16)}`;
}

/** Placeholder credentials: real SDKs need some to sign with; they grant nothing. */
const SIMULATED_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "ASIALAMBDASIMULATOR0",
  AWS_SECRET_ACCESS_KEY: "lambda-simulator-secret-access-key-not-real",
  AWS_SESSION_TOKEN: "lambda-simulator-session-token-not-real",
};

/**
 * The environment of the runtime process: the user's PATH, every variable Lambda sets
 * (reference 5.1), then the function's own variables.
 */
export function runtimeEnvironment(
  config: FunctionConfig,
  runtimeApi: string,
  logStreamName: string,
  initializationType: InitializationType = "on-demand",
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    ...config.environment,
    _HANDLER: config.handler,
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    LAMBDA_TASK_ROOT: config.taskRoot,
    LAMBDA_RUNTIME_DIR: "/var/runtime",
    AWS_REGION: config.region,
    AWS_DEFAULT_REGION: config.region,
    AWS_LAMBDA_FUNCTION_NAME: config.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: config.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memorySizeMB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: initializationType,
    AWS_LAMBDA_LOG_FORMAT: config.logFormat,
    AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR",
    AWS_XRAY_DAEMON_ADDRESS: "169.254.79.129:2000",
    _AWS_XRAY_DAEMON_ADDRESS: "169.254.79.129",
    _AWS_XRAY_DAEMON_PORT: "2000",
    ...SIMULATED_CREDENTIALS,
  };
  if (config.logFormat === "JSON" && env.AWS_LAMBDA_LOG_LEVEL === undefined)
    env.AWS_LAMBDA_LOG_LEVEL = "INFO";
  return env;
}
