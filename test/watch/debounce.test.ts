import { describe, expect, test } from "bun:test";
import { ChangeDebouncer } from "../../src/watch/debounce.ts";

/** A debouncer whose flushes are collected; `next()` resolves with the next one. */
function collecting(quietMs: number) {
  const flushes: string[][] = [];
  let waiter: ((paths: string[]) => void) | undefined;
  const debouncer = new ChangeDebouncer(quietMs, (paths) => {
    flushes.push(paths);
    waiter?.(paths);
  });
  const next = () => new Promise<string[]>((resolve) => (waiter = resolve));
  return { debouncer, flushes, next };
}

describe("ChangeDebouncer", () => {
  test("twenty changes in a row -> one flush with each path once, sorted, after the quiet period", async () => {
    const { debouncer, flushes, next } = collecting(30);
    const flushed = next();
    const started = performance.now();
    for (let i = 0; i < 20; i++) debouncer.add(i % 2 === 0 ? "/b.ts" : "/a.ts");
    expect(await flushed).toEqual(["/a.ts", "/b.ts"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(flushes).toHaveLength(1);
  });

  test("a change after a flush starts a new batch", async () => {
    const { debouncer, next } = collecting(5);
    let flushed = next();
    debouncer.add("/one");
    expect(await flushed).toEqual(["/one"]);
    flushed = next();
    debouncer.add("/two");
    expect(await flushed).toEqual(["/two"]);
  });

  test("cancel() drops what is pending", async () => {
    const { debouncer, flushes, next } = collecting(5);
    debouncer.add("/dropped");
    debouncer.cancel();
    const flushed = next();
    debouncer.add("/kept");
    expect(await flushed).toEqual(["/kept"]);
    expect(flushes).toEqual([["/kept"]]);
  });
});
