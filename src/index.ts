/** lambda-simulator: the AWS Lambda execution environment as a library for `bun test`. */
export { Simulator, SimulatorBuilder, WaitTimeoutError } from "./simulator.ts";
export type { SimulatorOptions, SpawnRuntimeOptions, InvokeResponse } from "./simulator.ts";
export { InvocationBuilder, InvocationStatus } from "./core/invocation.ts";
export type { InvocationRequest, InvocationResult, InvocationType } from "./core/invocation.ts";
export type { InvocationState } from "./core/invocation-state.ts";
export type { FunctionConfig, LogFormat } from "./core/config.ts";
export type { EnvironmentPhase } from "./core/environment.ts";
export type { SimulatorEventMap, SimulatorEventName } from "./core/events.ts";
export { LambdaError, ServiceError, ConfigurationError } from "./core/errors.ts";
