// `lambda-sim events [TYPE]` and `run --event @TYPE`, as real CLI processes.
import { afterEach, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import type {
  APIGatewayProxyEventV2,
  CloudWatchLogsDecodedData,
  CloudWatchLogsEvent,
  S3Event,
} from "aws-lambda";
import { EVENT_TYPES } from "../../src/events/index.ts";
import { cleanup, ECHO, type EchoBody, expectUsageError, lines, runCli, trackGroup } from "./harness.ts";

afterEach(cleanup);

describe("lambda-sim events", () => {
  test("without a type it lists every type with a description, exit 0", async () => {
    const result = await runCli(["events"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const listed = lines(result.stdout).filter((line) => /^\S+\s{2,}\S/.test(line));
    expect(listed.map((line) => line.split(/\s+/)[0])).toEqual(Object.keys(EVENT_TYPES));
    expect(result.stdout).toContain("cloudwatch-logs  CloudWatch Logs subscription filter batch");
  });

  test("with a type it prints the event as pretty JSON, built from the flags", async () => {
    const result = await runCli([
      "events",
      "apigw-v2",
      "--path",
      "/orders",
      "--method",
      "POST",
      "--body",
      '{"a":1}',
      "--query",
      "a=1&b=2",
      "--header",
      "x-a: b",
      "--header",
      "X-A: c",
      "--cookie",
      "s=1",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith('{\n  "version": "2.0",\n');
    const event = JSON.parse(result.stdout) as APIGatewayProxyEventV2;
    expect(event).toMatchObject({
      rawPath: "/orders",
      rawQueryString: "a=1&b=2",
      queryStringParameters: { a: "1", b: "2" },
      cookies: ["s=1"],
      body: '{"a":1}',
      requestContext: { http: { method: "POST", path: "/orders" } },
    });
    expect(event.headers["x-a"]).toBe("b,c");
  });

  test("s3 with --bucket and --key, and cloudwatch-logs with repeated --message", async () => {
    const s3 = await runCli([
      "events",
      "s3",
      "--bucket",
      "b",
      "--key",
      "k",
      "--time",
      "2024-03-04T19:15:17Z",
    ]);
    expect(s3.code).toBe(0);
    expect((JSON.parse(s3.stdout) as S3Event).Records[0]).toMatchObject({
      eventTime: "2024-03-04T19:15:17.000Z",
      s3: { bucket: { name: "b", arn: "arn:aws:s3:::b" }, object: { key: "k" } },
    });
    const logs = await runCli([
      "events",
      "cloudwatch-logs",
      "--log-group",
      "/g",
      "--message",
      "one",
      "--message",
      "two",
    ]);
    expect(logs.code).toBe(0);
    const data = (JSON.parse(logs.stdout) as CloudWatchLogsEvent).awslogs.data;
    const batch = JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString()) as CloudWatchLogsDecodedData;
    expect(batch.logGroup).toBe("/g");
    expect(batch.logEvents.map((e) => e.message)).toEqual(["one", "two"]);
  });

  test("an unknown type, a flag the type does not take, a bad value: one line, exit 2", async () => {
    expectUsageError(
      await runCli(["events", "kafka"]),
      /unknown event type "kafka"; use one of apigw-v1, .*scheduled/,
    );
    expectUsageError(
      await runCli(["events", "function-url", "--stage", "prod"]),
      /unknown option --stage for function-url; it takes .*--path/,
    );
    expectUsageError(
      await runCli(["events", "sqs", "--count", "many"]),
      /sqs: --count must be a whole number/,
    );
    expectUsageError(await runCli(["events", "eventbridge", "--detail", "{"]), /--detail is not valid JSON/);
    expectUsageError(
      await runCli(["events", "dynamodb", "--event-name", "UPSERT"]),
      /INSERT, MODIFY, REMOVE/,
    );
    expectUsageError(await runCli(["events", "--bucket", "b"]), /flags need an event type/);
    expectUsageError(await runCli(["events", "s3", "sqs"]), /events takes one TYPE, got "s3", "sqs"/);
  });
});

describe("lambda-sim run --event @TYPE", () => {
  test("the runtime receives the sample event", async () => {
    const result = await runCli(["run", "--event", "@apigw-v2", "--event", "@sqs", "--", ECHO]);
    expect(result.code).toBe(0);
    const [http, queue] = lines(result.stdout).map((line) => JSON.parse(line) as EchoBody);
    trackGroup(http?.env.pid as number);
    expect(http?.echo).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/",
      requestContext: { http: { method: "GET", path: "/" }, stage: "$default" },
    });
    expect(queue?.echo).toMatchObject({
      Records: [{ eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:my-queue" }],
    });
  });

  test("an unknown @name is a usage error listing the types, and nothing starts", async () => {
    expectUsageError(
      await runCli(["run", "--event", "@apigw-v3", "--", ECHO]),
      /--event @apigw-v3: no such sample event; use one of @apigw-v1, @apigw-v2, .*@scheduled/,
    );
  });
});
