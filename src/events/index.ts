/** Sample events of the services that invoke Lambda functions: builders, and the registry the CLI lists. */
import { type AlbOptions, alb } from "./alb.ts";
import { type ApiGatewayV1Options, apiGatewayV1 } from "./api-gateway-v1.ts";
import { type ApiGatewayV2Options, apiGatewayV2 } from "./api-gateway-v2.ts";
import { type CloudWatchLogsOptions, cloudWatchLogs } from "./cloudwatch-logs.ts";
import type { AwsEventOptions } from "./common.ts";
import { type EventBridgeOptions, eventBridge, type ScheduledOptions, scheduled } from "./eventbridge.ts";
import {
  choice,
  type EventFlags,
  headerFlag,
  integer,
  json,
  jsonObject,
  list,
  originFlags,
  pairs,
  text,
} from "./flags.ts";
import { type FunctionUrlOptions, functionUrl } from "./function-url.ts";
import type { HttpRequestOptions } from "./http-request.ts";
import { type SnsOptions, type SqsOptions, sns, sqs } from "./messaging.ts";
import { type S3Options, s3 } from "./s3.ts";
import { type DynamoDbOptions, dynamoDb, type KinesisOptions, kinesis } from "./streams.ts";

/** One event type of the registry: what it is, how to build it, which CLI flags it takes. */
export interface EventType<O extends AwsEventOptions> {
  readonly description: string;
  build(options?: O): object;
  readonly flags: EventFlags<O>;
}

/** Keeps each entry's options type while checking it is an event type. */
function eventType<O extends AwsEventOptions>(entry: EventType<O>): EventType<O> {
  return entry;
}

const httpFlags: EventFlags<HttpRequestOptions> = {
  ...originFlags,
  method: text("method", "HTTP method (default GET)"),
  path: text("path", "Request path, may end in ?query (default /)"),
  query: {
    description: "Query string 'a=1&b=2' (repeatable, joined with &)",
    parse: (values) => ({ query: values.join("&") }),
  },
  header: headerFlag,
  body: text("body", "Request body"),
  cookie: list("cookies", "Cookie 'name=value' (repeatable)"),
  "source-ip": text("sourceIp", "Client address (default 203.0.113.10)"),
};

/** Every event type, by the name `lambda-sim events TYPE` and `run --event @TYPE` take. */
export const EVENT_TYPES = {
  "apigw-v1": eventType<ApiGatewayV1Options>({
    description: "API Gateway REST API proxy integration (payload format 1.0)",
    build: apiGatewayV1,
    flags: {
      ...httpFlags,
      stage: text("stage", "Stage (default prod)"),
      resource: text("resource", "REST API resource path template, e.g. /orders/{id}"),
      "path-parameter": pairs("pathParameters", "Path parameter NAME=VALUE (repeatable)"),
    },
  }),
  "apigw-v2": eventType<ApiGatewayV2Options>({
    description: "API Gateway HTTP API (payload format 2.0)",
    build: apiGatewayV2,
    flags: {
      ...httpFlags,
      stage: text("stage", "Stage (default $default)"),
      "route-key": text("routeKey", "HTTP API route, e.g. 'GET /orders/{id}' (default $default)"),
      "path-parameter": pairs("pathParameters", "Path parameter NAME=VALUE (repeatable)"),
    },
  }),
  "function-url": eventType<FunctionUrlOptions>({
    description: "Lambda function URL request (payload format 2.0, auth type NONE)",
    build: functionUrl,
    flags: httpFlags,
  }),
  alb: eventType<AlbOptions>({
    description: "Application Load Balancer request to a Lambda target group",
    build: alb,
    flags: httpFlags,
  }),
  sqs: eventType<SqsOptions>({
    description: "SQS messages received by an event source mapping",
    build: sqs,
    flags: {
      ...originFlags,
      queue: text("queue", "Queue name or ARN (default my-queue)"),
      body: text("body", "Message body"),
      "message-attribute": pairs(
        "messageAttributes",
        "Message attribute NAME=VALUE of type String (repeatable)",
      ),
      count: integer("count", "Number of messages in the batch (default 1)"),
    },
  }),
  sns: eventType<SnsOptions>({
    description: "SNS notification delivered to a subscribed function",
    build: sns,
    flags: {
      ...originFlags,
      topic: text("topic", "Topic name or ARN (default my-topic)"),
      message: text("message", "Message"),
      subject: text("subject", "Subject (default none)"),
      "message-attribute": pairs(
        "messageAttributes",
        "Message attribute NAME=VALUE of type String (repeatable)",
      ),
    },
  }),
  s3: eventType<S3Options>({
    description: "S3 event notification (ObjectCreated:Put)",
    build: s3,
    flags: {
      ...originFlags,
      bucket: text("bucket", "Bucket name (default my-bucket)"),
      key: text("key", "Object key as stored (the event carries it URL-encoded)"),
      size: integer("size", "Object size in bytes (default 1024)"),
      "event-name": text("eventName", "Event name (default ObjectCreated:Put)"),
    },
  }),
  eventbridge: eventType<EventBridgeOptions<unknown>>({
    description: "EventBridge event matched by a rule",
    build: (options) => eventBridge(options ?? {}),
    flags: {
      ...originFlags,
      source: text("source", "Source (default com.example.orders)"),
      "detail-type": text("detailType", "Detail type (default Order Placed)"),
      detail: json("detail", "Detail, as JSON"),
    },
  }),
  dynamodb: eventType<DynamoDbOptions>({
    description: "DynamoDB Streams record (NEW_AND_OLD_IMAGES)",
    build: dynamoDb,
    flags: {
      ...originFlags,
      table: text("table", "Table name or stream ARN (default my-table)"),
      "event-name": choice("eventName", ["INSERT", "MODIFY", "REMOVE"], "INSERT (default), MODIFY or REMOVE"),
      keys: jsonObject("keys", 'Key as plain JSON (default {"Id":101})'),
      "new-image": jsonObject("newImage", "Item after the change, as plain JSON"),
      "old-image": jsonObject("oldImage", "Item before the change, as plain JSON"),
    },
  }),
  kinesis: eventType<KinesisOptions>({
    description: "Kinesis Data Streams record (data base64)",
    build: kinesis,
    flags: {
      ...originFlags,
      stream: text("stream", "Stream name or ARN (default my-stream)"),
      data: text("data", "Record data as text (base64 in the event)"),
      "partition-key": text("partitionKey", "Partition key (default partitionKey-1)"),
    },
  }),
  "cloudwatch-logs": eventType<CloudWatchLogsOptions>({
    description: "CloudWatch Logs subscription filter batch (awslogs.data: base64 of gzipped JSON)",
    build: cloudWatchLogs,
    flags: {
      ...originFlags,
      "log-group": text("logGroup", "Log group (default /aws/lambda/my-function)"),
      "log-stream": text("logStream", "Log stream (default a Lambda log stream of the day)"),
      message: list("messages", "Message of one log event (repeatable)"),
    },
  }),
  scheduled: eventType<ScheduledOptions>({
    description: 'EventBridge schedule rule ("Scheduled Event" from aws.events)',
    build: scheduled,
    flags: { ...originFlags, rule: text("rule", "Rule name or ARN (default my-schedule)") },
  }),
};

/** The name of an event type (`apigw-v2`, `sqs`, ...). */
export type EventTypeName = keyof typeof EVENT_TYPES;

/** True when `name` is an event type. */
export function isEventTypeName(name: string): name is EventTypeName {
  return Object.hasOwn(EVENT_TYPES, name);
}

/** The sample event builders: `events.apiGatewayV2({ path: "/orders" })`, `events.sqs({ body: "hi" })`, ... */
export const events = {
  apiGatewayV1,
  apiGatewayV2,
  functionUrl,
  alb,
  sqs,
  sns,
  s3,
  eventBridge,
  dynamoDb,
  kinesis,
  cloudWatchLogs,
  scheduled,
} as const;

export type { AlbOptions } from "./alb.ts";
export type { ApiGatewayV1Options } from "./api-gateway-v1.ts";
export type { ApiGatewayV2Options } from "./api-gateway-v2.ts";
export type { CloudWatchLogsOptions } from "./cloudwatch-logs.ts";
export type { AwsEventOptions } from "./common.ts";
export { EventOptionError } from "./common.ts";
export type { EventBridgeOptions, ExampleOrderDetail, ScheduledOptions } from "./eventbridge.ts";
export type { EventFlag, EventFlags } from "./flags.ts";
export type { FunctionUrlOptions } from "./function-url.ts";
export type { HttpRequestOptions, JsonValue } from "./http-request.ts";
export type { SnsOptions, SqsAttributeValue, SqsOptions } from "./messaging.ts";
export type { S3Options } from "./s3.ts";
export type { DynamoDbItem, DynamoDbOptions, DynamoDbValue, KinesisOptions } from "./streams.ts";
