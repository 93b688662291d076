/** What `lambda-sim events` prints: the list of sample event types, or one built from flags. */
import type { ArgsDef } from "citty";
import { EVENT_TYPES, EventOptionError, type EventType, isEventTypeName } from "../events/index.ts";
import { assertKnownFlags, repeated, UsageError } from "./usage.ts";

/** Every flag some type takes, described once with the types it is for (the --help text). */
export function flagArgs(): ArgsDef {
  const described = new Map<string, Map<string, string[]>>();
  for (const [type, entry] of Object.entries(EVENT_TYPES)) {
    for (const [flag, spec] of Object.entries(entry.flags)) {
      const byText = described.get(flag) ?? new Map<string, string[]>();
      byText.set(spec.description, [...(byText.get(spec.description) ?? []), type]);
      described.set(flag, byText);
    }
  }
  const args: ArgsDef = {
    type: { type: "positional", required: false, description: "Event type (omit to list them)" },
  };
  for (const [flag, byText] of described) {
    const texts = [...byText].map(([text, types]) =>
      types.length === Object.keys(EVENT_TYPES).length ? text : `${types.join(", ")}: ${text}`,
    );
    args[flag] = { type: "string", description: texts.join("; ") };
  }
  return args;
}

/** The names and descriptions of every type, one line each. */
export function listing(): string {
  const width = Math.max(...Object.keys(EVENT_TYPES).map((name) => name.length));
  const lines = Object.entries(EVENT_TYPES).map(
    ([name, entry]) => `${name.padEnd(width)}  ${entry.description}`,
  );
  return `${lines.join("\n")}\n\nPrint one with: lambda-sim events TYPE [--flag value ...] (flags: lambda-sim events --help)\n`;
}

/** The event of type `name` built from the flags on the command line. */
export function buildFromFlags(name: string, rawArgs: readonly string[]): object {
  if (!isEventTypeName(name)) {
    throw new UsageError(
      `unknown event type ${JSON.stringify(name)}; use one of ${Object.keys(EVENT_TYPES).join(", ")}`,
    );
  }
  // Each entry's options type differs; its flags produce options of that very type.
  const entry: EventType<object> = EVENT_TYPES[name];
  const flags = Object.keys(entry.flags);
  try {
    assertKnownFlags(rawArgs, flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `${error.message.replace(/ \(see --help\)$/, "")} for ${name}; it takes ${flags.map((f) => `--${f}`).join(", ")}`,
    );
  }
  try {
    const options = {};
    for (const [flag, spec] of Object.entries(entry.flags)) {
      const values = repeated(rawArgs, flag);
      if (values.length > 0) Object.assign(options, spec.parse(values, flag));
    }
    return entry.build(options);
  } catch (error) {
    if (error instanceof EventOptionError) throw new UsageError(`${name}: ${error.message}`);
    throw error;
  }
}
