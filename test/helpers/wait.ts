/**
 * Waiting for the outside world. Prefer events (stream output, process exit, simulator events);
 * this is only for conditions nothing announces, such as "the OS no longer lists these pids".
 */

/** Resolves once `predicate` holds, re-checking it every 20 ms; rejects after `timeoutMs`. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = "the condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
