/** Launchers for the runtime (bootstrap) and external extensions, each in its own process group. */
import { basename } from "node:path";
import type { ExtensionLauncher, LaunchedProcess, Launcher } from "../core/environment/launch.ts";
import { LambdaError } from "../core/errors.ts";
import { spawnGroup } from "./process-group.ts";

/** What launching a process needs. */
export interface LaunchCommand {
  command: string[];
  cwd?: string;
  /** Called at each launch: a fresh environment (new log stream name per environment). */
  env: () => Record<string, string>;
  onLine: (line: string, stream: "stdout" | "stderr") => void;
}

function launch(spec: LaunchCommand, errorType: string, what: string): LaunchedProcess {
  try {
    const group = spawnGroup({ command: spec.command, cwd: spec.cwd, env: spec.env(), onLine: spec.onLine });
    // Let the last lines a dying process wrote reach the log before its exit is acted on.
    const exited = group.exited.then(async (exit) => {
      await group.drained;
      return exit;
    });
    return {
      pid: group.pid,
      exited,
      flushOutput: (always) => group.flushOutput(always),
      terminate: () => group.signalLeader("SIGTERM"),
      kill: group.kill,
      maxMemoryUsedMB: group.maxMemoryUsedMB,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LambdaError(500, errorType, `Couldn't start ${what}: ${reason}`);
  }
}

/** Spawns the runtime for every init. */
export function runtimeLauncher(spec: LaunchCommand): Launcher {
  return { launch: () => launch(spec, "Runtime.InvalidEntrypoint", "the bootstrap") };
}

/** Spawns an external extension for every init; its name is the executable's base name. */
export function extensionLauncher(spec: LaunchCommand): ExtensionLauncher {
  const name = basename(spec.command[0] ?? "");
  return { name, launch: () => launch(spec, "Extension.LaunchError", `extension ${name}`) };
}

/** Variables Lambda removes from the extensions' environment (reference 5.2). */
const NOT_FOR_EXTENSIONS = [
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_XRAY_CONTEXT_MISSING",
  "AWS_XRAY_DAEMON_ADDRESS",
  "LAMBDA_RUNTIME_DIR",
  "LAMBDA_TASK_ROOT",
  "_AWS_XRAY_DAEMON_ADDRESS",
  "_AWS_XRAY_DAEMON_PORT",
  "_HANDLER",
];

/** The runtime's environment minus what Lambda withholds from extensions. */
export function extensionEnvironment(runtimeEnv: Record<string, string>): Record<string, string> {
  const env = { ...runtimeEnv };
  for (const key of NOT_FOR_EXTENSIONS) delete env[key];
  return env;
}
