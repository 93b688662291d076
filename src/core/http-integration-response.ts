/**
 * HTTP integration responses (reference 1.4): a streamed answer of content type
 * `application/vnd.awslambda.http-integration-response` is a JSON prelude
 * `{"statusCode","headers","cookies"}`, 8 NUL bytes, then the body. Only function URLs read it;
 * the Invoke API passes the bytes through.
 */

/** The content type that announces a prelude (what the Node RIC's `HttpResponseStream.from` sets). */
export const HTTP_INTEGRATION_RESPONSE_TYPE = "application/vnd.awslambda.http-integration-response";

const DELIMITER_BYTES = 8;
const decoder = new TextDecoder();

/** The prelude did not parse: the answer makes no HTTP response. */
export class MalformedPreludeError extends Error {
  constructor(reason: string) {
    super(`malformed HTTP integration response prelude: ${reason}`);
    this.name = "MalformedPreludeError";
  }
}

/** True when a streamed answer of `contentType` starts with a prelude. */
export function hasPrelude(contentType: string): boolean {
  return (contentType.split(";")[0] as string).trim().toLowerCase() === HTTP_INTEGRATION_RESPONSE_TYPE;
}

/** A prelude found, and the body bytes that came in the same chunks after it. */
export interface PreludeSplit {
  prelude: Record<string, unknown>;
  rest: Uint8Array;
}

/**
 * Reads the prelude off the front of the stream, however the bytes are chunked. The first NUL ends
 * the JSON (JSON text cannot contain one raw), and the 8 NULs that start there are the delimiter.
 */
export class PreludeReader {
  private pending: Uint8Array = new Uint8Array();

  /** Adds `chunk`; returns the prelude once the delimiter has arrived. Throws MalformedPreludeError. */
  push(chunk: Uint8Array): PreludeSplit | undefined {
    const bytes = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = bytes.indexOf(0);
    if (end === -1 || bytes.byteLength < end + DELIMITER_BYTES) {
      this.pending = bytes;
      return undefined;
    }
    for (let i = end; i < end + DELIMITER_BYTES; i++) {
      if (bytes[i] !== 0) throw new MalformedPreludeError("the JSON is not followed by 8 NUL bytes");
    }
    let prelude: unknown;
    try {
      prelude = JSON.parse(decoder.decode(bytes.subarray(0, end)));
    } catch {
      throw new MalformedPreludeError("it is not JSON");
    }
    if (prelude === null || typeof prelude !== "object" || Array.isArray(prelude)) {
      throw new MalformedPreludeError("it is not a JSON object");
    }
    this.pending = new Uint8Array();
    return { prelude: prelude as Record<string, unknown>, rest: bytes.subarray(end + DELIMITER_BYTES) };
  }

  /** Bytes received that did not yet make a prelude. */
  get buffered(): number {
    return this.pending.byteLength;
  }
}
