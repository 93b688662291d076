/**
 * `InvokeWithResponseStream` (reference 6.2, 6.3): the answer is a sequence of AWS event-stream
 * messages, `PayloadChunk`s with the function's bytes then one `InvokeComplete`, encoded with the
 * maintained codec. A streamed answer is passed on as it arrives; a buffered one arrives as one
 * chunk. Errors after the first byte live inside the stream, in `InvokeComplete` (HTTP 200).
 */
import type { StreamedResponse } from "../core/invocation.ts";
import { logTail } from "../core/log-tail.ts";
import { answerStream } from "../core/streamed-answer.ts";
import { encodeEvent } from "./event-stream.ts";
import { H } from "./headers.ts";
import {
  dryRunAnswer,
  type InvokeTarget,
  readInvokeCall,
  type ServiceAnswer,
  type ServiceRequest,
  serviceRoute,
} from "./invoke.ts";

type InvokeComplete = { ErrorCode?: string; ErrorDetails?: string; LogResult?: string };

function complete(fields: InvokeComplete): Uint8Array {
  return encodeEvent("InvokeComplete", new TextEncoder().encode(JSON.stringify(fields)));
}

/** The event stream of a streamed answer: a PayloadChunk per piece as it comes, then InvokeComplete. */
function eventStream(
  stream: StreamedResponse,
  tail: () => Promise<string> | undefined,
): ReadableStream<Uint8Array> {
  const reader = stream.body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (!done) {
        controller.enqueue(encodeEvent("PayloadChunk", value));
        return;
      }
      const { error } = await stream.ended;
      const fields: InvokeComplete = error ? { ErrorCode: error.errorType, ErrorDetails: error.details } : {};
      const log = tail();
      if (log) fields.LogResult = await log;
      controller.enqueue(complete(fields));
      controller.close();
    },
    // The caller went away: the function runs on (Lambda bills it), its bytes are dropped.
    cancel: () => reader.cancel(),
  });
}

/** `InvokeWithResponseStream`: an event stream of the function's answer as it comes. */
export async function invokeWithResponseStream(
  target: InvokeTarget,
  request: ServiceRequest,
  functionName: string,
): Promise<ServiceAnswer> {
  // No Event type here: Lambda streams only synchronous invocations.
  const call = await readInvokeCall(target, request, functionName, ["RequestResponse", "DryRun"]);
  if (call.invocationType === "DryRun") return dryRunAnswer(call.executedVersion);
  const invocation = target.submit({ ...call.request, streamResponse: true });
  const result = await invocation.response;
  const headers = {
    "Content-Type": result.contentType,
    [H.executedVersion]: call.executedVersion,
    [H.amznRequestId]: invocation.id,
  };
  const tail = () =>
    call.logType === "Tail" ? invocation.completion.then(() => logTail(invocation.logs)) : undefined;
  return { status: 200, headers, body: eventStream(answerStream(result), tail) };
}

/** The path of `InvokeWithResponseStream`, with `:functionName`. */
export const INVOKE_STREAM_PATH = "/2021-11-15/functions/:functionName/response-streaming-invocations";

/** Routes of `InvokeWithResponseStream`. */
export function invokeStreamApi(target: InvokeTarget) {
  return serviceRoute("invoke-stream-api", INVOKE_STREAM_PATH, target, invokeWithResponseStream);
}
