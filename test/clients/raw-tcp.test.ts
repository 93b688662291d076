/**
 * The client matrix on raw TCP, for what no HTTP library of the matrix does: pipelining (two requests in
 * one write on one connection; curl no longer pipelines) by a runtime (test/fixtures/clients/python/
 * pipelining.py: /response and the next /next) and by the invoker (pairs of Invoke API requests), with
 * the sh + curl extensions of curl.test.ts; and an HTTP/1.0 request with no Host header.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Simulator } from "../../src/index.ts";
import { startSimulator } from "../helpers/fixtures.ts";
import { shutdownTracked } from "../helpers/leftovers.ts";
import { type Answer, RawConnection } from "../helpers/raw-http.ts";
import { startSink, stopSinks } from "./sink.ts";
import {
  CLIENT_FIXTURES,
  expectScenarioPassed,
  type InvokeOutcome,
  outcomeJson,
  runScenario,
} from "./support.ts";

const INVOKES = 20;
const connections: RawConnection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy();
  await shutdownTracked();
  stopSinks();
});

/** A raw connection closed after the test. */
function rawConnection(port: number): RawConnection {
  const connection = new RawConnection(port);
  connections.push(connection);
  return connection;
}

function invokeRequest(sim: Simulator, payload: unknown): string {
  const body = JSON.stringify(payload);
  return [
    `POST /2015-03-31/functions/${sim.config.functionName}/invocations HTTP/1.1`,
    "Host: 127.0.0.1",
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/**
 * An invoker that, for each even i, writes invoke i and invoke i+1 in one write on one connection and
 * reads both answers, in order; `closedBetween` counts answers after which the connection was closed.
 */
function pipelinedInvoker() {
  let connection: RawConnection | undefined;
  let second: Promise<Answer> | undefined;
  const state = { closedBetween: 0 };
  const outcome = (answer: Answer): InvokeOutcome => {
    if (connection?.isClosed) state.closedBetween++;
    return {
      requestId: answer.headers["x-amzn-requestid"] as string,
      functionError: answer.status === 200 ? answer.headers["x-amz-function-error"] : `HTTP ${answer.status}`,
      payload: new Uint8Array(answer.body),
    };
  };
  const invoke = async (sim: Simulator, i: number): Promise<InvokeOutcome> => {
    if (i % 2 === 1 && second) return outcome(await second);
    connection ??= rawConnection(sim.port);
    const open = connection;
    open.write(invokeRequest(sim, { i }) + invokeRequest(sim, { i: i + 1 }));
    const pair = `the answers to pipelined invokes ${i} and ${i + 1}`;
    const first = await open.next().catch((error: Error) => {
      throw new Error(`${pair}: ${error.message}`);
    });
    second = open.next().catch((error: Error) => {
      throw new Error(`${pair}: ${error.message}`);
    });
    return outcome(first);
  };
  return { invoke, state };
}

/** The pipelining runtime with the sh + curl extensions (their sink in the test), invoked by `invoke`. */
async function pipeliningScenario(invoke?: (sim: Simulator, i: number) => Promise<InvokeOutcome>) {
  const sink = startSink();
  const env = { SINK_PORT: String(sink.port) };
  const curl = join(CLIENT_FIXTURES, "curl");
  const run = await runScenario({
    runtime: [join(CLIENT_FIXTURES, "python", "pipelining-bootstrap")],
    extensions: [
      { path: join(curl, "telemetry-extension"), env },
      { path: join(curl, "logs-extension"), env },
    ],
    invokes: INVOKES,
    invoke,
    sinkBatches: () => sink.batches,
  });
  expectScenarioPassed(run);
  for (const [i, outcome] of run.outcomes.entries()) {
    expect(outcomeJson(outcome)).toEqual({ echo: { i }, requestId: outcome.requestId, client: "pipelining" });
  }
  return run;
}

describe("raw TCP clients", () => {
  test(`a runtime that pipelines its /response and its next /next: ${INVOKES} invokes, answers in order on one connection`, async () => {
    const run = await pipeliningScenario();
    // The runtime's answers: its /response's 202, then the next event, each time on its one connection.
    const [start, ...answers] = run.runtime;
    expect(answers.length).toBe(2 * INVOKES);
    expect(answers.map((a) => [a.request?.split(" ")[0], a.status, a.port, a.pipelined])).toEqual(
      answers.map((_, k) =>
        k % 2 === 0 ? ["GET", 200, start?.port, k > 0] : ["POST", 202, start?.port, true],
      ),
    );
  });

  // Bun.serve drops pipelined requests behind a pending answer (oven-sh/bun#38128); the sandbox
  // listener, which the Invoke API shares with one environment, is not Bun.serve.
  test(`an invoker that pipelines pairs of invokes: ${INVOKES} invokes, both answers of each pair in order on one connection`, async () => {
    const invoker = pipelinedInvoker();
    await pipeliningScenario(invoker.invoke);
    expect(invoker.state.closedBetween).toBe(0);
  });

  test("an HTTP/1.0 request without a Host header is served", async () => {
    const sim = await startSimulator();
    const connection = rawConnection(sim.port);
    connection.write("GET /2018-06-01/ping HTTP/1.0\r\n\r\n");
    const answer = await connection.next(10_000);
    expect([answer.status, answer.body.toString()]).toEqual([200, "pong"]);
  });
});
