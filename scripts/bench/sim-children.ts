/** The processes a Simulator started (runtime and external extensions), to check they are gone after shutdown. */
import { accessSync, chmodSync, constants, readFileSync, statSync } from "node:fs";
import type { Simulator } from "../../src/index.ts";

/** Pids of the simulator's runtime and registered external extensions, now. */
export function simulatorPids(sim: Simulator): number[] {
  const pids = sim.registeredExtensions().flatMap((e) => (e.pid === undefined ? [] : [e.pid]));
  const runtime = sim.runtimePid();
  if (runtime !== undefined) pids.push(runtime);
  return pids;
}

/** Those of `pids` that still run (zombies count as gone). */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      return stat.charAt(stat.lastIndexOf(")") + 2) !== "Z";
    } catch {
      return process.platform !== "linux";
    }
  });
}

/** Returns `path` after making it executable if it is not (a checkout may have lost the mode bit). */
export function executable(path: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    chmodSync(path, statSync(path).mode | 0o111);
  }
  return path;
}

/** A process's resident set (VmRSS of /proc/<pid>/status) in bytes; 0 when it cannot be read. */
export function vmRssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"))?.[1];
  return Number(kb ?? 0) * 1024;
}
