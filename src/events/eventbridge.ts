/** EventBridge events: a custom event on a bus, and a schedule rule's "Scheduled Event". */
import type { EventBridgeEvent, ScheduledEvent } from "aws-lambda";
import { type AwsEventOptions, eventOrigin, isoSeconds, resourceArn } from "./common.ts";

/** Options of `events.eventBridge`. */
export interface EventBridgeOptions<TDetail> extends AwsEventOptions {
  /** Event source (default `com.example.orders`). */
  source?: string;
  /** Detail type (default `Order Placed`). */
  detailType?: string;
  /** Detail (default a small order). */
  detail?: TDetail;
  /** ARNs of the resources involved (default none). */
  resources?: string[];
}

/** The default detail of `events.eventBridge`. */
export interface ExampleOrderDetail {
  orderId: string;
  amount: number;
}

/** An EventBridge event as a rule delivers it, with a fresh event id; its detail is `options.detail`. */
export function eventBridge<TDetail>(
  options: EventBridgeOptions<TDetail> & { detail: TDetail },
): EventBridgeEvent<string, TDetail>;
/** An EventBridge event with the example order as its detail. */
export function eventBridge(
  options?: EventBridgeOptions<never>,
): EventBridgeEvent<string, ExampleOrderDetail>;
/** An EventBridge event whose detail, if any, is of no known type. */
export function eventBridge(options: EventBridgeOptions<unknown>): EventBridgeEvent<string, unknown>;
export function eventBridge(options: EventBridgeOptions<unknown> = {}): EventBridgeEvent<string, unknown> {
  const origin = eventOrigin(options);
  const example: ExampleOrderDetail = { orderId: "order-1234", amount: 42.5 };
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": options.detailType ?? "Order Placed",
    source: options.source ?? "com.example.orders",
    account: origin.accountId,
    time: isoSeconds(origin.now),
    region: origin.region,
    resources: options.resources ?? [],
    detail: options.detail === undefined ? example : options.detail,
  };
}

/** Options of `events.scheduled`. */
export interface ScheduledOptions extends AwsEventOptions {
  /** Rule name or ARN (default `my-schedule`). */
  rule?: string;
}

/** The event a schedule rule sends ("Scheduled Event" from `aws.events`, empty detail). */
export function scheduled(options: ScheduledOptions = {}): ScheduledEvent<Record<string, never>> {
  const rule = resourceArn(options.rule ?? "my-schedule", "events", "rule/", eventOrigin(options));
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: rule.origin.accountId,
    time: isoSeconds(rule.origin.now),
    region: rule.origin.region,
    resources: [rule.arn],
    detail: {},
  };
}
