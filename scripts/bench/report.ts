/** The human-readable table. */
import type { FreezeFigures, LatencyFigures } from "./freeze-thaw.ts";
import type { InvokeFigures } from "./invoke-load.ts";
import type { LoadFigures } from "./load.ts";
import type { MachineInfo } from "./machine.ts";
import type { MemoryFigures } from "./memory.ts";
import type { ReloadFigures } from "./reload.ts";
import type { ScalingFigures } from "./scaling.ts";
import type { SoakFigures, SoakRun } from "./soak.ts";
import type { BinaryStartFigures, StartFigures, StartPair } from "./startup.ts";
import type { StreamingFigures } from "./streaming.ts";
import type { TelemetryFigures } from "./telemetry.ts";

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
  freeze: FreezeFigures;
  telemetry: TelemetryFigures;
  scaling: ScalingFigures;
  load: LoadFigures;
  memory: MemoryFigures;
  streaming: StreamingFigures;
  reload: ReloadFigures;
  soak: SoakFigures;
  survivors: number[];
  totalMs: number;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number, digits = 3) => n.toFixed(digits);
const verdict = (pass: boolean) => (pass ? "PASS" : "BELOW");
const signed = (n: number) => `${n >= 0 ? "+" : ""}${ms(n)}`;

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
  lines.push(
    ...table(
      [
        ["", "runs", "median ms", "min ms", "max ms", "target ms", ""],
        startRow("library: Simulator.start({ port: 0 })", libraryStart),
      ],
      ["l", "r", "r", "r", "r", "r", "l"],
    ).map((line) => `  ${line}`),
  );
  if (binaryStart) {
    lines.push(`  binary ${binaryStart.path}, each beside its floor (runs interleaved):`);
    const pairs = [binaryStart.ready, binaryStart.help, binaryStart.firstInvoke].filter(
      (p): p is StartPair => p !== null,
    );
    const pairRows = pairs.flatMap((p) => [
      [
        p.what,
        `${p.binary.runs}`,
        ms(p.binary.medianMs, 2),
        ms(p.binary.minMs, 2),
        ms(p.binary.maxMs, 2),
        p.target,
        `${ms(p.targetMs, 1)}`,
        verdict(p.pass),
      ],
      [
        `  floor: ${p.floorWhat}`,
        `${p.floor.runs}`,
        ms(p.floor.medianMs, 2),
        ms(p.floor.minMs, 2),
        ms(p.floor.maxMs, 2),
        "",
        "",
        "",
      ],
    ]);
    lines.push(
      ...table(
        [["", "runs", "median ms", "min ms", "max ms", "target", "= ms", ""], ...pairRows],
        ["l", "r", "r", "r", "r", "l", "r", "l"],
      ).map((line) => `    ${line}`),
    );
    if (binaryStart.firstInvokeNote) lines.push(`    ${binaryStart.firstInvokeNote}`);
    lines.push(
      `  binary stop: SIGTERM to exit median ${ms(binaryStart.medianStopMs, 1)} ms, SIGKILL needed ${binaryStart.forcedKills}/${binaryStart.ready.binary.runs}`,
    );
  }
  if (result.binaryStartNote) lines.push(`  binary: ${result.binaryStartNote}`);
  lines.push("");
  lines.push(...freezeSection(result.freeze));
  lines.push("");
  lines.push(...telemetrySection(result.telemetry));
  lines.push("");
  lines.push(...scalingSection(result.scaling));
  lines.push("");
  lines.push(...loadSection(result.load));
  lines.push("");
  lines.push(...memorySection(result.memory));
  lines.push("");
  lines.push(...streamingSection(result.streaming));
  lines.push("");
  lines.push(...reloadSection(result.reload));
  lines.push("");
  lines.push(...soakSection(result.soak));
  lines.push("");
  lines.push(
    `total ${(result.totalMs / 1000).toFixed(1)} s; leftover child processes: ${result.survivors.length === 0 ? "none" : result.survivors.join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

const latencyRow = (name: string, f: LatencyFigures) => [
  name,
  ms(f.p50Ms),
  ms(f.p99Ms),
  ms(f.meanMs),
  ms(f.maxMs),
];

function freezeSection(freeze: FreezeFigures): string[] {
  const lines = [
    `Freeze + thaw, runtime + 2 extensions (${freeze.extensions.join(", ")}), ${int(freeze.count)} sequential invokes after ${int(freeze.warmup)} warm-up,`,
    "  each sim.invoke() + waitForInvocationComplete(), then freeze; thaw before the next dispatch",
  ];
  lines.push(
    ...table(
      [
        ["", "p50 ms", "p99 ms", "mean ms", "max ms"],
        latencyRow("FreezeMode.Process", freeze.frozen),
        latencyRow("freezing off", freeze.unfrozen),
      ],
      ["l", "r", "r", "r", "r"],
    ).map((line) => `  ${line}`),
  );
  lines.push(
    `  added by freeze + thaw: p50 ${signed(freeze.addedP50Ms)} ms (target <= ${ms(freeze.targetAddedP50Ms, 1)})  ${verdict(freeze.pass)};  p99 ${signed(freeze.addedP99Ms)} ms`,
  );
  lines.push(
    `  freezes: ${int(freeze.freezes)} (thaws ${int(freeze.thaws)}) over ${int(freeze.count)} invokes; freezing off: ${freeze.unfrozenFreezes}`,
  );
  return lines;
}

function telemetrySection(t: TelemetryFigures): string[] {
  const { buffering } = t;
  const lines = [
    `Telemetry API, ${int(t.lines)} log lines (~${t.lineBytes} B) in one invoke, one HTTP subscriber (platform + function,`,
    `  maxItems ${int(buffering.maxItems)}, maxBytes ${int(buffering.maxBytes)}, timeoutMs ${buffering.timeoutMs}; queue limit ${int(t.queueLimitBytes / 1048576)} MiB) holding the INVOKE until it has them all`,
  ];
  lines.push(
    ...table(
      [
        ["run", "response ms", "all received ms", "complete ms", "records", "dropped", "records/s"],
        ...t.runs.map((r, i) => [
          `${i + 1}`,
          ms(r.responseMs, 1),
          ms(r.allReceivedMs, 1),
          ms(r.completeMs, 1),
          int(r.received),
          int(r.dropped),
          int(r.recordsPerSec),
        ]),
      ],
      ["l", "r", "r", "r", "r", "r", "r"],
    ).map((line) => `  ${line}`),
  );
  lines.push(
    `  median: all ${int(t.lines)} received ${ms(t.allReceivedMs, 1)} ms after invoke start, ${int(t.recordsPerSec)} records/s; every record delivered: ${t.allDelivered ? "yes" : "NO"}`,
  );
  const { small } = t;
  lines.push(
    `  one-line invokes, ${int(small.count)} each after ${int(small.warmup)} warm-up (response = sim.invoke resolves; cycle = invocation complete)`,
  );
  const row = (name: string, f: TelemetryFigures["small"]["subscribed"]) => [
    name,
    ms(f.response.p50Ms),
    ms(f.response.p99Ms),
    ms(f.cycle.p50Ms),
    ms(f.cycle.p99Ms),
  ];
  lines.push(
    ...table(
      [
        ["", "response p50", "response p99", "cycle p50", "cycle p99"],
        row("extension subscribed", small.subscribed),
        row("extension, no subscription", small.unsubscribed),
        row("runtime only", small.runtimeOnly),
      ],
      ["l", "r", "r", "r", "r"],
    ).map((line) => `    ${line}`),
  );
  lines.push(
    `  added by the subscription: response p50 ${signed(small.addedResponseP50Ms)} ms; cycle p50 ${signed(small.addedCycleP50Ms)} ms (the extension waits for its telemetry, flushed after timeoutMs)`,
  );
  return lines;
}

function scalingSection(s: ScalingFigures): string[] {
  const lines = [
    `Scaling, a handler that waits ${s.sleepMs} ms, ${s.callers} concurrent callers over the Invoke API (keep-alive), ${int(s.windowMs)} ms per level,`,
    `  after warm-up rounds until all N environments exist; ideal = min(N, ${s.callers}) x ${int(1000 / s.sleepMs)}/s`,
  ];
  lines.push(
    ...table(
      [
        [
          "maxConcurrency",
          "envs",
          "invokes",
          "invokes/s",
          "ideal/s",
          "ratio",
          "p50 ms",
          "p99 ms",
          "target",
          "",
        ],
        ...s.levels.map((l) => [
          `${l.maxConcurrency}`,
          `${l.environments}`,
          int(l.invokes),
          l.invokesPerSec.toFixed(1),
          l.idealPerSec.toFixed(1),
          l.ratio.toFixed(3),
          ms(l.p50Ms, 2),
          ms(l.p99Ms, 2),
          `>= ${s.targetRatio.toFixed(2)}`,
          verdict(l.pass),
        ]),
      ],
      ["r", "r", "r", "r", "r", "r", "r", "r", "l", "l"],
    ).map((line) => `  ${line}`),
  );
  return lines;
}

function loadSection(l: LoadFigures): string[] {
  const lines = [
    `Load, a runtime that answers at once, ${int(l.invokesPerCaller)} invokes per caller after ${l.warmupPerCaller} warm-up, over the Invoke API (keep-alive),`,
    "  callers in a process of their own; out of order = each environment's starts on the bus / events as its",
    "  runtime counted them, against the order the simulator received the invokes; CPU in cores over the timed phase",
  ];
  lines.push(
    ...table(
      [
        [
          "maxConcurrency",
          "envs",
          "callers",
          "sent",
          "answered",
          "lost",
          "errored",
          "out of order",
          "invokes/s",
          "p50 ms",
          "p99 ms",
          "max ms",
          "CPU callers",
          "sim",
          "runtimes",
        ],
        ...l.cases.map((c) => [
          `${c.maxConcurrency}`,
          `${c.environments}`,
          `${c.callers}`,
          int(c.sent),
          int(c.answered),
          int(c.lost),
          int(c.errored),
          `${c.orderViolations} / ${c.runtimeOrderViolations}`,
          int(c.invokesPerSec),
          ms(c.p50Ms, 2),
          ms(c.p99Ms, 2),
          ms(c.maxMs, 2),
          ms(c.clientCores, 2),
          ms(c.simulatorCores, 2),
          c.runtimeCores === null ? "?" : ms(c.runtimeCores, 2),
        ]),
      ],
      ["r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    ).map((line) => `  ${line}`),
  );
  for (const c of l.cases) {
    const bus =
      c.duplicateStarts + c.notCompleted + c.failedOnBus === 0
        ? "each started once and completed without error"
        : `${c.duplicateStarts} started twice, ${c.notCompleted} never completed, ${c.failedOnBus} failed`;
    lines.push(
      `  ${c.callers} callers: the simulator received ${int(c.received)} (warm-up included), ${bus}; send order differed from arrival in ${int(c.arrivalVsSendInversions)} of ${int(Math.max(0, c.sendStampsCompared - 1))} adjacent pairs`,
    );
    if (c.environments > 1) {
      lines.push(`    per environment: ${int(c.perEnvironmentMin)} to ${int(c.perEnvironmentMax)} started`);
    }
    if (c.clientBound) {
      lines.push(
        `    the callers' process used ${ms(c.clientCores, 2)} cores: on this machine the figures may be the client's limit, not the simulator's`,
      );
    }
  }
  lines.push(`  all answered, none lost, order kept: ${l.pass ? "PASS" : "FAIL"}  (no throughput target)`);
  return lines;
}

function memorySection(m: MemoryFigures): string[] {
  const source = m.source === "VmRSS" ? "VmRSS of /proc/<pid>/status" : "process.memoryUsage().rss";
  const lines = [
    `Memory, the simulator alone in its own process (${source}; runtime processes not counted), maxConcurrency ${m.maxConcurrency},`,
    `  idle after every environment served an invoke and a full GC; median of ${m.runs.length / 2} runs each`,
  ];
  lines.push(
    ...table(
      [
        ["idle environments", "RSS MB", "JS heap MB"],
        ["1", ms(m.oneMb, 1), ms(m.heapOneMb, 1)],
        [`${m.maxConcurrency}`, ms(m.manyMb, 1), ms(m.heapManyMb, 1)],
      ],
      ["l", "r", "r"],
    ).map((line) => `  ${line}`),
  );
  lines.push(
    `  per idle environment: ${ms(m.perEnvironmentMb, 2)} MB (target <= ${ms(m.targetPerEnvironmentMb, 1)})  ${verdict(m.pass)}`,
  );
  return lines;
}

function streamingSection(s: StreamingFigures): string[] {
  return [
    "Response streaming, InvokeWithResponseStream over HTTP, the simulator alone in its own process, bandwidth cap off",
    `  time to first byte (64 KiB stream): p50 ${ms(s.ttfbP50Ms)} ms, p90 ${ms(s.ttfbP90Ms)} ms`,
    `  ${s.megabytes} MB stream: ${ms(s.throughputMbPerSec, 1)} MB/s from the first byte to the end`,
    `  simulator RSS while streaming ${s.megabytes} MB: ${ms(s.rssBeforeMb, 1)} MB before, ${ms(s.rssPeakMb, 1)} MB at peak: +${ms(s.rssGrowthMb, 1)} MB (target <= ${s.targetGrowthMb})  ${verdict(s.pass)}`,
  ];
}

function reloadSection(r: ReloadFigures): string[] {
  return [
    `Watch mode, a trivial Bun runtime with one extension, ${r.reloads} reloads after 2 warm-up, taking turns with the floor`,
    `  (watcher debounce ${r.debounceMs} ms; the CLI's default of 50 ms adds that; floor: bare fs.watch + kill + spawn of the runtime, to its first /next)`,
    ...table(
      [
        ["", "p50 ms", "p90 ms"],
        ["change to ready (new init done)", ms(r.readyP50Ms, 2), ms(r.readyP90Ms, 2)],
        ["change to answer (first invoke of the new code)", ms(r.answerP50Ms, 2), ms(r.answerP90Ms, 2)],
        ["floor: change to the runtime's first /next", ms(r.floorP50Ms, 2), ms(r.floorP90Ms, 2)],
      ],
      ["l", "r", "r"],
    ).map((line) => `  ${line}`),
    `  change to ready p50 ${ms(r.readyP50Ms, 2)} ms (target <= floor + ${r.targetMarginMs} = ${ms(r.floorP50Ms + r.targetMarginMs, 2)})  ${verdict(r.pass)}`,
  ];
}

/** The curve at about ten points: each tenth of the run, and the first and second samples. */
function curvePoints(run: SoakRun): SoakRun["samples"] {
  const { samples } = run;
  const picked = new Set([0, 1]);
  for (let tenth = 1; tenth <= 10; tenth++) picked.add(Math.ceil((samples.length * tenth) / 10) - 1);
  return [...picked].filter((i) => i < samples.length).map((i) => samples[i] as SoakRun["samples"][number]);
}

function soakSection(soak: SoakFigures): string[] {
  const lines = [
    `Soak, lambda-sim serve (default options) in its own process, one extension subscribed to the Telemetry API,`,
    `  a runtime logging one line per invoke, sequential invokes over HTTP; every ${int(soak.sampleEvery)}: VmRSS, then the JS heap`,
    "  after a full GC; RSS after N = median of the last 5 samples (RSS swings with the collector's cycles)",
  ];
  for (const run of soak.runs) {
    const name = run.flags.length === 0 ? "defaults" : run.flags.join(" ");
    const points = curvePoints(run);
    lines.push(`  ${name}: ${int(run.invokes)} invokes in ${(run.durationMs / 1000).toFixed(1)} s`);
    lines.push(
      ...table(
        [
          ["invokes", ...points.map((p) => int(p.invokes))],
          ["RSS MB", ...points.map((p) => ms(p.rssMb, 1))],
          ["heap MB", ...points.map((p) => ms(p.heapMb, 1))],
        ],
        ["l", ...points.map((): "r" => "r")],
      ).map((line) => `    ${line}`),
    );
    lines.push(
      `    RSS ${ms(run.rssFirstMb, 1)} MB after ${int(soak.sampleEvery)} -> ${ms(run.rssLastMb, 1)} MB after ${int(run.invokes)}: +${ms(run.rssGrowthMb, 1)} MB (target <= ${soak.targetGrowthMb}; peak ${ms(run.rssPeakMb, 1)}; climb after the first tenth ${signed(run.rssClimbMb)}); heap ${ms(run.heapSettledMb, 1)} -> ${ms(run.heapLastMb, 1)} MB (flat within ${soak.heapFlatMb})  ${verdict(run.pass)}`,
    );
  }
  return lines;
}
