#!/usr/bin/env bun
/** Writes lambda-sim.schema.json from the config file's TypeBox schema (test/cli/config-file.test.ts checks it is current). */
import { join } from "node:path";
import { configJsonSchema } from "../src/cli/config-schema.ts";

const path = join(import.meta.dir, "..", "lambda-sim.schema.json");
await Bun.write(path, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path}`);
