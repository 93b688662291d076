/** Collects changed paths and hands them over once no new change has come for a quiet period. */

/** Calls `flush` with every path added, `quietMs` after the last one (a trailing debounce). */
export class ChangeDebouncer {
  private pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly quietMs: number,
    private readonly flush: (paths: string[]) => void,
  ) {}

  /** Records a change to `path` and restarts the quiet period. */
  add(path: string): void {
    this.pending.add(path);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.quietMs);
  }

  /** Drops what is pending; nothing is flushed after this. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private fire(): void {
    this.timer = undefined;
    const paths = [...this.pending].sort();
    this.pending = new Set();
    if (paths.length > 0) this.flush(paths);
  }
}
