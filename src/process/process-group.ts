/**
 * Runtimes and extensions run in their own process group with a watchdog inside it: the watchdog
 * blocks reading a pipe from the simulator and kills the whole group when that pipe closes, so
 * no process outlives the simulator, even when the simulator itself is SIGKILLed.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { ProcessExit } from "../core/environment/launch.ts";
import { ProcessOutput } from "./output.ts";

/** How to start a process group. */
export interface SpawnGroupOptions {
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  onLine: (line: string, stream: "stdout" | "stderr") => void;
}

/** A running process group, led by the command's own process. */
export interface ProcessGroup {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  /** Resolves once stdout and stderr have been read to the end. */
  readonly drained: Promise<void>;
  /** Resolves once every line the group wrote so far has been passed to `onLine`. */
  flushOutput(always?: boolean): Promise<void>;
  /** Sends `signal` to the whole group. */
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal` to the leader (the command's own process) only. */
  signalLeader(signal: NodeJS.Signals): void;
  kill(): void;
  maxMemoryUsedMB(): number | undefined;
}

const live = new Set<number>();
let exitHookInstalled = false;

// The watchdog shell blocks reading a pipe from the simulator. Each line it reads is a flush token,
// echoed as a marker into the group's stdout and stderr (see output.ts); at EOF, i.e. when the
// simulator is gone for any reason, it kills the whole group. Its stdin comes through fd 3 because
// sh gives background jobs /dev/null as their stdin.
const WATCHDOG =
  "exec 3<&0; (while read -r t <&3; do printf '\\036%s\\n' \"$t\"; printf '\\036%s\\n' \"$t\" >&2; done; kill -KILL 0) & " +
  'exec "$0" "$@" </dev/null 3<&-';

/** Resolves a command's executable the way a shell would, or explains why it cannot be run. */
export function resolveExecutable(program: string, cwd: string = process.cwd()): string {
  if (program.includes("/")) {
    const path = isAbsolute(program) ? program : resolve(cwd, program);
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(path);
    } catch {
      throw new Error(`${program}: no such file`);
    }
    if (stats.isDirectory()) throw new Error(`${program}: is a directory, not an executable`);
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`${program}: permission denied (not executable; try chmod +x ${program})`);
    }
    return path;
  }
  const found = Bun.which(program);
  if (!found) throw new Error(`${program}: command not found on PATH`);
  return found;
}

/** Starts `command` as the leader of a new process group with a watchdog; stdout/stderr go to `onLine`. */
export function spawnGroup(options: SpawnGroupOptions): ProcessGroup {
  installExitHook();
  const [program, ...args] = options.command;
  if (!program) throw new Error("empty command");
  const executable = resolveExecutable(program, options.cwd);
  const child = Bun.spawn(["/bin/sh", "-c", WATCHDOG, executable, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  const pid = child.pid;
  live.add(pid);
  const output = new ProcessOutput(child.stdout, child.stderr, child.stdin, options.onLine);
  const exited = child.exited.then(async (code) => {
    live.delete(pid);
    // The leader is gone; take the rest of its group (children it left behind, the watchdog) with it,
    // and report the exit only once the whole group is gone.
    signalGroup(pid, "SIGKILL");
    await groupGone(pid);
    const signal = child.signalCode === null ? null : String(child.signalCode);
    return { code: signal ? null : code, signal };
  });
  return {
    pid,
    exited,
    drained: output.drained,
    flushOutput: (always) => output.flush(always),
    signal: (signal) => signalGroup(pid, signal),
    signalLeader: (signal) => {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    },
    kill: () => signalGroup(pid, "SIGKILL"),
    maxMemoryUsedMB: () => treePeakMemoryMB(pid),
  };
}

/** True while a live (non-zombie) process is in process group `pgid`. */
function groupExists(pgid: number): boolean {
  if (process.platform !== "linux") {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  // Zombies count for kill(-pgid, 0), and reparented ones may never be reaped in a container.
  for (const entry of readdirSync("/proc")) {
    if (entry.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3);
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch {
      // Gone while we looked.
    }
  }
  return false;
}

/** Waits (bounded) until the kernel has removed every member of a SIGKILLed group. */
async function groupGone(pgid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // SIGKILL is already sent: this only observes the kernel reaping the members.
  while (groupExists(pgid) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    signalGroup(pgid, "SIGKILL");
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of live) signalGroup(pgid, "SIGKILL");
  });
}

/** Sum of the peak RSS (VmHWM) of `pid` and its descendants, in MB; undefined off Linux. */
function treePeakMemoryMB(pid: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  let kb = 0;
  const stack = [pid];
  let seen = 0;
  while (stack.length > 0 && seen < 1024) {
    const current = stack.pop() as number;
    seen++;
    try {
      const status = readFileSync(`/proc/${current}/status`, "latin1");
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      if (match) kb += Number(match[1]);
      const children = readFileSync(`/proc/${current}/task/${current}/children`, "latin1").trim();
      if (children) for (const child of children.split(" ")) stack.push(Number(child));
    } catch {
      // The process ended while we looked.
    }
  }
  return kb > 0 ? Math.ceil(kb / 1024) : undefined;
}
