// Tests spawn real processes on a slow 2-core CI machine: give each test room, never sleep.
import { setDefaultTimeout } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

setDefaultTimeout(60_000);
// bunfig.toml asks for a JUnit report in .ci/out; Bun does not create the directory itself.
mkdirSync(join(import.meta.dir, "..", ".ci", "out"), { recursive: true });
