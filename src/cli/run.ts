/** `lambda-sim run`: start the runtime, invoke it with each event, print each response, exit. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { defineCommand } from "citty";
import { ServiceError } from "../core/errors.ts";
import { invocationTenant } from "../core/tenancy.ts";
import { functionArgs } from "./function-options.ts";
import { assertKnownFlags, commandAfterDash, exitWithError, repeated, UsageError } from "./usage.ts";

const runArgs = {
  ...functionArgs,
  port: { ...functionArgs.port, default: "0" },
  event: {
    type: "string",
    description: "Event: a JSON file, inline JSON, - for stdin, or @TYPE for a sample event (repeatable)",
  },
  "tenant-id": { type: "string", description: "Tenant of every invocation (with --tenant-isolation)" },
} as const;

async function readEvent(source: string): Promise<string> {
  if (source === "-") return await Bun.stdin.text();
  if (source.startsWith("@")) return await sampleEvent(source.slice(1));
  if (existsSync(source) && statSync(source).isFile()) {
    try {
      return readFileSync(source, "utf8");
    } catch (error) {
      throw new UsageError(
        `cannot read event file ${source}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
  }
  try {
    JSON.parse(source);
    return source;
  } catch {
    throw new UsageError(`--event ${JSON.stringify(source)} is neither a readable file nor valid JSON`);
  }
}

/** The sample event `lambda-sim events TYPE` prints, for `--event @TYPE`. */
async function sampleEvent(type: string): Promise<string> {
  const { EVENT_TYPES, isEventTypeName } = await import("../events/index.ts");
  if (!isEventTypeName(type)) {
    throw new UsageError(
      `--event @${type}: no such sample event; use one of ${Object.keys(EVENT_TYPES)
        .map((t) => `@${t}`)
        .join(", ")} (a file is given without @)`,
    );
  }
  return JSON.stringify(EVENT_TYPES[type].build());
}

/** One line of output: the payload re-serialised as compact JSON (a JSON string when it is not JSON). */
function outputLine(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

/** The tenant of run's invocations, checked before anything starts (Lambda's rule, as a usage error). */
function runTenant(tenantIsolation: boolean, tenantId: string | undefined): string | undefined {
  try {
    return invocationTenant(tenantIsolation, tenantId);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    const hint = tenantIsolation ? "give --tenant-id ID" : "--tenant-id needs --tenant-isolation";
    throw new UsageError(`${error.message} (${hint})`);
  }
}

/** The run command. */
export const runCommand = defineCommand({
  meta: {
    name: "run",
    description:
      "Invoke a runtime once per --event and print each response as one JSON line; exit 0 iff all succeeded",
  },
  args: runArgs,
  async run({ args: given, rawArgs: givenArgv }) {
    try {
      assertKnownFlags(givenArgv, Object.keys(runArgs));
      const { withConfigFile } = await import("./config-file.ts");
      const { args, rawArgs } = withConfigFile(given, givenArgv, Object.keys(runArgs));
      const bootstrap = commandAfterDash(rawArgs);
      if (bootstrap.length === 0)
        throw new UsageError("run needs a bootstrap: lambda-sim run --event '{}' -- ./bootstrap");
      const tenantId = runTenant(args["tenant-isolation"] === true, args["tenant-id"]);
      const sources = repeated(rawArgs, "event");
      if (sources.length === 0) sources.push("{}");
      const events: string[] = [];
      for (const source of sources) {
        const event = await readEvent(source);
        if (event.trim() !== "") {
          try {
            JSON.parse(event);
          } catch (error) {
            const name = source === "-" ? "stdin" : source;
            throw new UsageError(`--event ${name} is not valid JSON: ${(error as Error).message}`);
          }
        }
        events.push(event);
      }
      // Loaded only now: --help must not pay for the whole simulator.
      const [{ startFromCli }, { InvocationBuilder }] = await Promise.all([
        import("./start.ts"),
        import("../core/invocation.ts"),
      ]);
      const simulator = await startFromCli(args, rawArgs);
      const interrupt = () => void simulator.shutdown().then(() => process.exit(130));
      process.on("SIGINT", interrupt);
      process.on("SIGTERM", interrupt);
      let failures = 0;
      for (const event of events) {
        const invocation = new InvocationBuilder().payload(event);
        if (tenantId !== undefined) invocation.tenantId(tenantId);
        const response = await simulator.invoke(invocation);
        process.stdout.write(`${outputLine(response.text())}\n`);
        // As in Lambda, the invocation ends when the runtime (and extensions) ask for the next one:
        // wait for that (END/REPORT) before the next event or the shutdown.
        const { timeoutSeconds, initTimeoutSeconds } = simulator.config;
        await simulator.waitForInvocationComplete(
          response.requestId,
          (timeoutSeconds + initTimeoutSeconds + 10) * 1000,
        );
        if (response.functionError) {
          failures++;
          process.stderr.write(
            `lambda-sim: invocation ${response.requestId} failed: ${response.errorType}\n`,
          );
        }
      }
      await simulator.shutdown();
      process.exit(failures === 0 ? 0 : 1);
    } catch (error) {
      await exitWithError(error);
    }
  },
});
