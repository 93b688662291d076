#!/usr/bin/env bun
// A custom runtime whose handler is instrumented with the OpenTelemetry JS SDK. Traces, metrics and
// logs go over OTLP/HTTP (JSON) to the OpenTelemetry extension's local receiver
// (http://localhost:$OTEL_RECEIVER_PORT, default 4318), and every provider is force-flushed before
// the response is posted: once the response is out, the environment may be frozen at any moment.
//
// A background ticker (setInterval, every 10 ms) counts ticks; each response reports the count and
// Date.now() around the handler, so a caller can see that timers do not fire while the environment
// is frozen. Payload: {"busyMs": N} makes the handler wait N ms (with the ticker running).
import { type Context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { lambdaResource, xrayParentContext } from "./lambda-otel.ts";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const receiver = `http://localhost:${process.env.OTEL_RECEIVER_PORT ?? "4318"}`;
const SCOPE = "otel-demo-function";

// Init: counted once per process. A warm invocation must see 1 here, a re-initialised one would not
// share this process at all (different pid, invocation count back to 1).
let initCount = 0;
initCount++;
let invocations = 0;

// The background work whose progress shows whether the process was running.
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);

const resource = lambdaResource("function", {
  "faas.instance": process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? "",
  "faas.max_memory": Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 0) * 1024 * 1024,
});
const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${receiver}/v1/traces` }))],
});
const meterProvider = new MeterProvider({
  resource,
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({
        url: `${receiver}/v1/metrics`,
        temporalityPreference: AggregationTemporalityPreference.DELTA,
      }),
      // Exports happen through forceFlush at the end of each invocation.
      exportIntervalMillis: 60_000,
    }),
  ],
});
const loggerProvider = new LoggerProvider({
  resource,
  processors: [
    new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${receiver}/v1/logs` }) }),
  ],
});
const tracer = tracerProvider.getTracer(SCOPE);
const invocationCounter = meterProvider
  .getMeter(SCOPE)
  .createCounter("invocations", { description: "Invocations handled by this process" });
const logger = loggerProvider.getLogger(SCOPE);

const flushAll = () =>
  Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush(), loggerProvider.forceFlush()]);

interface Invocation {
  requestId: string;
  functionArn: string;
  parent: Context;
}

async function handler(event: { busyMs?: number; fail?: boolean }, invocation: Invocation, span: Span) {
  const coldStart = invocations === 1;
  const attributes = { "faas.invocation_id": invocation.requestId, "faas.coldstart": coldStart };
  const ticksAtStart = ticks;
  const nowAtStart = Date.now();
  const spanContext = trace.setSpan(invocation.parent, span);
  const work = tracer.startSpan("work", { attributes }, spanContext);
  if (event.busyMs) await Bun.sleep(event.busyMs);
  work.end();
  if (event.fail) throw new TypeError("asked to fail");
  invocationCounter.add(1, attributes);
  logger.emit({
    severityNumber: SeverityNumber.INFO,
    severityText: "INFO",
    body: `handled ${invocation.requestId} (invocation ${invocations} of pid ${process.pid})`,
    attributes,
    context: spanContext,
  });
  console.log(`handled ${invocation.requestId}`);
  return {
    requestId: invocation.requestId,
    pid: process.pid,
    initCount,
    invocation: invocations,
    coldStart,
    ticksAtStart,
    nowAtStart,
    ticks,
    now: Date.now(),
  };
}

// A runtime gets SIGTERM at shutdown (extensions are registered); everything was flushed already.
process.on("SIGTERM", () => {
  clearInterval(ticker);
  process.exit(0);
});

console.log(`init: pid ${process.pid}, OTLP receiver ${receiver}`);
while (true) {
  const next = await fetch(`${api}/invocation/next`);
  const requestId = next.headers.get("Lambda-Runtime-Aws-Request-Id") ?? "";
  const invocation: Invocation = {
    requestId,
    functionArn: next.headers.get("Lambda-Runtime-Invoked-Function-Arn") ?? "",
    parent: xrayParentContext(next.headers.get("Lambda-Runtime-Trace-Id")),
  };
  invocations++;
  const span = tracer.startSpan(
    "handler",
    {
      kind: SpanKind.SERVER,
      attributes: {
        "faas.invocation_id": requestId,
        "faas.coldstart": invocations === 1,
        "cloud.resource_id": invocation.functionArn,
      },
    },
    invocation.parent,
  );
  let result: { ok: true; body: unknown } | { ok: false; error: Error };
  try {
    result = { ok: true, body: await handler((await next.json()) as object, invocation, span) };
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    result = { ok: false, error: err };
  }
  span.end();
  // Before the response: after it the environment may be frozen with the data still buffered.
  await flushAll();
  if (result.ok) {
    await fetch(`${api}/invocation/${requestId}/response`, {
      method: "POST",
      body: JSON.stringify(result.body),
    });
  } else {
    const { error } = result;
    await fetch(`${api}/invocation/${requestId}/error`, {
      method: "POST",
      headers: { "Lambda-Runtime-Function-Error-Type": `Runtime.${error.name}` },
      body: JSON.stringify({
        errorType: error.name,
        errorMessage: error.message,
        stackTrace: error.stack?.split("\n"),
      }),
    });
  }
}
