/** A promise with its settle functions, for waiters that core code resolves later. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  readonly settled: boolean;
}

/** Creates a Deferred whose `settled` flag turns true on the first resolve or reject. */
export function deferred<T>(): Deferred<T> {
  const inner = Promise.withResolvers<T>();
  let settled = false;
  return {
    promise: inner.promise,
    get settled() {
      return settled;
    },
    resolve(value: T) {
      if (settled) return;
      settled = true;
      inner.resolve(value);
    },
    reject(reason: unknown) {
      if (settled) return;
      settled = true;
      inner.reject(reason);
    },
  };
}
