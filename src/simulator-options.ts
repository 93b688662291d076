/** The options of `Simulator.start`, apart from the simulator, so the builder and the CLI need not import it. */
import type { ConsolaInstance } from "consola/core";
import type { AsyncRetryPolicy } from "./core/async-retries.ts";
import type { FunctionConfig } from "./core/config.ts";
import type { FreezeMode } from "./core/environment/freeze.ts";
import type { FunctionUrlInvokeMode } from "./core/function-url.ts";

/** Options of `Simulator.start`: the function configuration plus where to listen and what to print. */
export interface SimulatorOptions extends Partial<FunctionConfig> {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Port; 0 (the library default) picks a free one. */
  port?: number;
  /** Echo runtime output and platform lines (START/END/REPORT) through consola (default false). */
  echoLogs?: boolean;
  /** The consola instance to echo with. */
  logger?: ConsolaInstance;
  /** Replaces Lambda's shutdown budget (0/500/2,000 ms), in ms: a debugging aid. */
  shutdownTimeoutMs?: number;
  /** Appends every telemetry event to this file as JSON lines. */
  telemetryFile?: string;
  /** Capture telemetry in memory from the start (see enableTelemetryCapture). */
  captureTelemetry?: boolean;
  /** Bound of the in-memory capture, in bytes of JSON (default 4 MiB, ~12k events); the oldest events go first. */
  telemetryCaptureLimitBytes?: number;
  /** How far a subscriber may fall behind before events are dropped, in bytes (default 16 × its maxBytes). */
  telemetryQueueLimitBytes?: number;
  /** `FreezeMode.Process` stops every process between invocations, as Lambda freezes the environment. */
  freezeMode?: FreezeMode;
  /** Retries of failed `Event` invocations (default: Lambda's 2 retries after 60 s and 120 s). */
  asyncRetry?: Partial<AsyncRetryPolicy>;
  /**
   * At most this many execution environments at once (default 1, or `provisionedConcurrency` when
   * larger). Above 1, each environment has its own Runtime API port and needs `spawnRuntime`.
   */
  maxConcurrency?: number;
  /** Refuse a synchronous invoke with 429 when every environment is busy, instead of queueing it. */
  throttle?: boolean;
  /** Environments initialised at start as `provisioned-concurrency` (default 0). */
  provisionedConcurrency?: number;
  /** Shut an on-demand environment down after this many idle seconds (`spindown`); default: never. */
  idleTimeoutSeconds?: number;
  /**
   * Tenant isolation mode (`TenancyConfig` `PER_TENANT`): every invoke names a tenant
   * (`X-Amz-Tenant-Id`, `InvocationBuilder.tenantId`), and an environment serves one tenant only.
   */
  tenantIsolation?: boolean;
  /**
   * Cap streamed responses as Lambda does: the first 6 MB uncapped, then 2 MB/s (default true);
   * false lets tests stream large bodies at full speed.
   */
  streamBandwidthLimit?: boolean;
  /**
   * Serve a function URL (auth type NONE) on this port of `host`: every HTTP request invokes the
   * function with a payload-format-2.0 event (0 picks a free port; `functionUrl()` tells which).
   */
  httpPort?: number;
  /** How the function URL answers: `BUFFERED` (default) or `RESPONSE_STREAM` (bytes as they come). */
  httpInvokeMode?: FunctionUrlInvokeMode;
}

/** What a new deployment may change (`Simulator.recycle`). */
export type RecycleConfig = Partial<
  Pick<
    FunctionConfig,
    | "environment"
    | "handler"
    | "memorySizeMB"
    | "timeoutSeconds"
    | "initTimeoutSeconds"
    | "logFormat"
    | "taskRoot"
  >
>;

/** Options of `Simulator.recycle`. */
export interface RecycleOptions {
  /** Why (shown in the recycle events), e.g. "change". */
  reason?: string;
  /** Let in-flight invocations run to their end (default); false cancels them (Sandbox.Failure). */
  wait?: boolean;
  /** Function settings the new environments get. */
  config?: RecycleConfig;
}
