#!/usr/bin/env bun
// Benchmark runtime that logs: each event {"lines": N} makes it write N lines to stdout in one write,
// `line <i> ` padded with x to about 60 bytes. The last line ends with ` end <requestId>` (and
// ` report` when the event has "report": true) so a telemetry subscriber knows it has them all:
// lines of one stream arrive in order. Then it answers {"ok":true,"lines":N}.
import { serveInvocations } from "./lambda-api.ts";

const LINE_BYTES = 60;
const PAD = "x".repeat(LINE_BYTES);

function logText(count: number, id: string, report: boolean): string {
  const lines: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const head = `line ${i} `;
    lines[i] = head + PAD.slice(head.length);
  }
  lines[count - 1] += ` end ${id}${report ? " report" : ""}`;
  return `${lines.join("\n")}\n`;
}

await serveInvocations(async (next, id) => {
  const event = (await next.json()) as { lines?: number; report?: boolean };
  const count = Math.max(1, Math.floor(event.lines ?? 1));
  const text = logText(count, id, event.report === true);
  // Wait until the pipe took everything, so the lines are out before the answer.
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(text, (error) => (error ? reject(error) : resolve())),
  );
  return JSON.stringify({ ok: true, lines: count });
});
