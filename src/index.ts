/** lambda-simulator: the AWS Lambda execution environment as a library for `bun test`. */

export type { FunctionConfig, LogFormat } from "./core/config.ts";
export type { EnvironmentPhase } from "./core/environment/execution-environment.ts";
export { FreezeMode } from "./core/environment/freeze.ts";
export { ConfigurationError, LambdaError, ServiceError } from "./core/errors.ts";
export type { SimulatorEventMap, SimulatorEventName } from "./core/events.ts";
export type { ExtensionInfo, ShutdownReason } from "./core/extensions.ts";
export type { InvocationRequest, InvocationResult, InvocationType } from "./core/invocation.ts";
export { InvocationBuilder, InvocationStatus } from "./core/invocation.ts";
export type { InvocationState } from "./core/invocation-state.ts";
export type { TelemetryEvent, TelemetryRecord, TelemetryType } from "./core/telemetry/schemas.ts";
export type {
  AlbOptions,
  ApiGatewayV1Options,
  ApiGatewayV2Options,
  AwsEventOptions,
  CloudWatchLogsOptions,
  DynamoDbItem,
  DynamoDbOptions,
  DynamoDbValue,
  EventBridgeOptions,
  EventTypeName,
  ExampleOrderDetail,
  FunctionUrlOptions,
  HttpRequestOptions,
  JsonValue,
  KinesisOptions,
  S3Options,
  ScheduledOptions,
  SnsOptions,
  SqsAttributeValue,
  SqsOptions,
} from "./events/index.ts";
export { EventOptionError, events } from "./events/index.ts";
export type {
  InvokeResponse,
  InvokeStreamResponse,
  SimulatorOptions,
  SpawnRuntimeOptions,
} from "./simulator.ts";
export { Simulator, WaitTimeoutError } from "./simulator.ts";
export { SimulatorBuilder } from "./simulator-builder.ts";
export type { RecycleConfig, RecycleOptions } from "./simulator-options.ts";
export type { BuildResult } from "./watch/build-runner.ts";
export type {
  OnChangeMode,
  WatchEvent,
  Watcher,
  WatchOptions,
  WatchRecycleConfig,
  WatchTarget,
} from "./watch/watch.ts";
export { watch } from "./watch/watch.ts";
