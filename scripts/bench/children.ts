/**
 * Every child process the bench starts itself, killed on normal exit, on error and on SIGINT/SIGTERM.
 * Children spawned with `detached: true` lead their own process group; the whole group is killed, so
 * anything they started goes too.
 */
import type { Subprocess } from "bun";

const live = new Map<Subprocess, { group: boolean }>();
let hooked = false;

function kill(child: Subprocess, signal: NodeJS.Signals, group: boolean): void {
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

function killAll(): void {
  for (const [child, { group }] of live) kill(child, "SIGKILL", group);
  live.clear();
}

const SIGNAL_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const signal of Object.keys(SIGNAL_EXIT) as (keyof typeof SIGNAL_EXIT)[]) {
    process.on(signal, () => {
      killAll();
      process.exit(SIGNAL_EXIT[signal]);
    });
  }
}

/** Remembers a child until it exits; `group` when it was spawned detached (its own process group). */
export function track<T extends Subprocess>(child: T, options: { group?: boolean } = {}): T {
  installHooks();
  const group = options.group ?? false;
  live.set(child, { group });
  void child.exited.then(() => {
    live.delete(child);
    // The leader is gone: take whatever it left behind in its group with it.
    if (group) kill(child, "SIGKILL", true);
  });
  return child;
}

/**
 * Sends `signal` to the child, waits up to `graceMs` for its exit, then SIGKILLs it (its group when
 * tracked as one); resolves once it is gone, with true when the SIGKILL was needed.
 */
export async function stop(
  child: Subprocess,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 3000,
): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  const group = live.get(child)?.group ?? false;
  kill(child, signal, false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    kill(child, "SIGKILL", group);
    await child.exited;
  }
  return timedOut;
}

/** Stops every tracked child that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live.keys()].map((child) => stop(child, "SIGKILL", 1000)));
}

/** Pids of tracked children still running (should be empty at the end). */
export function survivors(): number[] {
  return [...live.keys()]
    .filter((child) => child.exitCode === null && child.signalCode === null)
    .map((child) => child.pid);
}

/** The first line a child prints on stdout, parsed as JSON; rejects if it exits first. */
export async function firstJsonLine<T>(
  child: Subprocess<"pipe", "pipe", "inherit">,
  what: string,
): Promise<T> {
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} exited before its report`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return JSON.parse(text.slice(0, text.indexOf("\n"))) as T;
}

/** Asks a child to finish with a line on its stdin (it shuts its simulator down); SIGKILL after 5 s. */
export async function endByStdin(child: Subprocess<"pipe", "pipe", "inherit">): Promise<void> {
  try {
    child.stdin.write("stop\n");
    await child.stdin.end();
  } catch {
    // already gone
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 5000);
    }),
  ]);
  clearTimeout(timer);
  if (!exited) await stop(child, "SIGKILL");
}
