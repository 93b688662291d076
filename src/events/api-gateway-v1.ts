/** API Gateway REST API proxy integration event (payload format 1.0). */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { accessLogTime, eventOrigin, randomBase64 } from "./common.ts";
import {
  type HttpRequestOptions,
  headerValues,
  httpRequest,
  lastValue,
  multiValues,
  singleValues,
} from "./http-request.ts";

/** Options of `events.apiGatewayV1`. */
export interface ApiGatewayV1Options extends HttpRequestOptions {
  /** Stage name (default `prod`); `requestContext.path` starts with it, as on the execute-api domain. */
  stage?: string;
  /** The resource's path template (default: the path), e.g. `/orders/{id}`. */
  resource?: string;
  /** Values of the resource's path parameters. */
  pathParameters?: Record<string, string>;
  /** Stage variables. */
  stageVariables?: Record<string, string>;
}

/** The API's id in every API Gateway fixture (a REST API id is 10 lower-case letters and digits). */
export const API_ID = "r3pmxmplak";

/** A REST API proxy event for the request in `options`, with fresh request ids. */
export function apiGatewayV1(options: ApiGatewayV1Options = {}): APIGatewayProxyEvent {
  const origin = eventOrigin(options);
  const domainName = `${API_ID}.execute-api.${origin.region}.amazonaws.com`;
  const request = httpRequest(
    options,
    { host: domainName, scheme: "https", lowerCaseHeaders: false },
    origin,
  );
  const stage = options.stage ?? "prod";
  const resource = options.resource ?? request.path;
  const multiValueHeaders = headerValues(request, true);
  const multiValueQuery = multiValues(request.query);
  const hasQuery = request.query.length > 0;
  return {
    resource,
    path: request.path,
    httpMethod: request.method,
    // A REST API keeps the last of repeated headers and parameters here, every one in multiValue*.
    headers: singleValues(multiValueHeaders, lastValue),
    multiValueHeaders,
    queryStringParameters: hasQuery ? singleValues(multiValueQuery, lastValue) : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: options.stageVariables ?? null,
    requestContext: {
      resourceId: "2gxmpl",
      resourcePath: resource,
      httpMethod: request.method,
      extendedRequestId: randomBase64(11),
      requestTime: accessLogTime(origin.now),
      path: `/${stage}${request.path}`,
      accountId: origin.accountId,
      protocol: "HTTP/1.1",
      stage,
      domainPrefix: API_ID,
      requestTimeEpoch: origin.now.getTime(),
      requestId: crypto.randomUUID(),
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        apiKey: null,
        apiKeyId: null,
        sourceIp: request.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: request.userAgent,
        user: null,
        clientCert: null,
      },
      domainName,
      apiId: API_ID,
      // Without an authorizer the key is absent from the JSON Lambda receives.
      authorizer: undefined,
    },
    body: request.body ?? null,
    isBase64Encoded: request.isBase64Encoded,
  };
}
