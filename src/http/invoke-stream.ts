/**
 * `InvokeWithResponseStream` (reference 6.2, 6.3): the answer is a sequence of AWS event-stream
 * messages, `PayloadChunk`s with the function's bytes then one `InvokeComplete`, encoded with the
 * maintained codec. A function that answers buffered (the only kind the runtime side has so far)
 * arrives as one chunk; its error, as Lambda reports errors inside a stream, in `InvokeComplete`.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { logTail } from "../core/log-tail.ts";
import { H } from "./headers.ts";
import { dryRunResponse, type InvokeTarget, readInvokeCall, serviceRoute } from "./invoke.ts";

const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

/** One event of the stream, with the three headers every Lambda stream message carries. */
function event(eventType: "PayloadChunk" | "InvokeComplete", body: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ":event-type": { type: "string", value: eventType },
      ":content-type": {
        type: "string",
        value: eventType === "PayloadChunk" ? "application/octet-stream" : "application/json",
      },
      ":message-type": { type: "string", value: "event" },
    },
    body,
  });
}

async function invokeWithResponseStream(
  target: InvokeTarget,
  request: Request,
  functionName: string,
): Promise<Response> {
  // No Event type here: Lambda streams only synchronous invocations.
  const call = await readInvokeCall(target, request, functionName, ["RequestResponse", "DryRun"]);
  if (call.invocationType === "DryRun") return dryRunResponse(call.executedVersion);
  const invocation = target.submit(call.request);
  const result = await invocation.response;
  const complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } = {};
  const messages: Uint8Array[] = [];
  if (result.functionError) {
    complete.ErrorCode = result.errorType ?? "Unhandled";
    complete.ErrorDetails = new TextDecoder().decode(result.payload);
  } else if (result.payload.byteLength > 0) {
    messages.push(event("PayloadChunk", result.payload));
  }
  if (call.logType === "Tail") {
    await invocation.completion;
    complete.LogResult = logTail(invocation.logs);
  }
  messages.push(event("InvokeComplete", new TextEncoder().encode(JSON.stringify(complete))));
  return new Response(Buffer.concat(messages), {
    status: 200,
    headers: {
      "Content-Type": result.contentType,
      [H.executedVersion]: call.executedVersion,
      [H.amznRequestId]: invocation.id,
    },
  });
}

/** Routes of `InvokeWithResponseStream`. */
export function invokeStreamApi(target: InvokeTarget) {
  return serviceRoute(
    "invoke-stream-api",
    "/2021-11-15/functions/:functionName/response-streaming-invocations",
    (request, name) => invokeWithResponseStream(target, request, name),
  );
}
