/** The human-readable table. */
import type { InvokeFigures } from "./invoke-load.ts";
import type { MachineInfo } from "./machine.ts";
import type { BinaryStartFigures, StartFigures } from "./startup.ts";

export interface BenchResult {
  machine: MachineInfo;
  invoke: {
    warmup: number;
    count: number;
    payloadBytes: number;
    simulator: InvokeFigures;
    floor: InvokeFigures;
    ratio: number;
    targetRatio: number;
    pass: boolean;
  };
  libraryStart: StartFigures;
  binaryStart: BinaryStartFigures | null;
  binaryStartNote: string | null;
  survivors: number[];
  totalMs: number;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number, digits = 3) => n.toFixed(digits);
const verdict = (pass: boolean) => (pass ? "PASS" : "BELOW");

function table(rows: string[][], align: ("l" | "r")[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, c) =>
        align[c] === "r" ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number),
      )
      .join("   ")
      .trimEnd(),
  );
}

export function renderTable(result: BenchResult): string {
  const { machine, invoke, libraryStart, binaryStart } = result;
  const lines: string[] = [];
  lines.push("lambda-simulator bench");
  lines.push(
    `machine: ${machine.os}, ${machine.arch}, ${machine.cpu}, ${machine.cores} cores, bun ${machine.bun}`,
  );
  lines.push("");
  lines.push(
    `Invoke API, ${int(invoke.count)} sequential invokes after ${int(invoke.warmup)} warm-up, ${invoke.payloadBytes} B JSON, keep-alive`,
  );
  const row = (name: string, f: InvokeFigures) => [
    name,
    int(f.invokesPerSec),
    ms(f.p50Ms),
    ms(f.p99Ms),
    ms(f.meanMs),
    ms(f.maxMs),
  ];
  lines.push(
    ...table(
      [
        ["", "invokes/s", "p50 ms", "p99 ms", "mean ms", "max ms"],
        row("simulator", invoke.simulator),
        row("floor (bare Bun.serve relay)", invoke.floor),
      ],
      ["l", "r", "r", "r", "r", "r"],
    ).map((line) => `  ${line}`),
  );
  lines.push(
    `  throughput ratio simulator/floor: ${invoke.ratio.toFixed(3)}  (target >= ${invoke.targetRatio.toFixed(2)})  ${verdict(invoke.pass)}`,
  );
  lines.push("");
  lines.push("Start-up");
  const startRow = (name: string, f: StartFigures) => [
    name,
    `${f.runs}`,
    ms(f.medianMs, 2),
    ms(f.minMs, 2),
    ms(f.maxMs, 2),
    `<= ${f.targetMs}`,
    verdict(f.pass),
  ];
  const rows = [
    ["", "runs", "median ms", "min ms", "max ms", "target ms", ""],
    startRow("library: Simulator.start({ port: 0 })", libraryStart),
  ];
  if (binaryStart) rows.push(startRow(`binary: ${binaryStart.path} serve --port 0`, binaryStart));
  lines.push(...table(rows, ["l", "r", "r", "r", "r", "r", "l"]).map((line) => `  ${line}`));
  if (binaryStart) {
    lines.push(
      `  binary stop: SIGTERM to exit median ${ms(binaryStart.medianStopMs, 1)} ms, SIGKILL needed ${binaryStart.forcedKills}/${binaryStart.runs}`,
    );
  }
  if (result.binaryStartNote) lines.push(`  binary: ${result.binaryStartNote}`);
  lines.push("");
  lines.push(
    `total ${(result.totalMs / 1000).toFixed(1)} s; leftover child processes: ${result.survivors.length === 0 ? "none" : result.survivors.join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}
