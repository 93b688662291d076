/**
 * The floor: a bare `Bun.serve` relay with the same two hops as the simulator and nothing else.
 * Client POST (Invoke API path) -> held -> handed to the runtime's pending long-poll GET /next ->
 * runtime POSTs /response -> the held client request is answered. The runtime is the same program
 * the simulator runs (scripts/bench/runtime.ts, or the Node loop), in its own process.
 */
import type { Subprocess } from "bun";
import { stop, track } from "./children.ts";

interface Pending {
  id: string;
  payload: ArrayBuffer;
}

export interface FloorRelay {
  url: string;
  runtime: Subprocess;
  close(): Promise<void>;
}

const FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:function";
const ACCEPTED = JSON.stringify({ status: "OK" });

/** Starts the relay and the runtime `command` against it. */
export function startFloor(command: string[]): FloorRelay {
  const queue: Pending[] = [];
  const waitingRuntimes: ((response: Response) => void)[] = [];
  const answers = new Map<string, (body: ArrayBuffer) => void>();

  // The same headers the simulator's /next sends, so both hops carry the same bytes.
  const nextResponse = ({ id, payload }: Pending): Response =>
    new Response(payload, {
      headers: {
        "Content-Type": "application/json",
        "Lambda-Runtime-Aws-Request-Id": id,
        "Lambda-Runtime-Deadline-Ms": String(Date.now() + 3000),
        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
      },
    });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    routes: {
      "/2015-03-31/functions/:name/invocations": {
        POST: async (request) => {
          const payload = await request.arrayBuffer();
          const id = crypto.randomUUID();
          const answered = new Promise<ArrayBuffer>((resolve) => answers.set(id, resolve));
          const runtime = waitingRuntimes.shift();
          if (runtime) runtime(nextResponse({ id, payload }));
          else queue.push({ id, payload });
          const body = await answered;
          return new Response(body, {
            headers: {
              "Content-Type": "application/json",
              "X-Amz-Executed-Version": "$LATEST",
              "x-amzn-RequestId": id,
            },
          });
        },
      },
      "/2018-06-01/runtime/invocation/next": {
        GET: () => {
          const pending = queue.shift();
          if (pending) return nextResponse(pending);
          return new Promise<Response>((resolve) => waitingRuntimes.push(resolve));
        },
      },
      "/2018-06-01/runtime/invocation/:id/response": {
        POST: async (request) => {
          const body = await request.arrayBuffer();
          const answer = answers.get(request.params.id);
          if (!answer) return new Response("unknown request id", { status: 400 });
          answers.delete(request.params.id);
          answer(body);
          return new Response(ACCEPTED, { status: 202, headers: { "Content-Type": "application/json" } });
        },
      },
    },
    fetch: () => new Response("not found", { status: 404 }),
  });

  const runtime = track(
    Bun.spawn(command, {
      env: { ...process.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${server.port}` },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
      detached: true,
    }),
    { group: true },
  );

  return {
    url: `http://127.0.0.1:${server.port}`,
    runtime,
    close: async () => {
      await stop(runtime, "SIGKILL");
      await server.stop(true);
    },
  };
}
