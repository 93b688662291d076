// InvokeWithResponseStream (reference 6.2, 6.3) through the real AWS SDK client, whose event-stream
// decoder is the judge of the framing: PayloadChunk events then one InvokeComplete, errors inside
// the stream with HTTP 200, errors before it as ordinary HTTP errors.
import { afterEach, describe, expect, test } from "bun:test";
import {
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCommandOutput,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import type { Simulator } from "../../src/index.ts";
import { lambdaClientFor } from "../helpers/aws.ts";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";

const decoder = new TextDecoder();
const clients: LambdaClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function streamFunction() {
  const sim = await startSimulator({ functionName: "orders" });
  sim.spawnRuntime([ECHO_RUNTIME]);
  const client = lambdaClientFor(sim);
  clients.push(client);
  return { sim, client };
}

/** Every event of the stream, in order, with chunk bytes joined. */
async function drain(output: InvokeWithResponseStreamCommandOutput) {
  const chunks: Uint8Array[] = [];
  const completes: NonNullable<
    Extract<NonNullable<InvokeWithResponseStreamCommandOutput["EventStream"]>, AsyncIterable<unknown>>
  > extends AsyncIterable<infer E>
    ? E[]
    : never = [];
  const order: string[] = [];
  for await (const event of output.EventStream ?? []) {
    if (event.PayloadChunk) {
      order.push("PayloadChunk");
      chunks.push(event.PayloadChunk.Payload ?? new Uint8Array());
    }
    if (event.InvokeComplete) {
      order.push("InvokeComplete");
      completes.push(event);
    }
  }
  return { order, body: decoder.decode(Buffer.concat(chunks)), complete: completes[0]?.InvokeComplete };
}

async function withSim<T>(fn: (ctx: { sim: Simulator; client: LambdaClient }) => Promise<T>): Promise<T> {
  const ctx = await streamFunction();
  try {
    return await fn(ctx);
  } finally {
    await ctx.sim.shutdown();
  }
}

describe("InvokeWithResponseStream", () => {
  test("a buffered function's answer arrives as PayloadChunk then one InvokeComplete, decoded by the AWS SDK", () =>
    withSim(async ({ client }) => {
      const output = await client.send(
        new InvokeWithResponseStreamCommand({ FunctionName: "orders", Payload: JSON.stringify({ n: 7 }) }),
      );
      expect(output.StatusCode).toBe(200);
      expect(output.ExecutedVersion).toBe("$LATEST");
      // The content type the runtime posted, as a buffered Invoke would answer it.
      expect(output.ResponseStreamContentType).toStartWith("application/json");
      const { order, body, complete } = await drain(output);
      expect(order).toEqual(["PayloadChunk", "InvokeComplete"]);
      expect((JSON.parse(body) as { echo: unknown }).echo).toEqual({ n: 7 });
      expect(complete?.ErrorCode).toBeUndefined();
      expect(complete?.LogResult).toBeUndefined();
    }));

  test("a handler error is reported inside the stream (HTTP 200): InvokeComplete with ErrorCode and ErrorDetails", () =>
    withSim(async ({ client }) => {
      const output = await client.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: "orders",
          Payload: JSON.stringify({ fail: true }),
        }),
      );
      expect(output.StatusCode).toBe(200);
      const { order, complete } = await drain(output);
      expect(order).toEqual(["InvokeComplete"]);
      // The runtime's Lambda-Runtime-Function-Error-Type.
      expect(complete?.ErrorCode).toBe("Function.MyError");
      expect(JSON.parse(complete?.ErrorDetails ?? "{}")).toMatchObject({
        errorType: "MyError",
        errorMessage: "boom",
      });
    }));

  test("Tail puts the log tail in InvokeComplete.LogResult; DryRun answers 204", () =>
    withSim(async ({ client }) => {
      const output = await client.send(
        new InvokeWithResponseStreamCommand({ FunctionName: "orders", Payload: "{}", LogType: "Tail" }),
      );
      const { complete } = await drain(output);
      const tail = Buffer.from(complete?.LogResult ?? "", "base64").toString();
      expect(tail).toContain(`REPORT RequestId: ${output.$metadata.requestId}`);
      const dry = await client.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: "orders",
          Payload: "{}",
          InvocationType: "DryRun",
        }),
      );
      expect(dry.StatusCode).toBe(204);
    }));

  test("errors before the stream are ordinary HTTP errors: unknown function 404, Event refused 400, bad JSON 400", () =>
    withSim(async ({ sim, client }) => {
      const missing = await client
        .send(new InvokeWithResponseStreamCommand({ FunctionName: "nope", Payload: "{}" }))
        .catch((error: unknown) => error as { name: string; $metadata: { httpStatusCode: number } });
      expect(missing).toMatchObject({
        name: "ResourceNotFoundException",
        $metadata: { httpStatusCode: 404 },
      });
      const url = `${sim.url()}/2021-11-15/functions/orders/response-streaming-invocations`;
      const event = await fetch(url, {
        method: "POST",
        headers: { "X-Amz-Invocation-Type": "Event" },
        body: "{}",
      });
      expect(event.status).toBe(400);
      expect(event.headers.get("x-amzn-ErrorType")).toBe("InvalidParameterValueException");
      const bad = await fetch(url, { method: "POST", body: "{not json" });
      expect(bad.status).toBe(400);
      expect(bad.headers.get("x-amzn-ErrorType")).toBe("InvalidRequestContentException");
      expect(sim.invocationStates()).toEqual([]);
    }));
});
