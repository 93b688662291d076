/** `lambda-sim events [TYPE]`: list the sample event types, or print one as JSON. */
import { defineCommand } from "citty";
import { assertKnownFlags, exitWithError, UsageError } from "./usage.ts";

/** The events command. */
export const eventsCommand = defineCommand({
  meta: {
    name: "events",
    description: "List sample events of the services that invoke Lambda, or print one (TYPE) as JSON",
  },
  // The builders load only when the command runs (or its own --help): `lambda-sim --help` lists
  // commands by their meta alone.
  args: async () => (await import("./event-output.ts")).flagArgs(),
  async run({ args, rawArgs }) {
    try {
      const { buildFromFlags, listing } = await import("./event-output.ts");
      const type = typeof args.type === "string" ? args.type : undefined;
      if (args._.length > 1) {
        throw new UsageError(`events takes one TYPE, got ${args._.map((a) => JSON.stringify(a)).join(", ")}`);
      }
      if (type === undefined) {
        try {
          assertKnownFlags(rawArgs, []);
        } catch {
          throw new UsageError("flags need an event type first, e.g. lambda-sim events s3 --bucket b");
        }
        process.stdout.write(listing());
        return;
      }
      process.stdout.write(`${JSON.stringify(buildFromFlags(type, rawArgs), null, 2)}\n`);
    } catch (error) {
      await exitWithError(error);
    }
  },
});
