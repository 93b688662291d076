/**
 * The function URL front: an HTTP server in front of the function, as a Lambda function URL with
 * auth type NONE. Each request becomes a payload-format-2.0 event (events/function-url.ts), one
 * invocation, and the answer becomes the HTTP response by Lambda's rules (core/function-url.ts):
 * collected in BUFFERED mode, passed on as the runtime streams it in RESPONSE_STREAM mode.
 */
import type { Server } from "bun";
import {
  type AnswerHead,
  answerHead,
  badGateway,
  bufferedAnswer,
  type FunctionUrlConfig,
  forwardingHeaders,
  type HttpAnswer,
  isTextContentType,
  MAX_EVENT_BYTES,
  requestTooLarge,
} from "../core/function-url.ts";
import { hasPrelude, MalformedPreludeError, PreludeReader } from "../core/http-integration-response.ts";
import { newRequestId, newTraceId } from "../core/ids.ts";
import type {
  Invocation,
  InvocationRequest,
  InvocationResult,
  StreamedResponse,
} from "../core/invocation.ts";
import { functionUrlEvent } from "../events/function-url.ts";
import { receivedHttpRequest } from "../events/http-request.ts";
import { functionUrlErrorResponse } from "./errors.ts";
import { H } from "./headers.ts";
import { type ListeningServer, listen } from "./listener.ts";

/** What the front invokes. */
export interface FunctionUrlTarget {
  submit(request: InvocationRequest): Invocation;
  readonly config: { readonly region: string };
}

const TRACE_HEADER = "X-Amzn-Trace-Id";
// What a streamed answer's prelude without a content type gets (the Node RIC's stream default).
const STREAM_DEFAULT_TYPE = "application/octet-stream";
const STREAM_DEFAULT_HEAD: AnswerHead = {
  statusCode: 200,
  headers: [["content-type", STREAM_DEFAULT_TYPE]],
  cookies: [],
};
const encoder = new TextEncoder();
type ResponseBody = ConstructorParameters<typeof Response>[0];
interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(): Promise<void>;
}

/** The request body, refused (413) once it cannot fit in an event. */
async function readLimitedBody(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_EVENT_BYTES) throw requestTooLarge();
  if (request.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_EVENT_BYTES) throw requestTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The client's address, without the IPv4-mapped prefix a dual-stack socket reports. */
function sourceIp(request: Request, server: Server<undefined> | undefined): string {
  const address = server?.requestIP(request)?.address ?? "127.0.0.1";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** The host name the client called, from `Host` without its port (Lambda's `domainName` has none). */
function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  return host.split(":")[0] as string;
}

/** Path and query as the client sent them (`Request.url` is absolute). */
function requestTarget(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start === -1 ? "/" : url.slice(start);
}

/** The body as the event carries it: text, or base64 when it is binary; none when empty. */
function eventBody(bytes: Uint8Array, text: boolean): { body: string | undefined; isBase64Encoded: boolean } {
  if (bytes.byteLength === 0) return { body: undefined, isBase64Encoded: false };
  if (text) return { body: new TextDecoder().decode(bytes), isBase64Encoded: false };
  return { body: Buffer.from(bytes).toString("base64"), isBase64Encoded: true };
}

/** The invocation request of one HTTP request: its 2.0 event, with request and trace ids to match. */
async function invocationFor(
  target: FunctionUrlTarget,
  request: Request,
  server: Server<undefined> | undefined,
  streamResponse: boolean,
): Promise<InvocationRequest> {
  const bytes = await readLimitedBody(request);
  const url = new URL(request.url);
  const requestId = newRequestId();
  const now = new Date();
  const traceId = newTraceId(now.getTime());
  const connection = {
    sourceIp: sourceIp(request, server),
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    scheme: url.protocol === "https:" ? "https" : "http",
    traceId,
  } as const;
  const httpRequest = receivedHttpRequest(
    {
      method: request.method,
      target: requestTarget(request.url),
      headers: request.headers,
      ...eventBody(bytes, isTextContentType(request.headers.get("content-type"))),
      sourceIp: connection.sourceIp,
    },
    forwardingHeaders(connection),
  );
  const event = functionUrlEvent(httpRequest, {
    origin: { region: target.config.region, accountId: "anonymous", now },
    domainName: hostName(request.headers.get("host") ?? url.host),
    requestId,
  });
  const payload = encoder.encode(JSON.stringify(event));
  if (payload.byteLength > MAX_EVENT_BYTES) throw requestTooLarge();
  return {
    payload,
    contentType: "application/json",
    invocationType: "RequestResponse",
    streamResponse,
    requestId,
    traceId,
  };
}

/**
 * Response headers of `head`, with the ids a function URL adds to every response; undefined when
 * a header the function returned is not valid HTTP (a newline in a value, say).
 */
function responseHeaders(head: AnswerHead, invocation: Invocation): Headers | undefined {
  const headers = new Headers();
  try {
    for (const [name, value] of head.headers) headers.set(name, value);
    for (const cookie of head.cookies) headers.append("Set-Cookie", cookie);
  } catch {
    return undefined;
  }
  headers.set(H.amznRequestId, invocation.id);
  headers.set(TRACE_HEADER, invocation.traceId.split(";")[0] as string);
  return headers;
}

/** `head` and `body` as a Response; a 502 when the head is not valid HTTP. */
function respond(head: AnswerHead, body: ResponseBody, invocation: Invocation): Response {
  const headers = responseHeaders(head, invocation);
  if (!headers) return respondWith(badGateway(), invocation);
  return new Response(body, { status: head.statusCode, headers });
}

function respondWith(answer: HttpAnswer, invocation: Invocation): Response {
  return respond(answer, answer.body, invocation);
}

/** The buffered answer as Lambda reads it, or a 502 when the function failed. */
function bufferedResponse(result: InvocationResult, invocation: Invocation): Response {
  if (result.functionError) return respondWith(badGateway(result.errorType ?? "Unhandled"), invocation);
  return respondWith(bufferedAnswer(result.payload), invocation);
}

/**
 * The body of a streamed answer from `first` on, as the runtime sends it. A mid-stream error ends
 * the response abruptly (no last chunk), so the client can tell it was cut, with what was sent
 * already delivered; if the client goes away, the function runs on and its bytes are dropped.
 */
function passOn(stream: StreamedResponse, reader: ChunkReader, first: Uint8Array) {
  let pending: Uint8Array | undefined = first.byteLength > 0 ? first : undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(pending);
        pending = undefined;
        return;
      }
      const { done, value } = await reader.read();
      if (!done && value) {
        controller.enqueue(value);
        return;
      }
      const { error } = await stream.ended;
      // Bun resets the connection for an errored body; an undefined reason keeps it from logging one.
      if (error) controller.error(undefined);
      else controller.close();
    },
    cancel: () => reader.cancel(),
  });
}

/**
 * A streamed answer: with a prelude, its status, headers and cookies, then the body as it comes;
 * without, status 200 and the answer's own content type. An error before the response could start
 * (no complete prelude yet) is a 502.
 */
async function streamedResponse(
  stream: StreamedResponse,
  contentType: string,
  invocation: Invocation,
): Promise<Response> {
  const reader = stream.body.getReader();
  if (!hasPrelude(contentType)) {
    // The status goes out with the first byte, so that a failure before it can still be a 502.
    const first = await reader.read();
    const head: AnswerHead = { statusCode: 200, headers: [["content-type", contentType]], cookies: [] };
    if (!first.done) return respond(head, passOn(stream, reader, first.value), invocation);
    const { error } = await stream.ended;
    return error ? respondWith(badGateway(error.errorType), invocation) : respond(head, "", invocation);
  }
  const prelude = new PreludeReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        const { error } = await stream.ended;
        if (error) return respondWith(badGateway(error.errorType), invocation);
        // A handler that never wrote: no status to read, nothing to send.
        if (prelude.buffered === 0) return respond(STREAM_DEFAULT_HEAD, "", invocation);
        throw new MalformedPreludeError("the stream ended inside it");
      }
      const split = prelude.push(value);
      if (!split) continue;
      const head = answerHead(split.prelude, STREAM_DEFAULT_TYPE);
      if (!head) throw new MalformedPreludeError("its statusCode is not an HTTP status");
      const headers = responseHeaders(head, invocation);
      if (!headers) throw new MalformedPreludeError("a header is not valid HTTP");
      return new Response(passOn(stream, reader, split.rest), { status: head.statusCode, headers });
    }
  } catch (error) {
    if (!(error instanceof MalformedPreludeError)) throw error;
    void reader.cancel();
    return respondWith(badGateway(), invocation);
  }
}

/** Serves one HTTP request as a function URL invocation. */
async function serve(
  target: FunctionUrlTarget,
  config: FunctionUrlConfig,
  request: Request,
  server: Server<undefined> | undefined,
): Promise<Response> {
  try {
    const streaming = config.invokeMode === "RESPONSE_STREAM";
    const invocation = target.submit(await invocationFor(target, request, server, streaming));
    const result = await invocation.response;
    if (result.stream) return await streamedResponse(result.stream, result.contentType, invocation);
    return bufferedResponse(result, invocation);
  } catch (error) {
    return functionUrlErrorResponse(error);
  }
}

/** Listens on `hostname:config.port` as the function URL of `target`. */
export function listenFunctionUrl(
  target: FunctionUrlTarget,
  config: FunctionUrlConfig,
  hostname: string,
): ListeningServer {
  return listen(
    { fetch: (request, server) => serve(target, config, request, server) },
    {
      hostname,
      port: config.port,
      // Bodies are counted as they arrive (readLimitedBody), so that the refusal is a function
      // URL's 413 rather than Bun's bare one; this only stops a client that never ends.
      maxRequestBodySize: 2 * MAX_EVENT_BYTES,
      portFlag: "--http",
    },
  );
}
