/**
 * Freezing the execution environment (reference 4.5): SIGSTOP/SIGCONT of every process of the
 * environment and all their descendants, each verified in /proc (or `ps` on macOS) before the
 * environment is reported frozen or thawed.
 */
import { readFileSync } from "node:fs";

/** Process states as /proc/PID/stat and `ps -o state=` report them (first letter). */
function processState(pid: number): string | undefined {
  if (process.platform === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      return stat.charAt(stat.lastIndexOf(")") + 2);
    } catch {
      return undefined;
    }
  }
  const result = Bun.spawnSync(["ps", "-o", "state=", "-p", String(pid)]);
  const state = result.stdout.toString().trim();
  return state ? state.charAt(0) : undefined;
}

function childrenOf(pid: number): number[] {
  if (process.platform === "linux") {
    try {
      const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1").trim();
      return text ? text.split(" ").map(Number) : [];
    } catch {
      return [];
    }
  }
  const result = Bun.spawnSync(["pgrep", "-P", String(pid)]);
  return result.stdout.toString().split("\n").filter(Boolean).map(Number);
}

function isWatchdog(pid: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    // The watchdog is a fork of the wrapper shell, so it keeps the wrapper's command line.
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("while read -r t <&3;");
  } catch {
    return false;
  }
}

/**
 * Every live pid of the trees rooted at `roots`, minus the watchdogs: a stopped watchdog could not
 * clean up after a simulator that dies while the environment is frozen.
 */
function processTree(roots: readonly number[]): number[] {
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0 && seen.size < 4096) {
    const pid = stack.pop() as number;
    if (seen.has(pid) || processState(pid) === undefined) continue;
    seen.add(pid);
    stack.push(...childrenOf(pid));
  }
  return [...seen].filter((pid) => !isWatchdog(pid));
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Exited meanwhile.
  }
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** Waits until every live pid satisfies `ok` (re-reading the OS state), or throws after `timeoutMs`. */
async function verify(
  pids: readonly number[],
  ok: (state: string) => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let pending = pids.filter((pid) => {
    const state = processState(pid);
    return state !== undefined && state !== "Z" && !ok(state);
  });
  while (pending.length > 0) {
    if (performance.now() > deadline)
      throw new Error(`processes ${pending.join(", ")} did not become ${what}`);
    await tick();
    pending = pending.filter((pid) => {
      const state = processState(pid);
      return state !== undefined && state !== "Z" && !ok(state);
    });
  }
}

/** Stops every process of the trees; resolves with the pids stopped once each shows state T. */
async function stopTrees(roots: readonly number[], timeoutMs = 2_000): Promise<number[]> {
  const pids = processTree(roots);
  for (const pid of pids) signal(pid, "SIGSTOP");
  // A process may fork between the walk and the stop: walk again and stop the newcomers.
  const late = processTree(roots).filter((pid) => !pids.includes(pid));
  for (const pid of late) signal(pid, "SIGSTOP");
  const all = [...pids, ...late];
  await verify(all, (state) => state === "T" || state === "t", "stopped", timeoutMs);
  return all;
}

/** Continues `pids` and resolves once none of them is still stopped. */
async function continuePids(pids: readonly number[], timeoutMs = 2_000): Promise<void> {
  for (const pid of pids) signal(pid, "SIGCONT");
  await verify(pids, (state) => state !== "T" && state !== "t", "running", timeoutMs);
}

/** True when `pid` is stopped (state T). */
export function isStopped(pid: number): boolean {
  const state = processState(pid);
  return state === "T" || state === "t";
}

/** The process-layer freezer: remembers what it stopped so thaw continues exactly those. */
export function processFreezer(): {
  freeze(roots: readonly number[]): Promise<number[]>;
  thaw(): Promise<void>;
} {
  let stopped: number[] = [];
  return {
    async freeze(roots) {
      try {
        stopped = await stopTrees(roots);
      } catch (error) {
        // Never leave half a tree stopped.
        await continuePids(processTree(roots));
        throw error;
      }
      return stopped;
    },
    async thaw() {
      const pids = stopped;
      stopped = [];
      await continuePids(pids);
    },
  };
}
