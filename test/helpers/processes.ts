/** Process inspection for tests: is anything of a process group still alive? */
import { expect } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";

/** Pids of every live process whose process group is `pgid` (Linux /proc). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      // Fields after the parenthesised command: state, ppid, pgrp, ...
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") members.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return members;
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** True when `pid` is stopped (state T in /proc/PID/stat). */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state === "T" || state === "t";
  } catch {
    return false;
  }
}

/**
 * Live members of process group `pgid`, re-reading /proc every `pollMs` for up to `graceMs` while
 * any is left. The simulator reports a process group's exit only once /proc shows no live member,
 * so after shutdown() this returns at the first read; the grace covers checks made while a reset is
 * still killing a group the test cannot await. This observes the kernel (which offers no event for
 * the death of a non-child); it synchronises nothing of the simulator's. A process that was never
 * killed is still listed.
 */
export async function survivors(pgid: number, graceMs = 1000, pollMs = 10): Promise<number[]> {
  const until = performance.now() + graceMs;
  let members = groupMembers(pgid);
  while (members.length > 0 && performance.now() < until) {
    await Bun.sleep(pollMs);
    members = groupMembers(pgid);
  }
  return members;
}

/** Asserts that no process of the group `pgid` is left after `graceMs` (see survivors). */
export async function expectGroupGone(pgid: number, graceMs = 5_000): Promise<void> {
  expect({ pgid, members: await survivors(pgid, graceMs, 5) }).toEqual({ pgid, members: [] });
}

/** Live processes started with one of these log streams in their environment, whatever their group. */
export function processesOf(logStreams: string[]): number[] {
  const markers = logStreams.map((stream) => `\0AWS_LAMBDA_LOG_STREAM_NAME=${stream}\0`);
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = `\0${readFileSync(`/proc/${entry}/environ`, "latin1")}`;
      if (markers.some((marker) => environ.includes(marker))) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}
