/**
 * A FIFO of variable-length text records kept as UTF-8 in one byte buffer that wraps around: the
 * oldest records are overwritten first. The buffer grows by doubling up to its limit, then stays.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FIRST_CAPACITY = 64 * 1024;

/** Text records with a tag each, bounded by count and by bytes, oldest out first, O(1) per record. */
export class RecordRing<Tag> {
  private buffer = new Uint8Array(0);
  private write = 0;
  // One slot per record, oldest at `start`; dropped slots are compacted away now and then.
  private offsets: number[] = [];
  private lengths: number[] = [];
  private tags: Tag[] = [];
  private start = 0;
  private bytes = 0;
  /** A record larger than the whole buffer, kept alone until the next one (its slot's offset is -1). */
  private lone?: string;

  constructor(
    private readonly limit: number,
    private readonly limitBytes: number,
  ) {}

  /** Records kept. */
  get count(): number {
    return this.offsets.length - this.start;
  }

  /** Bytes of the records kept. */
  get byteCount(): number {
    return this.bytes;
  }

  /** Appends a record, dropping the oldest ones it needs room from; the newest is always kept. */
  push(text: string, tag: Tag): void {
    const size = Buffer.byteLength(text);
    if (this.lone !== undefined) this.drop();
    if (size > this.limitBytes) {
      this.clear();
      this.lone = text;
      this.slot(-1, size, tag);
      return;
    }
    const at = this.place(size);
    encoder.encodeInto(text, this.buffer.subarray(at, at + size));
    this.write = at + size;
    this.slot(at, size, tag);
    while (this.count > this.limit) this.drop();
  }

  /** The kept records whose tag passes `wanted`, oldest first. */
  read(wanted: (tag: Tag) => boolean): string[] {
    const texts: string[] = [];
    for (let i = this.start; i < this.offsets.length; i++) {
      if (!wanted(this.tags[i] as Tag)) continue;
      const offset = this.offsets[i] as number;
      const length = this.lengths[i] as number;
      texts.push(
        offset < 0 ? (this.lone as string) : decoder.decode(this.buffer.subarray(offset, offset + length)),
      );
    }
    return texts;
  }

  /** Forgets every record and gives the buffer back. */
  clear(): void {
    this.buffer = new Uint8Array(0);
    this.write = 0;
    this.offsets = [];
    this.lengths = [];
    this.tags = [];
    this.start = 0;
    this.bytes = 0;
    this.lone = undefined;
  }

  /** Where a record of `size` bytes goes; frees that room (and a skipped tail) from the oldest. */
  private place(size: number): number {
    if (this.write + size > this.buffer.length && this.buffer.length < this.limitBytes) {
      // Still on the first lap (never wrapped): the records are [0, write), copied as they are.
      let capacity = Math.max(this.buffer.length * 2, FIRST_CAPACITY);
      while (capacity < this.write + size) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, this.limitBytes));
      grown.set(this.buffer.subarray(0, this.write));
      this.buffer = grown;
    }
    let at = this.write;
    if (at + size > this.buffer.length) {
      // Wrap: records from here to the end are the previous lap's, the oldest kept; all of them go.
      while (this.count > 0 && (this.offsets[this.start] as number) >= at) this.drop();
      at = 0;
    }
    // The oldest records, from the previous lap, start at `at` onwards: drop those in the way.
    while (this.count > 0) {
      const offset = this.offsets[this.start] as number;
      if (offset < at || offset >= at + size) break;
      this.drop();
    }
    return at;
  }

  private slot(offset: number, size: number, tag: Tag): void {
    this.offsets.push(offset);
    this.lengths.push(size);
    this.tags.push(tag);
    this.bytes += size;
  }

  private drop(): void {
    const offset = this.offsets[this.start] as number;
    if (offset < 0) this.lone = undefined;
    this.bytes -= this.lengths[this.start] as number;
    this.start++;
    if (this.start > 4096 && this.start * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.start);
      this.lengths = this.lengths.slice(this.start);
      this.tags = this.tags.slice(this.start);
      this.start = 0;
    }
  }
}
