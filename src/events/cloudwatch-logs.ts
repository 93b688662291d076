/** CloudWatch Logs subscription filter event: the log batch gzipped and base64-encoded in `awslogs.data`. */
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from "aws-lambda";
import { randomHex } from "../core/ids.ts";
import { type AwsEventOptions, eventOrigin, randomDigits } from "./common.ts";

/** Options of `events.cloudWatchLogs`. */
export interface CloudWatchLogsOptions extends AwsEventOptions {
  /** Log group (default `/aws/lambda/my-function`). */
  logGroup?: string;
  /** Log stream (default a Lambda stream name of the event's day). */
  logStream?: string;
  /** One log event per message, a millisecond apart (default two lines). */
  messages?: readonly string[];
  /** Subscription filter names (default `my-subscription-filter`). */
  subscriptionFilters?: string[];
}

/** The log batch a subscription filter delivers, before compression. */
function cloudWatchLogsData(options: CloudWatchLogsOptions = {}): CloudWatchLogsDecodedData {
  const origin = eventOrigin(options);
  const day = origin.now.toISOString().slice(0, 10).replaceAll("-", "/");
  const start = origin.now.getTime();
  const messages = options.messages ?? ["[INFO] order received", "[INFO] order stored"];
  return {
    messageType: "DATA_MESSAGE",
    owner: origin.accountId,
    logGroup: options.logGroup ?? "/aws/lambda/my-function",
    logStream: options.logStream ?? `${day}/[$LATEST]${randomHex(16)}`,
    subscriptionFilters: options.subscriptionFilters ?? ["my-subscription-filter"],
    logEvents: messages.map((message, i) => ({ id: randomDigits(56), timestamp: start + i, message })),
  };
}

/** A CloudWatch Logs event whose `awslogs.data` is base64 of the gzipped JSON batch. */
export function cloudWatchLogs(options: CloudWatchLogsOptions = {}): CloudWatchLogsEvent {
  const json = JSON.stringify(cloudWatchLogsData(options));
  return { awslogs: { data: Buffer.from(Bun.gzipSync(json)).toString("base64") } };
}
