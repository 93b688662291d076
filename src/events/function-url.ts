/** Lambda function URL request event (payload format 2.0, auth type NONE). */
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { payloadV2 } from "./api-gateway-v2.ts";
import { type EventOrigin, eventOrigin } from "./common.ts";
import { type HttpRequest, type HttpRequestOptions, httpRequest } from "./http-request.ts";

/** Options of `events.functionUrl`: the request only (function URLs have no stages or routes). */
export type FunctionUrlOptions = HttpRequestOptions;

/** The id in every function URL fixture's host name (32 lower-case letters and digits). */
const FUNCTION_URL_ID = "a7bjxmpl3tnd6wbqj6epbcbdwe0gfrsd";

/** Where and when a function URL received a request. */
export interface FunctionUrlReceipt {
  origin: EventOrigin;
  /** The host the client called (`<url-id>.lambda-url.<region>.on.aws` in Lambda). */
  domainName: string;
  /** The invocation's request id, which Lambda also puts in `requestContext.requestId`. */
  requestId: string;
}

/** The event a function URL hands the function for `request`. */
export function functionUrlEvent(request: HttpRequest, receipt: FunctionUrlReceipt): LambdaFunctionURLEvent {
  return payloadV2(request, {
    origin: receipt.origin,
    // With auth type NONE there is no caller account to report.
    accountId: "anonymous",
    apiId: FUNCTION_URL_ID,
    domainName: receipt.domainName,
    requestId: receipt.requestId,
    routeKey: "$default",
    stage: "$default",
  });
}

/** A function URL event for the request in `options`, with a fresh request id. */
export function functionUrl(options: FunctionUrlOptions = {}): LambdaFunctionURLEvent {
  const origin = eventOrigin(options);
  const domainName = `${FUNCTION_URL_ID}.lambda-url.${origin.region}.on.aws`;
  const front = {
    host: domainName,
    scheme: "https",
    lowerCaseHeaders: true,
    addedHeaders: {
      "x-amzn-tls-cipher-suite": "ECDHE-RSA-AES128-GCM-SHA256",
      "x-amzn-tls-version": "TLSv1.2",
    },
  } as const;
  const request = httpRequest(options, front, origin);
  return functionUrlEvent(request, { origin, domainName, requestId: crypto.randomUUID() });
}
