#!/usr/bin/env bun
// An external extension that turns a Lambda execution environment into an OpenTelemetry pipeline:
//
// - a local OTLP/HTTP receiver (JSON) on 127.0.0.1:$OTEL_RECEIVER_PORT (default 4318) takes the
//   function's /v1/traces, /v1/metrics and /v1/logs;
// - a Telemetry API subscription (platform + function events, HTTP, 25 ms buffering) becomes spans
//   (platform.start + platform.runtimeDone, platform.report when it arrives) and log records, made
//   with the OpenTelemetry SDK;
// - everything goes to the upstream collector $OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP.
//
// Flushing: on INVOKE it waits for that request's platform.runtimeDone, flushes, and only then calls
// event/next, so the data is out before the environment is frozen. platform.report of an invocation
// is only created after that `next`, so it is flushed with the following invocation or at SHUTDOWN,
// after which the extension exits 0.
import { basename } from "node:path";
import { type Context, type Span, SpanKind, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { lambdaResource, xrayParentContext } from "./lambda-otel.ts";

const NAME = basename(import.meta.path);
const SCOPE = "otel-demo-extension";
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}`;
const receiverPort = Number(process.env.OTEL_RECEIVER_PORT ?? 4318);
const upstream = process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, "");

const log = (message: string) => console.log(`[${NAME}] ${message}`);

// --- OpenTelemetry SDK: the extension's own spans and log records --------------------------------

const resource = lambdaResource("extension");
const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: upstream
    ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${upstream}/v1/traces` }))]
    : [],
});
const loggerProvider = new LoggerProvider({
  resource,
  processors: upstream
    ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${upstream}/v1/logs` }) })]
    : [],
});
const tracer = tracerProvider.getTracer(SCOPE);
const logger = loggerProvider.getLogger(SCOPE);
if (!upstream) log("OTEL_EXPORTER_OTLP_ENDPOINT is not set: telemetry is received and dropped");

// --- OTLP/HTTP receiver for the function ---------------------------------------------------------

type Signal = "traces" | "metrics" | "logs";
/** Payloads received from the function, forwarded verbatim at the next flush. */
let received: { signal: Signal; body: string }[] = [];

Bun.serve({
  hostname: "127.0.0.1",
  port: receiverPort,
  async fetch(request) {
    const signal = /^\/v1\/(traces|metrics|logs)$/.exec(new URL(request.url).pathname)?.[1] as
      | Signal
      | undefined;
    if (request.method !== "POST" || !signal) return new Response("not found", { status: 404 });
    if (!(request.headers.get("content-type") ?? "").includes("application/json"))
      return new Response("only OTLP/HTTP JSON is accepted", { status: 415 });
    const body = await request.text();
    try {
      JSON.parse(body);
    } catch {
      return new Response("invalid JSON", { status: 400 });
    }
    received.push({ signal, body });
    return Response.json({});
  },
});

async function forward({ signal, body }: { signal: Signal; body: string }): Promise<void> {
  if (!upstream) return;
  try {
    const response = await fetch(`${upstream}/v1/${signal}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    await response.arrayBuffer();
    if (!response.ok) log(`upstream answered ${response.status} for /v1/${signal}`);
  } catch (error) {
    log(`forwarding /v1/${signal} failed: ${(error as Error).message}`);
  }
}

/** Sends everything buffered (forwarded payloads and the SDK's own batches) upstream. */
async function flush(): Promise<void> {
  const batch = received;
  received = [];
  await Promise.all([tracerProvider.forceFlush(), loggerProvider.forceFlush(), ...batch.map(forward)]);
}

// --- Telemetry API events → spans and log records ------------------------------------------------

interface TelemetryEvent {
  time: string;
  type: string;
  record: Record<string, unknown> | string;
}
interface PlatformSpan {
  name: string;
  start: string;
  durationMs: number;
}

/** X-Amzn-Trace-Id of each request (from INVOKE or platform.start), as the parent of its spans. */
const traceHeaders = new Map<string, string>();
/** platform.start time of each request not yet reported. */
const starts = new Map<string, Date>();
let initStart: Date | undefined;
/** The request whose function logs are arriving (platform.start … platform.runtimeDone). */
let currentRequest: string | undefined;
let invokeCount = 0;

const runtimeDone = new Set<string>();
const reported = new Set<string>();
const waiters = new Set<() => void>();
const notify = () => {
  for (const waiter of [...waiters]) waiter();
};

/** Resolves once `done()` holds or at `deadline` (epoch ms); true if it holds. */
function waitUntil(done: () => boolean, deadline: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      waiters.delete(check);
      resolve(done());
    };
    const check = () => {
      if (done()) finish();
    };
    const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
    waiters.add(check);
  });
}

/** The X-Ray parent context of a request (see traceHeaders). */
function parentContext(requestId: string | undefined): Context {
  return xrayParentContext(requestId ? traceHeaders.get(requestId) : undefined);
}

/** Children for the record's `spans` (responseLatency, responseDuration, extensionOverhead…). */
function childSpans(
  parent: Span,
  parentContext: Context,
  spans: unknown,
  attributes: Record<string, string>,
) {
  if (!Array.isArray(spans)) return;
  const ctx = trace.setSpan(parentContext, parent);
  for (const child of spans as PlatformSpan[]) {
    const start = new Date(child.start);
    const span = tracer.startSpan(child.name, { startTime: start, attributes }, ctx);
    span.end(new Date(start.getTime() + child.durationMs));
  }
}

function flatAttributes(prefix: string, value: unknown, into: Record<string, string | number | boolean>) {
  if (value === null || value === undefined) return;
  if (typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatAttributes(`${prefix}.${key}`, inner, into);
  } else if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    into[prefix] = value;
  }
}

function onTelemetry(event: TelemetryEvent): void {
  const time = new Date(event.time);
  if (event.type === "function") {
    const body = typeof event.record === "string" ? event.record.trimEnd() : JSON.stringify(event.record);
    logger.emit({
      timestamp: time,
      severityNumber: SeverityNumber.INFO,
      severityText: "INFO",
      body,
      attributes: currentRequest ? { "faas.invocation_id": currentRequest, "log.source": "function" } : {},
      context: parentContext(currentRequest),
    });
    return;
  }
  if (typeof event.record === "string") return;
  const record = event.record;
  const requestId = typeof record.requestId === "string" ? record.requestId : undefined;
  const tracing = record.tracing as { value?: string } | undefined;
  if (requestId && tracing?.value) traceHeaders.set(requestId, tracing.value);
  switch (event.type) {
    case "platform.initStart":
      initStart = time;
      break;
    case "platform.initReport": {
      const metrics = record.metrics as { durationMs?: number } | undefined;
      const durationMs = metrics?.durationMs ?? 0;
      const start = initStart ?? new Date(time.getTime() - durationMs);
      const attributes: Record<string, string | number> = {};
      flatAttributes("lambda.init", record, attributes);
      const span = tracer.startSpan("init", { kind: SpanKind.INTERNAL, startTime: start, attributes });
      span.end(new Date(start.getTime() + durationMs));
      break;
    }
    case "platform.start":
      if (!requestId) break;
      starts.set(requestId, time);
      currentRequest = requestId;
      break;
    case "platform.runtimeDone": {
      if (!requestId) break;
      invokeCount++;
      const start = starts.get(requestId) ?? time;
      const attributes: Record<string, string | number | boolean> = {
        "faas.invocation_id": requestId,
        "faas.coldstart": invokeCount === 1,
        "faas.trigger": "other",
      };
      flatAttributes("lambda.runtime", { status: record.status, errorType: record.errorType }, attributes);
      flatAttributes("lambda.runtime.metrics", record.metrics, attributes);
      const ctx = parentContext(requestId);
      const span = tracer.startSpan("invoke", { kind: SpanKind.SERVER, startTime: start, attributes }, ctx);
      childSpans(span, ctx, record.spans, { "faas.invocation_id": requestId });
      span.end(time);
      if (currentRequest === requestId) currentRequest = undefined;
      runtimeDone.add(requestId);
      break;
    }
    case "platform.report": {
      if (!requestId) break;
      const metrics = (record.metrics ?? {}) as { durationMs?: number };
      const start = starts.get(requestId) ?? new Date(time.getTime() - (metrics.durationMs ?? 0));
      starts.delete(requestId);
      const attributes: Record<string, string | number> = { "faas.invocation_id": requestId };
      flatAttributes("lambda.report", { status: record.status, metrics: record.metrics }, attributes);
      const ctx = parentContext(requestId);
      const span = tracer.startSpan("report", { startTime: start, attributes }, ctx);
      childSpans(span, ctx, record.spans, { "faas.invocation_id": requestId });
      span.end(new Date(start.getTime() + (metrics.durationMs ?? 0)));
      logger.emit({
        timestamp: time,
        severityNumber: SeverityNumber.INFO,
        severityText: "INFO",
        body: `REPORT RequestId: ${requestId} ${JSON.stringify(record.metrics)}`,
        attributes: { "faas.invocation_id": requestId, "log.source": "platform" },
        context: ctx,
      });
      traceHeaders.delete(requestId);
      reported.add(requestId);
      break;
    }
  }
}

const telemetryServer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const events = (await request.json()) as TelemetryEvent[];
    for (const event of events) onTelemetry(event);
    notify();
    return new Response("OK");
  },
});

// --- Extensions API -----------------------------------------------------------------------------

const registered = await fetch(`${api}/2020-01-01/extension/register`, {
  method: "POST",
  headers: { "Lambda-Extension-Name": NAME, "Content-Type": "application/json" },
  body: JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }),
});
if (!registered.ok) {
  log(`register failed: ${registered.status} ${await registered.text()}`);
  process.exit(1);
}
const id = registered.headers.get("Lambda-Extension-Identifier") as string;

const subscribed = await fetch(`${api}/2022-07-01/telemetry`, {
  method: "PUT",
  headers: { "Lambda-Extension-Identifier": id, "Content-Type": "application/json" },
  body: JSON.stringify({
    schemaVersion: "2022-12-13",
    types: ["platform", "function"],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    destination: { protocol: "HTTP", URI: `http://sandbox.localdomain:${telemetryServer.port}/telemetry` },
  }),
});
if (subscribed.status !== 200) {
  // 202 Telemetry.NotSupported comes only from local emulators; carry on without platform spans.
  log(`telemetry subscription answered ${subscribed.status}: ${await subscribed.text()}`);
}

type ExtensionEvent =
  | { eventType: "INVOKE"; requestId: string; deadlineMs: number; tracing?: { value?: string } }
  | { eventType: "SHUTDOWN"; shutdownReason: string; deadlineMs: number };

let lastRequest: string | undefined;
while (true) {
  const response = await fetch(`${api}/2020-01-01/extension/event/next`, {
    headers: { "Lambda-Extension-Identifier": id },
  });
  if (!response.ok) {
    log(`event/next failed: ${response.status} ${await response.text()}`);
    process.exit(1);
  }
  const event = (await response.json()) as ExtensionEvent;
  if (event.eventType === "INVOKE") {
    if (event.tracing?.value && !traceHeaders.has(event.requestId))
      traceHeaders.set(event.requestId, event.tracing.value);
    lastRequest = event.requestId;
    // Keep a margin before the deadline for the flush itself.
    const { requestId } = event;
    await waitUntil(() => runtimeDone.has(requestId), event.deadlineMs - 500);
    await flush();
    continue;
  }
  // SHUTDOWN: the last invocation's platform.report arrives now (the environment was frozen before).
  const last = lastRequest;
  if (last) await waitUntil(() => reported.has(last), Math.min(event.deadlineMs - 700, Date.now() + 1000));
  await flush();
  await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown()]);
  log(`SHUTDOWN (${event.shutdownReason}): flushed, exiting`);
  process.exit(0);
}
