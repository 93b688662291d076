/** `lambda-sim invoke`: call a running simulator's Invoke API, as `aws lambda invoke` would. */
import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { assertKnownFlags, exitWithError, UsageError } from "./usage.ts";

const invokeArgs = {
  url: { type: "string", description: "Simulator URL", default: "http://127.0.0.1:9001" },
  function: { type: "string", description: "Function name or ARN", default: "function" },
  payload: { type: "string", description: "Payload: JSON, @file, or - for stdin", default: "{}" },
  tail: { type: "boolean", description: "Print the log tail (X-Amz-Log-Result) on stderr" },
  stream: {
    type: "boolean",
    description: "InvokeWithResponseStream: print the response's chunks as they arrive",
  },
  qualifier: { type: "string", description: "Version or alias" },
  "tenant-id": { type: "string", description: "Tenant of a tenant-isolation function (X-Amz-Tenant-Id)" },
  "invocation-type": {
    type: "string",
    description: "RequestResponse, Event or DryRun",
    default: "RequestResponse",
  },
} as const;

async function readPayload(value: string): Promise<string> {
  if (value === "-") return await Bun.stdin.text();
  if (value.startsWith("@")) {
    try {
      return readFileSync(value.slice(1), "utf8");
    } catch (error) {
      throw new UsageError(
        `cannot read payload file ${value.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
  }
  return value;
}

/** The decoded events of a streamed answer, with chunks written to stdout as they arrive. */
async function printStream(response: Response, tail: boolean): Promise<number> {
  const { decodeEvents } = await import("../http/event-stream.ts");
  let failed = false;
  for await (const event of decodeEvents(response.body ?? new ReadableStream())) {
    if (event.type === "PayloadChunk") {
      process.stdout.write(event.body);
      continue;
    }
    if (event.type !== "InvokeComplete") continue;
    const complete = JSON.parse(new TextDecoder().decode(event.body)) as {
      ErrorCode?: string;
      ErrorDetails?: string;
      LogResult?: string;
    };
    if (tail && complete.LogResult)
      process.stderr.write(Buffer.from(complete.LogResult, "base64").toString("utf8"));
    if (complete.ErrorCode) {
      failed = true;
      process.stderr.write(
        `\nlambda-sim: the stream ended with ${complete.ErrorCode}: ${complete.ErrorDetails ?? ""}\n`,
      );
    }
  }
  return failed ? 1 : 0;
}

/** The invoke command. */
export const invokeCommand = defineCommand({
  meta: { name: "invoke", description: "Invoke the function on a running simulator and print the response" },
  args: invokeArgs,
  async run({ args, rawArgs }) {
    try {
      assertKnownFlags(rawArgs, Object.keys(invokeArgs));
      const payload = await readPayload(args.payload);
      let base: URL;
      try {
        base = new URL(args.url);
      } catch {
        throw new UsageError(`--url ${JSON.stringify(args.url)} is not a URL (e.g. http://127.0.0.1:9001)`);
      }
      const stream = args.stream === true;
      if (stream && args["invocation-type"] === "Event") {
        throw new UsageError(
          "--stream takes RequestResponse or DryRun: Lambda streams synchronous invocations only",
        );
      }
      const name = encodeURIComponent(args.function);
      const url = new URL(
        stream
          ? `/2021-11-15/functions/${name}/response-streaming-invocations`
          : `/2015-03-31/functions/${name}/invocations`,
        base,
      );
      if (args.qualifier) url.searchParams.set("Qualifier", args.qualifier);
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "X-Amz-Invocation-Type": args["invocation-type"],
        "X-Amz-Log-Type": args.tail ? "Tail" : "None",
      };
      const tenantId = args["tenant-id"];
      if (tenantId !== undefined) headers["X-Amz-Tenant-Id"] = tenantId;
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          body: payload,
          // An invocation may run up to 900 s without a byte on the wire: no client idle timeout.
          timeout: false,
          headers,
        });
      } catch (error) {
        throw new UsageError(
          `cannot reach ${base.origin}: ${(error as Error).message} (is \`lambda-sim serve\` running?)`,
        );
      }
      if (stream && response.status === 200) process.exit(await printStream(response, args.tail === true));
      const body = await response.text();
      const tail = response.headers.get("x-amz-log-result");
      if (tail) process.stderr.write(Buffer.from(tail, "base64").toString("utf8"));
      if (response.status >= 400) {
        const type = response.headers.get("x-amzn-errortype") ?? `HTTP ${response.status}`;
        process.stderr.write(`lambda-sim: ${type}: ${body}\n`);
        process.exit(2);
      }
      if (body) process.stdout.write(`${body}\n`);
      else process.stderr.write(`${response.status} ${response.headers.get("x-amzn-requestid") ?? ""}\n`);
      process.exit(response.headers.get("x-amz-function-error") ? 1 : 0);
    } catch (error) {
      await exitWithError(error);
    }
  },
});
