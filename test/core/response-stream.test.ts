// Streamed responses in core, on a fake clock: the bandwidth bucket, the size limit, the single
// end, the caller's pace (backpressure) and a caller that went away; then the environment's rules
// for a streaming runtime (what it may call while its body is open, the error that ends it, the
// deadline, and a cut body that waits for the runtime's exit).
import { describe, expect, test } from "bun:test";
import { STREAM_BURST_BYTES, STREAM_RATE_BYTES_PER_SECOND, TokenBucket } from "../../src/core/bandwidth.ts";
import { resolveFunctionConfig } from "../../src/core/config.ts";
import { ExecutionEnvironment } from "../../src/core/environment/execution-environment.ts";
import { type EnvironmentEventMap, EventBus } from "../../src/core/events.ts";
import { Invocation, InvocationBuilder } from "../../src/core/invocation.ts";
import { CallerSink, CollectingSink } from "../../src/core/response-sinks.ts";
import { ResponseStream } from "../../src/core/response-stream.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { FakeProcess } from "../helpers/fake-process.ts";

const MiB = 1024 * 1024;
const bytes = (n: number) => new Uint8Array(n);

describe("TokenBucket", () => {
  test("the burst goes at once; past it the sender waits at the refill rate", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(clock);
    expect(bucket.take(STREAM_BURST_BYTES)).toBe(0);
    expect(bucket.take(STREAM_RATE_BYTES_PER_SECOND)).toBe(1000);
    clock.advance(1000);
    // The debt is paid: the next MiB waits half a second.
    expect(bucket.take(MiB)).toBe(500);
  });

  test("idle time refills the bucket up to the burst, never beyond", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(clock);
    bucket.take(STREAM_BURST_BYTES);
    clock.advance(60_000);
    expect(bucket.take(STREAM_BURST_BYTES)).toBe(0);
    expect(bucket.take(1)).toBeGreaterThan(0);
  });
});

describe("ResponseStream", () => {
  const options = (clock = new FakeClock(), limitBytes = 10 * MiB, capBandwidth = false) => ({
    clock,
    limitBytes,
    capBandwidth,
  });

  test("past its limit it fails with Function.ResponseSizeTooLarge and drops the rest", () => {
    const sink = new CollectingSink();
    const stream = new ResponseStream("text/plain", sink, options(new FakeClock(), 10));
    stream.write(bytes(6));
    stream.write(bytes(6));
    stream.write(bytes(6));
    expect(stream.open).toBe(false);
    expect(sink.payload().byteLength).toBe(6);
    const end = stream.end();
    expect(end.error?.errorType).toBe("Function.ResponseSizeTooLarge");
    expect(JSON.parse(end.error?.details as string).errorMessage).toContain("(10 bytes)");
  });

  test("it ends once: the first end wins, later writes are dropped", () => {
    const ends: unknown[] = [];
    const stream = new ResponseStream("text/plain", new CollectingSink(), options());
    stream.onEnd = (end) => ends.push(end);
    stream.write(bytes(3));
    stream.end({ errorType: "E", details: "{}" });
    stream.end();
    expect(stream.write(bytes(3))).toBeUndefined();
    expect(ends).toEqual([{ bytes: 3, error: { errorType: "E", details: "{}" } }]);
  });

  test("with the cap on, a write past the burst resolves only when the clock has moved on", async () => {
    const clock = new FakeClock();
    const stream = new ResponseStream("text/plain", new CollectingSink(), options(clock, 100 * MiB, true));
    expect(stream.write(bytes(STREAM_BURST_BYTES))).toBeUndefined();
    let resumed = false;
    void stream.write(bytes(2 * MiB))?.then(() => {
      resumed = true;
    });
    clock.advance(999);
    await Promise.resolve();
    expect(resumed).toBe(false);
    clock.advance(1);
    await Promise.resolve();
    expect(resumed).toBe(true);
  });

  test("a slow caller holds the writer back; a caller that went away does not", async () => {
    const sink = new CallerSink();
    const stream = new ResponseStream("text/plain", sink, options(new FakeClock(), 100 * MiB));
    // 1 MiB of queue: the writer is asked to wait once the caller has that much unread.
    expect(stream.write(bytes(512 * 1024))).toBeUndefined();
    const wait = stream.write(bytes(512 * 1024));
    expect(wait).toBeInstanceOf(Promise);
    const reader = sink.body.getReader();
    await reader.read();
    await wait;
    await reader.cancel();
    expect(sink.cancelled).toBe(true);
    for (let i = 0; i < 20; i++) expect(stream.write(bytes(MiB))).toBeUndefined();
    expect(stream.end()).toEqual({ bytes: 21 * MiB });
  });
});

/** An environment with one fake runtime, on a fake clock, holding one invocation. */
async function streamingEnvironment(stream: boolean) {
  const clock = new FakeClock();
  const config = resolveFunctionConfig({ timeoutSeconds: 3 });
  const env = new ExecutionEnvironment(config, new EventBus<EnvironmentEventMap>(), {
    clock,
    streamBandwidthLimit: false,
  });
  const launched: FakeProcess[] = [];
  env.setLauncher({
    launch: () => {
      const process = new FakeProcess();
      launched.push(process);
      return process;
    },
  });
  env.start();
  const first = env.next();
  const invocation = new Invocation({
    ...new InvocationBuilder().payload({}).build(),
    streamResponse: stream,
  });
  env.enqueue(invocation);
  await first;
  return { clock, env, invocation, launched };
}

describe("a streaming runtime in the environment", () => {
  test("while its body is open it may post /error but not /next or a second /response", async () => {
    const { env, invocation } = await streamingEnvironment(true);
    const stream = env.respondStreaming(invocation.id, "text/plain");
    await expect(env.next()).rejects.toThrow("from InvocationResponse to Ready");
    expect(() => env.respondStreaming(invocation.id, "text/plain")).toThrow(
      "from InvocationResponse to InvocationResponse",
    );
    stream.write(new TextEncoder().encode("partial"));
    env.fail(invocation.id, new TextEncoder().encode('{"errorType":"E"}'), "application/json", "E");
    expect(stream.open).toBe(false);
    expect((await stream.ended).error).toEqual({ errorType: "E", details: '{"errorType":"E"}' });
    expect(() => env.fail(invocation.id, new Uint8Array(), "application/json", "E")).toThrow(
      "from RuntimeResponseSentState",
    );
    expect(invocation.errorType).toBe("E");
  });

  test("a streaming caller gets the stream at once; a buffered caller gets the collected body at the end", async () => {
    const streaming = await streamingEnvironment(true);
    const stream = streaming.env.respondStreaming(streaming.invocation.id, "text/plain");
    const result = await streaming.invocation.response;
    expect(result.stream).toBeDefined();
    expect(streaming.invocation.answered).toBe(false);
    stream.end();
    expect(streaming.invocation.answered).toBe(true);

    const buffered = await streamingEnvironment(false);
    const collected = buffered.env.respondStreaming(buffered.invocation.id, "text/plain");
    collected.write(new TextEncoder().encode("a"));
    collected.write(new TextEncoder().encode("b"));
    expect(buffered.invocation.result).toBeUndefined();
    collected.end();
    const answer = await buffered.invocation.response;
    expect([answer.stream, new TextDecoder().decode(answer.payload), answer.contentType]).toEqual([
      undefined,
      "ab",
      "text/plain",
    ]);
  });

  test("the deadline ends an open stream with Sandbox.Timedout after the bytes sent", async () => {
    const { clock, env, invocation } = await streamingEnvironment(true);
    const stream = env.respondStreaming(invocation.id, "text/plain");
    stream.write(new TextEncoder().encode("so far"));
    clock.advance(3000);
    const end = await stream.ended;
    expect([end.bytes, end.error?.errorType]).toEqual([6, "Sandbox.Timedout"]);
    expect(invocation.status).toBe("timeout");
  });

  test("a cut body is Runtime.TruncatedResponse after the grace; a runtime exit within it is the error instead", async () => {
    const cut = await streamingEnvironment(true);
    const stream = cut.env.respondStreaming(cut.invocation.id, "text/plain");
    cut.env.responseCut(cut.invocation);
    expect(stream.open).toBe(true);
    cut.clock.advance(100);
    expect((await stream.ended).error?.errorType).toBe("Runtime.TruncatedResponse");

    const crashed = await streamingEnvironment(true);
    const crashing = crashed.env.respondStreaming(crashed.invocation.id, "text/plain");
    crashed.env.responseCut(crashed.invocation);
    crashed.launched[0]?.crash();
    const end = await crashing.ended;
    crashed.clock.advance(100);
    expect(end.error?.errorType).toBe("Runtime.ExitError");
    expect(crashed.invocation.errorType).toBe("Runtime.ExitError");
  });
});
