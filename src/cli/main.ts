#!/usr/bin/env bun
/** `lambda-sim`: the command-line entry point. */
import { defineCommand, runMain } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { invokeCommand } from "./invoke.ts";
import { runCommand } from "./run.ts";
import { serveCommand } from "./serve.ts";

const main = defineCommand({
  meta: {
    name: "lambda-sim",
    version: pkg.version,
    description: "A high-fidelity simulator of the AWS Lambda execution environment",
  },
  subCommands: { serve: serveCommand, run: runCommand, invoke: invokeCommand },
});

const commands = ["serve", "run", "invoke"];
const [first] = process.argv.slice(2);
if (first !== undefined && !first.startsWith("-") && !commands.includes(first)) {
  process.stderr.write(
    `lambda-sim: unknown command ${JSON.stringify(first)}; use one of ${commands.join(", ")} (see --help)\n`,
  );
  process.exit(2);
}
void runMain(main);
