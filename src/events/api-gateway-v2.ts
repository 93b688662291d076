/** API Gateway HTTP API event (payload format 2.0), the format function URLs share. */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { API_ID } from "./api-gateway-v1.ts";
import { accessLogTime, type EventOrigin, eventOrigin, randomBase64 } from "./common.ts";
import {
  commaJoined,
  type HttpRequest,
  type HttpRequestOptions,
  headerValues,
  httpRequest,
  multiValues,
  singleValues,
} from "./http-request.ts";

/** Options of `events.apiGatewayV2`. */
export interface ApiGatewayV2Options extends HttpRequestOptions {
  /** Stage name (default `$default`); a named stage prefixes `rawPath`, as HTTP APIs do. */
  stage?: string;
  /** The matched route (default `$default`), e.g. `GET /orders/{id}`. */
  routeKey?: string;
  /** Values of the route's path parameters. */
  pathParameters?: Record<string, string>;
  /** Stage variables. */
  stageVariables?: Record<string, string>;
}

/** Where a 2.0 payload was received: the parts of `requestContext` that differ by front end. */
export interface PayloadV2Front {
  origin: EventOrigin;
  accountId: string;
  apiId: string;
  domainName: string;
  requestId: string;
  routeKey: string;
  stage: string;
  pathParameters?: Record<string, string> | undefined;
  stageVariables?: Record<string, string> | undefined;
}

/** The 2.0 payload of `request` as `front` forwards it. */
export function payloadV2(request: HttpRequest, front: PayloadV2Front): APIGatewayProxyEventV2 {
  const rawPath = front.stage === "$default" ? request.path : `/${front.stage}${request.path}`;
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: front.routeKey,
    rawPath,
    rawQueryString: request.rawQueryString,
    // Cookies travel in their own array: the cookie header is not among the headers.
    ...(request.cookies.length > 0 ? { cookies: request.cookies } : {}),
    headers: singleValues(headerValues(request, false), commaJoined),
    ...(request.query.length > 0
      ? { queryStringParameters: singleValues(multiValues(request.query), commaJoined) }
      : {}),
    requestContext: {
      accountId: front.accountId,
      apiId: front.apiId,
      domainName: front.domainName,
      domainPrefix: front.domainName.split(".")[0] as string,
      http: {
        method: request.method,
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: request.userAgent,
      },
      requestId: front.requestId,
      routeKey: front.routeKey,
      stage: front.stage,
      time: accessLogTime(front.origin.now),
      timeEpoch: front.origin.now.getTime(),
    },
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(front.pathParameters !== undefined ? { pathParameters: front.pathParameters } : {}),
    isBase64Encoded: request.isBase64Encoded,
    ...(front.stageVariables !== undefined ? { stageVariables: front.stageVariables } : {}),
  };
  return event;
}

/** An HTTP API event for the request in `options`, with a fresh request id. */
export function apiGatewayV2(options: ApiGatewayV2Options = {}): APIGatewayProxyEventV2 {
  const origin = eventOrigin(options);
  const domainName = `${API_ID}.execute-api.${origin.region}.amazonaws.com`;
  const request = httpRequest(options, { host: domainName, scheme: "https", lowerCaseHeaders: true }, origin);
  return payloadV2(request, {
    origin,
    accountId: origin.accountId,
    apiId: API_ID,
    domainName,
    // HTTP APIs use API Gateway's short base64 ids here, not UUIDs.
    requestId: randomBase64(11),
    routeKey: options.routeKey ?? "$default",
    stage: options.stage ?? "$default",
    pathParameters: options.pathParameters,
    stageVariables: options.stageVariables,
  });
}
