/**
 * What a streaming caller receives, whatever the runtime did: a streamed answer as it comes, or a
 * buffered one as a single piece (reference 6.2: a function that does not stream can still be
 * called so), a function error becoming the stream's error after the bytes sent.
 */
import type { InvocationResult, StreamedResponse } from "./invocation.ts";

/** `result` as a stream of bytes and its end. */
export function answerStream(result: InvocationResult): StreamedResponse {
  if (result.stream) return result.stream;
  const failed = result.functionError !== undefined;
  const payload = result.payload;
  return {
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        if (!failed && payload.byteLength > 0) controller.enqueue(payload);
        controller.close();
      },
    }),
    ended: Promise.resolve(
      failed
        ? {
            bytes: payload.byteLength,
            error: { errorType: result.errorType ?? "Unhandled", details: new TextDecoder().decode(payload) },
          }
        : { bytes: payload.byteLength },
    ),
  };
}
