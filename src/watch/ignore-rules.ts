/**
 * Which changed paths are not worth a reload: `.git` and `node_modules` anywhere, what the
 * `.gitignore` files between the repository root and the path ignore (git's layering: a deeper file
 * overrides a shallower one, and nothing inside an ignored directory comes back), `--ignore` globs,
 * and files the simulator itself writes (the telemetry file), which would otherwise reload forever.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";

/** Directory names never watched, wherever they are. */
const ALWAYS_IGNORED = new Set([".git", "node_modules"]);

/** What an IgnoreRules is built from. */
export interface IgnoreRulesOptions {
  /** Globs (Bun.Glob syntax) matched against paths relative to `cwd`; one without `/` also matches any name. */
  globs?: readonly string[];
  /** Absolute paths ignored with everything below them (the telemetry file, a build's output). */
  paths?: readonly string[];
  /** Whether `.gitignore` files count (default true). */
  gitignore?: boolean;
  /** What relative globs and paths are relative to (default process.cwd()). */
  cwd?: string;
  /** The watched directories: outside a git repository, `.gitignore` files count from these down. */
  roots?: readonly string[];
}

/** Decides, for an absolute path, whether a change to it is ignored. */
export class IgnoreRules {
  private readonly globs: { glob: Bun.Glob; anyName: boolean }[];
  private readonly paths: string[];
  private readonly cwd: string;
  private readonly useGitignore: boolean;
  private readonly watchedRoots: string[];
  /** Parsed `.gitignore` of each directory looked at (undefined: it has none). */
  private readonly gitignores = new Map<string, Ignore | undefined>();
  /** The repository root above each directory looked at (the directory holding `.git`), if any. */
  private readonly roots = new Map<string, string | undefined>();

  constructor(options: IgnoreRulesOptions = {}) {
    this.cwd = options.cwd ?? process.cwd();
    this.globs = (options.globs ?? []).map((pattern) => {
      const trimmed = pattern.replace(/^\.\//, "").replace(/\/+$/, "");
      return { glob: new Bun.Glob(trimmed), anyName: !trimmed.includes("/") };
    });
    this.paths = (options.paths ?? []).map((path) => resolve(this.cwd, path));
    this.useGitignore = options.gitignore ?? true;
    this.watchedRoots = (options.roots ?? []).map((root) => resolve(this.cwd, root));
  }

  /** True when a change to `path` (absolute) should not cause a reload. */
  ignores(path: string): boolean {
    const absolute = resolve(this.cwd, path);
    const parts = absolute.split(sep).filter(Boolean);
    if (parts.some((part) => ALWAYS_IGNORED.has(part))) return true;
    if (this.paths.some((p) => absolute === p || absolute.startsWith(p + sep))) return true;
    if (this.matchesGlob(absolute)) return true;
    return this.useGitignore && this.gitIgnores(absolute);
  }

  /** Forgets cached `.gitignore` contents: call when one of them changes. */
  forget(path: string): void {
    if (basename(path) === ".gitignore") this.gitignores.delete(dirname(resolve(this.cwd, path)));
  }

  private matchesGlob(absolute: string): boolean {
    if (this.globs.length === 0) return false;
    const rel = relative(this.cwd, absolute);
    // A glob names a file or a directory: test the path and each directory above it.
    const candidates: string[] = [];
    for (let p = rel; p !== "" && p !== "." && !p.startsWith(".."); p = dirname(p)) {
      candidates.push(p);
      if (dirname(p) === p) break;
    }
    if (isAbsolute(rel) || rel.startsWith("..")) candidates.push(absolute);
    return this.globs.some(({ glob, anyName }) =>
      candidates.some((candidate) => glob.match(candidate) || (anyName && glob.match(basename(candidate)))),
    );
  }

  /** git's rules: the first ignored ancestor directory wins; otherwise the deepest rule about the path. */
  private gitIgnores(absolute: string): boolean {
    const top =
      this.rootOf(dirname(absolute)) ??
      this.watchedRoots.find((root) => absolute.startsWith(root + sep)) ??
      dirname(absolute);
    const rel = relative(top, absolute);
    if (rel === "" || rel.startsWith("..")) return false;
    const parts = rel.split(sep);
    for (let depth = 1; depth <= parts.length; depth++) {
      const target = join(top, ...parts.slice(0, depth));
      const isDirectory = depth < parts.length || isDir(target);
      let ignored = false;
      for (let d = 0; d < depth; d++) {
        const dir = join(top, ...parts.slice(0, d));
        const rules = this.gitignoreOf(dir);
        if (!rules) continue;
        const result = rules.test(relative(dir, target) + (isDirectory ? "/" : ""));
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      if (ignored) return true;
    }
    return false;
  }

  private gitignoreOf(dir: string): Ignore | undefined {
    if (this.gitignores.has(dir)) return this.gitignores.get(dir);
    let rules: Ignore | undefined;
    try {
      rules = ignore().add(readFileSync(join(dir, ".gitignore"), "utf8"));
    } catch {
      rules = undefined; // No .gitignore here (or unreadable): no rules.
    }
    this.gitignores.set(dir, rules);
    return rules;
  }

  private rootOf(dir: string): string | undefined {
    if (this.roots.has(dir)) return this.roots.get(dir);
    let root: string | undefined;
    try {
      statSync(join(dir, ".git"));
      root = dir;
    } catch {
      const parent = dirname(dir);
      root = parent === dir ? undefined : this.rootOf(parent);
    }
    this.roots.set(dir, root);
    return root;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
