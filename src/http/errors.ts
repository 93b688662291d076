/** The one place where typed errors become HTTP responses with Lambda's shapes and status codes. */
import { ConfigurationError, LambdaError, ServiceError } from "../core/errors.ts";

const JSON_TYPE = "application/json";

/** An error answer before it is put on the wire. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `{"errorMessage","errorType"}` with the error's status (in-sandbox APIs). */
function lambdaErrorAnswer(error: LambdaError): ErrorAnswer {
  return {
    status: error.status,
    headers: { "Content-Type": JSON_TYPE },
    body: `${JSON.stringify({ errorMessage: error.message, errorType: error.errorType })}\n`,
  };
}

/** Service error of the Invoke API: `x-amzn-ErrorType` header and `{"Type":"User","Message"}` body. */
function serviceErrorAnswer(error: ServiceError): ErrorAnswer {
  const type = error.status >= 500 ? "Service" : "User";
  return {
    status: error.status,
    headers: { ...error.extra.headers, "Content-Type": JSON_TYPE, "x-amzn-ErrorType": error.errorType },
    body: JSON.stringify({ ...error.extra.body, Type: type, Message: error.message }),
  };
}

/** Any thrown value as Lambda answers it; unexpected ones become Lambda's 500 without leaking internals. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof LambdaError) return lambdaErrorAnswer(error);
  if (error instanceof ServiceError) return serviceErrorAnswer(error);
  return lambdaErrorAnswer(new LambdaError(500, "InternalServerError", "Internal Server Error"));
}

/**
 * A thrown value as a function URL answers it: the status, `x-amzn-ErrorType` and a `{"Message"}`
 * body (the shape of a function URL's own errors, e.g. its 403); unexpected ones become a 500.
 */
export function functionUrlErrorResponse(error: unknown): Response {
  const known = error instanceof ServiceError;
  const status = known ? error.status : 500;
  const errorType = known ? error.errorType : "ServiceException";
  const message = known ? error.message : "Internal Server Error";
  return new Response(JSON.stringify({ Message: message }), {
    status,
    headers: {
      ...(known ? error.extra.headers : {}),
      "Content-Type": JSON_TYPE,
      "x-amzn-ErrorType": errorType,
    },
  });
}

/** Renders any thrown value as a Response (see errorAnswer). */
export function errorResponse(error: unknown): Response {
  const { status, headers, body } = errorAnswer(error);
  return new Response(body, { status, headers });
}

/** The 405 answer's body. */
export const METHOD_NOT_ALLOWED = "405 method not allowed\n";

/** 405 for a known path called with the wrong method. */
export function methodNotAllowed(): Response {
  return new Response(METHOD_NOT_ALLOWED, { status: 405, headers: { "Content-Type": "text/plain" } });
}

/** 404 with a plain-text body, as Lambda's router answers unknown paths. */
export function notFound(): Response {
  return new Response("404 page not found\n", { status: 404, headers: { "Content-Type": "text/plain" } });
}

/** A listener that could not bind, said in words that name the flag choosing its port. */
export function bindError(
  error: unknown,
  hostname: string,
  port: number,
  portFlag: string,
): ConfigurationError {
  if ((error as { code?: string }).code === "EADDRINUSE") {
    return new ConfigurationError(
      `port ${port} on ${hostname} is already in use; choose another with ${portFlag} (0 picks a free one)`,
    );
  }
  return new ConfigurationError(
    `cannot listen on ${hostname}:${port}: ${error instanceof Error ? error.message : String(error)}`,
  );
}
