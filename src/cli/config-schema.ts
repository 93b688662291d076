/**
 * The schema of `lambda-sim.json`: every option of `serve`, `run` and `watch`, spelled as on the
 * command line (`"function-name"`, `"max-concurrency"`), plus `bootstrap`, the command after `--`.
 * lambda-sim.schema.json at the top of the repository is generated from it (scripts/config-schema.ts).
 */
import { type TSchema, Type } from "@sinclair/typebox";

const port = (description: string) => Type.Integer({ minimum: 0, maximum: 65535, description });
const oneOf = (values: readonly string[], description: string) =>
  Type.Union(
    values.map((value) => Type.Literal(value)),
    { description },
  );

/** Each key of the config file and its schema. */
export const CONFIG_PROPERTIES = {
  $schema: Type.String({ description: "The JSON schema of this file, for editors" }),
  host: Type.String({ description: "Address to listen on (default 127.0.0.1)" }),
  port: port("Port for every API (default 9001; 0 picks a free one)"),
  "function-name": Type.String({ description: "Function name (default function)" }),
  "function-version": Type.String({ description: "Function version (default $LATEST)" }),
  handler: Type.String({ description: "Handler, passed as _HANDLER (default index.handler)" }),
  memory: Type.Integer({ minimum: 128, maximum: 10240, description: "Memory size in MB (default 128)" }),
  timeout: Type.Number({ exclusiveMinimum: 0, maximum: 900, description: "Function timeout in seconds" }),
  "init-timeout": Type.Number({
    exclusiveMinimum: 0,
    maximum: 900,
    description: "Init phase limit in seconds",
  }),
  region: Type.String({ description: "AWS region (default us-east-1)" }),
  "account-id": Type.String({ description: "AWS account id (default 123456789012)" }),
  env: Type.Record(Type.String(), Type.String(), {
    description: "Function environment variables, KEY: VALUE (--env KEY=VALUE overrides one)",
  }),
  "env-file": Type.String({ description: "File of KEY=VALUE lines for the function's environment" }),
  "log-format": oneOf(["Text", "JSON"], "Log format (default Text)"),
  "task-root": Type.String({ description: "Function code directory (LAMBDA_TASK_ROOT, runtime cwd)" }),
  extension: Type.Array(Type.String(), { description: "External extension executables" }),
  "extensions-dir": Type.String({ description: "Start every executable in DIR as an extension" }),
  "shutdown-timeout": Type.Integer({ minimum: 0, description: "Shutdown phase budget in ms (debugging)" }),
  "telemetry-file": Type.String({ description: "Append every telemetry event to FILE as JSON lines" }),
  "telemetry-capture-mb": Type.Number({
    exclusiveMinimum: 0,
    maximum: 65536,
    description: "Keep at most MB of telemetry (as JSON) in memory for the control API (default 4)",
  }),
  freeze: Type.Boolean({ description: "Freeze (SIGSTOP) every process between invocations" }),
  "max-concurrency": Type.Integer({ minimum: 0, maximum: 1000, description: "Up to N environments at once" }),
  throttle: Type.Boolean({ description: "Answer 429 when every environment is busy instead of queueing" }),
  provisioned: Type.Integer({
    minimum: 0,
    maximum: 1000,
    description: "N environments initialised at start",
  }),
  "idle-timeout": Type.Number({
    exclusiveMinimum: 0,
    description: "Shut an idle environment down after SECONDS",
  }),
  "tenant-isolation": Type.Boolean({ description: "Tenant isolation mode (every invoke needs a tenant id)" }),
  "async-retries": Type.Integer({
    minimum: 0,
    maximum: 2,
    description: "Retries of a failed Event invocation",
  }),
  "async-retry-delays": Type.Array(Type.Integer({ minimum: 0 }), {
    description: "Delays before those retries in ms",
  }),
  http: port("Serve a function URL on PORT (0 picks a free one)"),
  "http-invoke-mode": oneOf(["BUFFERED", "RESPONSE_STREAM"], "How the function URL answers"),
  "stream-bandwidth-limit": Type.Boolean({
    description: "Cap streamed responses as Lambda does (default true)",
  }),
  event: Type.Array(Type.String(), { description: "run: events (file, inline JSON, - or @TYPE)" }),
  "tenant-id": Type.String({ description: "run: tenant of every invocation" }),
  watch: Type.Array(Type.String(), { description: "watch: files and directories to watch" }),
  build: Type.String({ description: "watch: command run with sh -c before each reload" }),
  debounce: Type.Integer({
    minimum: 0,
    description: "watch: quiet period after a change in ms (default 50)",
  }),
  ignore: Type.Array(Type.String(), { description: "watch: globs of paths whose changes are ignored" }),
  "on-change": oneOf(["wait", "cancel"], "watch: let an in-flight invocation finish, or cancel it"),
  bootstrap: Type.Array(Type.String(), {
    minItems: 1,
    description: "The runtime command and its arguments (what follows -- on the command line)",
  }),
} satisfies Record<string, TSchema>;

/** The whole file: every key optional, no other key allowed. */
export const ConfigFileSchema = Type.Partial(
  Type.Object(CONFIG_PROPERTIES, { additionalProperties: false }),
  {
    title: "lambda-sim configuration",
    description:
      "Options of lambda-sim serve, run and watch, named as on the command line; flags override them.",
    additionalProperties: false,
  },
);

/** A key of the config file. */
export type ConfigKey = keyof typeof CONFIG_PROPERTIES;

/** The JSON schema document of the config file, as lambda-sim.schema.json holds it. */
export function configJsonSchema(): object {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    ...JSON.parse(JSON.stringify(ConfigFileSchema)),
  };
}
