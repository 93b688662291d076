/** Starts the runtime (bootstrap) process for each init, with Lambda's environment. */
import type { RuntimeHandle, RuntimeLauncher } from "../core/environment.ts";
import { LambdaError } from "../core/errors.ts";
import { spawnGroup } from "./process-group.ts";

/** What a runtime launch needs. */
export interface RuntimeCommand {
  command: string[];
  cwd: string;
  /** Called at each launch: a fresh environment (new log stream name per environment). */
  env: () => Record<string, string>;
  onLine: (line: string, stream: "stdout" | "stderr") => void;
  onSpawn?: (pid: number) => void;
}

/** A launcher that spawns `command` in its own process group for every init. */
export function processLauncher(runtime: RuntimeCommand): RuntimeLauncher {
  return {
    launch(): RuntimeHandle {
      try {
        const group = spawnGroup({
          command: runtime.command,
          cwd: runtime.cwd,
          env: runtime.env(),
          onLine: runtime.onLine,
        });
        runtime.onSpawn?.(group.pid);
        // Let the last lines a dying runtime wrote reach the log before its exit is acted on.
        const exited = group.exited.then(async (exit) => {
          await group.drained;
          return exit;
        });
        return { pid: group.pid, exited, kill: group.kill, maxMemoryUsedMB: group.maxMemoryUsedMB };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new LambdaError(500, "Runtime.InvalidEntrypoint", `Couldn't start the bootstrap: ${reason}`);
      }
    },
  };
}
