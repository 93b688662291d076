/** Stream records: DynamoDB Streams and Kinesis Data Streams, as an event source mapping batches them. */
import type { AttributeValue, DynamoDBStreamEvent, KinesisStreamEvent, StreamRecord } from "aws-lambda";
import { randomHex } from "../core/ids.ts";
import {
  type AwsEventOptions,
  base64,
  EventOptionError,
  eventOrigin,
  randomDigits,
  resourceArn,
} from "./common.ts";

/** A plain value as DynamoDB stores it (numbers N, strings S, bytes B, sets SS/NS, arrays L, objects M). */
export type DynamoDbValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | Set<string>
  | Set<number>
  | DynamoDbValue[]
  | { [name: string]: DynamoDbValue };

/** An item (or key) as plain values. */
export type DynamoDbItem = Record<string, DynamoDbValue>;

/** Options of `events.dynamoDb`. */
export interface DynamoDbOptions extends AwsEventOptions {
  /** Table name or stream ARN (default `my-table`). */
  table?: string;
  /** INSERT (default), MODIFY or REMOVE. */
  eventName?: "INSERT" | "MODIFY" | "REMOVE";
  /** The item's key (default `{ Id: 101 }`); part of every image too. */
  keys?: DynamoDbItem;
  /** The item after the change (INSERT, MODIFY). */
  newImage?: DynamoDbItem;
  /** The item before the change (MODIFY, REMOVE). */
  oldImage?: DynamoDbItem;
}

/** `value` in DynamoDB JSON (`{ "N": "101" }`, `{ "S": "text" }`, ...). */
function toAttributeValue(value: DynamoDbValue): AttributeValue {
  if (typeof value === "string") return { S: value };
  if (typeof value === "number" || typeof value === "bigint") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (value === null) return { NULL: true };
  if (value instanceof Uint8Array) return { B: base64(value) };
  if (value instanceof Set) {
    const members = [...value];
    return members.every((m) => typeof m === "number")
      ? { NS: members.map(String) }
      : { SS: members.map(String) };
  }
  if (Array.isArray(value)) return { L: value.map(toAttributeValue) };
  return { M: toAttributeValues(value) };
}

/** Every attribute of `item` in DynamoDB JSON. */
function toAttributeValues(item: DynamoDbItem): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, toAttributeValue(value)]));
}

/** DynamoDB's size of an attribute value: bytes of strings and binaries, about one per digit of a number. */
function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return value.N.length;
  if (value.B !== undefined) return Buffer.from(value.B, "base64").byteLength;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + s.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + itemSize(value.M);
  return 1; // BOOL, NULL
}

/** Attribute names plus values, the measure behind a stream record's `SizeBytes`. */
function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

const EVENT_NAMES = ["INSERT", "MODIFY", "REMOVE"] as const;

/** A DynamoDB Streams event with one record (view type NEW_AND_OLD_IMAGES), with a fresh event id. */
export function dynamoDb(options: DynamoDbOptions = {}): DynamoDBStreamEvent {
  const eventName = options.eventName ?? "INSERT";
  if (!EVENT_NAMES.includes(eventName)) {
    throw new EventOptionError(
      `eventName must be one of ${EVENT_NAMES.join(", ")}, got ${JSON.stringify(eventName)}`,
    );
  }
  const origin = eventOrigin(options);
  // A stream ARN is its table's ARN, `/stream/`, and the label of the stream's creation.
  const [tableNameOrArn, streamLabel] = (options.table ?? "my-table").split("/stream/") as [string, string?];
  const table = resourceArn(tableNameOrArn, "dynamodb", "table/", origin);
  const streamArn = `${table.arn}/stream/${streamLabel ?? "2024-01-01T00:00:00.000"}`;
  const keys = toAttributeValues(options.keys ?? { Id: 101 });
  // Keys win over an image's own values: an image always carries the record's key.
  const image = (item: DynamoDbItem) => ({ ...keys, ...toAttributeValues(item), ...keys });
  const newImage = eventName === "REMOVE" ? undefined : image(options.newImage ?? { Message: "New item!" });
  const oldImage =
    eventName === "INSERT"
      ? undefined
      : image(options.oldImage ?? { Message: eventName === "MODIFY" ? "Old item!" : "New item!" });
  const dynamodb: StreamRecord = {
    ApproximateCreationDateTime: Math.floor(origin.now.getTime() / 1000),
    Keys: keys,
    ...(newImage !== undefined ? { NewImage: newImage } : {}),
    ...(oldImage !== undefined ? { OldImage: oldImage } : {}),
    SequenceNumber: randomDigits(28),
    SizeBytes: itemSize(keys) + itemSize(newImage ?? {}) + itemSize(oldImage ?? {}),
    StreamViewType: "NEW_AND_OLD_IMAGES",
  };
  return {
    Records: [
      {
        eventID: randomHex(16),
        eventName,
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: table.origin.region,
        dynamodb,
        eventSourceARN: streamArn,
      },
    ],
  };
}

/** Options of `events.kinesis`. */
export interface KinesisOptions extends AwsEventOptions {
  /** Stream name or ARN (default `my-stream`). */
  stream?: string;
  /** Record data: text, bytes, or JSON data (serialised); base64 in the event. */
  data?: string | Uint8Array | Record<string, unknown> | unknown[];
  /** Partition key (default `partitionKey-1`). */
  partitionKey?: string;
}

/** A Kinesis event with one record, with a fresh sequence number. */
export function kinesis(options: KinesisOptions = {}): KinesisStreamEvent {
  const stream = resourceArn(options.stream ?? "my-stream", "kinesis", "stream/", eventOrigin(options));
  const { data = '{"message":"Hello from Kinesis!"}' } = options;
  const bytes = typeof data === "string" || data instanceof Uint8Array ? data : JSON.stringify(data);
  const sequenceNumber = `4959${randomDigits(52)}`;
  const shardId = "shardId-000000000000";
  return {
    Records: [
      {
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: options.partitionKey ?? "partitionKey-1",
          sequenceNumber,
          data: base64(bytes),
          // Epoch seconds with a millisecond fraction, unlike most epoch fields.
          approximateArrivalTimestamp: stream.origin.now.getTime() / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: `arn:aws:iam::${stream.origin.accountId}:role/lambda-role`,
        awsRegion: stream.origin.region,
        eventSourceARN: stream.arn,
      },
    ],
  };
}
