/**
 * The shutdown phase (reference 4.8): budgets, SIGTERM to the runtime only when extensions exist,
 * SHUTDOWN events to subscribed external extensions, SIGKILL for whatever outlives the budget.
 */
import type { Extension, ShutdownReason } from "../extensions.ts";

/** A process the simulator started (runtime or external extension). */
export interface ProcessHandle {
  readonly pid: number;
  readonly exited: Promise<unknown>;
  /** SIGTERM to the process itself. */
  terminate(): void;
  /** SIGKILL to its whole process group. */
  kill(): void;
  /** Peak resident memory of its process tree in MB, when the platform can tell. */
  maxMemoryUsedMB(): number | undefined;
}

/** Everything the shutdown phase acts on. */
export interface ShutdownPlan {
  reason: ShutdownReason;
  runtime?: ProcessHandle;
  /** Registered extensions (internal and external). */
  extensions: readonly Extension[];
  /** Launched external extension processes by executable name (registered or not). */
  processes: ReadonlyMap<string, ProcessHandle>;
  /** Replaces Lambda's budget (debugging aid: `--shutdown-timeout`). */
  budgetOverrideMs?: number;
}

/** The whole phase's budget and the runtime's share of it, in ms. */
function shutdownBudget(
  externalCount: number,
  internalCount: number,
  overrideMs?: number,
): { totalMs: number; runtimeMs: number } {
  const lambdaTotal = externalCount + internalCount === 0 ? 0 : externalCount > 0 ? 2000 : 500;
  const totalMs = overrideMs ?? lambdaTotal;
  const lambdaRuntime = externalCount > 0 ? (internalCount > 0 ? 500 : 300) : 500;
  return { totalMs, runtimeMs: Math.min(totalMs, lambdaRuntime) };
}

/** Resolves true if `process` exits within `ms`, false otherwise. */
async function exitsWithin(process: ProcessHandle, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([process.exited.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the shutdown phase; resolves when every process of the environment has exited. */
export async function runShutdown(plan: ShutdownPlan): Promise<{ totalMs: number }> {
  const external = plan.extensions.filter((e) => e.external);
  const internal = plan.extensions.filter((e) => !e.external);
  const { totalMs, runtimeMs } = shutdownBudget(external.length, internal.length, plan.budgetOverrideMs);
  const started = performance.now();
  const deadlineMs = Date.now() + totalMs;
  const { runtime } = plan;
  if (runtime) {
    if (plan.extensions.length === 0) {
      runtime.kill();
    } else {
      runtime.terminate();
      if (!(await exitsWithin(runtime, runtimeMs))) runtime.kill();
    }
    await runtime.exited;
  }
  const waiting: ProcessHandle[] = [];
  for (const [name, process] of plan.processes) {
    const extension = external.find((e) => e.name === name);
    const alive = extension && extension.state !== "Exited";
    if (alive && extension.wants("SHUTDOWN")) {
      extension.deliver({ eventType: "SHUTDOWN", shutdownReason: plan.reason, deadlineMs });
      waiting.push(process);
    } else {
      process.kill();
    }
  }
  const remaining = totalMs - (performance.now() - started);
  await Promise.all(
    waiting.map(async (process) => {
      if (!(await exitsWithin(process, remaining))) process.kill();
    }),
  );
  await Promise.all([...plan.processes.values()].map((p) => p.exited));
  return { totalMs };
}
