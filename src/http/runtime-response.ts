/**
 * `POST /runtime/invocation/{id}/response` (reference 1.3, 1.4): a buffered body, or a streamed one
 * (`Lambda-Runtime-Function-Response-Mode: streaming`) whose bytes are passed on as they arrive
 * and whose mid-stream error comes in the request trailers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { LambdaError } from "../core/errors.ts";
import type { Invocation } from "../core/invocation.ts";
import { errorDetails, type ResponseStream, type StreamError } from "../core/response-stream.ts";
import { tryParseJson } from "./body.ts";
import { H } from "./headers.ts";
import { BodyCutError, readNodeBody, sendNode, sendNodeError } from "./node-bridge.ts";

/** `{"status":"OK"}`, the body of every 202 to the runtime. */
export const ACCEPTED = JSON.stringify({ status: "OK" });
/** Largest body read from the runtime (the size rules of core apply below it). */
export const RUNTIME_BODY_LIMIT = 256 * 1024 * 1024;

const JSON_TYPE = { "Content-Type": "application/json" };
const ERROR_TYPE_TRAILER = H.functionErrorType.toLowerCase();
const ERROR_BODY_TRAILER = "lambda-runtime-function-error-body";

/** The request's content type, or `fallback`. */
export function contentTypeOf(req: IncomingMessage, fallback: string): string {
  const value = req.headers["content-type"];
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** The error a streaming runtime put in its trailers (type, and a base64 JSON body), if any. */
function trailerError(trailers: NodeJS.Dict<string>): StreamError | undefined {
  const type = trailers[ERROR_TYPE_TRAILER];
  const body = trailers[ERROR_BODY_TRAILER];
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
  req: IncomingMessage,
  res: ServerResponse,
): void {
  let ended = false;
  req.on("data", (chunk: Buffer) => {
    const wait = stream.write(chunk);
    if (!wait) return;
    req.pause();
    void wait.then(() => req.resume());
  });
  req.on("end", () => {
    ended = true;
    const end = stream.end(trailerError(req.trailers));
    if (end.error?.errorType === "Function.ResponseSizeTooLarge") {
      sendNodeError(
        res,
        new LambdaError(413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size"),
      );
    } else {
      sendNode(res, 202, JSON_TYPE, ACCEPTED);
    }
  });
  req.on("close", () => {
    if (!ended) env.responseCut(invocation);
  });
}

/** Answers a `/response` post for invocation `id`; errors are written to `res`. */
export function answerResponse(
  env: ExecutionEnvironment,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const mode = req.headers[H.responseMode.toLowerCase()];
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
  readNodeBody(req, RUNTIME_BODY_LIMIT)
    .then((body) => {
      env.respond(id, body, contentTypeOf(req, "application/json"), performance.now() - readStarted);
      sendNode(res, 202, JSON_TYPE, ACCEPTED);
    })
    .catch((error) => {
      if (error instanceof BodyCutError) env.responseCut(invocation);
      sendNodeError(res, error);
    });
}
