/** Application Load Balancer request event (a Lambda target group). */
import type { ALBEvent } from "aws-lambda";
import { eventOrigin } from "./common.ts";
import {
  type HttpRequestOptions,
  headerValues,
  httpRequest,
  lastValue,
  multiValues,
  singleValues,
} from "./http-request.ts";

/** Options of `events.alb`. */
export interface AlbOptions extends HttpRequestOptions {
  /** The target group has `lambda.multi_value_headers.enabled`: multiValue* fields instead of single ones. */
  multiValueHeaders?: boolean;
}

/** An ALB event for the request in `options`. */
export function alb(options: AlbOptions = {}): ALBEvent {
  const origin = eventOrigin(options);
  const host = `my-alb-1234567890.${origin.region}.elb.amazonaws.com`;
  const request = httpRequest(options, { host, scheme: "http", lowerCaseHeaders: true }, origin);
  const headers = headerValues(request, true);
  // A load balancer does not decode the query: parameters arrive percent-encoded as sent.
  const query = multiValues(request.rawQuery);
  const targetGroupArn = `arn:aws:elasticloadbalancing:${origin.region}:${origin.accountId}:targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a`;
  const common = {
    requestContext: { elb: { targetGroupArn } },
    httpMethod: request.method,
    path: request.path,
  };
  // Without a body the load balancer sends an empty string, not null.
  const body = { body: request.body ?? "", isBase64Encoded: request.isBase64Encoded };
  if (options.multiValueHeaders === true) {
    return { ...common, multiValueQueryStringParameters: query, multiValueHeaders: headers, ...body };
  }
  // Without multi-value headers the load balancer keeps the last of repeated headers and parameters.
  return {
    ...common,
    queryStringParameters: singleValues(query, lastValue),
    headers: singleValues(headers, lastValue),
    ...body,
  };
}
