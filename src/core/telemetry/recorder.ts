/**
 * Turns the simulator's state changes into Telemetry API events (reference 3.3-3.5), with the exact
 * record shapes of schema 2022-12-13, and tells the hub when the environment is frozen.
 */
import type { FunctionConfig } from "../config.ts";
import { functionArn } from "../config.ts";
import type { EnvironmentBus } from "../events.ts";
import type { Invocation } from "../invocation.ts";
import { billedDuration } from "../platform-log.ts";
import type { InitializationType, OutcomeStatus } from "../vocabulary.ts";
import type { TelemetryHub } from "./hub.ts";
import { rememberWrittenLine } from "./logs-api.ts";
import type { TelemetryEvent, TelemetryRecord, TelemetryType } from "./schemas.ts";

const iso = (epochMs: number) => new Date(epochMs).toISOString();
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

function event<T extends TelemetryType>(
  type: T,
  record: TelemetryRecord<T>,
  time = Date.now(),
): TelemetryEvent<T> {
  return { time: iso(time), type, record };
}

function tracing(invocation: Invocation) {
  return { type: "X-Amzn-Trace-Id" as const, value: invocation.traceId };
}

/** `tenantId` for the invocation records of a tenant-isolation function (none for the others). */
function tenant(invocation: Invocation): { tenantId?: string } {
  const { tenantId } = invocation.request;
  return tenantId === undefined ? {} : { tenantId };
}

function runtimeStatus(invocation: Invocation): OutcomeStatus {
  if (invocation.status === "timeout") return "timeout";
  const type = invocation.errorType;
  if (!type) return "success";
  return type.startsWith("Sandbox.") ? "failure" : "error";
}

/** Wires the bus to the hub; returns the unsubscribe function. */
export function recordTelemetry(
  bus: EnvironmentBus,
  hub: TelemetryHub,
  config: FunctionConfig,
  instanceId: string,
  isJsonLogs: () => boolean,
  initializationType: InitializationType = "on-demand",
): () => void {
  const started = new WeakSet<Invocation>();
  const runtimeDone = new WeakSet<Invocation>();
  const publish = (e: TelemetryEvent) => hub.publish(e);

  // The invocation with the runtime: a listener that appears mid-invocation still gets its start first.
  let dispatched: Invocation | undefined;

  const emitStart = (invocation: Invocation) => {
    if (started.has(invocation)) return;
    started.add(invocation);
    const sinceDispatch =
      invocation.dispatchedMono === undefined ? 0 : performance.now() - invocation.dispatchedMono;
    publish(
      event(
        "platform.start",
        {
          requestId: invocation.id,
          version: config.functionVersion,
          functionArn: functionArn(config, invocation.request.qualifier),
          ...tenant(invocation),
          tracing: tracing(invocation),
        },
        Date.now() - sinceDispatch,
      ),
    );
  };

  const emitRuntimeDone = (invocation: Invocation) => {
    if (runtimeDone.has(invocation)) return;
    runtimeDone.add(invocation);
    const start = invocation.dispatchedMono ?? invocation.startedMono ?? performance.now();
    const startEpoch = invocation.startedAt ?? Date.now();
    const responded = invocation.respondedMono;
    const end = invocation.runtimeDoneMono ?? performance.now();
    const status = runtimeStatus(invocation);
    const spans =
      responded === undefined
        ? undefined
        : [
            {
              name: "responseLatency",
              start: iso(startEpoch),
              durationMs: round3(Math.max(0, responded - start - (invocation.responseReadMs ?? 0))),
            },
            {
              name: "responseDuration",
              start: iso(startEpoch + (responded - start - (invocation.responseReadMs ?? 0))),
              durationMs: round3(invocation.responseReadMs ?? 0),
            },
            {
              name: "runtimeOverhead",
              start: iso(startEpoch + (responded - start)),
              durationMs: round3(Math.max(0, end - responded)),
            },
          ];
    publish(
      event("platform.runtimeDone", {
        requestId: invocation.id,
        ...tenant(invocation),
        status,
        ...(status !== "success" && invocation.errorType ? { errorType: invocation.errorType } : {}),
        metrics: {
          durationMs: round3(Math.max(0, end - start)),
          producedBytes: invocation.producedBytes ?? 0,
        },
        ...(spans ? { spans } : {}),
        tracing: tracing(invocation),
      }),
    );
  };

  const offs = [
    bus.on("initStart", ({ phase }) => {
      hub.beginInit();
      hub.setFrozen(false);
      publish(
        event("platform.initStart", {
          initializationType,
          phase,
          functionName: config.functionName,
          functionVersion: config.functionVersion,
          instanceId,
          instanceMaxMemory: config.memorySizeMB * 1024 * 1024,
        }),
      );
    }),
    bus.on("initEnd", ({ phase, status, errorType, durationMs, extensions }) => {
      const failed = status !== "success" && errorType ? { errorType } : {};
      publish(event("platform.initRuntimeDone", { initializationType, phase, status, ...failed }));
      for (const extension of extensions) {
        publish(
          event("platform.extension", {
            name: extension.name,
            state:
              extension.state === "InitError" || extension.state === "Exited" ? extension.state : "Ready",
            events: extension.events,
            ...(extension.errorType ? { errorType: extension.errorType } : {}),
          }),
        );
      }
      publish(
        event("platform.initReport", {
          initializationType,
          phase,
          status,
          ...failed,
          metrics: { durationMs: round3(durationMs) },
        }),
      );
      hub.endInit();
    }),
    // Events nobody would receive are not built (the invoke hot path stays lean without subscribers).
    bus.on("invocationDispatch", (invocation) => {
      dispatched = invocation;
      if (hub.wanted) emitStart(invocation);
    }),
    bus.on("runtimeDone", (invocation) => {
      if (!hub.wanted) return;
      emitStart(invocation);
      emitRuntimeDone(invocation);
    }),
    bus.on("invocationComplete", (invocation) => {
      if (dispatched === invocation) dispatched = undefined;
      if (!hub.wanted) return;
      emitStart(invocation);
      emitRuntimeDone(invocation);
      const status = invocation.status as OutcomeStatus;
      const durationMs = invocation.durationMs ?? 0;
      const extensionOverhead =
        invocation.extensionOverheadMs !== undefined && invocation.hadExtensions
          ? [
              {
                name: "extensionOverhead",
                start: iso(Date.now() - invocation.extensionOverheadMs),
                durationMs: round3(invocation.extensionOverheadMs),
              },
            ]
          : undefined;
      publish(
        event("platform.report", {
          requestId: invocation.id,
          ...tenant(invocation),
          status,
          ...(status !== "success" && invocation.errorType ? { errorType: invocation.errorType } : {}),
          metrics: {
            durationMs: round3(durationMs),
            billedDurationMs: billedDuration(durationMs, invocation.initDurationMs),
            memorySizeMB: config.memorySizeMB,
            maxMemoryUsedMB: invocation.maxMemoryUsedMB ?? config.memorySizeMB,
            ...(invocation.initDurationMs !== undefined
              ? { initDurationMs: round3(invocation.initDurationMs) }
              : {}),
          },
          ...(extensionOverhead ? { spans: extensionOverhead } : {}),
          tracing: tracing(invocation),
        }),
      );
    }),
    bus.on("telemetrySubscription", ({ name, types }) => {
      publish(event("platform.telemetrySubscription", { name, state: "Subscribed", types }));
    }),
    bus.on("log", ({ source, line }) => {
      if (source === "platform" || !hub.wanted) return;
      if (dispatched && !dispatched.isComplete) emitStart(dispatched);
      publish(rememberWrittenLine(event(source, logRecord(line, isJsonLogs())), line));
    }),
    bus.on("phase", ({ phase }) => {
      // Lambda freezes the environment between invokes: nothing is delivered until the next thaw.
      hub.setFrozen(phase === "Ready" || phase === "Uninitialized");
    }),
    bus.on("shutdownStart", () => {
      hub.setFrozen(false);
      hub.flushAll();
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/** A log line as a record: the text, or the parsed object for JSON log lines in JSON log format. */
function logRecord(line: string, json: boolean): string | Record<string, unknown> {
  if (json && line.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      // Not JSON after all: the line stays text.
    }
  }
  return line;
}
