/** Identifier formats Lambda uses: request ids, trace ids, log stream names. */

/** A lowercase UUID v4, as Lambda uses for request ids and extension identifiers. */
export function newRequestId(): string {
  return crypto.randomUUID();
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of `bytes` random bytes. */
export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += HEX[b];
  return out;
}

/** An X-Ray trace header in Lambda's format: `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`. */
export function newTraceId(nowMs: number = Date.now()): string {
  const epoch = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, "0");
  return `Root=1-${epoch}-${randomHex(12)};Parent=${randomHex(8)};Sampled=0`;
}

/** True when `value` is a UUID in canonical 8-4-4-4-12 form (any case). */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
