/**
 * The telemetry hub: every produced event goes to the capture, the sinks and each subscription.
 * It owns the Telemetry and Logs API subscription rules (reference 3.1, 3.6), the replay of init
 * events to init-time subscribers, and pausing delivery while the environment is frozen.
 */
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { LambdaError } from "../errors.ts";
import type { Extension } from "../extensions.ts";
import type { TelemetryCapture } from "./capture.ts";
import { type LogsSchemaVersion, logsApiView } from "./logs-api.ts";
import {
  LogsSubscriptionRequest,
  type SubscriptionRequest,
  type TelemetryCategory,
  type TelemetryEvent,
  TelemetrySubscriptionRequest,
} from "./schemas.ts";
import { DEFAULT_BUFFERING, Subscription, type Transport } from "./subscription.ts";

/** Which subscription API was used. */
export type SubscriptionApi = "telemetry" | "logs";

/** Where to deliver: resolved to loopback by the caller's rules. */
export type Destination = { protocol: "HTTP"; url: string } | { protocol: "TCP"; port: number };

/** Builds the transport for a destination (network code lives outside core). */
export type TransportFactory = (destination: Destination) => Transport;

// Compiled on first use: compiling costs milliseconds that a simulator without subscribers
// should not spend at start-up.
let checks:
  | {
      telemetry: TypeCheck<typeof TelemetrySubscriptionRequest>;
      logs: TypeCheck<typeof LogsSubscriptionRequest>;
    }
  | undefined;
function subscriptionCheck(api: SubscriptionApi) {
  checks ??= {
    telemetry: TypeCompiler.Compile(TelemetrySubscriptionRequest),
    logs: TypeCompiler.Compile(LogsSubscriptionRequest),
  };
  return checks[api];
}
const LOOPBACK = new Set(["sandbox", "sandbox.localdomain", "localhost", "127.0.0.1", "[::1]", "::1"]);

/** What the hub needs to know about the listener it must not deliver to. */
export interface HubOptions {
  ownPort: () => number;
  transports: TransportFactory;
  queueLimitBytes?: number;
}

/** Fans telemetry out to capture, sinks and subscribers. */
export class TelemetryHub {
  private readonly subscriptions = new Map<
    string,
    {
      subscription: Subscription;
      api: SubscriptionApi;
      fingerprint: string;
      view?: (event: TelemetryEvent) => TelemetryEvent[];
    }
  >();
  private readonly sinks = new Set<(event: TelemetryEvent) => void>();
  private initEvents: TelemetryEvent[] = [];
  private initOpen = false;
  private paused = false;
  /** The in-memory capture, when enabled. */
  capture?: TelemetryCapture;

  constructor(private readonly options: HubOptions) {}

  /** Adds a sink that sees every event (e.g. the CLI's --telemetry-file). */
  addSink(sink: (event: TelemetryEvent) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** True when an event published now would reach anyone (skip building it otherwise). */
  get wanted(): boolean {
    return this.capture !== undefined || this.sinks.size > 0 || this.subscriptions.size > 0 || this.initOpen;
  }

  /** Publishes one event. */
  publish(event: TelemetryEvent): void {
    // Serialized once for the capture and every Telemetry API subscriber, and only if one wants it.
    let json: string | undefined;
    const text = () => {
      json ??= JSON.stringify(event);
      return json;
    };
    this.capture?.add(event, text());
    for (const sink of this.sinks) sink(event);
    if (this.initOpen) this.initEvents.push(event);
    for (const entry of this.subscriptions.values()) offer(entry, event, text);
  }

  /** A new init begins: its events are kept for subscribers that join during it. */
  beginInit(): void {
    this.initOpen = true;
    this.initEvents = [];
  }

  /** Init ended: subscriptions close (the registry refuses them afterwards). */
  endInit(): void {
    this.initOpen = false;
    this.initEvents = [];
  }

  /** Pauses delivery (frozen) or resumes it (thawed). */
  setFrozen(frozen: boolean): void {
    if (this.paused === frozen) return;
    this.paused = frozen;
    for (const { subscription } of this.subscriptions.values()) {
      if (frozen) subscription.pause();
      else subscription.resume();
    }
  }

  /** Sends whatever is buffered now (the shutdown phase does not wait for timeoutMs). */
  flushAll(): void {
    for (const { subscription } of this.subscriptions.values()) subscription.flushNow();
  }

  /** Ends every subscription (their extensions are gone). */
  closeAll(): void {
    for (const { subscription } of this.subscriptions.values()) subscription.close();
    this.subscriptions.clear();
  }

  /** Subscriptions by extension name: what each has been offered and acknowledged. */
  stats(): {
    name: string;
    api: SubscriptionApi;
    types: TelemetryCategory[];
    offered: number;
    delivered: number;
  }[] {
    return [...this.subscriptions.values()].map(({ subscription, api }) => ({
      name: subscription.name,
      api,
      types: [...subscription.types],
      offered: subscription.offered,
      delivered: subscription.delivered,
    }));
  }

  /** `PUT /2022-07-01/telemetry` or `PUT /2020-08-15/logs` from `extension`; returns the record for `platform.telemetrySubscription`. */
  subscribe(
    api: SubscriptionApi,
    extension: Extension,
    body: unknown,
    initOpen: boolean,
  ): TelemetryCategory[] {
    const validation = api === "telemetry" ? "ValidationError" : "Logs.ValidationError";
    const check = subscriptionCheck(api);
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      const where = first?.path || "body";
      throw new LambdaError(400, validation, `${where}: ${first?.message ?? "invalid subscription request"}`);
    }
    if (!initOpen) {
      throw api === "telemetry"
        ? new LambdaError(403, "Telemetry.SubscriptionClosed", "Telemetry API subscription is closed")
        : new LambdaError(403, "Logs.SubscriptionClosed", "Logs API subscription is closed");
    }
    const request = body as SubscriptionRequest;
    const existing = this.subscriptions.get(extension.id);
    if (existing && existing.api !== api) {
      throw new LambdaError(
        400,
        validation,
        `Extension ${extension.name} already subscribed with the ${existing.api === "telemetry" ? "Telemetry" : "Logs"} API; an extension may not use both`,
      );
    }
    const destination = this.resolveDestination(request, validation);
    // The Logs API is idempotent: the same request again changes nothing (and replays nothing).
    const fingerprint = fingerprintOf(request, validation);
    if (existing && api === "logs" && existing.fingerprint === fingerprint)
      return [...existing.subscription.types];
    existing?.subscription.close();
    const buffering = { ...DEFAULT_BUFFERING, ...request.buffering };
    const types = new Set(request.types);
    const subscription = new Subscription(
      extension.name,
      types,
      buffering,
      this.options.transports(destination),
      (records, bytes) => ({
        time: new Date().toISOString(),
        type: "platform.logsDropped",
        record: {
          reason:
            "Some logs were dropped because the downstream consumer is slower than the logs production rate",
          droppedRecords: records,
          droppedBytes: bytes,
        },
      }),
      this.options.queueLimitBytes,
    );
    if (this.paused) subscription.pause();
    const view =
      api === "logs"
        ? (event: TelemetryEvent) =>
            logsApiView(event, (request.schemaVersion as LogsSchemaVersion) ?? "2020-08-15")
        : undefined;
    const entry = { subscription, api, fingerprint, view };
    this.subscriptions.set(extension.id, entry);
    for (const event of this.initEvents) offer(entry, event, () => JSON.stringify(event));
    return [...types];
  }

  private resolveDestination(request: SubscriptionRequest, validation: string): Destination {
    const { destination } = request;
    if (destination.protocol === "TCP") {
      const port = destination.port ?? portOf(destination.URI);
      if (!port) throw new LambdaError(400, validation, "destination.port is required for the TCP protocol");
      this.refuseOwnPort(port, validation);
      return { protocol: "TCP", port };
    }
    let url: URL;
    try {
      url = new URL(destination.URI);
    } catch {
      throw new LambdaError(
        400,
        validation,
        `destination.URI ${JSON.stringify(destination.URI)} is not a URL`,
      );
    }
    if (url.protocol !== "http:") {
      throw new LambdaError(
        400,
        validation,
        `destination.URI must use plain http (got ${url.protocol.replace(":", "")})`,
      );
    }
    if (!LOOPBACK.has(url.hostname)) {
      throw new LambdaError(
        400,
        validation,
        `destination host ${url.hostname} is outside the execution environment: use sandbox.localdomain, sandbox or a loopback address (Lambda only delivers telemetry inside the environment)`,
      );
    }
    const port = Number(url.port || 80);
    this.refuseOwnPort(port, validation);
    url.hostname = "127.0.0.1";
    return { protocol: "HTTP", url: url.toString() };
  }

  private refuseOwnPort(port: number, validation: string): void {
    if (port === this.options.ownPort() || port === 9001) {
      throw new LambdaError(400, validation, `destination port ${port} is reserved for the Lambda APIs`);
    }
  }
}

function offer(
  entry: { subscription: Subscription; view?: (event: TelemetryEvent) => TelemetryEvent[] },
  event: TelemetryEvent,
  text: () => string,
): void {
  if (!entry.view) entry.subscription.offer(event, text);
  else for (const view of entry.view(event)) entry.subscription.offer(view);
}

/** A subscription request as text; one nested too deep for that is refused like any invalid body. */
function fingerprintOf(request: SubscriptionRequest, validation: string): string {
  try {
    return JSON.stringify(request);
  } catch {
    throw new LambdaError(400, validation, "The subscription request is nested too deeply");
  }
}

function portOf(uri: string | undefined): number | undefined {
  if (!uri) return undefined;
  const match = /:(\d+)(?:\/|$)/.exec(uri);
  return match ? Number(match[1]) : undefined;
}
