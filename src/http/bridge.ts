/**
 * Between the sandbox listener's HTTP/1.1 server (http1.ts) and the rest: Lambda's error shapes
 * written to a response, service answers (bytes or a stream), and the Fetch API for the routes
 * that stay Elysia apps (Extensions, Telemetry, Logs, and the front when it shares the port).
 */
import { errorAnswer } from "./errors.ts";
import type { HttpRequest, HttpResponse } from "./http1.ts";

/** Writes a thrown value as Lambda answers it (errors.ts). */
export function sendError(res: HttpResponse, error: unknown): void {
  const answer = errorAnswer(error);
  res.send(answer.status, answer.headers, answer.body);
}

/** Writes an answer whose body is bytes, nothing, or a stream sent as it comes. */
export function sendAnswer(
  res: HttpResponse,
  answer: {
    status: number;
    headers: Record<string, string>;
    body: Uint8Array | ReadableStream<Uint8Array> | null;
  },
): Promise<void> | undefined {
  const { status, headers, body } = answer;
  if (body instanceof ReadableStream) return res.sendStream(status, headers, body);
  res.send(status, headers, body ?? "");
  return undefined;
}

/** A Fetch Request for `req` with `body`, routed by path alone (HTTP/1.0 may send no Host). */
export function fetchRequest(req: HttpRequest, body: Uint8Array | undefined): Request {
  const url = `http://sandbox${req.path}${req.query === "" ? "" : `?${req.query}`}`;
  return new Request(url, {
    method: req.method,
    headers: req.rawHeaders as [string, string][],
    body: body?.byteLength ? body : undefined,
  });
}

/** Writes a Fetch Response (the bridged routes answer small, complete bodies). */
export async function sendFetchResponse(res: HttpResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  const body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  res.send(response.status, headers, body);
}
