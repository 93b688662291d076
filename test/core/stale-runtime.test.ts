import { expect, test } from "bun:test";
import { ECHO_RUNTIME, startSimulator } from "../helpers/fixtures.ts";

test("after a reset, a /next from a process the simulator did not start is refused and starts no init", async () => {
  const sim = await startSimulator();
  sim.spawnRuntime([ECHO_RUNTIME]);
  const crashed = await sim.invoke({ exit: 3 });
  expect(crashed.errorType).toBe("Runtime.ExitError");
  await sim.waitFor((s) => s.phase() === "Uninitialized", 20_000);
  const inits = sim.initCount();

  // Like the /next of a runtime the reset killed, arriving late.
  const stale = await fetch(`${sim.url()}/2018-06-01/runtime/invocation/next`);
  expect(stale.status).toBe(403);
  expect(((await stale.json()) as { errorType: string }).errorType).toBe("InvalidStateTransition");
  expect(sim.phase()).toBe("Uninitialized");
  expect(sim.initCount()).toBe(inits);

  // The next invocation still cold-starts the real runtime.
  const next = await sim.invoke({ ok: true });
  expect(next.functionError).toBeUndefined();
  expect(next.json<{ echo: unknown }>().echo).toEqual({ ok: true });
  expect(sim.initCount()).toBe(inits + 1);
});
