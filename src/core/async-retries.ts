/**
 * Asynchronous (`Event`) invocations that fail are retried, as Lambda does (reference 6.1): up to
 * `maximumRetryAttempts` more times (Lambda's default 2), after a delay (about 1 and 2 minutes in
 * Lambda; configurable here so tests need not wait), with the same request id.
 */
import { ConfigurationError } from "./errors.ts";
import type { EventBus } from "./events.ts";
import type { Invocation, InvocationRequest } from "./invocation.ts";

/** Retry policy of asynchronous invocations. */
export interface AsyncRetryPolicy {
  /** Retries after the first attempt, 0-2 (Lambda's `MaximumRetryAttempts`). */
  maximumRetryAttempts: number;
  /** Delay before each retry, in ms; the last one repeats if there are fewer delays than retries. */
  retryDelaysMs: number[];
}

/** Lambda's defaults: two retries, after about one and two minutes. */
const DEFAULT_ASYNC_RETRY_POLICY: AsyncRetryPolicy = {
  maximumRetryAttempts: 2,
  retryDelaysMs: [60_000, 120_000],
};

/** Re-submits failed `Event` invocations; returns a function that cancels pending retries and stops listening. */
export function retryFailedEvents(
  events: EventBus,
  policy: AsyncRetryPolicy,
  submit: (request: InvocationRequest) => void,
): () => void {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const off = events.on("invocationComplete", (invocation: Invocation) => {
    const { request } = invocation;
    if (request.invocationType !== "Event" || invocation.status === "success") return;
    const attempt = request.attempt ?? 1;
    if (attempt > policy.maximumRetryAttempts) return;
    const delays = policy.retryDelaysMs;
    const delay = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
    const timer = setTimeout(() => {
      timers.delete(timer);
      submit({ ...request, requestId: invocation.id, traceId: invocation.traceId, attempt: attempt + 1 });
    }, delay);
    timers.add(timer);
  });
  return () => {
    off();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
}

/** The policy with defaults filled in, or a ConfigurationError saying what Lambda would refuse. */
export function asyncRetryPolicy(partial: Partial<AsyncRetryPolicy> = {}): AsyncRetryPolicy {
  const policy = { ...DEFAULT_ASYNC_RETRY_POLICY, ...partial };
  const { maximumRetryAttempts, retryDelaysMs } = policy;
  if (!Number.isInteger(maximumRetryAttempts) || maximumRetryAttempts < 0 || maximumRetryAttempts > 2) {
    throw new ConfigurationError(
      `async retries (MaximumRetryAttempts) must be 0, 1 or 2 as in Lambda, got ${maximumRetryAttempts}`,
    );
  }
  if (retryDelaysMs.length === 0 || retryDelaysMs.some((d) => !Number.isFinite(d) || d < 0)) {
    throw new ConfigurationError("async retry delays must list one or more delays of 0 ms or more");
  }
  return policy;
}
