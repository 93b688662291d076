/**
 * `POST /runtime/invocation/{id}/response` (reference 1.3, 1.4): a buffered body, or a streamed one
 * (`Lambda-Runtime-Function-Response-Mode: streaming`) whose bytes are passed on as they arrive
 * and whose mid-stream error comes in the request trailers.
 */
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { LambdaError } from "../core/errors.ts";
import type { Invocation } from "../core/invocation.ts";
import { errorDetails, type ResponseStream, type StreamError } from "../core/response-stream.ts";
import { tryParseJson } from "./body.ts";
import { sendError } from "./bridge.ts";
import { H } from "./headers.ts";
import { BodyCutError, type HttpRequest, type HttpResponse } from "./http1.ts";

/** `{"status":"OK"}`, the body of every 202 to the runtime. */
export const ACCEPTED = JSON.stringify({ status: "OK" });
/** Largest body read from the runtime (the size rules of core apply below it). */
export const RUNTIME_BODY_LIMIT = 256 * 1024 * 1024;

const JSON_TYPE = { "Content-Type": "application/json" };
const ERROR_TYPE_TRAILER = H.functionErrorType.toLowerCase();
const ERROR_BODY_TRAILER = "lambda-runtime-function-error-body";

/** The request's content type, or `fallback`. */
export function contentTypeOf(req: HttpRequest, fallback: string): string {
  return req.header("content-type") || fallback;
}

/** The error a streaming runtime put in its trailers (type, and a base64 JSON body), if any. */
function trailerError(trailers: ReadonlyMap<string, string>): StreamError | undefined {
  const type = trailers.get(ERROR_TYPE_TRAILER);
  const body = trailers.get(ERROR_BODY_TRAILER);
  if (!type && !body) return undefined;
  const details = body ? Buffer.from(body, "base64").toString("utf8") : undefined;
  const parsed = details
    ? (tryParseJson(Buffer.from(details)) as { errorType?: unknown } | undefined)
    : undefined;
  const errorType = type || (typeof parsed?.errorType === "string" ? parsed.errorType : "Runtime.Unknown");
  return { errorType, details: details ?? errorDetails(errorType, "The function's stream ended in error") };
}

function streamBody(
  env: ExecutionEnvironment,
  invocation: Invocation,
  stream: ResponseStream,
  req: HttpRequest,
  res: HttpResponse,
): void {
  req.pipeBody({
    write: (chunk) => stream.write(chunk),
    end: (trailers) => {
      const end = stream.end(trailerError(trailers));
      if (end.error?.errorType === "Function.ResponseSizeTooLarge") {
        sendError(
          res,
          new LambdaError(413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size"),
        );
      } else {
        res.send(202, JSON_TYPE, ACCEPTED);
      }
    },
    cut: () => env.responseCut(invocation),
  });
}

/** Answers a `/response` post for invocation `id`; errors are written to `res`. */
export function answerResponse(
  env: ExecutionEnvironment,
  id: string,
  req: HttpRequest,
  res: HttpResponse,
): void {
  const mode = req.header(H.responseMode);
  if (mode !== undefined && mode !== "streaming") env.refuseResponseMode(id);
  const invocation = env.assertAnswerable(id, "InvocationResponse");
  if (mode === "streaming") {
    streamBody(
      env,
      invocation,
      env.respondStreaming(id, contentTypeOf(req, "application/octet-stream")),
      req,
      res,
    );
    return;
  }
  const readStarted = performance.now();
  req
    .body(RUNTIME_BODY_LIMIT)
    .then((body) => {
      env.respond(id, body, contentTypeOf(req, "application/json"), performance.now() - readStarted);
      res.send(202, JSON_TYPE, ACCEPTED);
    })
    .catch((error) => {
      if (error instanceof BodyCutError) env.responseCut(invocation);
      sendError(res, error);
    });
}
