/**
 * Native `fs.watch` over files and directories: a directory recursively, a file through its parent
 * directory (editors that save by renaming a new file over the old one would end a watch on the file
 * itself). Reports absolute paths of changes that the ignore rules let through.
 */
import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { IgnoreRules } from "./ignore-rules.ts";

/** A set of native watches; `close()` ends them all. */
export interface FileWatcher {
  close(): void;
}

/** Thrown for a watched path that does not exist or cannot be watched. */
export class WatchPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WatchPathError";
  }
}

/**
 * Watches `paths` (relative to `cwd`) and calls `onChange` with the absolute path of each change not
 * ignored; explicitly named files are reported even when the rules would ignore them (a `.env`
 * file is usually gitignored yet is part of the function).
 */
export function watchPaths(
  paths: readonly string[],
  rules: IgnoreRules,
  onChange: (path: string) => void,
  cwd = process.cwd(),
): FileWatcher {
  const watchers: FSWatcher[] = [];
  // Files watched through their directory: directory -> names.
  const files = new Map<string, Set<string>>();
  const directories: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch (error) {
      throw new WatchPathError(`cannot watch ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    if (isDirectory) directories.push(absolute);
    else {
      const names = files.get(dirname(absolute)) ?? new Set<string>();
      names.add(basename(absolute));
      files.set(dirname(absolute), names);
    }
  }
  const report = (absolute: string, named: boolean) => {
    if (basename(absolute) === ".gitignore") rules.forget(absolute);
    if (named || !rules.ignores(absolute)) onChange(absolute);
  };
  try {
    for (const dir of new Set(directories)) {
      watchers.push(
        watch(dir, { recursive: true }, (_event, name) => {
          if (name) report(join(dir, name.toString()), false);
        }),
      );
    }
    for (const [dir, names] of files) {
      watchers.push(
        watch(dir, (_event, name) => {
          if (name && names.has(name.toString())) report(join(dir, name.toString()), true);
        }),
      );
    }
  } catch (error) {
    for (const watcher of watchers) watcher.close();
    throw new WatchPathError(`cannot watch: ${(error as Error).message}`);
  }
  return {
    close: () => {
      for (const watcher of watchers.splice(0)) watcher.close();
    },
  };
}
