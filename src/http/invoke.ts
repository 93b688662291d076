/**
 * Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), as the AWS SDK and CLI call
 * it. The operations read a ServiceRequest and give a ServiceAnswer, so they are served alike by
 * Elysia on the front listener (serviceRoute) and natively on a sandbox listener that shares the
 * port (invoke-routes.ts): the invoke is the hot path, and a bridge between the two costs.
 */
import { Elysia } from "elysia";
import type { FunctionConfig } from "../core/config.ts";
import { ServiceError } from "../core/errors.ts";
import { resolveFunction } from "../core/function-name.ts";
import { newRequestId } from "../core/ids.ts";
import type { Invocation, InvocationRequest } from "../core/invocation.ts";
import { logTail } from "../core/log-tail.ts";
import { invocationTenant } from "../core/tenancy.ts";
import { readBody } from "./body.ts";
import { errorAnswer, methodNotAllowed } from "./errors.ts";
import { H } from "./headers.ts";

/** Largest synchronous request payload (6 MB). */
const MAX_SYNC_REQUEST_BYTES = 6_291_456;
/** Largest asynchronous (`Event`) request payload (1 MB). */
const MAX_ASYNC_REQUEST_BYTES = 1_048_576;
const MAX_CLIENT_CONTEXT_BYTES = 3583;

/** An Invoke API request, whatever server received it. */
export interface ServiceRequest {
  readonly query: URLSearchParams;
  /** A request header (any casing), or null. */
  header(name: string): string | null;
  body(): Promise<Uint8Array>;
}

/** An answer before it is put on the wire; a stream body is sent as it comes. */
export interface ServiceAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | ReadableStream<Uint8Array> | null;
}

/** What the Invoke API needs from the simulator. */
export interface InvokeTarget {
  readonly config: FunctionConfig;
  submit(request: InvocationRequest): Invocation;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeClientContext(value: string | null): string | undefined {
  if (value === null || value === "") return undefined;
  if (value.length > MAX_CLIENT_CONTEXT_BYTES) {
    throw new ServiceError(
      400,
      "InvalidParameterValueException",
      `Client context must be at most ${MAX_CLIENT_CONTEXT_BYTES} bytes of base64`,
    );
  }
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new Error("not base64");
    const json = decoder.decode(Buffer.from(value, "base64"));
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return json;
  } catch {
    throw new ServiceError(
      400,
      "InvalidParameterValueException",
      "Client context must be a valid Base64-encoded JSON object.",
    );
  }
}

function assertJsonPayload(body: Uint8Array): void {
  if (body.byteLength === 0) return;
  try {
    JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new ServiceError(
      400,
      "InvalidRequestContentException",
      `Could not parse request body into json: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function oneOf<T extends string>(
  value: string | null,
  allowed: readonly T[],
  fallback: T,
  header: string,
): T {
  if (value === null || value === "") return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ServiceError(
    400,
    "InvalidParameterValueException",
    `1 validation error detected: Value '${value}' at '${header}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`,
  );
}

/** An Invoke API request, decoded and checked (6.1); DryRun and Event are answered by the caller. */
export interface InvokeCall {
  invocationType: "RequestResponse" | "Event" | "DryRun";
  logType: "None" | "Tail";
  executedVersion: string;
  request: InvocationRequest;
}

/** Decodes and checks an Invoke API request; `types` are the invocation types the operation takes. */
export async function readInvokeCall(
  target: InvokeTarget,
  request: ServiceRequest,
  functionName: string,
  types: readonly ("RequestResponse" | "Event" | "DryRun")[],
): Promise<InvokeCall> {
  const resolved = resolveFunction(target.config, functionName, request.query.get("Qualifier") ?? undefined);
  const invocationType = oneOf(request.header(H.invocationType), types, "RequestResponse", "invocationType");
  const logType = oneOf(request.header(H.logType), ["None", "Tail"] as const, "None", "logType");
  const clientContext = decodeClientContext(request.header(H.amzClientContext));
  const tenantId = invocationTenant(
    target.config.tenantIsolation,
    request.header(H.amzTenantId) ?? undefined,
  );
  const body = await request.body();
  const limit = invocationType === "Event" ? MAX_ASYNC_REQUEST_BYTES : MAX_SYNC_REQUEST_BYTES;
  if (body.byteLength > limit) {
    // The wire name is not the SDK model's shape name (RequestTooLargeException): real Lambda
    // answers RequestEntityTooLargeException, as botocore, the Java SDK and SDK v2 reports show.
    throw new ServiceError(
      413,
      "RequestEntityTooLargeException",
      invocationType === "Event"
        ? `${body.byteLength} byte payload is too large for the Event invocation type (limit ${limit} bytes)`
        : `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
    );
  }
  assertJsonPayload(body);
  return {
    invocationType,
    logType,
    executedVersion: target.config.functionVersion,
    request: {
      payload: body,
      tenantId,
      contentType: "application/json",
      // Lambda passes the client context to the function for synchronous invocations only.
      clientContext: invocationType === "RequestResponse" ? clientContext : undefined,
      qualifier: resolved.qualifier,
      invocationType: invocationType === "Event" ? "Event" : "RequestResponse",
    },
  };
}

/** The 204 of a DryRun: the request was valid. */
export function dryRunAnswer(executedVersion: string): ServiceAnswer {
  return {
    status: 204,
    headers: { [H.executedVersion]: executedVersion, [H.amznRequestId]: newRequestId() },
    body: null,
  };
}

/** `Invoke`: the function's answer, buffered. */
export async function invoke(
  target: InvokeTarget,
  request: ServiceRequest,
  functionName: string,
): Promise<ServiceAnswer> {
  const call = await readInvokeCall(target, request, functionName, ["RequestResponse", "Event", "DryRun"]);
  const { invocationType, logType, executedVersion } = call;
  if (invocationType === "DryRun") return dryRunAnswer(executedVersion);
  const invocation = target.submit(call.request);
  if (invocationType === "Event") {
    return { status: 202, headers: { [H.amznRequestId]: invocation.id }, body: null };
  }
  const result = await invocation.response;
  const headers: Record<string, string> = {
    "Content-Type": result.contentType,
    [H.executedVersion]: executedVersion,
    [H.amznRequestId]: invocation.id,
  };
  if (result.functionError) headers[H.functionError] = result.functionError;
  if (logType === "Tail") {
    await invocation.completion;
    headers[H.logResult] = logTail(invocation.logs);
  }
  return { status: 200, headers, body: result.payload };
}

/** The answer to a failed Invoke API call: the service's error shape and, as every AWS answer has, a request id. */
export function serviceErrorAnswer(error: unknown): ServiceAnswer {
  const answer = errorAnswer(error);
  return {
    status: answer.status,
    headers: { ...answer.headers, [H.amznRequestId]: newRequestId() },
    body: new TextEncoder().encode(answer.body),
  };
}

/** `request` as the operations read it. */
function fetchServiceRequest(request: Request): ServiceRequest {
  return {
    query: new URL(request.url).searchParams,
    header: (name) => request.headers.get(name),
    body: () => readBody(request),
  };
}

/** An Invoke API operation: it reads the request of function `functionName` and answers (or throws). */
export type ServiceOperation = (
  target: InvokeTarget,
  request: ServiceRequest,
  functionName: string,
) => Promise<ServiceAnswer>;

/** An Invoke API route at `path` (POST only) on Elysia; a thrown error gets serviceErrorAnswer. */
export function serviceRoute(name: string, path: string, target: InvokeTarget, operation: ServiceOperation) {
  return new Elysia({ name })
    .post(
      path,
      async ({ request, params }) => {
        let answer: ServiceAnswer;
        try {
          const functionName = (params as { functionName: string }).functionName;
          answer = await operation(target, fetchServiceRequest(request), functionName);
        } catch (error) {
          answer = serviceErrorAnswer(error);
        }
        return new Response(answer.body, { status: answer.status, headers: answer.headers });
      },
      { parse: "none" },
    )
    .all(path, methodNotAllowed);
}

/** The Invoke API's paths, with `:functionName`. */
export const INVOKE_PATH = "/2015-03-31/functions/:functionName/invocations";

/** Routes of the Invoke API. */
export function invokeApi(target: InvokeTarget) {
  return serviceRoute("invoke-api", INVOKE_PATH, target, invoke);
}
