/**
 * The streaming side of `POST /runtime/invocation/{id}/response` (reference 1.4) with runtimes in
 * other languages: Python's http.client writing the chunked body and trailers itself
 * (test/fixtures/runtimes/stream.py), sh piping into `curl -T -` (stream-curl.sh), and raw sockets
 * for what no client does on purpose (a cut body). The caller is the library's invokeStream, or
 * the buffered invoke for the 6 MB rule.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { InvocationStatus, type Simulator, type SimulatorOptions } from "../../src/index.ts";
import { FIXTURES } from "../helpers/fixtures.ts";
import { endsClean, startWatched } from "../helpers/leftovers.ts";
import { RawConnection } from "../helpers/raw-http.ts";

const PYTHON = join(FIXTURES, "runtimes", "stream.py");
const CURL = join(FIXTURES, "runtimes", "stream-curl.sh");

async function withRuntime(command: string[], options: SimulatorOptions = {}) {
  const watched = await startWatched({ functionName: "streamer", ...options });
  const output: string[] = [];
  watched.sim.events.on("log", ({ source, line }) => {
    if (source === "function") output.push(line);
  });
  watched.sim.spawnRuntime(command);
  return { ...watched, output };
}

/** The runtime line that starts with `prefix`, once it has been printed. */
async function printed(sim: Simulator, output: string[], prefix: string): Promise<string> {
  await sim.waitFor(() => output.some((line) => line.startsWith(prefix)), 10_000);
  return output.find((line) => line.startsWith(prefix)) as string;
}

describe("a Python http.client runtime streaming by hand", () => {
  test("chunks reach the caller as they are written; the runtime gets 202 {status: OK} after its final chunk", async () => {
    const { sim, pids, output } = await withRuntime([PYTHON]);
    const answer = await sim.invokeStream({ mode: "ok", chunks: 3, delay: 0.3 });
    expect(answer.contentType).toBe("text/plain");
    const arrivals: number[] = [];
    const pieces: string[] = [];
    for await (const piece of answer.body) {
      arrivals.push(performance.now());
      pieces.push(new TextDecoder().decode(piece));
    }
    expect(pieces.join("")).toBe("python chunk 0\npython chunk 1\npython chunk 2\n");
    // Written 300 ms apart: the first arrived well before the last (nothing was collected first).
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(400);
    expect(await answer.completion).toEqual({ bytes: 45 });
    expect(await printed(sim, output, "stream.py: ok")).toBe(`stream.py: ok (202, '{"status":"OK"}')`);
    expect((await sim.waitForInvocationComplete(answer.requestId, 10_000)).status).toBe(
      InvocationStatus.Success,
    );
    await endsClean(sim, pids);
  });

  test("error trailers end the stream with that error after the bytes sent; the runtime still gets 202 and stays warm", async () => {
    const { sim, pids, output } = await withRuntime([PYTHON]);
    const answer = await sim.invokeStream({ mode: "trailer-error" });
    expect(await answer.text()).toBe("half ");
    const completion = await answer.completion;
    expect(completion.errorType).toBe("ValueError");
    expect(JSON.parse(completion.errorDetails as string)).toEqual({
      errorType: "ValueError",
      errorMessage: "bad value",
    });
    expect(await printed(sim, output, "stream.py: trailer-error")).toContain("(202, ");
    const state = await sim.waitForInvocationComplete(answer.requestId, 10_000);
    expect([state.status, state.errorType]).toEqual([InvocationStatus.Error, "ValueError"]);
    // A buffered caller gets the same failure as Lambda's error answer.
    const pid = sim.runtimePid();
    const buffered = await sim.invoke({ mode: "trailer-error" });
    expect([buffered.functionError, buffered.errorType]).toEqual(["Unhandled", "ValueError"]);
    expect(buffered.json()).toEqual({ errorType: "ValueError", errorMessage: "bad value" });
    expect(sim.runtimePid()).toBe(pid as number);
    await endsClean(sim, pids);
  });

  test("/error while the stream is open fails the invocation once, with that error; nothing hangs", async () => {
    const { sim, pids, output } = await withRuntime([PYTHON]);
    const answer = await sim.invokeStream({ mode: "error-during" });
    expect(await answer.text()).toBe("then an error ");
    const completion = await answer.completion;
    expect(completion.errorType).toBe("KeyError");
    expect(JSON.parse(completion.errorDetails as string).errorMessage).toBe("posted during the stream");
    expect(await printed(sim, output, "stream.py: error-during")).toBe(
      `stream.py: error-during (202, '{"status":"OK"}')`,
    );
    const state = await sim.waitForInvocationComplete(answer.requestId, 10_000);
    expect([state.status, state.errorType]).toEqual([InvocationStatus.Error, "KeyError"]);
    // The runtime is still the same process and serves the next invoke.
    const next = await sim.invokeStream({ mode: "ok", chunks: 1 });
    expect(await next.text()).toBe("python chunk 0\n");
    await endsClean(sim, pids);
  });

  test("a body cut without its final chunk is Runtime.TruncatedResponse; the live runtime carries on", async () => {
    const { sim, pids } = await withRuntime([PYTHON]);
    const answer = await sim.invokeStream({ mode: "cut" });
    expect(await answer.text()).toBe("cut short ");
    expect((await answer.completion).errorType).toBe("Runtime.TruncatedResponse");
    const state = await sim.waitForInvocationComplete(answer.requestId, 10_000);
    expect([state.status, state.errorType]).toEqual([InvocationStatus.Error, "Runtime.TruncatedResponse"]);
    expect(await (await sim.invokeStream({ mode: "ok", chunks: 1 })).text()).toBe("python chunk 0\n");
    await endsClean(sim, pids);
  });

  test("a response mode other than streaming: 400 InvalidFunctionResponseMode, Runtime.InvalidResponseModeHeader", async () => {
    const { sim, pids, output } = await withRuntime([PYTHON]);
    const answer = await sim.invoke({ mode: "bad-mode" });
    expect([answer.functionError, answer.errorType]).toEqual([
      "Unhandled",
      "Runtime.InvalidResponseModeHeader",
    ]);
    const line = await printed(sim, output, "stream.py: bad-mode");
    expect(line).toContain("400");
    expect(line).toContain("InvalidFunctionResponseMode");
    await endsClean(sim, pids);
  });

  test("a buffered caller keeps the 6 MB limit: Function.ResponseSizeTooLarge, the runtime gets 413", async () => {
    const { sim, pids, output } = await withRuntime([PYTHON], { streamBandwidthLimit: false });
    const answer = await sim.invoke({ mode: "size", size: 7 * 1024 * 1024 });
    expect([answer.functionError, answer.errorType]).toEqual(["Unhandled", "Function.ResponseSizeTooLarge"]);
    expect(answer.json<{ errorMessage: string }>().errorMessage).toContain("6291556 bytes");
    expect(await printed(sim, output, "stream.py: size")).toContain("(413, ");
    // A streaming caller may take the same 7 MB.
    const streamed = await sim.invokeStream({ mode: "size", size: 7 * 1024 * 1024 });
    expect((await streamed.text()).length).toBe(7 * 1024 * 1024);
    expect(await streamed.completion).toEqual({ bytes: 7 * 1024 * 1024 });
    await endsClean(sim, pids);
  });

  test("the bandwidth cap is on by default: 6 MiB go at once, the next 2 MiB take a second more", async () => {
    const { sim, pids } = await withRuntime([PYTHON]);
    const started = performance.now();
    const answer = await sim.invokeStream({ mode: "size", size: 8 * 1024 * 1024 });
    expect((await answer.text()).length).toBe(8 * 1024 * 1024);
    // A lower bound only: a slower machine can take longer, never less.
    expect(performance.now() - started).toBeGreaterThan(900);
    await endsClean(sim, pids);
  });
});

describe("a sh runtime streaming through curl -T -", () => {
  test("lines piped into curl reach the caller as they are written", async () => {
    const { sim, pids } = await withRuntime([CURL]);
    const answer = await sim.invokeStream({});
    const pieces: { text: string; at: number }[] = [];
    for await (const piece of answer.body)
      pieces.push({ text: new TextDecoder().decode(piece), at: Date.now() });
    const lines = pieces
      .map((p) => p.text)
      .join("")
      .split("\n")
      .filter(Boolean);
    expect(lines.map((l) => l.split(" at ")[0])).toEqual(["sh line 0", "sh line 1", "sh line 2"]);
    const lastWritten = Number(lines[2]?.split(" at ")[1]);
    expect(lastWritten - (pieces[0]?.at as number)).toBeGreaterThan(250);
    expect(await answer.completion).toEqual({ bytes: lines.join("\n").length + 1 });
    await endsClean(sim, pids);
  });
});

describe("the caller goes away mid-stream", () => {
  test("the function runs on to its end and the invocation completes with its own status", async () => {
    const { sim, pids } = await withRuntime([PYTHON]);
    const dispatched = new Promise<string>((resolve) => {
      sim.events.on("invocationDispatch", (invocation) => resolve(invocation.id));
    });
    const event = JSON.stringify({ mode: "ok", chunks: 3, delay: 0.3 });
    const connection = new RawConnection(sim.port);
    connection.write(
      "POST /2021-11-15/functions/streamer/response-streaming-invocations HTTP/1.1\r\nHost: x\r\n" +
        `Content-Length: ${event.length}\r\n\r\n${event}`,
    );
    const started = await dispatched;
    // The answer's head (a chunked body follows): the caller hangs up with the stream still open.
    expect((await connection.next()).headers["transfer-encoding"]).toBe("chunked");
    connection.destroy();
    expect(sim.invocationState(started)?.status).toBe(InvocationStatus.Running);
    const state = await sim.waitForInvocationComplete(started, 10_000);
    expect(state.status).toBe(InvocationStatus.Success);
    expect(await (await sim.invokeStream({ mode: "ok", chunks: 1 })).text()).toBe("python chunk 0\n");
    await endsClean(sim, pids);
  });

  test("a large stream to a caller that left: the runtime is not held back, the invocation succeeds", async () => {
    const { sim, pids } = await withRuntime([PYTHON], { streamBandwidthLimit: false });
    const dispatched = new Promise<string>((resolve) => {
      sim.events.on("invocationDispatch", (invocation) => resolve(invocation.id));
    });
    const event = JSON.stringify({ mode: "size", size: 32 * 1024 * 1024 });
    const connection = new RawConnection(sim.port);
    connection.write(
      "POST /2021-11-15/functions/streamer/response-streaming-invocations HTTP/1.1\r\nHost: x\r\n" +
        `Content-Length: ${event.length}\r\n\r\n${event}`,
    );
    const started = await dispatched;
    await connection.next();
    connection.destroy();
    // Were the dropped caller's queue still filling, the runtime would wait until Sandbox.Timedout.
    const state = await sim.waitForInvocationComplete(started, 10_000);
    expect(state.status).toBe(InvocationStatus.Success);
    await endsClean(sim, pids);
  });
});
