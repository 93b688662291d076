/**
 * A function URL (docs: urls-invocation.html): Lambda's rules for the HTTP front of a function.
 * Which request bodies reach the function as text, which headers the front adds, how large an
 * event may be, and how the function's answer becomes an HTTP response. No HTTP here: the front
 * (http/function-url.ts) decodes the request and encodes what these rules decide.
 */
import { ConfigurationError, ServiceError } from "./errors.ts";

/** How a function URL returns the answer: collected (`BUFFERED`) or as it comes (`RESPONSE_STREAM`). */
export const FunctionUrlInvokeMode = {
  Buffered: "BUFFERED",
  ResponseStream: "RESPONSE_STREAM",
} as const;

/** One of the FunctionUrlInvokeMode values (the `InvokeMode` of `CreateFunctionUrlConfig`). */
export type FunctionUrlInvokeMode = (typeof FunctionUrlInvokeMode)[keyof typeof FunctionUrlInvokeMode];

/** Where the function URL listens and how it answers. */
export interface FunctionUrlConfig {
  /** 0 picks a free port. */
  port: number;
  invokeMode: FunctionUrlInvokeMode;
}

const INVOKE_MODES: readonly string[] = Object.values(FunctionUrlInvokeMode);

/** The function URL the options ask for (none without a port); bad values throw ConfigurationError. */
export function functionUrlConfig(
  httpPort: number | undefined,
  httpInvokeMode: string | undefined,
): FunctionUrlConfig | undefined {
  if (httpInvokeMode !== undefined && !INVOKE_MODES.includes(httpInvokeMode)) {
    throw new ConfigurationError(
      `httpInvokeMode: must be ${INVOKE_MODES.join(" or ")}, got ${JSON.stringify(httpInvokeMode)}`,
    );
  }
  if (httpPort === undefined) {
    if (httpInvokeMode !== undefined) {
      throw new ConfigurationError("httpInvokeMode: needs httpPort (the function URL's port)");
    }
    return undefined;
  }
  if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) {
    throw new ConfigurationError(`httpPort: must be an integer from 0 to 65535, got ${httpPort}`);
  }
  return { port: httpPort, invokeMode: (httpInvokeMode ?? "BUFFERED") as FunctionUrlInvokeMode };
}

/**
 * Largest event a function URL hands to the function: the synchronous invoke's request limit, on
 * the event (a base64 body counts at its encoded size), not on the HTTP body alone.
 */
export const MAX_EVENT_BYTES = 6_291_456;

/** The 413 a request gets when its event would pass MAX_EVENT_BYTES. */
export function requestTooLarge(): ServiceError {
  return new ServiceError(
    413,
    "RequestTooLargeException",
    `Request must be smaller than ${MAX_EVENT_BYTES} bytes for the InvokeFunction operation`,
  );
}

// An AWS function URL talk (2022) says bodies reach the function as text only for application/json
// and text/*; tests of HTTP APIs against AWS (same 2.0 format) add application/xml and
// application/javascript, and found form posts and bodies without a type base64-encoded.
const TEXT_TYPES: ReadonlySet<string> = new Set([
  "application/json",
  "application/xml",
  "application/javascript",
]);

/** True when a request body of `contentType` reaches the function as text rather than base64. */
export function isTextContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const type = (contentType.split(";")[0] as string).trim().toLowerCase();
  return type.startsWith("text/") || TEXT_TYPES.has(type);
}

/** What the front knows of the connection a request came on. */
export interface Connection {
  sourceIp: string;
  /** The port the client called. */
  port: number;
  scheme: "http" | "https";
  /** The invocation's trace header (`Root=...;Parent=...;Sampled=0`). */
  traceId: string;
}

/** The headers a function URL adds to every request it forwards (they replace a client's own). */
export function forwardingHeaders(connection: Connection): Record<string, string> {
  return {
    "x-amzn-trace-id": connection.traceId.split(";")[0] as string,
    "x-forwarded-for": connection.sourceIp,
    "x-forwarded-port": String(connection.port),
    "x-forwarded-proto": connection.scheme,
  };
}

/** Status, headers and cookies of an HTTP answer: what goes out before the body. */
export interface AnswerHead {
  statusCode: number;
  /** Header names as the function spelled them, each once. */
  headers: [string, string][];
  /** Each becomes one `Set-Cookie` header. */
  cookies: string[];
}

/** A whole HTTP answer, before it is put on the wire. */
export interface HttpAnswer extends AnswerHead {
  body: Uint8Array;
}

// Framing is the front's business: a function's own values would contradict the body it sends.
const FRAMING_HEADERS: ReadonlySet<string> = new Set(["content-length", "transfer-encoding", "connection"]);

/**
 * The head an answer's fields describe (a buffered answer's object, or a streamed answer's prelude),
 * or undefined when its status is not an HTTP status. `statusCode` may be a numeric string, as
 * Lambda accepts `"418"`; headers without a content type get `defaultContentType`.
 */
export function answerHead(
  fields: Record<string, unknown>,
  defaultContentType: string,
): AnswerHead | undefined {
  const statusCode = Number(fields.statusCode ?? 200);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return undefined;
  const headers: [string, string][] = [];
  const given = fields.headers;
  if (given !== null && typeof given === "object" && !Array.isArray(given)) {
    for (const [name, value] of Object.entries(given)) {
      if (value === null || value === undefined || FRAMING_HEADERS.has(name.toLowerCase())) continue;
      headers.push([name, typeof value === "string" ? value : String(value)]);
    }
  }
  if (!headers.some(([name]) => name.toLowerCase() === "content-type")) {
    headers.push(["content-type", defaultContentType]);
  }
  const cookies = Array.isArray(fields.cookies) ? fields.cookies.map(String) : [];
  return { statusCode, headers, cookies };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Parses `payload` as JSON, or undefined when it is not JSON. */
function parseJson(payload: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(decoder.decode(payload)) };
  } catch {
    return undefined;
  }
}

/** The body an answer object carries: its text, base64-decoded when `isBase64Encoded`. */
function answerBody(fields: Record<string, unknown>): Uint8Array {
  const { body } = fields;
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body !== "string") return encoder.encode(JSON.stringify(body));
  return fields.isBase64Encoded === true ? Buffer.from(body, "base64") : encoder.encode(body);
}

/**
 * Lambda's reading of a buffered answer: an object with `statusCode` is an HTTP response (status,
 * headers, cookies, body); anything else is the body of a 200 `application/json` response, as
 * returned, except that a JSON string is answered unquoted (measured against AWS by LocalStack's
 * snapshot tests: `"hello"` arrives as `hello`, `3` as `3`, `{"a":1}` as `{"a":1}`). An answer that
 * is not JSON at all goes out as it is.
 */
export function bufferedAnswer(payload: Uint8Array): HttpAnswer {
  const parsed = parseJson(payload);
  const json = (body: Uint8Array): HttpAnswer => ({
    statusCode: 200,
    headers: [["content-type", "application/json"]],
    cookies: [],
    body,
  });
  if (parsed === undefined) return json(payload);
  const { value } = parsed;
  if (typeof value === "string") return json(encoder.encode(value));
  if (value === null || typeof value !== "object" || Array.isArray(value) || !("statusCode" in value)) {
    return json(payload);
  }
  const fields = value as Record<string, unknown>;
  const head = answerHead(fields, "application/json");
  if (head === undefined) return badGateway();
  try {
    return { ...head, body: answerBody(fields) };
  } catch {
    // A body too deep to serialize again makes no HTTP response, like any other unreadable answer.
    return badGateway();
  }
}

/**
 * The 502 a client gets when there is no answer to give: the function failed (error, timeout,
 * crash), or its answer makes no HTTP response. The body is AWS's (LocalStack's AWS-validated test
 * reads `Internal Server Error`); `x-amzn-ErrorType` names the function's error when it has one.
 */
export function badGateway(errorType?: string): HttpAnswer {
  const headers: [string, string][] = [["content-type", "text/plain; charset=utf-8"]];
  if (errorType !== undefined) headers.push(["x-amzn-ErrorType", errorType]);
  return { statusCode: 502, headers, cookies: [], body: encoder.encode("Internal Server Error") };
}
