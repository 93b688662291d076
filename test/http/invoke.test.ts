import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  InvokeCommand,
  type InvokeCommandInput,
  type LambdaClient,
  LambdaServiceException,
} from "@aws-sdk/client-lambda";
import { InvocationStatus, type Simulator } from "../../src/index.ts";
import { lambdaClientFor } from "../helpers/aws.ts";
import { ECHO_RUNTIME, FIXTURES, initCount, startSimulator } from "../helpers/fixtures.ts";

/** Answers with the size and content type of the raw body it received (never parses it). */
const MEASURE_RUNTIME = join(FIXTURES, "runtimes", "measure.ts");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const clients: LambdaClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** The real AWS SDK client pointed at the simulator; no retries so every call is exactly one request. */
function lambdaClient(sim: Simulator): LambdaClient {
  const client = lambdaClientFor(sim);
  clients.push(client);
  return client;
}

/** Starts a simulator for function `orders` with the echo runtime and returns it with an SDK client. */
async function echoFunction(options: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator({ functionName: "orders", ...options });
  sim.spawnRuntime([ECHO_RUNTIME]);
  return { sim, lambda: lambdaClient(sim) };
}

/** A payload parsed as JSON. */
function json<T = Record<string, unknown>>(payload: Uint8Array | undefined): T {
  return JSON.parse(decoder.decode(payload ?? new Uint8Array())) as T;
}

interface EchoBody {
  echo: unknown;
  headers: Record<string, string>;
}

/** A service error as the SDK throws it, with the raw HTTP response it hides on the error. */
type ServiceFailure = LambdaServiceException & { $response: { headers: Record<string, string> } };

/** The rejection of `promise`, which must reject with a Lambda service error. */
async function rejection(promise: Promise<unknown>): Promise<ServiceFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LambdaServiceException);
    return error as ServiceFailure;
  }
  throw new Error("expected the call to be rejected");
}

/** Asserts an SDK service error: name, HTTP status, `x-amzn-ErrorType` on the raw response. */
function expectServiceError(error: ServiceFailure, name: string, status: number): void {
  expect(error.name).toBe(name);
  expect(error.$metadata.httpStatusCode).toBe(status);
  expect(error.$fault).toBe(status >= 500 ? "server" : "client");
  expect(error.$response.headers["x-amzn-errortype"]).toBe(name);
  // Every AWS response, errors included, carries a request id; SDK users log `$metadata.requestId`.
  expect(error.$metadata.requestId).toMatch(UUID);
}

describe("Invoke API through the AWS SDK", () => {
  test("RequestResponse returns the runtime's bytes, 200, $LATEST and the request id the runtime saw", async () => {
    const { sim, lambda } = await echoFunction();
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "orders", Payload: encoder.encode(JSON.stringify({ orderId: 42 })) }),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe("$LATEST");
    expect(out.FunctionError).toBeUndefined();
    expect(out.LogResult).toBeUndefined();
    const body = json(out.Payload) as EchoBody;
    expect(body.echo).toEqual({ orderId: 42 });
    const requestId = out.$metadata.requestId as string;
    expect(requestId).toMatch(UUID);
    expect(body.headers["lambda-runtime-aws-request-id"]).toBe(requestId);
    expect(body.headers["lambda-runtime-invoked-function-arn"]).toBe(
      "arn:aws:lambda:us-east-1:123456789012:function:orders",
    );
    expect(body.headers["lambda-runtime-client-context"]).toBeUndefined();
    const state = await sim.waitForInvocationComplete(requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(state.invocationType).toBe("RequestResponse");
  });

  test("the payload bytes reach the runtime unchanged, and so do the runtime's answer bytes", async () => {
    const { lambda } = await echoFunction();
    const text = "héllo ✓ \u{1F600}";
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "orders", Payload: encoder.encode(JSON.stringify({ raw: text })) }),
    );
    expect(out.StatusCode).toBe(200);
    expect(decoder.decode(out.Payload)).toBe(text);
  });

  test("a function error is 200 with FunctionError Unhandled and the runtime's error JSON", async () => {
    const { sim, lambda } = await echoFunction();
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "orders", Payload: encoder.encode('{"fail":true}') }),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe("Unhandled");
    expect(out.ExecutedVersion).toBe("$LATEST");
    expect(json(out.Payload)).toEqual({ errorType: "MyError", errorMessage: "boom" });
    const state = await sim.waitForInvocationComplete(out.$metadata.requestId as string, 20_000);
    expect(state.status).toBe(InvocationStatus.Error);
    expect(state.errorType).toBe("Function.MyError");
  });

  test("a timeout answers Sandbox.Timedout with Lambda's message, then the next invoke runs a fresh init", async () => {
    const { sim, lambda } = await echoFunction({ timeoutSeconds: 1 });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "orders",
        LogType: "Tail",
        Payload: encoder.encode('{"sleepMs":120000}'),
      }),
    );
    const requestId = out.$metadata.requestId as string;
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe("Unhandled");
    expect(json(out.Payload)).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
    });
    const tail = Buffer.from(out.LogResult as string, "base64").toString("utf8");
    expect(tail).toMatch(new RegExp(`^\\S+Z ${requestId} Task timed out after 1\\.00 seconds$`, "m"));
    expect(tail).toMatch(new RegExp(`^REPORT RequestId: ${requestId}\\t.*\\tStatus: timeout\\t$`, "m"));
    const state = await sim.waitForInvocationComplete(requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Timeout);

    const initsBefore = initCount(sim);
    const again = await lambda.send(
      new InvokeCommand({ FunctionName: "orders", Payload: encoder.encode("{}") }),
    );
    expect(again.FunctionError).toBeUndefined();
    expect(initCount(sim)).toBe(initsBefore + 1);
  });

  test("LogType Tail returns base64 of START, the runtime's output, END and a tab-separated REPORT", async () => {
    const { lambda } = await echoFunction({ memorySizeMB: 256 });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "orders",
        LogType: "Tail",
        Payload: encoder.encode(JSON.stringify({ log: "hello from the handler" })),
      }),
    );
    const requestId = out.$metadata.requestId as string;
    expect(out.StatusCode).toBe(200);
    expect(out.LogResult).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const lines = Buffer.from(out.LogResult as string, "base64")
      .toString("utf8")
      .split("\n");
    expect(lines.at(-1)).toBe("");
    const start = lines.indexOf(`START RequestId: ${requestId} Version: $LATEST`);
    const output = lines.indexOf("hello from the handler");
    const end = lines.indexOf(`END RequestId: ${requestId}`);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(output).toBeGreaterThan(start);
    expect(end).toBeGreaterThan(output);
    const report = lines[end + 1] as string;
    expect(report).toMatch(
      new RegExp(
        `^REPORT RequestId: ${requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: \\d+ MB\\t(Init Duration: \\d+\\.\\d{2} ms\\t)?$`,
      ),
    );
    expect(report).not.toContain("init: runtime starting");
  });

  test("ClientContext is base64 on the Invoke API and plain JSON for the runtime", async () => {
    const { lambda } = await echoFunction();
    const context = { client: { installation_id: "i-1", app_title: "shop" }, custom: { k: "v" }, env: {} };
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "orders",
        ClientContext: Buffer.from(JSON.stringify(context)).toString("base64"),
        Payload: encoder.encode("{}"),
      }),
    );
    const body = json(out.Payload) as EchoBody;
    const received = body.headers["lambda-runtime-client-context"] as string;
    expect(received.startsWith("{")).toBe(true);
    expect(JSON.parse(received)).toEqual(context);
  });

  test.each([
    ["not base64", "not base64 !!"],
    ["base64 of text that is not JSON", Buffer.from("hello").toString("base64")],
    ["base64 of a JSON array", Buffer.from("[1,2]").toString("base64")],
    [
      "over 3,583 bytes",
      Buffer.from(JSON.stringify({ custom: { pad: "x".repeat(3000) } })).toString("base64"),
    ],
  ])("a client context that is %s is InvalidParameterValueException, and nothing runs", async (_, value) => {
    const { sim, lambda } = await echoFunction();
    const error = await rejection(
      lambda.send(
        new InvokeCommand({ FunctionName: "orders", ClientContext: value, Payload: encoder.encode("{}") }),
      ),
    );
    expectServiceError(error, "InvalidParameterValueException", 400);
    expect(sim.invocationStates()).toEqual([]);
  });

  test("Event answers 202 with the request id the function later runs with", async () => {
    const { sim, lambda } = await echoFunction();
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "orders",
        InvocationType: "Event",
        Payload: encoder.encode(JSON.stringify({ async: true })),
      }),
    );
    expect(out.StatusCode).toBe(202);
    expect(out.FunctionError).toBeUndefined();
    expect(out.Payload?.byteLength ?? 0).toBe(0);
    const requestId = out.$metadata.requestId as string;
    expect(requestId).toMatch(UUID);
    const state = await sim.waitForInvocationComplete(requestId, 20_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(state.invocationType).toBe("Event");
    const body = JSON.parse(state.response?.body as string) as EchoBody;
    expect(body.echo).toEqual({ async: true });
    expect(body.headers["lambda-runtime-aws-request-id"]).toBe(requestId);
  });

  test("ClientContext reaches the function for synchronous invocations only", async () => {
    const { sim, lambda } = await echoFunction();
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "orders",
        InvocationType: "Event",
        ClientContext: Buffer.from('{"custom":{"k":"v"}}').toString("base64"),
        Payload: encoder.encode("{}"),
      }),
    );
    expect(out.StatusCode).toBe(202);
    const state = await sim.waitForInvocationComplete(out.$metadata.requestId as string, 20_000);
    const body = JSON.parse(state.response?.body as string) as EchoBody;
    expect(body.headers["lambda-runtime-client-context"]).toBeUndefined();
  });

  test("concurrent invokes are queued and handed to the one runtime one at a time", async () => {
    const { sim, lambda } = await echoFunction();
    const outs = await Promise.all(
      [0, 1, 2].map((n) =>
        lambda.send(
          new InvokeCommand({
            FunctionName: "orders",
            Payload: encoder.encode(JSON.stringify({ n, sleepMs: 50 })),
          }),
        ),
      ),
    );
    const ids = outs.map((out) => out.$metadata.requestId as string);
    expect(new Set(ids).size).toBe(3);
    for (const [n, out] of outs.entries()) {
      expect(out.FunctionError).toBeUndefined();
      const body = json(out.Payload) as EchoBody;
      expect(body.echo).toEqual({ n, sleepMs: 50 });
      expect(body.headers["lambda-runtime-aws-request-id"]).toBe(ids[n] as string);
    }
    const states = await Promise.all(ids.map((id) => sim.waitForInvocationComplete(id, 20_000)));
    const spans = states
      .map((s) => [s.startedAt as number, s.completedAt as number] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] as number);
    }
  });

  test("LogResult is the last 4 KB of the log, ending with the REPORT line", async () => {
    const { lambda } = await echoFunction();
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "orders",
        LogType: "Tail",
        Payload: encoder.encode(JSON.stringify({ log: `first ${"x".repeat(6000)}` })),
      }),
    );
    const tail = Buffer.from(out.LogResult as string, "base64");
    expect(tail.byteLength).toBe(4096);
    const text = tail.toString("utf8");
    expect(text).not.toContain("START RequestId");
    expect(text).not.toContain("first");
    expect(text).toMatch(new RegExp(`\nREPORT RequestId: ${out.$metadata.requestId}\t[^\n]*\n$`));
  });

  test("DryRun answers 204 and runs nothing", async () => {
    const { sim, lambda } = await echoFunction();
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: "orders", InvocationType: "DryRun", Payload: encoder.encode("{}") }),
    );
    expect(out.StatusCode).toBe(204);
    expect(out.Payload?.byteLength ?? 0).toBe(0);
    expect(out.$metadata.requestId).toMatch(UUID);
    // DryRun still checks that the function exists.
    const error = await rejection(
      lambda.send(
        new InvokeCommand({ FunctionName: "nope", InvocationType: "DryRun", Payload: encoder.encode("{}") }),
      ),
    );
    expectServiceError(error, "ResourceNotFoundException", 404);
    // A real invocation afterwards is the first one the environment sees.
    const real = await lambda.send(
      new InvokeCommand({ FunctionName: "orders", Payload: encoder.encode("{}") }),
    );
    expect(sim.invocationStates().map((s) => s.requestId)).toEqual([real.$metadata.requestId as string]);
  });

  describe("FunctionName and Qualifier", () => {
    const arn = "arn:aws:lambda:eu-west-1:111122223333:function:orders";
    const cases: [string, InvokeCommandInput["FunctionName"], string | undefined, string][] = [
      ["a plain name", "orders", undefined, arn],
      ["a name with the Qualifier parameter", "orders", "prod", `${arn}:prod`],
      ["name:alias", "orders:prod", undefined, `${arn}:prod`],
      ["name:$LATEST", "orders:$LATEST", undefined, `${arn}:$LATEST`],
      ["name:alias with the same Qualifier", "orders:prod", "prod", `${arn}:prod`],
      ["a full ARN", arn, undefined, arn],
      ["a full ARN with an alias", `${arn}:live`, undefined, `${arn}:live`],
      ["a full ARN with the Qualifier parameter", arn, "live", `${arn}:live`],
      ["a partial ARN", "111122223333:function:orders", undefined, arn],
      ["a partial ARN with an alias", "111122223333:function:orders:prod", undefined, `${arn}:prod`],
      [
        "a partial ARN with the Qualifier parameter",
        "111122223333:function:orders",
        "$LATEST",
        `${arn}:$LATEST`,
      ],
    ];
    test.each(cases)("%s reaches the runtime as the invoked ARN", async (_, name, qualifier, expected) => {
      const { lambda } = await echoFunction({ region: "eu-west-1", accountId: "111122223333" });
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: name, Qualifier: qualifier, Payload: encoder.encode("{}") }),
      );
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBeUndefined();
      expect(out.ExecutedVersion).toBe("$LATEST");
      const body = json(out.Payload) as EchoBody;
      expect(body.headers["lambda-runtime-invoked-function-arn"]).toBe(expected);
    });

    test("an unknown function is ResourceNotFoundException 404 with x-amzn-ErrorType", async () => {
      const { sim, lambda } = await echoFunction();
      const error = await rejection(
        lambda.send(new InvokeCommand({ FunctionName: "nope", Payload: encoder.encode("{}") })),
      );
      expectServiceError(error, "ResourceNotFoundException", 404);
      expect(error.message).toBe("Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope");
      expect(sim.invocationStates()).toEqual([]);
    });

    test.each([
      ["another region", "arn:aws:lambda:us-west-2:123456789012:function:orders"],
      ["another account in a full ARN", "arn:aws:lambda:us-east-1:999999999999:function:orders"],
      ["another account in a partial ARN", "999999999999:function:orders"],
      ["a version the simulator does not run", "orders:7"],
    ])("%s is ResourceNotFoundException 404", async (_, name) => {
      const { sim, lambda } = await echoFunction();
      const error = await rejection(
        lambda.send(new InvokeCommand({ FunctionName: name, Payload: encoder.encode("{}") })),
      );
      expectServiceError(error, "ResourceNotFoundException", 404);
      expect(sim.invocationStates()).toEqual([]);
    });

    test("a numbered version is found when the simulator runs that version", async () => {
      const { lambda } = await echoFunction({ functionVersion: "7" });
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: "orders", Qualifier: "7", Payload: encoder.encode("{}") }),
      );
      expect(out.ExecutedVersion).toBe("7");
      const body = json(out.Payload) as EchoBody;
      expect(body.headers["lambda-runtime-invoked-function-arn"]).toBe(
        "arn:aws:lambda:us-east-1:123456789012:function:orders:7",
      );
    });

    test.each([
      ["name:alias", "orders:prod"],
      ["a full ARN with an alias", "arn:aws:lambda:us-east-1:123456789012:function:orders:prod"],
      ["a partial ARN with an alias", "123456789012:function:orders:prod"],
    ])("%s with a different Qualifier is InvalidParameterValueException", async (_, name) => {
      const { sim, lambda } = await echoFunction();
      const error = await rejection(
        lambda.send(
          new InvokeCommand({ FunctionName: name, Qualifier: "dev", Payload: encoder.encode("{}") }),
        ),
      );
      expectServiceError(error, "InvalidParameterValueException", 400);
      expect(sim.invocationStates()).toEqual([]);
    });
  });

  describe("payload limits and validation", () => {
    test("a 6,291,457-byte JSON payload is RequestEntityTooLargeException 413 (the wire name, not the model's); 6,291,456 bytes is accepted", async () => {
      const sim = await startSimulator({ functionName: "orders" });
      sim.spawnRuntime([MEASURE_RUNTIME]);
      const lambda = lambdaClient(sim);
      const jsonString = (bytes: number) => encoder.encode(`"${"a".repeat(bytes - 2)}"`);
      const tooBig = jsonString(6_291_457);
      expect(tooBig.byteLength).toBe(6_291_457);
      const error = await rejection(
        lambda.send(new InvokeCommand({ FunctionName: "orders", Payload: tooBig })),
      );
      expectServiceError(error, "RequestEntityTooLargeException", 413);
      expect(error.message).toBe(
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
      );
      expect(sim.invocationStates()).toEqual([]);

      const out = await lambda.send(
        new InvokeCommand({ FunctionName: "orders", Payload: jsonString(6_291_456) }),
      );
      expect(out.FunctionError).toBeUndefined();
      expect(json(out.Payload).bytes).toBe(6_291_456);
    });

    test("an Event payload over 1 MB is RequestEntityTooLargeException 413 naming its size; 1 MB is accepted", async () => {
      const sim = await startSimulator({ functionName: "orders" });
      sim.spawnRuntime([MEASURE_RUNTIME]);
      const lambda = lambdaClient(sim);
      const payload = (bytes: number) => encoder.encode(`"${"b".repeat(bytes - 2)}"`);
      const error = await rejection(
        lambda.send(
          new InvokeCommand({ FunctionName: "orders", InvocationType: "Event", Payload: payload(1_048_577) }),
        ),
      );
      expectServiceError(error, "RequestEntityTooLargeException", 413);
      expect(error.message).toBe(
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
      );
      expect(sim.invocationStates()).toEqual([]);

      const out = await lambda.send(
        new InvokeCommand({ FunctionName: "orders", InvocationType: "Event", Payload: payload(1_048_576) }),
      );
      expect(out.StatusCode).toBe(202);
      const state = await sim.waitForInvocationComplete(out.$metadata.requestId as string, 20_000);
      expect(JSON.parse(state.response?.body as string).bytes).toBe(1_048_576);
    });

    test.each([
      ["plain text", "hello"],
      ["truncated JSON", '{"a":'],
      ["invalid UTF-8", new Uint8Array([0x22, 0xff, 0xfe, 0x22])],
    ])("a %s payload is InvalidRequestContentException 400", async (_, payload) => {
      const { sim, lambda } = await echoFunction();
      const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
      const error = await rejection(
        lambda.send(new InvokeCommand({ FunctionName: "orders", Payload: bytes })),
      );
      expectServiceError(error, "InvalidRequestContentException", 400);
      expect(error.message).toStartWith("Could not parse request body into json");
      expect(sim.invocationStates()).toEqual([]);
    });

    test("an empty payload is accepted and reaches the runtime empty", async () => {
      const sim = await startSimulator({ functionName: "orders" });
      sim.spawnRuntime([MEASURE_RUNTIME]);
      const lambda = lambdaClient(sim);
      const out = await lambda.send(new InvokeCommand({ FunctionName: "orders" }));
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBeUndefined();
      expect(json(out.Payload)).toMatchObject({ bytes: 0, contentType: "application/json" });
    });
  });
});

describe("Invoke API over raw HTTP", () => {
  const path = "/2015-03-31/functions/orders/invocations";

  test.each(["GET", "PUT", "DELETE", "PATCH"])("%s on the invocations path is 405", async (method) => {
    const sim = await startSimulator({ functionName: "orders" });
    const response = await fetch(`${sim.url()}${path}`, { method });
    expect(response.status).toBe(405);
    await response.arrayBuffer();
    expect(sim.invocationStates()).toEqual([]);
  });

  test("any SigV4 signature, or none, is accepted and ignored", async () => {
    const sim = await startSimulator({ functionName: "orders" });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const headers: Record<string, string>[] = [
      {},
      {
        Authorization:
          "AWS4-HMAC-SHA256 Credential=AKIDBOGUS/20000101/ap-south-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000",
        "X-Amz-Date": "20000101T000000Z",
        "X-Amz-Security-Token": "expired",
      },
    ];
    for (const extra of headers) {
      const response = await fetch(`${sim.url()}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...extra },
        body: '{"n":1}',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-amz-executed-version")).toBe("$LATEST");
      expect(response.headers.get("content-type")).toStartWith("application/json");
      const body = (await response.json()) as EchoBody;
      expect(body.echo).toEqual({ n: 1 });
      expect(response.headers.get("x-amzn-requestid")).toBe(
        body.headers["lambda-runtime-aws-request-id"] as string,
      );
    }
  });

  test("service errors carry x-amzn-ErrorType and a {Type, Message} JSON body", async () => {
    const sim = await startSimulator({ functionName: "orders" });
    const response = await fetch(`${sim.url()}/2015-03-31/functions/nope/invocations`, {
      method: "POST",
      body: "{}",
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toEqual({
      Type: "User",
      Message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope",
    });
  });

  test("an unknown invocation type is InvalidParameterValueException", async () => {
    const sim = await startSimulator({ functionName: "orders" });
    const response = await fetch(`${sim.url()}${path}`, {
      method: "POST",
      headers: { "X-Amz-Invocation-Type": "Sometime" },
      body: "{}",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-amzn-errortype")).toBe("InvalidParameterValueException");
    await response.arrayBuffer();
  });

  test("an URL-encoded ARN in the path is decoded before matching", async () => {
    const sim = await startSimulator({ functionName: "orders" });
    sim.spawnRuntime([ECHO_RUNTIME]);
    const name = encodeURIComponent("arn:aws:lambda:us-east-1:123456789012:function:orders:blue");
    const response = await fetch(`${sim.url()}/2015-03-31/functions/${name}/invocations`, {
      method: "POST",
      body: "{}",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as EchoBody;
    expect(body.headers["lambda-runtime-invoked-function-arn"]).toBe(
      "arn:aws:lambda:us-east-1:123456789012:function:orders:blue",
    );
  });
});
