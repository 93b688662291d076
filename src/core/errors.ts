/**
 * Errors that cross an API boundary. Core code throws them; the HTTP layer renders them once
 * (see http/errors.ts), so every error a client meets has Lambda's shape and status.
 */

/** An error of the in-sandbox APIs (Runtime, Extensions, Telemetry): `{errorMessage, errorType}`. */
export class LambdaError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = "LambdaError";
  }
}

/** An error of the Lambda service API (Invoke): status, `x-amzn-ErrorType` and `{Type, Message}`. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    /** Extra body fields (e.g. a throttle's `Reason`) and response headers (e.g. `Retry-After`). */
    readonly extra: { body?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ServiceError";
  }
}

/** A configuration or usage mistake by the person running the simulator (CLI exit status 2). */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigurationError";
  }
}

/** 400 `InvalidRequestID`: the request id is not the invocation in flight. */
export function invalidRequestId(): LambdaError {
  return new LambdaError(400, "InvalidRequestID", "Invalid request ID");
}

/** 403 `InvalidStateTransition` with the supervisor's message format. */
export function invalidStateTransition(from: string, to: string): LambdaError {
  return new LambdaError(
    403,
    "InvalidStateTransition",
    `State transition from ${from} to ${to} failed for runtime. Error: State transition is not allowed`,
  );
}
