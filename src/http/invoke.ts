/** Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), as the AWS SDK and CLI call it. */
import { Elysia } from "elysia";
import type { FunctionConfig } from "../core/config.ts";
import { ServiceError } from "../core/errors.ts";
import { resolveFunction } from "../core/function-name.ts";
import { newRequestId } from "../core/ids.ts";
import type { Invocation, InvocationRequest } from "../core/invocation.ts";
import { logTail } from "../core/log-tail.ts";
import { invocationTenant } from "../core/tenancy.ts";
import { readBody } from "./body.ts";
import { errorResponse, methodNotAllowed } from "./errors.ts";
import { H } from "./headers.ts";

/** Largest synchronous request payload (6 MB). */
const MAX_SYNC_REQUEST_BYTES = 6_291_456;
/** Largest asynchronous (`Event`) request payload (1 MB). */
const MAX_ASYNC_REQUEST_BYTES = 1_048_576;
const MAX_CLIENT_CONTEXT_BYTES = 3583;

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
  request: Request,
  functionName: string,
  types: readonly ("RequestResponse" | "Event" | "DryRun")[],
): Promise<InvokeCall> {
  const url = new URL(request.url);
  const resolved = resolveFunction(
    target.config,
    functionName,
    url.searchParams.get("Qualifier") ?? undefined,
  );
  const invocationType = oneOf(
    request.headers.get(H.invocationType),
    types,
    "RequestResponse",
    "invocationType",
  );
  const logType = oneOf(request.headers.get(H.logType), ["None", "Tail"] as const, "None", "logType");
  const clientContext = decodeClientContext(request.headers.get(H.amzClientContext));
  const tenantId = invocationTenant(
    target.config.tenantIsolation,
    request.headers.get(H.amzTenantId) ?? undefined,
  );
  const body = await readBody(request);
  const limit = invocationType === "Event" ? MAX_ASYNC_REQUEST_BYTES : MAX_SYNC_REQUEST_BYTES;
  if (body.byteLength > limit) {
    throw new ServiceError(
      413,
      "RequestTooLargeException",
      `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
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
export function dryRunResponse(executedVersion: string): Response {
  return new Response(null, {
    status: 204,
    headers: { [H.executedVersion]: executedVersion, [H.amznRequestId]: newRequestId() },
  });
}

async function invoke(target: InvokeTarget, request: Request, functionName: string): Promise<Response> {
  const call = await readInvokeCall(target, request, functionName, ["RequestResponse", "Event", "DryRun"]);
  const { invocationType, logType, executedVersion } = call;
  if (invocationType === "DryRun") return dryRunResponse(executedVersion);
  const invocation = target.submit(call.request);
  if (invocationType === "Event") {
    return new Response(null, { status: 202, headers: { [H.amznRequestId]: invocation.id } });
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
  return new Response(result.payload, { status: 200, headers });
}

/**
 * An Invoke API route at `path` (POST only), answering with `answer`; a thrown error gets the
 * service's error shape and, as every AWS response does, a request id (SDKs expose it as
 * `$metadata.requestId`).
 */
export function serviceRoute(
  name: string,
  path: string,
  answer: (request: Request, functionName: string) => Promise<Response>,
) {
  return new Elysia({ name })
    .post(
      path,
      async ({ request, params }) => {
        try {
          return await answer(request, (params as { functionName: string }).functionName);
        } catch (error) {
          const response = errorResponse(error);
          response.headers.set(H.amznRequestId, newRequestId());
          return response;
        }
      },
      { parse: "none" },
    )
    .all(path, methodNotAllowed);
}

/** Routes of the Invoke API. */
export function invokeApi(target: InvokeTarget) {
  return serviceRoute("invoke-api", "/2015-03-31/functions/:functionName/invocations", (request, name) =>
    invoke(target, request, name),
  );
}
