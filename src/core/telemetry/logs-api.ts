/** The legacy Logs API's view of telemetry (reference 3.6): older record shapes, string logs. */
import type { TelemetryEvent } from "./schemas.ts";

/** The line as written for `function`/`extension` events whose record is its parsed JSON (JSON log format). */
const writtenLines = new WeakMap<TelemetryEvent, string>();

/** Remembers the text a JSON log record was parsed from: Logs API subscribers get that text, as written. */
export function rememberWrittenLine(event: TelemetryEvent, line: string): TelemetryEvent {
  if (typeof event.record !== "string") writtenLines.set(event, line);
  return event;
}

/** Schema versions of the Logs API. */
export type LogsSchemaVersion = "2020-08-15" | "2021-03-18";

/** Translates one Telemetry API event into what a Logs API subscriber receives (zero or more records). */
export function logsApiView(event: TelemetryEvent, schemaVersion: LogsSchemaVersion): TelemetryEvent[] {
  const { time } = event;
  // Records of the legacy API are not all in the Telemetry API's type union.
  const out = (type: string, record: unknown) => ({ time, type, record }) as unknown as TelemetryEvent;
  switch (event.type) {
    case "function":
    case "extension":
      return [
        out(
          event.type,
          typeof event.record === "string"
            ? event.record
            : (writtenLines.get(event) ?? JSON.stringify(event.record)),
        ),
      ];
    case "platform.start": {
      const { requestId, version } = event.record as { requestId: string; version?: string };
      return [out("platform.start", { requestId, ...(version ? { version } : {}) })];
    }
    case "platform.runtimeDone": {
      const { requestId, status } = event.record as { requestId: string; status: string };
      const legacy = status === "success" || status === "timeout" ? status : "failure";
      const views = [];
      if (status !== "success" && status !== "timeout") {
        views.push(out("platform.fault", `RequestId: ${requestId} Process exited before completing request`));
      }
      if (schemaVersion === "2021-03-18")
        views.push(out("platform.runtimeDone", { requestId, status: legacy }));
      return views;
    }
    case "platform.report": {
      const { requestId, metrics } = event.record as { requestId: string; metrics: object };
      return [out("platform.end", { requestId }), out("platform.report", { requestId, metrics })];
    }
    case "platform.telemetrySubscription":
      return [out("platform.logsSubscription", event.record)];
    default:
      return [event];
  }
}
