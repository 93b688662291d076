#!/usr/bin/env bun
/** `lambda-sim`: the command-line entry point. */
import { defineCommand, runMain } from "citty";
import pkg from "../../package.json" with { type: "json" };

const main = defineCommand({
  meta: {
    name: "lambda-sim",
    version: pkg.version,
    description: "A high-fidelity simulator of the AWS Lambda execution environment",
  },
  // Each command is loaded when it runs (or when --help lists it): start-up pays only for what it uses.
  subCommands: {
    serve: () => import("./serve.ts").then((m) => m.serveCommand),
    run: () => import("./run.ts").then((m) => m.runCommand),
    invoke: () => import("./invoke.ts").then((m) => m.invokeCommand),
    events: () => import("./events.ts").then((m) => m.eventsCommand),
    watch: () => import("./watch.ts").then((m) => m.watchCommand),
  },
});

const commands = ["serve", "run", "invoke", "events", "watch"];
const [first] = process.argv.slice(2);
if (first !== undefined && !first.startsWith("-") && !commands.includes(first)) {
  process.stderr.write(
    `lambda-sim: unknown command ${JSON.stringify(first)}; use one of ${commands.join(", ")} (see --help)\n`,
  );
  process.exit(2);
}
void runMain(main);
