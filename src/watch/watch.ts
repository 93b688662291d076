/**
 * Watch mode: on each debounced change, run the build (if any) and recycle the function as a new
 * deployment would. One reload at a time; changes seen during a reload queue exactly one more.
 */
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { RecycleConfig } from "../simulator-options.ts";
import { type BuildResult, type RunningBuild, runBuild } from "./build-runner.ts";
import { ChangeDebouncer } from "./debounce.ts";
import { type FileWatcher, watchPaths } from "./file-watcher.ts";
import { IgnoreRules } from "./ignore-rules.ts";

/** The function settings a new deployment may change (the simulator's RecycleConfig). */
export type WatchRecycleConfig = RecycleConfig;

/** What watch() reloads: a Simulator, or anything that recycles the same way. */
export interface WatchTarget {
  recycle(options: { reason?: string; wait?: boolean; config?: WatchRecycleConfig }): Promise<void>;
}

/** What happens to an invocation in flight when a change comes: let it finish, or cancel it. */
export type OnChangeMode = "wait" | "cancel";

/** One step of a reload, for the caller to show or test; file names are relative to `cwd`. */
export type WatchEvent =
  | { type: "change"; files: string[] }
  | { type: "buildStart"; command: string }
  | { type: "buildOutput"; line: string; stream: "stdout" | "stderr" }
  | { type: "buildEnd"; result: BuildResult }
  | { type: "reloaded"; files: string[]; durationMs: number }
  | { type: "error"; files: string[]; error: Error }
  /** Files changed while the build ran, and nothing else, caused this reload: probably build output. */
  | { type: "buildWroteWatched"; files: string[] };

/** Options of watch(). */
export interface WatchOptions {
  /** Files and directories to watch (directories recursively), relative to `cwd`. */
  paths: readonly string[];
  /** Quiet period after the last change before a reload, in ms (default 50). */
  debounceMs?: number;
  /** Globs of paths to ignore besides `.git`, `node_modules` and what `.gitignore` files ignore. */
  ignore?: readonly string[];
  /** Absolute or cwd-relative paths whose changes never reload (files the simulator writes, build output). */
  ignorePaths?: readonly string[];
  /** Whether `.gitignore` files count (default true). */
  gitignore?: boolean;
  /** Shell command run (`sh -c`) before each reload; when it fails the running code stays. */
  build?: string;
  /** `wait` (default) lets an in-flight invocation finish; `cancel` cuts it short. */
  onChange?: OnChangeMode;
  /** Working directory of the build and base of relative paths (default process.cwd()). */
  cwd?: string;
  /** Re-read on each reload: the settings the new deployment gets (a throw skips the reload). */
  config?: () => WatchRecycleConfig | undefined | Promise<WatchRecycleConfig | undefined>;
  /** Called for every step of every reload. */
  onEvent?: (event: WatchEvent) => void;
}

/** A running watch; `close()` stops watching, ends a running build and waits for a reload in progress. */
export interface Watcher {
  close(): Promise<void>;
  /** Resolves once no reload runs and none is queued. */
  idle(): Promise<void>;
}

/** Watches `options.paths` and reloads `target` on each debounced change. */
export function watch(target: WatchTarget, options: WatchOptions): Watcher {
  return new ReloadLoop(target, options);
}

class ReloadLoop implements Watcher {
  private readonly cwd: string;
  private readonly debouncer: ChangeDebouncer;
  private readonly watcher: FileWatcher;
  private readonly queued = new Set<string>();
  private running: Promise<void> | undefined;
  private build: RunningBuild | undefined;
  private closed = false;
  /** Paths changed while the current build ran. */
  private duringBuild = new Set<string>();
  /** Paths already named in a buildWroteWatched event (named once each). */
  private readonly named = new Set<string>();

  constructor(
    private readonly target: WatchTarget,
    private readonly options: WatchOptions,
  ) {
    this.cwd = options.cwd ?? process.cwd();
    const debounceMs = options.debounceMs ?? 50;
    if (!(debounceMs >= 0)) throw new RangeError(`debounceMs must be 0 or more, got ${debounceMs}`);
    const rules = new IgnoreRules({
      globs: options.ignore,
      paths: options.ignorePaths,
      gitignore: options.gitignore,
      cwd: this.cwd,
      roots: options.paths.map((path) => resolve(this.cwd, path)),
    });
    this.debouncer = new ChangeDebouncer(debounceMs, (paths) => this.enqueue(paths));
    this.watcher = watchPaths(
      options.paths,
      rules,
      (path) => {
        if (this.build) this.duringBuild.add(path);
        this.debouncer.add(path);
      },
      this.cwd,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher.close();
    this.debouncer.cancel();
    this.queued.clear();
    this.build?.kill();
    await this.running;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private enqueue(paths: string[]): void {
    if (this.closed) return;
    for (const path of paths) this.queued.add(path);
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size > 0 && !this.closed) {
        // Editors' and sed's temporary files come and go within the quiet period: name what is
        // there, unless the change was only deletions.
        const present = [...this.queued].filter((path) => existsSync(path));
        const files = (present.length > 0 ? present : [...this.queued]).map((path) => this.shown(path));
        this.noticeBuildOutput([...this.queued]);
        this.queued.clear();
        await this.reload(files);
      }
    } finally {
      this.running = undefined;
    }
  }

  /**
   * A build that writes into a watched path reloads itself forever: say so once, naming the files,
   * when everything that triggered this reload changed while the last build ran.
   */
  private noticeBuildOutput(paths: string[]): void {
    const written = this.duringBuild;
    this.duringBuild = new Set();
    if (paths.length === 0 || !paths.every((path) => written.has(path))) return;
    const fresh = paths.filter((path) => !this.named.has(path));
    if (fresh.length === 0) return;
    for (const path of fresh) this.named.add(path);
    this.options.onEvent?.({ type: "buildWroteWatched", files: fresh.map((path) => this.shown(path)) });
  }

  /** A path as the user knows it: relative to cwd when inside it, else absolute. */
  private shown(path: string): string {
    const rel = relative(this.cwd, path);
    return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  }

  private async reload(files: string[]): Promise<void> {
    const emit = (event: WatchEvent) => this.options.onEvent?.(event);
    const started = performance.now();
    emit({ type: "change", files });
    try {
      if (this.options.build !== undefined) {
        const command = this.options.build;
        emit({ type: "buildStart", command });
        this.build = runBuild(
          command,
          (line, stream) => emit({ type: "buildOutput", line, stream }),
          this.cwd,
        );
        const result = await this.build.done;
        this.build = undefined;
        emit({ type: "buildEnd", result });
        if (!result.ok || this.closed) return;
      }
      const config = await this.options.config?.();
      if (this.closed) return;
      await this.target.recycle({ reason: "change", wait: this.options.onChange !== "cancel", config });
      emit({ type: "reloaded", files, durationMs: performance.now() - started });
    } catch (error) {
      emit({ type: "error", files, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
}
