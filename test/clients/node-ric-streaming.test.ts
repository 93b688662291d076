/**
 * Response streaming with the official Node.js runtime interface client (`aws-lambda-ric` v4) and
 * its `awslambda.streamifyResponse` handlers (test/fixtures/node-ric/stream.mjs): it posts
 * `/response` chunked, with `Lambda-Runtime-Function-Response-Mode: streaming` and the error
 * trailers. The caller is the AWS SDK's InvokeWithResponseStreamCommand, whose event-stream decoder
 * judges the framing, or its InvokeCommand (a buffered caller of a streaming function).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCommandOutput,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { InvocationStatus, type SimulatorOptions } from "../../src/index.ts";
import { lambdaClientFor } from "../helpers/aws.ts";
import { FIXTURES } from "../helpers/fixtures.ts";
import { endsClean, startWatched } from "../helpers/leftovers.ts";

const TASK_ROOT = join(FIXTURES, "node-ric");
const BOOTSTRAP = join(TASK_ROOT, "bootstrap");
const SUPPORTED = process.platform === "linux" && process.arch === "x64";
const ricTest = test.skipIf(!SUPPORTED);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const clients: LambdaClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function streamingFunction(handler: string, options: SimulatorOptions = {}) {
  const { sim, pids } = await startWatched({
    functionName: "streamer",
    taskRoot: TASK_ROOT,
    handler: `stream.${handler}`,
    ...options,
  });
  sim.spawnRuntime([BOOTSTRAP]);
  const client = lambdaClientFor(sim);
  clients.push(client);
  return { sim, pids, client };
}

interface Received {
  /** Each PayloadChunk's bytes and the time it arrived (epoch ms). */
  chunks: { bytes: Uint8Array; at: number }[];
  order: string[];
  complete?: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string };
}

/** Reads the whole event stream, timing each chunk; `onChunk` runs as each one arrives. */
async function receive(
  output: InvokeWithResponseStreamCommandOutput,
  onChunk: (text: string, index: number) => void = () => {},
): Promise<Received> {
  const received: Received = { chunks: [], order: [] };
  for await (const event of output.EventStream ?? []) {
    if (event.PayloadChunk) {
      const bytes = event.PayloadChunk.Payload ?? new Uint8Array();
      received.order.push("PayloadChunk");
      received.chunks.push({ bytes, at: Date.now() });
      onChunk(decoder.decode(bytes), received.chunks.length - 1);
    }
    if (event.InvokeComplete) {
      received.order.push("InvokeComplete");
      received.complete = event.InvokeComplete;
    }
  }
  return received;
}

const text = (received: Received) => decoder.decode(Buffer.concat(received.chunks.map((c) => c.bytes)));
const invokeStream = (client: LambdaClient, payload: unknown) =>
  client.send(
    new InvokeWithResponseStreamCommand({
      FunctionName: "streamer",
      Payload: encoder.encode(JSON.stringify(payload)),
    }),
  );

describe("streamifyResponse handlers of the official Node RIC", () => {
  ricTest(
    "each chunk reaches the SDK caller while the handler still runs (it waits for the caller)",
    async () => {
      const { sim, pids, client } = await streamingFunction("chunks");
      // The handler writes chunk i+1 only once this gate is called, which the test does only after
      // it has received chunk i: every chunk provably crossed while the handler was still running.
      const received: string[] = [];
      const waiting: ((value: Response) => void)[] = [];
      let requestId = "";
      const gate = Bun.serve({
        port: 0,
        fetch: () => new Promise<Response>((resolve) => waiting.push(resolve)),
      });
      try {
        const output = await invokeStream(client, { chunks: 4, gateUrl: `http://127.0.0.1:${gate.port}/` });
        requestId = output.$metadata.requestId as string;
        expect(output.StatusCode).toBe(200);
        expect(output.ResponseStreamContentType).toBe("text/plain");
        const result = await receive(output, (chunk) => {
          received.push(chunk);
          // Release the handler blocked on the gate since this chunk was written.
          const open = () => {
            const next = waiting.shift();
            if (next) next(new Response("go"));
            else setImmediate(open);
          };
          if (received.length < 4) open();
        });
        expect(result.order.at(-1)).toBe("InvokeComplete");
        expect(result.complete?.ErrorCode).toBeUndefined();
        expect(
          text(result)
            .split("\n")
            .filter(Boolean)
            .map((l) => l.split(" at ")[0]),
        ).toEqual(["chunk 0", "chunk 1", "chunk 2", "chunk 3"]);
      } finally {
        gate.stop(true);
      }
      const state = await sim.waitForInvocationComplete(requestId, 10_000);
      expect(state.status).toBe(InvocationStatus.Success);
      await endsClean(sim, pids);
    },
  );

  ricTest(
    "chunks written 200 ms apart arrive 200 ms apart, the first long before the handler ends",
    async () => {
      const { sim, pids, client } = await streamingFunction("chunks");
      const result = await receive(await invokeStream(client, { chunks: 4, delayMs: 200 }));
      const lines = text(result).split("\n").filter(Boolean);
      const lastWrittenAt = Number(lines.at(-1)?.split(" at ")[1]);
      // The first chunk was in the caller's hands ~600 ms before the last one was even written.
      expect(result.chunks.length).toBeGreaterThanOrEqual(4);
      expect(lastWrittenAt - (result.chunks[0]?.at as number)).toBeGreaterThan(400);
      await endsClean(sim, pids);
    },
  );

  ricTest(
    "an error after the first chunk: the partial payload, then InvokeComplete with ErrorCode and ErrorDetails",
    async () => {
      const { sim, pids, client } = await streamingFunction("failAfterFirst");
      const output = await invokeStream(client, {});
      expect(output.StatusCode).toBe(200);
      const result = await receive(output);
      expect(text(result)).toBe("partial ");
      expect(result.order.at(-1)).toBe("InvokeComplete");
      expect(result.complete?.ErrorCode).toBe("TypeError");
      const details = JSON.parse(result.complete?.ErrorDetails as string);
      expect(details).toMatchObject({ errorType: "TypeError", errorMessage: "boom after the first chunk" });
      const state = await sim.waitForInvocationComplete(output.$metadata.requestId as string, 10_000);
      expect([state.status, state.errorType]).toEqual([InvocationStatus.Error, "TypeError"]);
      // The runtime got 202 and carries on: the next invoke is served by the same process, warm.
      const pid = sim.runtimePid();
      const again = await receive(await invokeStream(client, {}));
      expect(text(again)).toBe("partial ");
      expect(sim.runtimePid()).toBe(pid as number);
      await endsClean(sim, pids);
    },
  );

  ricTest("a 10 MB stream arrives complete and in order (bandwidth cap off)", async () => {
    const { sim, pids, client } = await streamingFunction("big", { streamBandwidthLimit: false });
    const output = await invokeStream(client, { megabytes: 10 });
    const result = await receive(output);
    const body = Buffer.concat(result.chunks.map((c) => c.bytes));
    expect(body.byteLength).toBe(10 * 1024 * 1024);
    let wrong = -1;
    for (let i = 0; i < body.length; i++) {
      if (body[i] !== i % 251) {
        wrong = i;
        break;
      }
    }
    expect(wrong).toBe(-1);
    expect(result.complete?.ErrorCode).toBeUndefined();
    const state = await sim.waitForInvocationComplete(output.$metadata.requestId as string, 10_000);
    expect(state.status).toBe(InvocationStatus.Success);
    await endsClean(sim, pids);
  });

  ricTest("a timeout mid-stream keeps the bytes sent and ends with Sandbox.Timedout", async () => {
    const { sim, pids, client } = await streamingFunction("hangs", { timeoutSeconds: 1 });
    const output = await invokeStream(client, {});
    const result = await receive(output);
    expect(text(result)).toBe("before the timeout ");
    expect(result.complete?.ErrorCode).toBe("Sandbox.Timedout");
    expect(JSON.parse(result.complete?.ErrorDetails as string).errorMessage).toContain("Task timed out");
    const state = await sim.waitForInvocationComplete(output.$metadata.requestId as string, 10_000);
    expect(state.status).toBe(InvocationStatus.Timeout);
    await endsClean(sim, pids);
  });

  // RIC v4 installs no uncaughtException handler: Node prints the error and exits 1 mid-stream. The
  // connection closes a moment before the exit is seen; the exit, not a truncation, is the error.
  ricTest("a crash mid-stream keeps the bytes sent and ends once with Runtime.ExitError", async () => {
    const { sim, pids, client } = await streamingFunction("uncaught");
    const output = await invokeStream(client, {});
    const result = await receive(output);
    expect(text(result)).toBe("before the crash ");
    expect(result.order.filter((e) => e === "InvokeComplete")).toHaveLength(1);
    expect(result.complete?.ErrorCode).toBe("Runtime.ExitError");
    expect(JSON.parse(result.complete?.ErrorDetails as string).errorMessage).toContain("exit status 1");
    const state = await sim.waitForInvocationComplete(output.$metadata.requestId as string, 10_000);
    expect([state.status, state.errorType]).toEqual([InvocationStatus.Error, "Runtime.ExitError"]);
    await endsClean(sim, pids);
  });

  ricTest("the ordinary Invoke API gets a streaming function's answer buffered", async () => {
    const { sim, pids, client } = await streamingFunction("chunks");
    const answer = await client.send(
      new InvokeCommand({ FunctionName: "streamer", Payload: encoder.encode('{"chunks":3}') }),
    );
    expect(answer.FunctionError).toBeUndefined();
    const lines = decoder.decode(answer.Payload).split("\n").filter(Boolean);
    expect(lines.map((l) => l.split(" at ")[0])).toEqual(["chunk 0", "chunk 1", "chunk 2"]);
    const state = await sim.waitForInvocationComplete(answer.$metadata.requestId as string, 10_000);
    expect(state.status).toBe(InvocationStatus.Success);
    await endsClean(sim, pids);
  });
});
