/** `lambda-sim serve`: one execution environment on one port until SIGINT/SIGTERM. */
import { defineCommand } from "citty";
import { functionArgs } from "./function-options.ts";
import { assertKnownFlags, commandAfterDash, exitWithError } from "./usage.ts";

/** The serve command. */
export const serveCommand = defineCommand({
  meta: {
    name: "serve",
    description:
      "Serve the Runtime, Extensions and Invoke APIs; with `-- <bootstrap> [args]` start the runtime and run init at once",
  },
  args: functionArgs,
  async run({ args: given, rawArgs: givenArgv }) {
    try {
      assertKnownFlags(givenArgv, Object.keys(functionArgs));
      // Loaded only now: --help must not pay for the whole simulator.
      const [{ exitOnSignals, startFromCli }, { withConfigFile }] = await Promise.all([
        import("./start.ts"),
        import("./config-file.ts"),
      ]);
      const { args, rawArgs } = withConfigFile(given, givenArgv, Object.keys(functionArgs));
      const bootstrap = commandAfterDash(rawArgs);
      const simulator = await startFromCli(args, rawArgs);
      const waiting = bootstrap.length > 0 ? "" : " (no bootstrap: waiting for a runtime started elsewhere)";
      process.stdout.write(
        `lambda-sim ready on ${simulator.url()} AWS_LAMBDA_RUNTIME_API=${simulator.runtimeApiUrl()}${waiting}\n`,
      );
      const mode = args["http-invoke-mode"] ?? "BUFFERED";
      if (args.http) process.stdout.write(`lambda-sim function URL ${simulator.functionUrl()} (${mode})\n`);
      await exitOnSignals(simulator);
    } catch (error) {
      await exitWithError(error);
    }
  },
});
