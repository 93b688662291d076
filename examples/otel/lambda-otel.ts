/**
 * What the OpenTelemetry extension (extension.ts) and the instrumented runtime (runtime.ts) both derive
 * from the Lambda environment: the resource describing the function, and the X-Ray trace header as
 * the parent of their spans.
 */
import { type Context, context, TraceFlags, trace } from "@opentelemetry/api";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";

/** The function's resource, from the environment Lambda sets; `extra` adds attributes. */
export function lambdaResource(
  source: "function" | "extension",
  extra: Record<string, string | number> = {},
): Resource {
  return resourceFromAttributes({
    "service.name": process.env.AWS_LAMBDA_FUNCTION_NAME ?? "function",
    "cloud.provider": "aws",
    "cloud.platform": "aws_lambda",
    "cloud.region": process.env.AWS_REGION ?? "",
    "faas.name": process.env.AWS_LAMBDA_FUNCTION_NAME ?? "",
    "faas.version": process.env.AWS_LAMBDA_FUNCTION_VERSION ?? "",
    ...extra,
    "process.pid": process.pid,
    "telemetry.source": source,
  });
}

/**
 * An X-Ray trace header (`Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;…`) as a remote parent, so spans
 * share the trace id of Lambda's segment; the active context when there is no valid header.
 */
export function xrayParentContext(traceHeader: string | null | undefined): Context {
  const fields = Object.fromEntries((traceHeader ?? "").split(";").map((part) => part.split("=")));
  const root = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/.exec(fields.Root ?? "");
  const parent = /^[0-9a-f]{16}$/.exec(fields.Parent ?? "");
  if (!root || !parent) return context.active();
  return trace.setSpanContext(context.active(), {
    traceId: `${root[1]}${root[2]}`,
    spanId: parent[0],
    // Sampled regardless of X-Ray's decision: the demo wants every span.
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}
