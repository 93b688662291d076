/** Message events: an SQS batch from an event source mapping, an SNS notification. */
import { createHash } from "node:crypto";
import type { SNSEvent, SQSEvent, SQSMessageAttribute, SQSRecord } from "aws-lambda";
import {
  type AwsEventOptions,
  base64,
  EventOptionError,
  eventOrigin,
  isoMillis,
  randomBase64,
  randomDigits,
  resourceArn,
} from "./common.ts";

/** An SQS message attribute: a string or number (typed String/Number), bytes (Binary), or as SQS spells it. */
export type SqsAttributeValue = string | number | Uint8Array | SQSMessageAttribute;

/** Options of `events.sqs`. */
export interface SqsOptions extends AwsEventOptions {
  /** Queue name or ARN (default `my-queue`; a name ending in `.fifo` gives FIFO attributes). */
  queue?: string;
  /** Message body (default `Hello from SQS!`). */
  body?: string;
  /** Message attributes. */
  messageAttributes?: Record<string, SqsAttributeValue>;
  /** Number of messages in the batch (default 1), each with its own id. */
  count?: number;
}

/** The attribute as it appears in the event. */
function sqsAttribute(value: SqsAttributeValue): SQSMessageAttribute {
  if (typeof value === "string")
    return { stringValue: value, stringListValues: [], binaryListValues: [], dataType: "String" };
  if (typeof value === "number")
    return { stringValue: String(value), stringListValues: [], binaryListValues: [], dataType: "Number" };
  if (value instanceof Uint8Array)
    return { binaryValue: base64(value), stringListValues: [], binaryListValues: [], dataType: "Binary" };
  return value;
}

/**
 * SQS's MD5 of message attributes: for each attribute by name, the length-prefixed name, data type
 * and value, with a transport byte (1 string, 2 binary) before the value.
 */
function md5OfMessageAttributes(attributes: Record<string, SQSMessageAttribute>): string {
  const hash = createHash("md5");
  const lengthPrefixed = (bytes: Uint8Array) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.byteLength);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name] as SQSMessageAttribute;
    lengthPrefixed(Buffer.from(name));
    lengthPrefixed(Buffer.from(attribute.dataType));
    if (attribute.binaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.binaryValue, "base64"));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.stringValue ?? ""));
    }
  }
  return hash.digest("hex");
}

/** An SQS event of `count` messages received from the queue, with fresh message ids and receipt handles. */
export function sqs(options: SqsOptions = {}): SQSEvent {
  const queue = resourceArn(options.queue ?? "my-queue", "sqs", "", eventOrigin(options));
  const count = options.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new EventOptionError(`count must be an integer from 1 to 10000, got ${count}`);
  }
  const body = options.body ?? "Hello from SQS!";
  const md5OfBody = createHash("md5").update(body).digest("hex");
  const messageAttributes = Object.fromEntries(
    Object.entries(options.messageAttributes ?? {}).map(([name, value]) => [name, sqsAttribute(value)]),
  );
  const hasAttributes = Object.keys(messageAttributes).length > 0;
  const sent = queue.origin.now.getTime();
  const fifo = queue.name.endsWith(".fifo");
  const firstSequenceNumber = BigInt(randomDigits(20));
  const records: SQSRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      messageId: crypto.randomUUID(),
      receiptHandle: `AQEB${randomBase64(138)}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(sent),
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: String(sent + 2),
        ...(fifo
          ? {
              SequenceNumber: String(firstSequenceNumber + BigInt(i)),
              MessageGroupId: "1",
              MessageDeduplicationId: createHash("sha256").update(`${body}${i}`).digest("hex"),
            }
          : {}),
      },
      messageAttributes,
      md5OfBody,
      ...(hasAttributes ? { md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) } : {}),
      eventSource: "aws:sqs",
      eventSourceARN: queue.arn,
      awsRegion: queue.origin.region,
    });
  }
  return { Records: records };
}

/** Options of `events.sns`. */
export interface SnsOptions extends AwsEventOptions {
  /** Topic name or ARN (default `my-topic`). */
  topic?: string;
  /** Message (default `Hello from SNS!`). */
  message?: string;
  /** Subject (absent by default, as when the publisher gives none). */
  subject?: string;
  /** Message attributes, all of type String. */
  messageAttributes?: Record<string, string>;
}

/** An SNS event delivering one notification, with a fresh message id and subscription. */
export function sns(options: SnsOptions = {}): SNSEvent {
  const topic = resourceArn(options.topic ?? "my-topic", "sns", "", eventOrigin(options));
  const subscriptionArn = `${topic.arn}:${crypto.randomUUID()}`;
  const endpoint = `https://sns.${topic.origin.region}.amazonaws.com`;
  return {
    Records: [
      {
        EventVersion: "1.0",
        EventSubscriptionArn: subscriptionArn,
        EventSource: "aws:sns",
        Sns: {
          SignatureVersion: "1",
          Timestamp: isoMillis(topic.origin.now),
          Signature: randomBase64(256),
          SigningCertUrl: `${endpoint}/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem`,
          MessageId: crypto.randomUUID(),
          Message: options.message ?? "Hello from SNS!",
          MessageAttributes: Object.fromEntries(
            Object.entries(options.messageAttributes ?? {}).map(([name, value]) => [
              name,
              { Type: "String", Value: value },
            ]),
          ),
          Type: "Notification",
          UnsubscribeUrl: `${endpoint}/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
          TopicArn: topic.arn,
          ...(options.subject !== undefined ? { Subject: options.subject } : {}),
        },
      },
    ],
  };
}
