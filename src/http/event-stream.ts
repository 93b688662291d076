/**
 * AWS event-stream messages as Lambda's streaming invoke uses them (reference 6.3), over the
 * maintained codec: encoding one event, and reading events back out of a byte stream whose
 * pieces need not fall on message boundaries.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";

const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

/** The two events of `InvokeWithResponseStream`. */
export type InvokeStreamEvent = "PayloadChunk" | "InvokeComplete";

/** One event, with the three headers every Lambda stream message carries. */
export function encodeEvent(eventType: InvokeStreamEvent, body: Uint8Array): Uint8Array {
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

/** A decoded event: its `:event-type` (or `:exception-type`) and its payload. */
export interface DecodedEvent {
  type: string;
  body: Uint8Array;
}

/** The events in `bytes`, in order, as whole messages arrive (the codec checks both CRCs). */
export async function* decodeEvents(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<DecodedEvent> {
  let pending: Uint8Array = new Uint8Array(0);
  for await (const piece of bytes) {
    pending = pending.byteLength === 0 ? piece : Buffer.concat([pending, piece]);
    // Each message starts with its total length, big-endian.
    while (pending.byteLength >= 4) {
      const length = new DataView(pending.buffer, pending.byteOffset, 4).getUint32(0);
      if (pending.byteLength < length) break;
      const message = codec.decode(pending.subarray(0, length));
      pending = pending.subarray(length);
      const header = message.headers[":event-type"] ?? message.headers[":exception-type"];
      yield { type: String(header?.value ?? ""), body: message.body };
    }
  }
  if (pending.byteLength > 0)
    throw new Error(`the event stream ended inside a message (${pending.byteLength} bytes)`);
}
