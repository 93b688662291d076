/**
 * Compile-time check, run by `tsc --noEmit` (`bun run check`): every sample event is the
 * @types/aws-lambda interface of its service, so a wrong or missing field fails the check.
 * fixtures.test.ts imports the values to check them at run time too.
 */
import type {
  ALBEvent,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  CloudWatchLogsEvent,
  DynamoDBStreamEvent,
  EventBridgeEvent,
  KinesisStreamEvent,
  LambdaFunctionURLEvent,
  S3Event,
  ScheduledEvent,
  SNSEvent,
  SQSEvent,
} from "aws-lambda";
import { type EventTypeName, events } from "../../src/index.ts";

/** One sample event of each type, built with options that exercise its optional fields. */
export function typedFixtures() {
  // The detail's type follows the option; without one it is the example order.
  events.eventBridge({ detail: { id: 1 } }).detail.id satisfies number;
  events.eventBridge().detail.orderId satisfies string;
  return {
    "apigw-v1": events.apiGatewayV1({
      method: "POST",
      path: "/orders/42",
      resource: "/orders/{id}",
      pathParameters: { id: "42" },
      query: { a: ["1", "2"] },
      cookies: ["session=abc"],
      body: { item: "book" },
    }) satisfies APIGatewayProxyEvent,
    "apigw-v2": events.apiGatewayV2({
      routeKey: "GET /orders/{id}",
      path: "/orders/42",
      pathParameters: { id: "42" },
      stageVariables: { env: "test" },
      query: "a=1&a=2",
      cookies: ["session=abc"],
      body: new Uint8Array([1, 2, 3]),
    }) satisfies APIGatewayProxyEventV2,
    "function-url": events.functionUrl({ path: "/", body: "hello" }) satisfies LambdaFunctionURLEvent,
    alb: events.alb({ query: "q=a%20b" }) satisfies ALBEvent,
    sqs: events.sqs({
      messageAttributes: { kind: "order", n: 1, raw: new Uint8Array([1]) },
    }) satisfies SQSEvent,
    sns: events.sns({ subject: "Hi", messageAttributes: { kind: "order" } }) satisfies SNSEvent,
    s3: events.s3({ key: "a b.jpg" }) satisfies S3Event,
    eventbridge: events.eventBridge({ detail: { id: 1 } }) satisfies EventBridgeEvent<string, unknown>,
    dynamodb: events.dynamoDb({
      eventName: "MODIFY",
      newImage: { tags: new Set(["a"]), nested: { list: [1, "x", null] } },
    }) satisfies DynamoDBStreamEvent,
    kinesis: events.kinesis({ data: { a: 1 } }) satisfies KinesisStreamEvent,
    "cloudwatch-logs": events.cloudWatchLogs({ messages: ["one"] }) satisfies CloudWatchLogsEvent,
    scheduled: events.scheduled() satisfies ScheduledEvent,
  } satisfies Record<EventTypeName, object>;
}
