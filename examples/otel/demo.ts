/**
 * The OpenTelemetry demo's environment, shared by `bun run demo` (scripts/demo.ts) and its test
 * (test/examples/otel-demo.test.ts): a simulator with FreezeMode.Process for the extension
 * (extension.ts) and the instrumented runtime (runtime.ts), and what a caller observes of them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FreezeMode, type InvokeResponse, Simulator } from "../../src/index.ts";
import { freePort } from "./collector.ts";

/** The OpenTelemetry extension; it registers as "extension.ts". */
export const EXTENSION = join(import.meta.dir, "extension.ts");
/** The instrumented runtime. */
export const RUNTIME = join(import.meta.dir, "runtime.ts");

/** What runtime.ts answers to every invocation. */
export interface FunctionResponse {
  requestId: string;
  pid: number;
  initCount: number;
  invocation: number;
  coldStart: boolean;
  ticksAtStart: number;
  nowAtStart: number;
  ticks: number;
  now: number;
}

export interface ExtensionExit {
  name: string;
  code: number | null;
  signal: string | null;
}

/**
 * Starts the demo's simulator ("otel-demo", 30 s timeout, FreezeMode.Process, the extension's
 * receiver on a free port); nothing is spawned yet. `extensionExit` resolves when the extension exits.
 */
export async function startDemoSimulator(
  options: { echoLogs?: boolean } = {},
): Promise<{ sim: Simulator; extensionExit: Promise<ExtensionExit> }> {
  const sim = await Simulator.start({
    functionName: "otel-demo",
    timeoutSeconds: 30,
    freezeMode: FreezeMode.Process,
    environment: { OTEL_RECEIVER_PORT: String(freePort()) },
    ...options,
  });
  const extensionExit = new Promise<ExtensionExit>((resolve) => {
    sim.events.on("extensionExit", (exit) => {
      if (exit.name === "extension.ts") resolve(exit);
    });
  });
  return { sim, extensionExit };
}

/** The pid of the running OpenTelemetry extension, if it registered. */
export function extensionPid(sim: Simulator): number | undefined {
  return sim.registeredExtensions().find((e) => e.name === "extension.ts")?.pid;
}

/** How many times the environment ran init. */
export function initCount(sim: Simulator): number {
  return (sim.status() as { initCount: number }).initCount;
}

/** Invokes `event` and waits until the invocation is complete (extensions done with it). */
export async function invokeToCompletion(
  sim: Simulator,
  event: unknown,
  timeoutMs: number,
): Promise<InvokeResponse> {
  const response = await sim.invoke(event);
  await sim.waitForInvocationComplete(response.requestId, timeoutMs);
  return response;
}

/** The process state letter as the OS reports it (/proc/PID/stat on Linux, `ps` elsewhere), or "gone". */
export function processState(pid: number): string {
  if (process.platform === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      return stat.charAt(stat.lastIndexOf(")") + 2);
    } catch {
      return "gone";
    }
  }
  const out = Bun.spawnSync(["ps", "-o", "state=", "-p", String(pid)])
    .stdout.toString()
    .trim();
  return out ? out.charAt(0) : "gone";
}
