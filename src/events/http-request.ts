/**
 * One HTTP request as a client sent it, normalised once so that every HTTP event (API Gateway
 * REST and HTTP APIs, function URLs, ALB) derives its path, query, headers, cookies and body from
 * the same facts and they cannot disagree.
 */
import { type AwsEventOptions, base64, type EventOrigin, incomingTraceHeader } from "./common.ts";

/** A JSON value, for bodies given as data rather than text. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Options of every HTTP event builder: the request a client sent. */
export interface HttpRequestOptions extends AwsEventOptions {
  /** HTTP method (default `GET`). */
  method?: string;
  /** Request path (default `/`); a `?query` part is added to `query`. */
  path?: string;
  /** Query string (`a=1&b=2`, percent-encoded as sent) or parameters (an array repeats the key). */
  query?: string | Record<string, string | readonly string[]>;
  /** Request headers; an array sends the header once per value. */
  headers?: Record<string, string | readonly string[]>;
  /** Body: text, bytes (sent base64, `isBase64Encoded: true`) or JSON data (serialised). */
  body?: string | Uint8Array | { [key: string]: JsonValue } | JsonValue[];
  /** The body text is already base64 (binary content); only with a string body. */
  isBase64Encoded?: boolean;
  /** Cookies as `name=value` strings, sent in the `cookie` header. */
  cookies?: readonly string[];
  /** The client's address (default 203.0.113.10, a documentation address). */
  sourceIp?: string;
}

/** How a front end spells the request it forwards. */
export interface HttpFront {
  /** Host the client called. */
  host: string;
  /** `x-forwarded-proto` and `-port` of the listener. */
  scheme: "https" | "http";
  /** Lower-case header names (HTTP APIs, function URLs, ALB) or the client's spelling (REST APIs). */
  lowerCaseHeaders: boolean;
  /** Headers this front end adds to every request (after the forwarding headers). */
  addedHeaders?: Record<string, string>;
}

/** One header as forwarded: its name as spelled and every value sent, in order. */
export interface ForwardedHeader {
  name: string;
  values: string[];
}

/** The normalised request. */
export interface HttpRequest {
  method: string;
  path: string;
  /** Query string as sent, without `?` (empty when none). */
  rawQueryString: string;
  /** Query parameters in order, `[key, value]` percent-encoded as sent. */
  rawQuery: [string, string][];
  /** Query parameters in order, decoded. */
  query: [string, string][];
  /** Every header, by lower-case name, defaults first; `cookie` included. */
  headers: Map<string, ForwardedHeader>;
  /** Cookies in order (from `cookies` and any `cookie` header). */
  cookies: string[];
  /** Body text (base64 when `isBase64Encoded`), undefined when there is none. */
  body: string | undefined;
  isBase64Encoded: boolean;
  sourceIp: string;
  userAgent: string;
}

const DEFAULT_SOURCE_IP = "203.0.113.10";
const DEFAULT_USER_AGENT = "curl/8.5.0";

/** Splits a query string into raw pairs (`a=1&a=2&b` -> a=1, a=2, b=). */
function rawPairs(queryString: string): [string, string][] {
  return queryString
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const eq = part.indexOf("=");
      return eq === -1 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)];
    });
}

/** Decodes one query component as browsers and API Gateway do (`+` is a space). */
function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value; // A stray `%` reaches the function as sent.
  }
}

/** The query string of `options` (from `path` and `query`), as sent. */
function queryString(options: HttpRequestOptions): { path: string; raw: string } {
  const full = options.path ?? "/";
  const mark = full.indexOf("?");
  const path = mark === -1 ? full : full.slice(0, mark);
  const parts = mark === -1 ? [] : [full.slice(mark + 1)];
  const { query } = options;
  if (typeof query === "string") {
    parts.push(query.replace(/^\?/, ""));
  } else if (query !== undefined) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      for (const one of typeof value === "string" ? [value] : value) params.append(key, one);
    }
    parts.push(params.toString());
  }
  return { path: path === "" ? "/" : path, raw: parts.filter((p) => p !== "").join("&") };
}

/** The body as forwarded, with the content type a client would have sent with it. */
function forwardedBody(options: HttpRequestOptions): {
  body: string | undefined;
  isBase64Encoded: boolean;
  contentType: string | undefined;
  length: number;
} {
  const { body } = options;
  if (body === undefined)
    return { body: undefined, isBase64Encoded: false, contentType: undefined, length: 0 };
  if (body instanceof Uint8Array) {
    return {
      body: base64(body),
      isBase64Encoded: true,
      contentType: "application/octet-stream",
      length: body.byteLength,
    };
  }
  if (typeof body === "string") {
    const isBase64Encoded = options.isBase64Encoded === true;
    const length = isBase64Encoded ? Buffer.from(body, "base64").byteLength : Buffer.byteLength(body);
    return { body, isBase64Encoded, contentType: guessContentType(body, isBase64Encoded), length };
  }
  const text = JSON.stringify(body);
  return {
    body: text,
    isBase64Encoded: false,
    contentType: "application/json",
    length: Buffer.byteLength(text),
  };
}

/** What a client would label a text body: JSON when it parses, plain text otherwise. */
function guessContentType(body: string, isBase64Encoded: boolean): string {
  if (isBase64Encoded) return "application/octet-stream";
  try {
    JSON.parse(body);
    return "application/json";
  } catch {
    return "text/plain; charset=utf-8";
  }
}

/** Normalises the request in `options` as it reaches `front`. */
export function httpRequest(options: HttpRequestOptions, front: HttpFront, origin: EventOrigin): HttpRequest {
  const { path, raw } = queryString(options);
  const rawQuery = rawPairs(raw);
  const body = forwardedBody(options);
  const headers = new Map<string, ForwardedHeader>();
  const set = (name: string, values: string[]) => {
    headers.set(name.toLowerCase(), { name: front.lowerCaseHeaders ? name.toLowerCase() : name, values });
  };
  const sourceIp = options.sourceIp ?? DEFAULT_SOURCE_IP;
  // What the client and the front end add, in the spelling a REST API forwards; the caller's own
  // headers replace them.
  set("Accept", ["*/*"]);
  if (body.contentType !== undefined) {
    set("Content-Length", [String(body.length)]);
    set("Content-Type", [body.contentType]);
  }
  set("Host", [front.host]);
  set("User-Agent", [DEFAULT_USER_AGENT]);
  set("X-Amzn-Trace-Id", [incomingTraceHeader(origin.now)]);
  set("X-Forwarded-For", [sourceIp]);
  set("X-Forwarded-Port", [front.scheme === "https" ? "443" : "80"]);
  set("X-Forwarded-Proto", [front.scheme]);
  for (const [name, value] of Object.entries(front.addedHeaders ?? {})) set(name, [value]);
  // The caller's headers replace those defaults; names differing only in case are one header.
  const given = new Set<string>();
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    const earlier = given.has(lower) ? (headers.get(lower)?.values ?? []) : [];
    set(name, [...earlier, ...(typeof value === "string" ? [value] : value)]);
    given.add(lower);
  }
  const cookieHeader = headers.get("cookie")?.values ?? [];
  const cookies = [
    ...cookieHeader.flatMap((value) => value.split(";").map((cookie) => cookie.trim())),
    ...(options.cookies ?? []),
  ].filter((cookie) => cookie !== "");
  if (cookies.length > 0) set(headers.get("cookie")?.name ?? "Cookie", [cookies.join("; ")]);
  return {
    method: (options.method ?? "GET").toUpperCase(),
    path,
    rawQueryString: raw,
    rawQuery,
    query: rawQuery.map(([key, value]) => [decodeComponent(key), decodeComponent(value)]),
    headers,
    cookies,
    body: body.body,
    isBase64Encoded: body.isBase64Encoded,
    sourceIp,
    userAgent: headers.get("user-agent")?.values.at(-1) ?? DEFAULT_USER_AGENT,
  };
}

/** A request as a real front end received it (the function URL server), before normalisation. */
export interface ReceivedRequest {
  method: string;
  /** Path and query string as sent (`/a/b?x=1`). */
  target: string;
  /** The headers as received; a name given twice keeps both values, in order. */
  headers: Iterable<[string, string]>;
  /** Body text (base64 when `isBase64Encoded`), undefined when there is none. */
  body: string | undefined;
  isBase64Encoded: boolean;
  sourceIp: string;
}

/**
 * Normalises a received request as it reaches a front that spells header names in lower case and
 * adds `frontHeaders` (forwarding, trace), which replace any the client sent.
 */
export function receivedHttpRequest(
  received: ReceivedRequest,
  frontHeaders: Record<string, string>,
): HttpRequest {
  const mark = received.target.indexOf("?");
  const path = mark === -1 ? received.target : received.target.slice(0, mark);
  const raw = mark === -1 ? "" : received.target.slice(mark + 1);
  const rawQuery = rawPairs(raw);
  const headers = new Map<string, ForwardedHeader>();
  for (const [name, value] of received.headers) {
    const lower = name.toLowerCase();
    const header = headers.get(lower);
    if (header) header.values.push(value);
    else headers.set(lower, { name: lower, values: [value] });
  }
  for (const [name, value] of Object.entries(frontHeaders)) {
    headers.set(name.toLowerCase(), { name: name.toLowerCase(), values: [value] });
  }
  const cookies = (headers.get("cookie")?.values ?? [])
    .flatMap((value) => value.split(";").map((cookie) => cookie.trim()))
    .filter((cookie) => cookie !== "");
  return {
    method: received.method.toUpperCase(),
    path: path === "" ? "/" : path,
    rawQueryString: raw,
    rawQuery,
    query: rawQuery.map(([key, value]) => [decodeComponent(key), decodeComponent(value)]),
    headers,
    cookies,
    body: received.body,
    isBase64Encoded: received.isBase64Encoded,
    sourceIp: received.sourceIp,
    userAgent: headers.get("user-agent")?.values.at(-1) ?? "",
  };
}

/** Groups `[key, value]` pairs by key, keeping every value in order. */
export function multiValues(pairs: readonly [string, string][]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const [key, value] of pairs) {
    grouped[key] = [...(grouped[key] ?? []), value];
  }
  return grouped;
}

/** Each key's values reduced to one string by `pick` (the last value, or all joined by commas). */
export function singleValues(
  grouped: Record<string, readonly string[]>,
  pick: (values: readonly string[]) => string,
): Record<string, string> {
  return Object.fromEntries(Object.entries(grouped).map(([key, values]) => [key, pick(values)]));
}

/** The last of `values`: what REST APIs and ALB keep of a repeated header or parameter. */
export function lastValue(values: readonly string[]): string {
  return values.at(-1) ?? "";
}

/** Every one of `values` joined by commas: what HTTP APIs and function URLs keep. */
export function commaJoined(values: readonly string[]): string {
  return values.join(",");
}

/** The headers as name -> every value, in the front's spelling; `cookie` left out when `withCookie` is false. */
export function headerValues(request: HttpRequest, withCookie: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [lower, header] of request.headers) {
    if (lower === "cookie" && !withCookie) continue;
    out[header.name] = header.values;
  }
  return out;
}
