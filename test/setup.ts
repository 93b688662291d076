// Tests spawn real processes on a slow 2-core CI machine: give each test room, never sleep.
import { afterEach, setDefaultTimeout } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { shutdownStartedSimulators } from "./helpers/fixtures.ts";
import { removeTempDirs } from "./helpers/temp.ts";

setDefaultTimeout(60_000);
// bunfig.toml asks for a JUnit report in .ci/out; Bun does not create the directory itself.
mkdirSync(join(import.meta.dir, "..", ".ci", "out"), { recursive: true });
// Registered in the preload so it runs after every test of every file (a hook registered in a
// shared module would only apply to the first file that imports it).
afterEach(async () => {
  await shutdownStartedSimulators();
  removeTempDirs();
});
