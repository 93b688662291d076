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
