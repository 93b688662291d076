/** How CLI flags become fixture builder options: each event type lists the flags it takes. */
import type { AwsEventOptions } from "./common.ts";
import { EventOptionError } from "./common.ts";
import type { JsonValue } from "./http-request.ts";

/** One flag of an event type, and the options its values stand for. */
export interface EventFlag<O> {
  readonly description: string;
  /** The options given by every value of `--flag` (in command-line order). */
  parse(values: readonly string[], flag: string): Partial<O>;
}

/** The flags of an event type, by name (without `--`). */
export type EventFlags<O> = { readonly [flag: string]: EventFlag<O> };

/** The one value of a flag that may be given once. */
function once(values: readonly string[], flag: string): string {
  if (values.length > 1)
    throw new EventOptionError(`--${flag} may be given once, got it ${values.length} times`);
  return values[0] as string;
}

/** A flag with one text value, for option `key`. */
export function text<K extends string>(key: K, description: string): EventFlag<{ [P in K]: string }> {
  return { description, parse: (values, flag) => ({ [key]: once(values, flag) }) as { [P in K]: string } };
}

/** A repeatable flag, every value kept in order, for option `key`. */
export function list<K extends string>(key: K, description: string): EventFlag<{ [P in K]: string[] }> {
  return { description, parse: (values) => ({ [key]: [...values] }) as { [P in K]: string[] } };
}

/** A flag with one whole number, for option `key`. */
export function integer<K extends string>(key: K, description: string): EventFlag<{ [P in K]: number }> {
  return {
    description,
    parse: (values, flag) => {
      const value = once(values, flag);
      const n = Number(value);
      if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
        throw new EventOptionError(`--${flag} must be a whole number, got ${JSON.stringify(value)}`);
      }
      return { [key]: n } as { [P in K]: number };
    },
  };
}

/** Parses `value` as JSON or says which flag is wrong. */
function parseJson(value: string, flag: string): JsonValue {
  try {
    // JSON.parse yields JSON values only.
    return JSON.parse(value) as JsonValue;
  } catch (error) {
    throw new EventOptionError(`--${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A flag with one JSON value, for option `key`. */
export function json<K extends string>(key: K, description: string): EventFlag<{ [P in K]: JsonValue }> {
  return {
    description,
    parse: (values, flag) => ({ [key]: parseJson(once(values, flag), flag) }) as { [P in K]: JsonValue },
  };
}

/** A flag with one JSON object, for option `key`. */
export function jsonObject<K extends string>(
  key: K,
  description: string,
): EventFlag<{ [P in K]: { [name: string]: JsonValue } }> {
  return {
    description,
    parse: (values, flag) => {
      const value = parseJson(once(values, flag), flag);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new EventOptionError(`--${flag} must be a JSON object, got ${once(values, flag)}`);
      }
      return { [key]: value } as { [P in K]: { [name: string]: JsonValue } };
    },
  };
}

/** Splits `NAME<separator>VALUE` or says what the flag expects. */
function splitPair(value: string, separator: string, flag: string, example: string): [string, string] {
  const at = value.indexOf(separator);
  const name = at === -1 ? "" : value.slice(0, at).trim();
  if (name === "")
    throw new EventOptionError(`--${flag} must look like ${example}, got ${JSON.stringify(value)}`);
  return [name, value.slice(at + separator.length).trim()];
}

/** A repeatable `NAME=VALUE` flag, for a record option `key`. */
export function pairs<K extends string>(
  key: K,
  description: string,
): EventFlag<{ [P in K]: Record<string, string> }> {
  return {
    description,
    parse: (values, flag) => {
      const record: Record<string, string> = {};
      for (const value of values) {
        const [name, one] = splitPair(value, "=", flag, "NAME=VALUE");
        record[name] = one;
      }
      return { [key]: record } as { [P in K]: Record<string, string> };
    },
  };
}

/** The repeatable `--header 'Name: value'` flag; a name given twice is sent twice. */
export const headerFlag: EventFlag<{ headers: Record<string, string[]> }> = {
  description: "Request header 'Name: value' (repeatable)",
  parse: (values, flag) => {
    const headers: Record<string, string[]> = {};
    for (const value of values) {
      const [name, one] = splitPair(value, ":", flag, "'Name: value'");
      headers[name] = [...(headers[name] ?? []), one];
    }
    return { headers };
  },
};

/** The flags every event type takes: where and when the event comes from. */
export const originFlags: EventFlags<AwsEventOptions> = {
  region: text("region", "Region of the event source (default us-east-1)"),
  "account-id": text("accountId", "Account of the event source (default 123456789012)"),
  time: {
    description: "When the event happened, as an ISO 8601 date (default now)",
    parse: (values, flag) => {
      const value = once(values, flag);
      const time = Date.parse(value);
      if (Number.isNaN(time))
        throw new EventOptionError(`--${flag} must be an ISO 8601 date, got ${JSON.stringify(value)}`);
      return { time };
    },
  },
};

/** A flag with one of `choices`, for option `key`. */
export function choice<K extends string, const V extends string>(
  key: K,
  choices: readonly V[],
  description: string,
): EventFlag<{ [P in K]: V }> {
  return {
    description,
    parse: (values, flag) => {
      const value = once(values, flag);
      if (!(choices as readonly string[]).includes(value)) {
        throw new EventOptionError(
          `--${flag} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`,
        );
      }
      return { [key]: value } as { [P in K]: V };
    },
  };
}
