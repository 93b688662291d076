/** Every child process the bench starts itself, killed on normal exit, on error and on SIGINT/SIGTERM. */
import type { Subprocess } from "bun";

const live = new Set<Subprocess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Remembers a child until it exits. */
export function track<T extends Subprocess>(child: T): T {
  installHooks();
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

/** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs; resolves once the child is gone. */
export async function stop(
  child: Subprocess,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 3000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill("SIGKILL");
    await child.exited;
  }
}

/** Stops every tracked child that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stop(child, "SIGKILL", 1000)));
}

/** Pids of tracked children still running (should be empty at the end). */
export function survivors(): number[] {
  return [...live].filter((child) => child.exitCode === null && child.signalCode === null).map((c) => c.pid);
}
