/** `lambda-sim watch`: serve, and on each change rebuild and start a fresh deployment (a new init). */
import { statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { defineCommand } from "citty";
import type { WatchEvent, WatchRecycleConfig } from "../watch/watch.ts";
import { functionArgs } from "./function-options.ts";
import {
  assertKnownFlags,
  commandAfterDash,
  exitWithError,
  numberFlag,
  repeated,
  UsageError,
} from "./usage.ts";

const watchArgs = {
  ...functionArgs,
  watch: { type: "string", description: "File or directory to watch, recursively (repeatable)" },
  build: {
    type: "string",
    description: "Command run with sh -c before each reload; a failure keeps the old code",
  },
  debounce: {
    type: "string",
    description: "Quiet period after a change before reloading, in ms",
    default: "50",
  },
  ignore: { type: "string", description: "Glob of paths whose changes are ignored (repeatable)" },
  "on-change": {
    type: "string",
    description: "An invocation in flight at a change: wait (let it finish) or cancel",
    default: "wait",
  },
} as const;

/** At most this many trigger names on one line. */
const SHOWN_TRIGGERS = 5;

function triggers(files: string[]): string {
  const shown = files.slice(0, SHOWN_TRIGGERS).join(", ");
  return files.length > SHOWN_TRIGGERS ? `${shown} and ${files.length - SHOWN_TRIGGERS} more` : shown;
}

/** The line a step of a reload prints, and where: triggers and results on stdout, the build and failures on stderr. */
function watchEventLine(event: WatchEvent): { line: string; stream: "stdout" | "stderr" } | undefined {
  switch (event.type) {
    case "change":
      return { line: `lambda-sim change: ${triggers(event.files)}`, stream: "stdout" };
    case "buildStart":
      return { line: `[build] $ ${event.command}`, stream: "stderr" };
    case "buildOutput":
      return { line: `[build] ${event.line}`, stream: "stderr" };
    case "buildEnd": {
      const { result } = event;
      if (result.ok) return undefined;
      const how = result.exitCode !== null ? `exit code ${result.exitCode}` : `signal ${result.signal}`;
      return {
        line: `lambda-sim: build failed (${how}); the previous code keeps serving; waiting for the next change`,
        stream: "stderr",
      };
    }
    case "reloaded":
      return {
        line: `lambda-sim reloaded in ${Math.round(event.durationMs)} ms (${triggers(event.files)})`,
        stream: "stdout",
      };
    case "buildWroteWatched":
      return {
        line: `lambda-sim: the build wrote ${triggers(event.files)}, which is watched: if it is build output, add --ignore or a .gitignore entry for it, or each build will cause another reload`,
        stream: "stderr",
      };
    case "error":
      return {
        line: `lambda-sim: reload failed: ${event.error.message}; the previous code keeps serving`,
        stream: "stderr",
      };
  }
}

function printWatchEvent(event: WatchEvent): void {
  const printed = watchEventLine(event);
  if (printed) process[printed.stream].write(`${printed.line}\n`);
}

/** The watch command. */
export const watchCommand = defineCommand({
  meta: {
    name: "watch",
    description:
      "Serve like `serve`, and on each change to a --watch path run --build and start a fresh deployment (new init)",
  },
  args: watchArgs,
  async run({ args: given, rawArgs: givenArgv }) {
    try {
      assertKnownFlags(givenArgv, Object.keys(watchArgs));
      const keys = Object.keys(watchArgs);
      // Loaded only now: --help must not pay for the whole simulator.
      const [{ exitOnSignals, startFromCli }, { withConfigFile }, { simulatorOptionsFromArgs }, { watch }] =
        await Promise.all([
          import("./start.ts"),
          import("./config-file.ts"),
          import("./function-options.ts"),
          import("../watch/watch.ts"),
        ]);
      const { args, rawArgs, file } = withConfigFile(given, givenArgv, keys);
      const bootstrap = commandAfterDash(rawArgs);
      if (bootstrap.length === 0) {
        throw new UsageError(
          "watch needs a bootstrap to relaunch: lambda-sim watch --watch src -- ./bootstrap",
        );
      }
      const paths = repeated(rawArgs, "watch");
      if (paths.length === 0)
        throw new UsageError("watch needs at least one --watch PATH (file or directory)");
      for (const path of paths) {
        // Checked before anything starts: nothing listens when the command line is wrong.
        try {
          statSync(path);
        } catch (error) {
          throw new UsageError(`cannot watch ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
        }
      }
      const debounceMs = numberFlag(args.debounce, "debounce", true) ?? 50;
      if (debounceMs < 0)
        throw new UsageError(`--debounce must be 0 or more milliseconds, got ${debounceMs}`);
      const onChange = args["on-change"] ?? "wait";
      if (onChange !== "wait" && onChange !== "cancel") {
        throw new UsageError(`--on-change must be wait or cancel, got ${JSON.stringify(onChange)}`);
      }
      const build = typeof args.build === "string" && args.build !== "" ? args.build : undefined;
      const envFile =
        typeof args["env-file"] === "string" && args["env-file"] !== "" ? args["env-file"] : undefined;
      const telemetryFile = typeof args["telemetry-file"] === "string" ? args["telemetry-file"] : undefined;
      // Every reload reads the config file and the env file again: what a new deployment may change.
      const config = (): WatchRecycleConfig => {
        const current = withConfigFile(given, givenArgv, keys);
        const options = simulatorOptionsFromArgs(current.args, current.rawArgs);
        const next: WatchRecycleConfig = {
          environment: options.environment,
          handler: options.handler,
          memorySizeMB: options.memorySizeMB,
          timeoutSeconds: options.timeoutSeconds,
          initTimeoutSeconds: options.initTimeoutSeconds,
          logFormat: options.logFormat,
          taskRoot: options.taskRoot,
        };
        for (const key of Object.keys(next) as (keyof WatchRecycleConfig)[]) {
          if (next[key] === undefined) delete next[key];
        }
        return next;
      };
      if (build) {
        // The first build runs before the start, so the code served from the start is fresh (and a
        // bootstrap the build makes exists); a failure leaves what an earlier build made.
        const { runBuild } = await import("../watch/build-runner.ts");
        printWatchEvent({ type: "buildStart", command: build });
        const first = runBuild(build, (line, stream) =>
          printWatchEvent({ type: "buildOutput", line, stream }),
        );
        // The build has a process group of its own, out of reach of the terminal's Ctrl-C.
        const interrupt = () => {
          first.kill();
          process.exit(130);
        };
        process.on("SIGINT", interrupt).on("SIGTERM", interrupt);
        const result = await first.done;
        process.off("SIGINT", interrupt).off("SIGTERM", interrupt);
        printWatchEvent({ type: "buildEnd", result });
      }
      const simulator = await startFromCli(args, rawArgs);
      process.stdout.write(
        `lambda-sim ready on ${simulator.url()} AWS_LAMBDA_RUNTIME_API=${simulator.runtimeApiUrl()}\n`,
      );
      const mode = args["http-invoke-mode"] ?? "BUFFERED";
      if (args.http) process.stdout.write(`lambda-sim function URL ${simulator.functionUrl()} (${mode})\n`);
      const watched = [...paths, ...(envFile ? [envFile] : []), ...(file ? [file.path] : [])];
      let watcher: { close(): Promise<void> };
      try {
        watcher = watch(simulator, {
          paths: watched,
          debounceMs,
          ignore: repeated(rawArgs, "ignore"),
          // Files the simulator writes, and the bootstrap when a build makes it: changes that are ours.
          ignorePaths: [
            ...(telemetryFile ? [telemetryFile] : []),
            ...(build ? [bootstrap[0] as string] : []),
          ],
          build,
          onChange,
          config,
          onEvent: printWatchEvent,
        });
      } catch (error) {
        await simulator.shutdown();
        throw new UsageError((error as Error).message);
      }
      const shown = watched.map((path) => {
        const rel = relative(process.cwd(), resolve(path));
        return rel === "" || rel.startsWith("..") ? path : rel;
      });
      process.stdout.write(`lambda-sim watching ${shown.join(", ")} (debounce ${debounceMs} ms)\n`);
      await exitOnSignals(
        simulator,
        () => {},
        () => watcher.close(),
      );
    } catch (error) {
      await exitWithError(error);
    }
  },
});
