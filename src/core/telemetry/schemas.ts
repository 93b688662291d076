/**
 * TypeBox schemas of the Telemetry API (reference 3): the subscription request and one schema per
 * event type (schema version 2022-12-13). Tests validate every emitted event against them.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";

const Iso = Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$" });
const Status = Type.Union([
  Type.Literal("success"),
  Type.Literal("error"),
  Type.Literal("failure"),
  Type.Literal("timeout"),
]);
const InitType = Type.Union([Type.Literal("on-demand"), Type.Literal("provisioned-concurrency")]);
const Phase = Type.Union([Type.Literal("init"), Type.Literal("invoke")]);
const Tracing = Type.Object(
  { spanId: Type.Optional(Type.String()), type: Type.Literal("X-Amzn-Trace-Id"), value: Type.String() },
  { additionalProperties: false },
);
const Span = Type.Object(
  { name: Type.String(), start: Iso, durationMs: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);
const strict = { additionalProperties: false } as const;
/** Present on invocation records of tenant-isolation functions only. */
const TenantId = Type.Optional(Type.String({ minLength: 1, maxLength: 256 }));
const Category = Type.Union([Type.Literal("platform"), Type.Literal("function"), Type.Literal("extension")]);

/** Record schemas by event type. */
export const RecordSchemas = {
  "platform.initStart": Type.Object(
    {
      initializationType: InitType,
      phase: Phase,
      functionName: Type.String(),
      functionVersion: Type.String(),
      instanceId: Type.Optional(Type.String()),
      instanceMaxMemory: Type.Optional(Type.Integer()),
      runtimeVersion: Type.Optional(Type.String()),
      runtimeVersionArn: Type.Optional(Type.String()),
      tracing: Type.Optional(Tracing),
    },
    strict,
  ),
  "platform.initRuntimeDone": Type.Object(
    {
      initializationType: InitType,
      phase: Phase,
      status: Status,
      errorType: Type.Optional(Type.String()),
      spans: Type.Optional(Type.Array(Span)),
      tracing: Type.Optional(Tracing),
    },
    strict,
  ),
  "platform.initReport": Type.Object(
    {
      initializationType: InitType,
      phase: Phase,
      status: Status,
      errorType: Type.Optional(Type.String()),
      metrics: Type.Object({ durationMs: Type.Number({ minimum: 0 }) }, strict),
      spans: Type.Optional(Type.Array(Span)),
      tracing: Type.Optional(Tracing),
    },
    strict,
  ),
  "platform.start": Type.Object(
    {
      requestId: Type.String(),
      version: Type.Optional(Type.String()),
      functionArn: Type.Optional(Type.String()),
      tenantId: TenantId,
      tracing: Type.Optional(Tracing),
    },
    strict,
  ),
  "platform.runtimeDone": Type.Object(
    {
      requestId: Type.String(),
      tenantId: TenantId,
      status: Status,
      errorType: Type.Optional(Type.String()),
      metrics: Type.Optional(
        Type.Object(
          {
            durationMs: Type.Number({ minimum: 0 }),
            producedBytes: Type.Optional(Type.Integer({ minimum: 0 })),
          },
          strict,
        ),
      ),
      spans: Type.Optional(Type.Array(Span)),
      tracing: Type.Optional(Tracing),
    },
    strict,
  ),
  "platform.report": Type.Object(
    {
      requestId: Type.String(),
      tenantId: TenantId,
      status: Status,
      errorType: Type.Optional(Type.String()),
      metrics: Type.Object(
        {
          durationMs: Type.Number({ minimum: 0 }),
          billedDurationMs: Type.Integer({ minimum: 0 }),
          memorySizeMB: Type.Integer({ minimum: 128 }),
          maxMemoryUsedMB: Type.Integer({ minimum: 0 }),
          initDurationMs: Type.Optional(Type.Number({ minimum: 0 })),
        },
        strict,
      ),
      spans: Type.Optional(Type.Array(Span)),
      tracing: Type.Optional(Tracing),
    },
    strict,
  ),
  "platform.extension": Type.Object(
    {
      name: Type.String(),
      state: Type.String(),
      events: Type.Array(Type.Union([Type.Literal("INVOKE"), Type.Literal("SHUTDOWN")])),
      errorType: Type.Optional(Type.String()),
    },
    strict,
  ),
  "platform.telemetrySubscription": Type.Object(
    {
      name: Type.String(),
      state: Type.Literal("Subscribed"),
      types: Type.Array(Category),
    },
    strict,
  ),
  "platform.logsDropped": Type.Object(
    {
      reason: Type.String(),
      droppedRecords: Type.Integer({ minimum: 0 }),
      droppedBytes: Type.Integer({ minimum: 0 }),
    },
    strict,
  ),
  function: Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]),
  extension: Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]),
} satisfies Record<string, TSchema>;

/** Every Telemetry API event type. */
export type TelemetryType = keyof typeof RecordSchemas;

/** The record of one event type. */
export type TelemetryRecord<T extends TelemetryType> = Static<(typeof RecordSchemas)[T]>;

/** One delivered element: `{time, type, record}`. */
export interface TelemetryEvent<T extends TelemetryType = TelemetryType> {
  time: string;
  type: T;
  record: TelemetryRecord<T>;
}

/** The category a subscriber selects in `types`. */
export type TelemetryCategory = "platform" | "function" | "extension";

/** Category of an event type. */
export function categoryOf(type: TelemetryType): TelemetryCategory {
  return type === "function" ? "function" : type === "extension" ? "extension" : "platform";
}

const Buffering = Type.Object({
  maxItems: Type.Optional(Type.Integer({ minimum: 1000, maximum: 10000 })),
  maxBytes: Type.Optional(Type.Integer({ minimum: 262144, maximum: 1048576 })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 25, maximum: 30000 })),
});
const Types = Type.Array(Category, {
  minItems: 1,
});
const Destination = Type.Union([
  Type.Object({ protocol: Type.Literal("HTTP"), URI: Type.String({ minLength: 1 }) }),
  Type.Object({
    protocol: Type.Literal("TCP"),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    URI: Type.Optional(Type.String()),
  }),
]);

/** `PUT /2022-07-01/telemetry` body. */
export const TelemetrySubscriptionRequest = Type.Object({
  schemaVersion: Type.Union([
    Type.Literal("2022-07-01"),
    Type.Literal("2022-12-13"),
    Type.Literal("2025-01-29"),
  ]),
  types: Types,
  buffering: Type.Optional(Buffering),
  destination: Destination,
});

/** `PUT /2020-08-15/logs` body. */
export const LogsSubscriptionRequest = Type.Object({
  schemaVersion: Type.Optional(Type.Union([Type.Literal("2020-08-15"), Type.Literal("2021-03-18")])),
  types: Types,
  buffering: Type.Optional(Buffering),
  destination: Destination,
});

/** A validated subscription request (either API). */
export type SubscriptionRequest =
  | Static<typeof TelemetrySubscriptionRequest>
  | Static<typeof LogsSubscriptionRequest>;
