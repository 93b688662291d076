/**
 * Runtime API (`/2018-06-01`), served natively on the sandbox listener (sandbox-listener.ts): thin
 * routes over the execution environment. `/response` lives in runtime-response.ts.
 */
import { type FunctionConfig, functionArn } from "../core/config.ts";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import type { Invocation } from "../core/invocation.ts";
import { tryParseJson } from "./body.ts";
import { sendError } from "./bridge.ts";
import { METHOD_NOT_ALLOWED } from "./errors.ts";
import { H } from "./headers.ts";
import type { HttpRequest, HttpResponse } from "./http1.ts";
import { ACCEPTED, answerResponse, contentTypeOf, RUNTIME_BODY_LIMIT } from "./runtime-response.ts";
import type { SandboxRoute } from "./sandbox-listener.ts";

const PREFIX = "/2018-06-01/runtime";
const INVOCATION = `${PREFIX}/invocation/`;
const JSON_TYPE = { "Content-Type": "application/json" };

function nextAnswer(res: HttpResponse, invocation: Invocation, config: FunctionConfig): void {
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
  res.send(200, headers, invocation.request.payload);
}

/** The error type of a `/error` or `/init/error` post: the header, else the JSON body's `errorType`. */
function errorTypeOf(req: HttpRequest, body: Uint8Array): { errorType: string; message: string } {
  const parsed = tryParseJson(body) as { errorType?: unknown; errorMessage?: unknown } | undefined;
  const header = req.header(H.functionErrorType);
  const fromBody = typeof parsed?.errorType === "string" ? parsed.errorType : undefined;
  const message =
    typeof parsed?.errorMessage === "string" ? parsed.errorMessage : "Unknown application error occurred";
  return { errorType: header || fromBody || "Runtime.Unknown", message };
}

function methodNotAllowed(res: HttpResponse): true {
  res.send(405, { "Content-Type": "text/plain" }, METHOD_NOT_ALLOWED);
  return true;
}

function next(env: ExecutionEnvironment, config: FunctionConfig, res: HttpResponse): void {
  const abort = new AbortController();
  res.onAbort(() => abort.abort());
  env.next(abort.signal).then(
    (invocation) => nextAnswer(res, invocation, config),
    (error) => sendError(res, error),
  );
}

/** Reads a posted error, then hands it to `deliver` (which may throw Lambda's error for the runtime). */
function postedError(
  req: HttpRequest,
  res: HttpResponse,
  deliver: (body: Uint8Array, contentType: string, errorType: string, message: string) => void,
): void {
  req
    .body(RUNTIME_BODY_LIMIT)
    .then((body) => {
      const { errorType, message } = errorTypeOf(req, body);
      deliver(body, contentTypeOf(req, "application/json"), errorType, message);
      res.send(202, JSON_TYPE, ACCEPTED);
    })
    .catch((error) => sendError(res, error));
}

function decoded(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Routes of the Runtime API of the environment `env()` (resolved per request). */
export function runtimeRoutes(env: () => ExecutionEnvironment, config: FunctionConfig): SandboxRoute {
  return (req, res) => {
    const path = req.path;
    if (!path.startsWith("/2018-06-01/")) return false;
    const method = req.method;
    if (path === `${INVOCATION}next`) {
      // HEAD is refused explicitly: it would take an invocation for a request whose body is dropped.
      if (method !== "GET") return methodNotAllowed(res);
      next(env(), config, res);
      return true;
    }
    if (path.startsWith(INVOCATION)) {
      const rest = path.slice(INVOCATION.length);
      const slash = rest.indexOf("/");
      if (slash <= 0) return false;
      const action = rest.slice(slash + 1);
      if (action !== "response" && action !== "error") return false;
      if (method !== "POST") return methodNotAllowed(res);
      const id = decoded(rest.slice(0, slash));
      try {
        if (action === "response") {
          answerResponse(env(), id, req, res);
        } else {
          const environment = env();
          environment.assertAnswerable(id, "InvocationErrorResponse");
          postedError(req, res, (body, contentType, errorType) =>
            environment.fail(id, body, contentType, errorType),
          );
        }
      } catch (error) {
        sendError(res, error);
      }
      return true;
    }
    if (path === `${PREFIX}/init/error`) {
      if (method !== "POST") return methodNotAllowed(res);
      postedError(req, res, (body, contentType, errorType, message) =>
        env().initError(body, contentType, errorType, message),
      );
      return true;
    }
    if (path === "/2018-06-01/ping") {
      if (method !== "GET") return methodNotAllowed(res);
      res.send(200, { "Content-Type": "text/plain;charset=utf-8" }, "pong");
      return true;
    }
    return false;
  };
}
