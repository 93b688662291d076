/**
 * The simulator's own memory per idle execution environment. memory-child.ts runs the simulator in
 * a process of its own (maxConcurrency MANY, the sleep runtime) and opens 1 or MANY environments,
 * every one warm, then idles after a full GC; the bench reads that process's VmRSS from
 * /proc/<pid>/status, which counts none of the runtime processes. The cases take turns
 * (1, MANY, MANY, 1, ...) and each figure is the median of its runs; per environment is
 * (RSS with MANY - RSS with 1) / (MANY - 1).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { endByStdin, firstJsonLine, track } from "./children.ts";
import { progress } from "./progress.ts";
import { executable } from "./sim-children.ts";
import { median, round } from "./stats.ts";

const child = resolve(import.meta.dir, "memory-child.ts");
const MB = 1024 * 1024;
/** Readings of VmRSS per run, this far apart; the run's figure is their median. */
const READINGS = 3;
const READING_GAP_MS = 50;

export interface MemoryRun {
  environments: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface MemoryFigures {
  maxConcurrency: number;
  runs: MemoryRun[];
  /** Medians of the runs with one environment and with `maxConcurrency`. */
  oneMb: number;
  manyMb: number;
  heapOneMb: number;
  heapManyMb: number;
  perEnvironmentMb: number;
  /** Where the figure came from: /proc VmRSS, or the child's own process.memoryUsage().rss. */
  source: "VmRSS" | "memoryUsage";
  targetPerEnvironmentMb: number;
  pass: boolean;
}

function vmRssBytes(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

interface ChildReport {
  environments: number;
  runtimePids: number[];
  rssBytes: number;
  heapUsedBytes: number;
}

async function measure(
  environments: number,
  max: number,
  pids: Set<number>,
): Promise<MemoryRun & { procfs: boolean }> {
  const proc = track(
    Bun.spawn([process.execPath, executable(child), String(environments), String(max)], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  try {
    const report = await firstJsonLine<ChildReport>(proc, `memory-child.ts ${environments} ${max}`);
    for (const pid of report.runtimePids) pids.add(pid);
    if (report.environments !== environments) {
      throw new Error(`memory-child.ts: ${report.environments} environments, expected ${environments}`);
    }
    const readings: number[] = [];
    for (let i = 0; i < READINGS; i++) {
      if (i > 0) await Bun.sleep(READING_GAP_MS);
      const rss = vmRssBytes(proc.pid);
      if (rss !== undefined) readings.push(rss);
    }
    const procfs = readings.length > 0;
    return {
      environments,
      rssMb: round((procfs ? median(readings) : report.rssBytes) / MB, 1),
      heapUsedMb: round(report.heapUsedBytes / MB, 1),
      procfs,
    };
  } finally {
    await endByStdin(proc);
  }
}

/** `runs` runs of each case, taking turns; `pids` collects the runtimes the children started. */
export async function runMemory(
  many: number,
  runs: number,
  targetPerEnvironmentMb: number,
  pids: Set<number>,
): Promise<MemoryFigures> {
  const results: (MemoryRun & { procfs: boolean })[] = [];
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? [1, many] : [many, 1];
    for (const environments of order) {
      const result = await measure(environments, many, pids);
      progress(
        `memory: ${environments} idle environment(s): simulator RSS ${result.rssMb} MB, heap ${result.heapUsedMb} MB`,
      );
      results.push(result);
    }
  }
  const of = (environments: number, key: "rssMb" | "heapUsedMb") =>
    median(results.filter((r) => r.environments === environments).map((r) => r[key]));
  const oneMb = of(1, "rssMb");
  const manyMb = of(many, "rssMb");
  const perEnvironmentMb = (manyMb - oneMb) / (many - 1);
  return {
    maxConcurrency: many,
    runs: results.map(({ procfs: _, ...run }) => run),
    oneMb: round(oneMb, 1),
    manyMb: round(manyMb, 1),
    heapOneMb: round(of(1, "heapUsedMb"), 1),
    heapManyMb: round(of(many, "heapUsedMb"), 1),
    perEnvironmentMb: round(perEnvironmentMb, 2),
    source: results.every((r) => r.procfs) ? "VmRSS" : "memoryUsage",
    targetPerEnvironmentMb,
    pass: perEnvironmentMb <= targetPerEnvironmentMb,
  };
}
