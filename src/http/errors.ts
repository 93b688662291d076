/** The one place where typed errors become HTTP responses with Lambda's shapes and status codes. */
import { LambdaError, ServiceError } from "../core/errors.ts";

const JSON_TYPE = "application/json";

/** `{"errorMessage","errorType"}` with the error's status (in-sandbox APIs). */
function lambdaErrorResponse(error: LambdaError): Response {
  return new Response(`${JSON.stringify({ errorMessage: error.message, errorType: error.errorType })}\n`, {
    status: error.status,
    headers: { "Content-Type": JSON_TYPE },
  });
}

/** Service error of the Invoke API: `x-amzn-ErrorType` header and `{"Type":"User","Message"}` body. */
function serviceErrorResponse(error: ServiceError): Response {
  const type = error.status >= 500 ? "Service" : "User";
  return new Response(JSON.stringify({ ...error.extra.body, Type: type, Message: error.message }), {
    status: error.status,
    headers: { ...error.extra.headers, "Content-Type": JSON_TYPE, "x-amzn-ErrorType": error.errorType },
  });
}

/** Renders any thrown value; unexpected ones become Lambda's 500 without leaking internals. */
export function errorResponse(error: unknown): Response {
  if (error instanceof LambdaError) return lambdaErrorResponse(error);
  if (error instanceof ServiceError) return serviceErrorResponse(error);
  return lambdaErrorResponse(new LambdaError(500, "InternalServerError", "Internal Server Error"));
}

/** 405 for a known path called with the wrong method. */
export function methodNotAllowed(): Response {
  return new Response("405 method not allowed\n", { status: 405, headers: { "Content-Type": "text/plain" } });
}

/** 404 with a plain-text body, as Lambda's router answers unknown paths. */
export function notFound(): Response {
  return new Response("404 page not found\n", { status: 404, headers: { "Content-Type": "text/plain" } });
}
