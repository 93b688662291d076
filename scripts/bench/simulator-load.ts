/** The simulator under load: library start, the bench runtime spawned by the simulator, invokes over HTTP. */
import { Simulator } from "../../src/index.ts";
import { type InvokeFigures, runInvokes } from "./invoke-load.ts";

export async function simulatorInvokes(
  runtimeScript: string,
  warmup: number,
  count: number,
): Promise<InvokeFigures> {
  const sim = await Simulator.start({ port: 0 });
  try {
    sim.spawnRuntime([process.execPath, runtimeScript]);
    return await runInvokes(sim.url(), warmup, count);
  } finally {
    await sim.shutdown();
  }
}
