/**
 * `node:http` messages to and from the Fetch API, for the listener that must see request trailers
 * (see sandbox-listener.ts): the routes that need no trailers stay Elysia apps behind this bridge.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { LambdaError } from "../core/errors.ts";
import { type ErrorAnswer, errorAnswer } from "./errors.ts";

/** Reads a request body, refusing it past `limitBytes` (413) and rejecting when the client hangs up. */
export function readNodeBody(req: IncomingMessage, limitBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limitBytes) {
        if (!done) reject(new LambdaError(413, "RequestEntityTooLarge", "Request body too large"));
        done = true;
        return;
      }
      if (!done) chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on("close", () => {
      if (done) return;
      done = true;
      reject(new BodyCutError());
    });
  });
}

/** The client closed the connection before the body it announced was complete. */
export class BodyCutError extends Error {
  constructor() {
    super("HTTP request detected as truncated");
  }
}

/** Writes a complete answer, unless the client has gone. */
export function sendNode(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array,
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Writes a thrown value as Lambda answers it (errors.ts). */
export function sendNodeError(res: ServerResponse, error: unknown): void {
  const answer: ErrorAnswer = errorAnswer(error);
  sendNode(res, answer.status, answer.headers, answer.body);
}

/** A Fetch Request for `req` with `body`; routed by path alone (HTTP/1.0 may send no Host). */
export function fetchRequest(req: IncomingMessage, body: Uint8Array | undefined): Request {
  const raw = req.rawHeaders;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i] as string, raw[i + 1] as string]);
  const target = req.url ?? "/";
  const url = target.startsWith("/") ? `http://sandbox${target}` : target;
  return new Request(url, { method: req.method, headers, body: body?.byteLength ? body : undefined });
}

/** Writes a Fetch Response to `res` (the bridged routes answer small, complete bodies). */
export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  const bytes = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  if (bytes && response.headers.get("content-length") === null)
    headers.push("Content-Length", String(bytes.byteLength));
  if (res.destroyed) return;
  res.writeHead(response.status, headers);
  res.end(bytes);
}

/** Writes an answer whose body is bytes, nothing, or a stream sent as it comes (stopped if the client goes). */
export async function sendAnswer(
  res: ServerResponse,
  answer: {
    status: number;
    headers: Record<string, string>;
    body: Uint8Array | ReadableStream<Uint8Array> | null;
  },
): Promise<void> {
  const { status, headers, body } = answer;
  if (!(body instanceof ReadableStream)) {
    sendNode(res, status, headers, body ?? "");
    return;
  }
  if (res.destroyed) {
    await body.cancel();
    return;
  }
  res.writeHead(status, headers);
  const reader = body.getReader();
  const gone = () => void reader.cancel().catch(() => {});
  res.on("close", gone);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off("close", gone);
  }
}
