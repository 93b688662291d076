/** What every event fixture shares: the account and region it comes from, its clock, ARNs, id formats. */
import { randomHex } from "../core/ids.ts";

/** Options every fixture builder takes. */
export interface AwsEventOptions {
  /** Region of the event source (default `us-east-1`; an ARN given elsewhere wins). */
  region?: string;
  /** Account of the event source (default `123456789012`; an ARN given elsewhere wins). */
  accountId?: string;
  /** When the event happened (default: now), as a Date or epoch milliseconds. */
  time?: Date | number;
}

/** A mistake in the options given to a fixture builder (or in a CLI flag meant for one). */
export class EventOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EventOptionError";
  }
}

/** The default region of every fixture. */
export const DEFAULT_REGION = "us-east-1";
/** The default account of every fixture. */
export const DEFAULT_ACCOUNT_ID = "123456789012";

/** Where and when an event comes from, with the defaults applied. */
export interface EventOrigin {
  region: string;
  accountId: string;
  now: Date;
}

/** The origin of an event built from `options`. */
export function eventOrigin(options: AwsEventOptions): EventOrigin {
  const now = options.time === undefined ? new Date() : new Date(options.time);
  if (Number.isNaN(now.getTime())) throw new EventOptionError(`time ${String(options.time)} is not a date`);
  return {
    region: options.region ?? DEFAULT_REGION,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    now,
  };
}

/** The parts of an ARN (`arn:partition:service:region:account:resource`). */
export interface ParsedArn {
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/** Parses `value` when it is an ARN, else undefined. */
export function parseArn(value: string): ParsedArn | undefined {
  const parts = value.split(":");
  if (parts[0] !== "arn" || parts.length < 6) return undefined;
  const [, , service, region, accountId] = parts as [string, string, string, string, string];
  return { service, region, accountId, resource: parts.slice(5).join(":") };
}

/**
 * A resource given by name or ARN, as the fixture's `eventSourceARN` plus the region and account
 * the event then comes from (an ARN's, so the record's `awsRegion` agrees with it).
 */
export function resourceArn(
  nameOrArn: string,
  service: string,
  resourcePrefix: string,
  origin: EventOrigin,
): { arn: string; name: string; origin: EventOrigin } {
  const parsed = parseArn(nameOrArn);
  if (parsed === undefined) {
    const arn = `arn:aws:${service}:${origin.region}:${origin.accountId}:${resourcePrefix}${nameOrArn}`;
    return { arn, name: nameOrArn, origin };
  }
  if (parsed.service !== service) {
    throw new EventOptionError(`${nameOrArn} is not an ARN of ${service}`);
  }
  const name = parsed.resource.startsWith(resourcePrefix)
    ? parsed.resource.slice(resourcePrefix.length)
    : parsed.resource;
  return {
    arn: nameOrArn,
    name,
    origin: { ...origin, region: parsed.region || origin.region, accountId: parsed.accountId },
  };
}

/** ISO 8601 with milliseconds (`2019-09-03T19:37:27.192Z`), as S3 and SNS write times. */
export function isoMillis(date: Date): string {
  return date.toISOString();
}

/** ISO 8601 to the second (`2017-12-22T18:43:48Z`), as EventBridge writes times. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The access-log time API Gateway puts in `requestTime`/`time`: `04/Mar/2020:19:15:17 +0000`. */
export function accessLogTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}`;
  return `${day}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

/** Base64 of UTF-8 text or bytes. */
export function base64(data: string | Uint8Array): string {
  return Buffer.from(data).toString("base64");
}

/** `length` random decimal digits, the first not 0 (sequence numbers, log event ids). */
export function randomDigits(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = String(1 + ((bytes[0] as number) % 9));
  for (let i = 1; i < length; i++) out += String((bytes[i] as number) % 10);
  return out;
}

/** Base64 of `bytes` random bytes (receipt handles, signatures, API Gateway's extended ids). */
export function randomBase64(bytes: number): string {
  return base64(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** An X-Ray trace header as load balancers and API Gateway add it: `Root=1-<epoch hex>-<24 hex>`. */
export function incomingTraceHeader(now: Date): string {
  const epoch = Math.floor(now.getTime() / 1000)
    .toString(16)
    .padStart(8, "0");
  return `Root=1-${epoch}-${randomHex(12)}`;
}
