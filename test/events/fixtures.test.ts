// Sample events (src/events): each derived field agrees with the request or record it describes,
// ids are fresh per call, and every registry entry builds JSON-clean events.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { CloudWatchLogsDecodedData } from "aws-lambda";
import { isUuid } from "../../src/core/ids.ts";
import { EVENT_TYPES } from "../../src/events/index.ts";
import { EventOptionError, events } from "../../src/index.ts";
import { typedFixtures } from "./aws-lambda-types.ts";

const TIME = Date.UTC(2024, 2, 4, 19, 15, 17, 135); // 2024-03-04T19:15:17.135Z

/** The value JSON gives a function: what Lambda actually delivers. */
function delivered<T>(event: T): T {
  return JSON.parse(JSON.stringify(event)) as T;
}

describe("the registry", () => {
  test("every type builds a JSON-clean event with its defaults, and the type check covers them all", () => {
    expect(Object.keys(typedFixtures()).sort()).toEqual(Object.keys(EVENT_TYPES).sort());
    for (const [name, entry] of Object.entries(EVENT_TYPES)) {
      expect(entry.description.length, name).toBeGreaterThan(10);
      const event = entry.build();
      expect(delivered(event), name).toEqual(event);
    }
    for (const event of Object.values(typedFixtures())) expect(delivered(event)).toEqual(event);
  });

  test("ids are fresh on every call", () => {
    const twice = <T>(build: () => T, id: (event: T) => string) => [id(build()), id(build())];
    const pairs = [
      twice(events.apiGatewayV1, (e) => e.requestContext.requestId),
      twice(events.apiGatewayV1, (e) => e.requestContext.extendedRequestId ?? ""),
      twice(events.apiGatewayV2, (e) => e.requestContext.requestId),
      twice(events.functionUrl, (e) => e.requestContext.requestId),
      twice(events.alb, (e) => e.headers?.["x-amzn-trace-id"] ?? ""),
      twice(events.sqs, (e) => e.Records[0]?.messageId ?? ""),
      twice(events.sqs, (e) => e.Records[0]?.receiptHandle ?? ""),
      twice(events.sns, (e) => e.Records[0]?.Sns.MessageId ?? ""),
      twice(events.s3, (e) => e.Records[0]?.responseElements["x-amz-request-id"] ?? ""),
      twice(events.eventBridge, (e) => e.id),
      twice(events.scheduled, (e) => e.id),
      twice(events.dynamoDb, (e) => e.Records[0]?.eventID ?? ""),
      twice(events.kinesis, (e) => e.Records[0]?.eventID ?? ""),
      twice(events.cloudWatchLogs, (e) => e.awslogs.data),
    ];
    for (const [a, b] of pairs) {
      expect(a).not.toBe("");
      expect(a).not.toBe(b);
    }
    // Lambda, REST APIs, function URLs, SQS, SNS and EventBridge use UUIDs; HTTP APIs a short base64 id.
    expect(isUuid(events.apiGatewayV1().requestContext.requestId)).toBe(true);
    expect(isUuid(events.functionUrl().requestContext.requestId)).toBe(true);
    expect(isUuid(events.sqs().Records[0]?.messageId ?? "")).toBe(true);
    expect(isUuid(events.sns().Records[0]?.Sns.MessageId ?? "")).toBe(true);
    expect(isUuid(events.eventBridge().id)).toBe(true);
    expect(events.apiGatewayV2().requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
  });

  test("region and account default to us-east-1 and 123456789012, and can be changed", () => {
    expect(events.sqs().Records[0]?.eventSourceARN).toBe("arn:aws:sqs:us-east-1:123456789012:my-queue");
    expect(
      events.scheduled({ region: "eu-west-1", accountId: "111122223333", rule: "nightly" }),
    ).toMatchObject({
      region: "eu-west-1",
      account: "111122223333",
      resources: ["arn:aws:events:eu-west-1:111122223333:rule/nightly"],
    });
  });
});

describe("API Gateway REST API (1.0)", () => {
  test("query, headers and cookies: the last value in the single maps, every value in multiValue*", () => {
    const event = events.apiGatewayV1({
      method: "post",
      path: "/orders/42?view=full",
      resource: "/orders/{id}",
      pathParameters: { id: "42" },
      query: "tag=a&tag=b%20c&empty=",
      headers: { "X-Tenant": ["blue", "green"] },
      cookies: ["session=abc", "theme=dark"],
      body: '{"item":"book"}',
      time: TIME,
    });
    expect(event).toMatchObject({
      resource: "/orders/{id}",
      path: "/orders/42",
      httpMethod: "POST",
      pathParameters: { id: "42" },
      queryStringParameters: { view: "full", tag: "b c", empty: "" },
      multiValueQueryStringParameters: { view: ["full"], tag: ["a", "b c"], empty: [""] },
      stageVariables: null,
      body: '{"item":"book"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      "X-Tenant": "green",
      Cookie: "session=abc; theme=dark",
      "Content-Type": "application/json",
      "Content-Length": "15",
      Host: "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
    });
    expect(event.multiValueHeaders["X-Tenant"]).toEqual(["blue", "green"]);
    expect(event.requestContext).toMatchObject({
      httpMethod: "POST",
      resourcePath: "/orders/{id}",
      path: "/prod/orders/42",
      stage: "prod",
      accountId: "123456789012",
      requestTime: "04/Mar/2024:19:15:17 +0000",
      requestTimeEpoch: TIME,
      identity: { sourceIp: "203.0.113.10", userAgent: "curl/8.5.0" },
    });
    // Without an authorizer the key is not in the JSON at all.
    expect("authorizer" in delivered(event).requestContext).toBe(false);
  });

  test("header names differing only in case are one header; the caller's replace the defaults", () => {
    const event = events.apiGatewayV1({ headers: { "x-a": "b", "X-A": ["c"], "user-agent": "mine/1" } });
    expect(event.multiValueHeaders["X-A"]).toEqual(["b", "c"]);
    expect(event.multiValueHeaders["x-a"]).toBeUndefined();
    expect(event.multiValueHeaders["user-agent"]).toEqual(["mine/1"]);
    expect(event.multiValueHeaders["User-Agent"]).toBeUndefined();
    expect(event.requestContext.identity.userAgent).toBe("mine/1");
  });

  test("no query and no body: nulls, as a REST API sends them", () => {
    const event = events.apiGatewayV1();
    expect(event).toMatchObject({
      path: "/",
      resource: "/",
      httpMethod: "GET",
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      body: null,
    });
    expect(event.headers["Content-Type"]).toBeUndefined();
  });

  test("a binary body arrives base64-encoded", () => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const event = events.apiGatewayV1({ method: "PUT", body: bytes });
    expect(event.isBase64Encoded).toBe(true);
    expect(new Uint8Array(Buffer.from(event.body ?? "", "base64"))).toEqual(bytes);
    expect(event.headers["Content-Length"]).toBe("6");
  });
});

describe("API Gateway HTTP API (2.0)", () => {
  test("rawQueryString as sent, repeated keys and headers joined by commas, cookies in their own array", () => {
    const event = events.apiGatewayV2({
      method: "POST",
      path: "/orders",
      query: "tag=a&tag=b%20c",
      headers: {
        "X-Tenant": ["blue", "green"],
        Cookie: "session=abc; theme=dark",
        "User-Agent": "my-client/1.0",
      },
      cookies: ["extra=1"],
      sourceIp: "198.51.100.7",
      body: { item: "book" },
      time: TIME,
    });
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/orders",
      rawQueryString: "tag=a&tag=b%20c",
      queryStringParameters: { tag: "a,b c" },
      cookies: ["session=abc", "theme=dark", "extra=1"],
      body: '{"item":"book"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      "x-tenant": "blue,green",
      "content-type": "application/json",
      "user-agent": "my-client/1.0",
      "x-forwarded-for": "198.51.100.7",
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.requestContext).toMatchObject({
      routeKey: "$default",
      stage: "$default",
      http: {
        method: "POST",
        path: "/orders",
        protocol: "HTTP/1.1",
        sourceIp: "198.51.100.7",
        userAgent: "my-client/1.0",
      },
      time: "04/Mar/2024:19:15:17 +0000",
      timeEpoch: TIME,
    });
  });

  test("a query given as parameters is encoded into rawQueryString", () => {
    const event = events.apiGatewayV2({ query: { q: "a b&c", n: ["1", "2"] } });
    expect(event.rawQueryString).toBe("q=a+b%26c&n=1&n=2");
    expect(event.queryStringParameters).toEqual({ q: "a b&c", n: "1,2" });
  });

  test("route, path parameters and a named stage (which prefixes rawPath); nothing optional when not given", () => {
    const event = events.apiGatewayV2({
      routeKey: "GET /orders/{id}",
      path: "/orders/42",
      pathParameters: { id: "42" },
      stage: "live",
    });
    expect(event).toMatchObject({
      routeKey: "GET /orders/{id}",
      rawPath: "/live/orders/42",
      pathParameters: { id: "42" },
    });
    expect(event.requestContext).toMatchObject({
      routeKey: "GET /orders/{id}",
      stage: "live",
      http: { path: "/live/orders/42" },
    });
    const bare = events.apiGatewayV2();
    for (const key of ["cookies", "queryStringParameters", "body", "pathParameters", "stageVariables"]) {
      expect(key in bare).toBe(false);
    }
    expect(bare.rawQueryString).toBe("");
  });

  test("binary body: base64 and isBase64Encoded; a string flagged base64 passes through", () => {
    const event = events.apiGatewayV2({ body: new TextEncoder().encode("héllo") });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? "", "base64").toString()).toBe("héllo");
    expect(event.headers["content-type"]).toBe("application/octet-stream");
    const given = events.apiGatewayV2({ body: "AAEC", isBase64Encoded: true });
    expect(given).toMatchObject({ body: "AAEC", isBase64Encoded: true });
    expect(given.headers["content-length"]).toBe("3");
  });
});

describe("function URL (2.0)", () => {
  test("$default route and stage, the URL's host, anonymous caller, no stage prefix", () => {
    const event = events.functionUrl({ path: "/hook", query: "a=1&a=2", cookies: ["s=1"], time: TIME });
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/hook",
      rawQueryString: "a=1&a=2",
      queryStringParameters: { a: "1,2" },
      cookies: ["s=1"],
      isBase64Encoded: false,
    });
    const host = event.headers.host ?? "";
    expect(host).toMatch(/^[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws$/);
    expect(event.requestContext).toMatchObject({
      accountId: "anonymous",
      apiId: host.split(".")[0],
      domainName: host,
      domainPrefix: host.split(".")[0],
      routeKey: "$default",
      stage: "$default",
      http: { method: "GET", path: "/hook" },
      timeEpoch: TIME,
    });
  });
});

describe("ALB", () => {
  test("lower-case headers, the last value of repeats, the query left percent-encoded, empty body", () => {
    const event = events.alb({
      path: "/lambda",
      query: "q=a%20b&q=c%2Fd",
      headers: { "X-Tenant": ["blue", "green"] },
    });
    expect(event).toMatchObject({
      httpMethod: "GET",
      path: "/lambda",
      queryStringParameters: { q: "c%2Fd" },
      body: "",
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      "x-tenant": "green",
      "x-forwarded-proto": "http",
      "x-forwarded-port": "80",
    });
    expect(event.requestContext.elb.targetGroupArn).toStartWith(
      "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/",
    );
    expect(event.multiValueHeaders).toBeUndefined();
  });

  test("with multi-value headers enabled: every value, and no single-value maps", () => {
    const event = events.alb({
      query: "q=a%20b&q=c",
      headers: { "X-Tenant": ["blue", "green"] },
      multiValueHeaders: true,
    });
    expect(event.multiValueQueryStringParameters).toEqual({ q: ["a%20b", "c"] });
    expect(event.multiValueHeaders?.["x-tenant"]).toEqual(["blue", "green"]);
    expect(event.headers).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
  });
});

describe("SQS and SNS", () => {
  test("SQS: count records, the queue's ARN and region, MD5 of the body, typed attributes", () => {
    const event = events.sqs({
      queue: "arn:aws:sqs:eu-west-1:111122223333:orders",
      body: "hello",
      messageAttributes: { kind: "order", priority: 2, raw: new Uint8Array([1, 2]) },
      count: 3,
      time: TIME,
    });
    expect(event.Records).toHaveLength(3);
    expect(new Set(event.Records.map((r) => r.messageId)).size).toBe(3);
    const record = event.Records[0];
    expect(record).toMatchObject({
      body: "hello",
      md5OfBody: createHash("md5").update("hello").digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:111122223333:orders",
      awsRegion: "eu-west-1",
      attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(TIME) },
      messageAttributes: {
        kind: { stringValue: "order", dataType: "String" },
        priority: { stringValue: "2", dataType: "Number" },
        raw: { binaryValue: "AQI=", dataType: "Binary" },
      },
    });
    expect(record?.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(record?.attributes.MessageGroupId).toBeUndefined();
    // The attributes' MD5 is computed over them in name order: the order given does not matter.
    const reordered = events.sqs({
      messageAttributes: { raw: new Uint8Array([1, 2]), priority: 2, kind: "order" },
    });
    expect(reordered.Records[0]?.md5OfMessageAttributes).toBe(record?.md5OfMessageAttributes);
    expect("md5OfMessageAttributes" in (events.sqs().Records[0] ?? {})).toBe(false);
  });

  test("SQS FIFO queues carry group, deduplication id and increasing sequence numbers", () => {
    const records = events.sqs({ queue: "orders.fifo", count: 2 }).Records;
    const [first, second] = records.map((r) => r.attributes);
    expect(first?.MessageGroupId).toBe("1");
    expect(BigInt(second?.SequenceNumber ?? 0) - BigInt(first?.SequenceNumber ?? 0)).toBe(1n);
    expect(() => events.sqs({ count: 0 })).toThrow(EventOptionError);
  });

  test("SNS: the topic's ARN in the subscription, message, subject and attributes", () => {
    const event = events.sns({
      topic: "alerts",
      message: "disk full",
      subject: "Alert",
      messageAttributes: { level: "high" },
      time: TIME,
    });
    const record = event.Records[0];
    expect(record?.EventSubscriptionArn).toStartWith("arn:aws:sns:us-east-1:123456789012:alerts:");
    expect(record?.Sns).toMatchObject({
      TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts",
      Message: "disk full",
      Subject: "Alert",
      Type: "Notification",
      Timestamp: "2024-03-04T19:15:17.135Z",
      MessageAttributes: { level: { Type: "String", Value: "high" } },
    });
    expect(record?.Sns.UnsubscribeUrl).toContain(`SubscriptionArn=${record?.EventSubscriptionArn}`);
    expect("Subject" in (events.sns().Records[0]?.Sns ?? {})).toBe(false);
  });
});

describe("S3, EventBridge, schedules", () => {
  test("S3: bucket ARN, the key URL-encoded as S3 writes it, size, event name without s3:", () => {
    const record = events.s3({
      bucket: "photos",
      key: "2024/red flower=1.jpg",
      size: 5,
      eventName: "s3:ObjectRemoved:Delete",
      time: TIME,
    }).Records[0];
    expect(record).toMatchObject({
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2024-03-04T19:15:17.135Z",
      eventName: "ObjectRemoved:Delete",
      s3: {
        bucket: { name: "photos", arn: "arn:aws:s3:::photos" },
        object: { key: "2024/red+flower%3D1.jpg", size: 5 },
      },
    });
    expect(decodeURIComponent((record?.s3.object.key ?? "").replace(/\+/g, " "))).toBe(
      "2024/red flower=1.jpg",
    );
    expect(events.s3().Records[0]?.eventName).toBe("ObjectCreated:Put");
  });

  test("EventBridge: source, detail-type, detail, time to the second", () => {
    const event = events.eventBridge({
      source: "app.orders",
      detailType: "Shipped",
      detail: { id: 7 },
      time: TIME,
    });
    expect(event).toMatchObject({
      version: "0",
      source: "app.orders",
      "detail-type": "Shipped",
      detail: { id: 7 },
      time: "2024-03-04T19:15:17Z",
      account: "123456789012",
      region: "us-east-1",
    });
  });

  test("scheduled: aws.events, Scheduled Event, the rule's ARN, empty detail", () => {
    const event = events.scheduled({ rule: "arn:aws:events:us-west-2:123456789012:rule/hourly", time: TIME });
    expect(event).toMatchObject({
      source: "aws.events",
      "detail-type": "Scheduled Event",
      resources: ["arn:aws:events:us-west-2:123456789012:rule/hourly"],
      region: "us-west-2",
      detail: {},
      time: "2024-03-04T19:15:17Z",
    });
  });
});

describe("streams and logs", () => {
  test("DynamoDB: keys and images in attribute-value form, images carry the key, SizeBytes as the docs count it", () => {
    const record = events.dynamoDb({ table: "Orders", time: TIME }).Records[0];
    expect(record).toMatchObject({
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
      eventVersion: "1.1",
      awsRegion: "us-east-1",
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(TIME / 1000),
        Keys: { Id: { N: "101" } },
        NewImage: { Id: { N: "101" }, Message: { S: "New item!" } },
        // The AWS documentation's sample record has the same key and image, and 26 bytes.
        SizeBytes: 26,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
    expect(record?.eventID).toMatch(/^[0-9a-f]{32}$/);
    expect(record?.eventSourceARN).toMatch(
      /^arn:aws:dynamodb:us-east-1:123456789012:table\/Orders\/stream\/\S+$/,
    );
    expect(record?.dynamodb?.OldImage).toBeUndefined();
  });

  test("DynamoDB: every kind of value marshalled; MODIFY has both images, REMOVE only the old", () => {
    const record = events.dynamoDb({
      eventName: "MODIFY",
      keys: { pk: "user#1", sk: 7 },
      newImage: {
        name: "Ada",
        admin: true,
        gone: null,
        avatar: new Uint8Array([1, 2, 3]),
        tags: new Set(["a", "b"]),
        scores: new Set([1, 2]),
        history: [1, "two"],
        address: { city: "London" },
      },
    }).Records[0];
    expect(record?.dynamodb?.Keys).toEqual({ pk: { S: "user#1" }, sk: { N: "7" } });
    expect(record?.dynamodb?.NewImage).toEqual({
      pk: { S: "user#1" },
      sk: { N: "7" },
      name: { S: "Ada" },
      admin: { BOOL: true },
      gone: { NULL: true },
      avatar: { B: "AQID" },
      tags: { SS: ["a", "b"] },
      scores: { NS: ["1", "2"] },
      history: { L: [{ N: "1" }, { S: "two" }] },
      address: { M: { city: { S: "London" } } },
    });
    expect(record?.dynamodb?.OldImage).toMatchObject({ pk: { S: "user#1" }, sk: { N: "7" } });
    const removed = events.dynamoDb({ eventName: "REMOVE" }).Records[0]?.dynamodb;
    expect(removed?.NewImage).toBeUndefined();
    expect(removed?.OldImage).toEqual({ Id: { N: "101" }, Message: { S: "New item!" } });
    const streamArn = "arn:aws:dynamodb:eu-west-1:111122223333:table/T/stream/2020-01-01T00:00:00.000";
    expect(events.dynamoDb({ table: streamArn }).Records[0]).toMatchObject({
      eventSourceARN: streamArn,
      awsRegion: "eu-west-1",
    });
  });

  test("Kinesis: data base64, partition key, the stream's ARN, arrival in epoch seconds", () => {
    const record = events.kinesis({ stream: "clicks", data: "héllo", partitionKey: "user-1", time: TIME })
      .Records[0];
    expect(Buffer.from(record?.kinesis.data ?? "", "base64").toString()).toBe("héllo");
    expect(record).toMatchObject({
      eventSource: "aws:kinesis",
      eventName: "aws:kinesis:record",
      eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
      kinesis: {
        partitionKey: "user-1",
        kinesisSchemaVersion: "1.0",
        approximateArrivalTimestamp: TIME / 1000,
      },
    });
    expect(record?.eventID).toBe(`shardId-000000000000:${record?.kinesis.sequenceNumber}`);
    const json = events.kinesis({ data: { a: 1 } }).Records[0]?.kinesis.data ?? "";
    expect(JSON.parse(Buffer.from(json, "base64").toString())).toEqual({ a: 1 });
  });

  test("CloudWatch Logs: awslogs.data is base64 of gzip of the batch, which holds the messages", () => {
    const event = events.cloudWatchLogs({
      logGroup: "/aws/lambda/orders",
      messages: ["first", "second"],
      time: TIME,
    });
    const gzipped = Buffer.from(event.awslogs.data, "base64");
    expect([...gzipped.subarray(0, 2)]).toEqual([0x1f, 0x8b]); // the gzip magic number
    const batch = JSON.parse(gunzipSync(gzipped).toString("utf8")) as CloudWatchLogsDecodedData;
    expect(batch).toMatchObject({
      messageType: "DATA_MESSAGE",
      owner: "123456789012",
      logGroup: "/aws/lambda/orders",
      subscriptionFilters: ["my-subscription-filter"],
    });
    expect(batch.logStream).toMatch(/^2024\/03\/04\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(batch.logEvents.map((e) => e.message)).toEqual(["first", "second"]);
    expect(batch.logEvents.map((e) => e.timestamp)).toEqual([TIME, TIME + 1]);
    expect(batch.logEvents.every((e) => /^\d{56}$/.test(e.id))).toBe(true);
  });
});
