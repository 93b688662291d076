/** Runtime API (`/2018-06-01`): thin routes over the execution environment. */
import { Elysia } from "elysia";
import { type FunctionConfig, functionArn } from "../core/config.ts";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { LambdaError } from "../core/errors.ts";
import type { Invocation } from "../core/invocation.ts";
import { readBody, tryParseJson } from "./body.ts";
import { errorResponse, methodNotAllowed } from "./errors.ts";
import { H } from "./headers.ts";

const ACCEPTED = JSON.stringify({ status: "OK" });
const PREFIX = "/2018-06-01/runtime";

function accepted(): Response {
  return new Response(ACCEPTED, { status: 202, headers: { "Content-Type": "application/json" } });
}

function nextResponse(invocation: Invocation, config: FunctionConfig): Response {
  const headers: Record<string, string> = {
    "Content-Type": invocation.request.contentType,
    [H.requestId]: invocation.id,
    [H.deadline]: String(invocation.deadlineMs),
    [H.functionArn]: functionArn(config, invocation.request.qualifier),
    [H.traceId]: invocation.traceId,
  };
  if (invocation.request.clientContext !== undefined)
    headers[H.clientContext] = invocation.request.clientContext;
  if (invocation.request.cognitoIdentity !== undefined)
    headers[H.cognitoIdentity] = invocation.request.cognitoIdentity;
  if (invocation.request.tenantId !== undefined) headers[H.tenantId] = invocation.request.tenantId;
  return new Response(invocation.request.payload, { status: 200, headers });
}

/** The error type of a `/error` or `/init/error` post: the header, else the JSON body's `errorType`. */
function errorTypeOf(request: Request, body: Uint8Array): { errorType: string; message: string } {
  const parsed = tryParseJson(body) as { errorType?: unknown; errorMessage?: unknown } | undefined;
  const header = request.headers.get(H.functionErrorType);
  const fromBody = typeof parsed?.errorType === "string" ? parsed.errorType : undefined;
  const message =
    typeof parsed?.errorMessage === "string" ? parsed.errorMessage : "Unknown application error occurred";
  return { errorType: header || fromBody || "Runtime.Unknown", message };
}

function contentTypeOf(request: Request, fallback: string): string {
  return request.headers.get("content-type") || fallback;
}

/** Routes of the Runtime API of the environment `env()` (resolved per request). */
export function runtimeApi(env: () => ExecutionEnvironment, config: FunctionConfig) {
  // HEAD /next is refused explicitly: Bun would run the GET handler and hand an invocation to a
  // request whose body is dropped.
  return new Elysia({ name: "runtime-api" })
    .head(`${PREFIX}/invocation/next`, methodNotAllowed)
    .get(`${PREFIX}/invocation/next`, async ({ request }) => {
      try {
        return nextResponse(await env().next(request.signal), config);
      } catch (error) {
        return errorResponse(error);
      }
    })
    .all(`${PREFIX}/invocation/next`, methodNotAllowed)
    .post(
      `${PREFIX}/invocation/:id/response`,
      async ({ request, params }) => {
        try {
          if (request.headers.has(H.responseMode) && request.headers.get(H.responseMode) !== "streaming") {
            throw new LambdaError(400, "InvalidFunctionResponseMode", "Invalid function response mode");
          }
          env().assertAnswerable(params.id, "InvocationResponse");
          const readStarted = performance.now();
          const body = await readBody(request);
          env().respond(
            params.id,
            body,
            contentTypeOf(request, "application/json"),
            performance.now() - readStarted,
          );
          return accepted();
        } catch (error) {
          return errorResponse(error);
        }
      },
      { parse: "none" },
    )
    .all(`${PREFIX}/invocation/:id/response`, methodNotAllowed)
    .post(
      `${PREFIX}/invocation/:id/error`,
      async ({ request, params }) => {
        try {
          env().assertAnswerable(params.id, "InvocationErrorResponse");
          const body = await readBody(request);
          const { errorType } = errorTypeOf(request, body);
          env().fail(params.id, body, contentTypeOf(request, "application/json"), errorType);
          return accepted();
        } catch (error) {
          return errorResponse(error);
        }
      },
      { parse: "none" },
    )
    .all(`${PREFIX}/invocation/:id/error`, methodNotAllowed)
    .post(
      `${PREFIX}/init/error`,
      async ({ request }) => {
        try {
          const body = await readBody(request);
          const { errorType, message } = errorTypeOf(request, body);
          env().initError(body, contentTypeOf(request, "application/json"), errorType, message);
          return accepted();
        } catch (error) {
          return errorResponse(error);
        }
      },
      { parse: "none" },
    )
    .all(`${PREFIX}/init/error`, methodNotAllowed)
    .get("/2018-06-01/ping", () => new Response("pong"))
    .all("/2018-06-01/ping", methodNotAllowed);
}
