/**
 * A tiny OTLP/HTTP collector (JSON encoding) for the demo and its test: it decodes what it receives
 * and keeps every span, metric data point and log record, with its resource and attributes.
 */

/** An OTLP AnyValue, as the JSON encoding writes it. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
type Attributes = Record<string, unknown>;

/** One received item: a span, a metric data point or a log record. */
export interface ReceivedItem {
  /** Span name, metric name, or log body. */
  name: string;
  scope: string;
  resource: Attributes;
  attributes: Attributes;
}

function value(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Attributes {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/** What the collector received so far. */
export interface Received {
  spans: ReceivedItem[];
  dataPoints: ReceivedItem[];
  logRecords: ReceivedItem[];
  /** Number of OTLP requests per path. */
  requests: Record<string, number>;
}

/** A running collector. */
export interface Collector {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly received: Received;
  stop(): Promise<void>;
}

/** One element of resourceSpans / resourceMetrics / resourceLogs. */
interface ResourceEntry {
  resource?: { attributes?: KeyValue[] };
  [key: string]: unknown;
}

/** Walks resource → scope → items of one OTLP export request. */
function walk(
  resources: ResourceEntry[] | undefined,
  scopesKey: string,
  each: (scope: { scope?: { name?: string }; [key: string]: unknown }, resource: Attributes) => void,
): void {
  for (const entry of resources ?? []) {
    const resource = attributes(entry.resource?.attributes);
    for (const scope of (entry[scopesKey] as { scope?: { name?: string } }[] | undefined) ?? [])
      each(scope, resource);
  }
}

const METRIC_KINDS = ["sum", "gauge", "histogram", "exponentialHistogram", "summary"] as const;

/** Starts a collector on 127.0.0.1 (a free port unless given). */
export function startCollector(port = 0): Collector {
  const received: Received = { spans: [], dataPoints: [], logRecords: [], requests: {} };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (request.method !== "POST" || !["/v1/traces", "/v1/metrics", "/v1/logs"].includes(path))
        return new Response("not found", { status: 404 });
      let body: Record<string, ResourceEntry[] | undefined>;
      try {
        body = (await request.json()) as typeof body;
      } catch {
        return new Response("only OTLP/HTTP JSON is accepted", { status: 400 });
      }
      received.requests[path] = (received.requests[path] ?? 0) + 1;
      if (path === "/v1/traces") {
        walk(body.resourceSpans, "scopeSpans", (scope, resource) => {
          for (const span of (scope.spans as { name: string; attributes?: KeyValue[] }[] | undefined) ?? [])
            received.spans.push({
              name: span.name,
              scope: scope.scope?.name ?? "",
              resource,
              attributes: attributes(span.attributes),
            });
        });
      } else if (path === "/v1/metrics") {
        walk(body.resourceMetrics, "scopeMetrics", (scope, resource) => {
          for (const metric of (scope.metrics as Record<string, unknown>[] | undefined) ?? []) {
            for (const kind of METRIC_KINDS) {
              const data = metric[kind] as { dataPoints?: { attributes?: KeyValue[] }[] } | undefined;
              for (const point of data?.dataPoints ?? [])
                received.dataPoints.push({
                  name: String(metric.name),
                  scope: scope.scope?.name ?? "",
                  resource,
                  attributes: attributes(point.attributes),
                });
            }
          }
        });
      } else {
        walk(body.resourceLogs, "scopeLogs", (scope, resource) => {
          for (const record of (scope.logRecords as
            | { body?: AnyValue; attributes?: KeyValue[] }[]
            | undefined) ?? [])
            received.logRecords.push({
              name: String(value(record.body) ?? ""),
              scope: scope.scope?.name ?? "",
              resource,
              attributes: attributes(record.attributes),
            });
        });
      }
      return Response.json({});
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    stop: () => server.stop(true),
  };
}

/** Items whose `faas.invocation_id` attribute is `requestId`. */
export function forRequest(items: ReceivedItem[], requestId: string): ReceivedItem[] {
  return items.filter((item) => item.attributes["faas.invocation_id"] === requestId);
}

/** A free TCP port on 127.0.0.1 right now (for the extension's OTLP receiver). */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}
