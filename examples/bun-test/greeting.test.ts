// Testing a runtime with the simulator as a library, from `bun test`.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Simulator } from "../../src/index.ts";

const bootstrap = join(import.meta.dir, "..", "runtime", "bootstrap.ts");

test("the example runtime greets and reports errors as Lambda would", async () => {
  await using sim = await Simulator.builder().functionName("greeter").timeout(3).build();
  sim.spawnRuntime([bootstrap]);

  const ok = await sim.invoke({ name: "Ada" });
  expect(ok.json()).toEqual({
    greeting: "Hello, Ada!",
    function: "arn:aws:lambda:us-east-1:123456789012:function:greeter",
  });

  const failed = await sim.invoke({ fail: true });
  expect(failed.functionError).toBe("Unhandled");
  expect(failed.errorType).toBe("Runtime.TypeError");

  const state = await sim.waitForInvocationComplete(failed.requestId, 10_000);
  expect(state.logs.at(-1)).toContain("Status: error\tError Type: Runtime.TypeError");
});

test("an extension sees each invocation before the runtime answers it, and exits on SHUTDOWN", async () => {
  await using sim = await Simulator.start({ functionName: "greeter" });
  const lines: string[] = [];
  sim.events.on("log", ({ source, line }) => {
    if (source === "extension") lines.push(line);
  });
  sim.spawnExtension([join(import.meta.dir, "..", "extensions", "hello-extension.ts")]);
  sim.spawnRuntime([bootstrap]);
  const response = await sim.invoke({ name: "Ada" });
  await sim.waitForInvocationComplete(response.requestId, 10_000);
  expect(lines).toContain(`saw invocation ${response.requestId}`);
  expect(sim.registeredExtensions().map((e) => e.name)).toEqual(["hello-extension.ts"]);
  await sim.shutdown();
  expect(lines.at(-1)).toBe("shutting down (spindown)");
});
