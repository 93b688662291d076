/** The `X-Amz-Log-Result` tail: base64 of the last 4 KB of an invocation's log. */

const TAIL_BYTES = 4096;
const encoder = new TextEncoder();

/** Base64 of the last 4 KB of `lines` (joined with newlines), cut on a byte boundary as Lambda does. */
export function logTail(lines: readonly string[]): string {
  const bytes = encoder.encode(lines.length > 0 ? `${lines.join("\n")}\n` : "");
  const tail = bytes.byteLength > TAIL_BYTES ? bytes.subarray(bytes.byteLength - TAIL_BYTES) : bytes;
  return Buffer.from(tail).toString("base64");
}
