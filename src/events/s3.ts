/** S3 event notification (one record, `ObjectCreated:Put` by default). */
import type { S3Event } from "aws-lambda";
import { randomHex } from "../core/ids.ts";
import { type AwsEventOptions, eventOrigin, isoMillis, randomBase64 } from "./common.ts";

/** Options of `events.s3`. */
export interface S3Options extends AwsEventOptions {
  /** Bucket name (default `my-bucket`). */
  bucket?: string;
  /** Object key as stored (default `uploads/photo.jpg`); the event carries it URL-encoded. */
  key?: string;
  /** Object size in bytes (default 1024). */
  size?: number;
  /** Event name (default `ObjectCreated:Put`); a leading `s3:` is dropped, as the event has none. */
  eventName?: string;
}

/** A key as S3 writes it into events: URL-encoded per segment, spaces as `+`. */
function encodeS3Key(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, "+"))
    .join("/");
}

/** An S3 event notification for one object, with fresh request ids, ETag and sequencer. */
export function s3(options: S3Options = {}): S3Event {
  const origin = eventOrigin(options);
  const bucket = options.bucket ?? "my-bucket";
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: origin.region,
        eventTime: isoMillis(origin.now),
        eventName: (options.eventName ?? "ObjectCreated:Put").replace(/^s3:/, ""),
        userIdentity: { principalId: "AWS:AIDAINPONIXQXHT3IKHL2" },
        requestParameters: { sourceIPAddress: "203.0.113.10" },
        responseElements: {
          "x-amz-request-id": randomHex(8).toUpperCase(),
          "x-amz-id-2": randomBase64(57),
        },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "my-notification",
          bucket: {
            name: bucket,
            ownerIdentity: { principalId: "A3I5XTEXAMAI3E" },
            arn: `arn:aws:s3:::${bucket}`,
          },
          object: {
            key: encodeS3Key(options.key ?? "uploads/photo.jpg"),
            size: options.size ?? 1024,
            eTag: randomHex(16),
            sequencer: randomHex(9).toUpperCase(),
          },
        },
      },
    ],
  };
}
