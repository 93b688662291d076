/**
 * The processes of one execution environment: how its runtime and external extensions are
 * launched at each init, the ones alive now, and what is frozen and measured with them.
 */
import { LambdaError } from "../errors.ts";
import type { ExtensionLauncher, LaunchedProcess, Launcher } from "./launch.ts";

/** Launchers and live processes of one environment. */
export class EnvironmentProcesses {
  /** How the runtime is started; none: a runtime started elsewhere (by hand, in a debugger). */
  launcher?: Launcher;
  /** The runtime the simulator started, while it lives. */
  runtime?: LaunchedProcess;
  /** Launched external extension processes of the current init, by executable name. */
  extensions = new Map<string, LaunchedProcess>();
  private readonly extensionLaunchers: ExtensionLauncher[] = [];
  private readonly extraFreezePids = new Set<number>();

  /** External extensions, launched before the runtime at every init. */
  get externalExtensions(): readonly ExtensionLauncher[] {
    return this.extensionLaunchers;
  }

  /** Something can be launched, so an init can start without waiting for a runtime from outside. */
  get canLaunch(): boolean {
    return this.launcher !== undefined || this.extensionLaunchers.length > 0;
  }

  /** Adds an external extension; two with one name are refused as Lambda refuses them. */
  addExtension(launcher: ExtensionLauncher): void {
    if (this.extensionLaunchers.some((l) => l.name === launcher.name)) {
      throw new LambdaError(
        400,
        "Extension.InvalidExtensionName",
        `Two extensions are named ${launcher.name}`,
      );
    }
    this.extensionLaunchers.push(launcher);
  }

  /** Adds a process started outside the simulator to what is frozen and thawed. */
  addFreezeRoot(pid: number): void {
    this.extraFreezePids.add(pid);
  }

  /** Roots of every process tree to stop and continue together. */
  freezeRoots(): number[] {
    const roots = [...this.extraFreezePids];
    if (this.runtime) roots.push(this.runtime.pid);
    for (const process of this.extensions.values()) roots.push(process.pid);
    return roots;
  }

  /** Peak memory of the runtime and extension trees, in MB. */
  maxMemoryUsedMB(): number {
    let total = 0;
    for (const process of [this.runtime, ...this.extensions.values()])
      total += process?.maxMemoryUsedMB() ?? 0;
    return total;
  }

  /** Hands the live processes over (to the shutdown phase) and forgets them. */
  release(): { runtime?: LaunchedProcess; extensions: Map<string, LaunchedProcess> } {
    const released = { runtime: this.runtime, extensions: this.extensions };
    this.runtime = undefined;
    this.extensions = new Map();
    return released;
  }
}
