/**
 * The other direction of the client matrix: telemetry delivered by the simulator to subscriber
 * servers written with Node's http (keep-alive, Node 22's default) and Python's http.server
 * (BaseHTTPRequestHandler, HTTP/1.0: it closes the connection after each answer). Small buffering
 * (timeoutMs 25) and extensions that hold each INVOKE until the previous invoke's platform.report and
 * last log line arrived make every invoke's events travel in batches of their own while the
 * environment runs: every batch must arrive, no event twice, and delivery must never stall.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { TelemetryEvent } from "../../src/index.ts";
import { shutdownTracked } from "../helpers/leftovers.ts";
import {
  CLIENT_FIXTURES,
  type ExtensionRun,
  expectScenarioPassed,
  NODE_SKIP_REASON,
  NODE_SUPPORTED,
  runScenario,
  type ScenarioRun,
} from "./support.ts";

const INVOKES = 25;
/** Lines the runtime prints per invoke besides its `done` line. */
const LINES = 5;
const nodeTest = test.skipIf(!NODE_SUPPORTED);

afterEach(() => shutdownTracked());

/** The scenario with `family`'s runtime and extensions, holding every INVOKE for the previous one's telemetry. */
function holdingScenario(family: "node" | "python", client: string): Promise<ScenarioRun> {
  const dir = join(CLIENT_FIXTURES, family);
  const env = { CLIENT: client, HOLD_FOR_REPORT: "1", BUFFER_TIMEOUT_MS: "25" };
  return runScenario({
    runtime: [join(dir, "bootstrap")],
    runtimeEnv: { CLIENT: client, LINES: String(LINES) },
    extensions: [
      { path: join(dir, "telemetry-extension"), env },
      { path: join(dir, "logs-extension"), env },
    ],
    invokes: INVOKES,
    simulator: { captureTelemetry: true },
  });
}

/** Every hold ended because the telemetry came, not by its 10 s timeout: delivery never stalled. */
function expectNoStall(ext: ExtensionRun): void {
  const holds = ext.records.filter((r) => r.held !== undefined);
  expect({ name: ext.name, holds: holds.length }).toEqual({ name: ext.name, holds: INVOKES - 1 });
  expect(holds.filter((h) => h.ok !== true)).toEqual([]);
}

/**
 * The Telemetry API subscriber got exactly the platform and function events the simulator produced
 * (its in-memory capture), each once, in the order they were produced.
 */
function expectEveryEventOnce(run: ScenarioRun, ext: ExtensionRun): void {
  const wanted = (e: TelemetryEvent) => e.type === "function" || e.type.startsWith("platform.");
  const produced = run.sim
    .getTelemetryEvents()
    .filter(wanted)
    .map((e) => JSON.stringify(e));
  const delivered = ext.batches.flatMap((b) => b.events ?? []).map((e) => JSON.stringify(e));
  expect(delivered.length).toBeGreaterThan(INVOKES * (LINES + 4));
  expect(delivered).toEqual(produced);
}

describe("telemetry subscribers", () => {
  nodeTest(
    `Node http server (keep-alive)${NODE_SKIP_REASON}: ${INVOKES} invokes, every batch once, no stall, connections reused`,
    async () => {
      const run = await holdingScenario("node", "http");
      expectScenarioPassed(run, LINES);
      for (const ext of run.extensions) {
        expectNoStall(ext);
        // Each invoke's telemetry arrived while it was held: at least a batch per invoke.
        expect(ext.batches.length).toBeGreaterThanOrEqual(INVOKES);
        // The server keeps connections open and the simulator reuses them.
        expect(new Set(ext.batches.map((b) => b.conn)).size).toBeLessThan(ext.batches.length / 2);
        expect(ext.batches.every((b) => b.method === "POST")).toBe(true);
      }
      expectEveryEventOnce(run, run.extensions[0] as ExtensionRun);
    },
  );

  test(`Python http.server (HTTP/1.0, closes after each answer): ${INVOKES} invokes, every batch once, no stall`, async () => {
    const run = await holdingScenario("python", "http.client");
    expectScenarioPassed(run, LINES);
    for (const ext of run.extensions) {
      expectNoStall(ext);
      expect(ext.batches.length).toBeGreaterThanOrEqual(INVOKES);
      // A new connection for every batch: none was sent on a connection the server had closed.
      expect(new Set(ext.batches.map((b) => b.conn)).size).toBe(ext.batches.length);
    }
    expectEveryEventOnce(run, run.extensions[0] as ExtensionRun);
  });
});
