/**
 * The client matrix in Python's standard library: an extension subscribed to the Telemetry API and one
 * subscribed to the Logs API (an extension may not use both), and a runtime, all written with the same
 * client: urllib.request (a new connection per request, Connection: close) or http.client (one
 * connection kept alive). The extensions receive their batches on http.server (HTTP/1.0; see subscribers.test.ts).
 * Fixtures: test/fixtures/clients/python/.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { shutdownTracked } from "../helpers/leftovers.ts";
import {
  CLIENT_FIXTURES,
  clientScenario,
  expectScenarioPassed,
  outcomeJson,
  requestsOf,
  type ScenarioRun,
} from "./support.ts";

const DIR = join(CLIENT_FIXTURES, "python");
const INVOKES = 20;

afterEach(() => shutdownTracked());

function pythonScenario(client: "urllib" | "http.client"): Promise<ScenarioRun> {
  return clientScenario(DIR, client, INVOKES);
}

function expectEchoes(run: ScenarioRun, client: string): void {
  for (const [i, outcome] of run.outcomes.entries()) {
    expect(outcomeJson(outcome)).toMatchObject({ echo: { i }, requestId: outcome.requestId, client });
  }
  expect(run.runtime[0]).toMatchObject({ python: expect.stringMatching(/^3\./), client });
}

describe("Python standard library clients", () => {
  test("python3 is on PATH", () => {
    if (!Bun.which("python3")) throw new Error("python3 is not on PATH: the client matrix needs Python 3");
  });

  test(`urllib.request (Connection: close on every request): ${INVOKES} invokes, every answer says Connection: close`, async () => {
    const run = await pythonScenario("urllib");
    expectScenarioPassed(run);
    expectEchoes(run, "urllib");
    // urllib sends Connection: close on every request: every answer must say the connection closes.
    for (const sent of requestsOf(run, INVOKES + 1))
      expect(sent.filter((r) => r.connection !== "close")).toEqual([]);
  });

  test(`http.client: ${INVOKES} invokes, every request of a process on one kept-alive connection`, async () => {
    const run = await pythonScenario("http.client");
    expectScenarioPassed(run);
    expectEchoes(run, "http.client");
    for (const sent of requestsOf(run, INVOKES + 1)) {
      // The same local port throughout: the connection was never closed under the client.
      expect(new Set(sent.map((r) => r.port)).size).toBe(1);
      expect(sent.filter((r) => r.connection === "close")).toEqual([]);
    }
  });
});
