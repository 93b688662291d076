import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IgnoreRules } from "../../src/watch/ignore-rules.ts";
import { tempDir } from "../helpers/temp.ts";

/** A repository in a temp dir with the given files (a `.git` directory marks its root). */
function repo(files: Record<string, string>): string {
  const root = tempDir("lambda-sim-ignore-");
  mkdirSync(join(root, ".git"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("IgnoreRules", () => {
  test(".git and node_modules are ignored anywhere, without any .gitignore", () => {
    const root = repo({});
    const rules = new IgnoreRules({ cwd: root });
    expect(rules.ignores(join(root, ".git", "index"))).toBe(true);
    expect(rules.ignores(join(root, "node_modules", "x", "index.js"))).toBe(true);
    expect(rules.ignores(join(root, "src", "node_modules", "y.js"))).toBe(true);
    expect(rules.ignores(join(root, "src", "index.ts"))).toBe(false);
  });

  test("gitignore patterns: *, **, leading /, trailing /, ! negation", () => {
    const root = repo({
      ".gitignore": ["*.log", "!keep.log", "/top-only.txt", "build/", "**/cache/**", "tmp*"].join("\n"),
      "sub/top-only.txt": "",
    });
    mkdirSync(join(root, "build"));
    const rules = new IgnoreRules({ cwd: root });
    const ignored = (path: string) => rules.ignores(join(root, path));
    expect(ignored("a.log")).toBe(true);
    expect(ignored("deep/er/b.log")).toBe(true);
    expect(ignored("keep.log")).toBe(false);
    expect(ignored("top-only.txt")).toBe(true);
    expect(ignored("sub/top-only.txt")).toBe(false);
    expect(ignored("build/out.js")).toBe(true);
    expect(ignored("x/cache/y/z.bin")).toBe(true);
    expect(ignored("tmpfile")).toBe(true);
    expect(ignored("src/index.ts")).toBe(false);
  });

  test("a trailing / matches directories only", () => {
    const root = repo({ ".gitignore": "out/\n", out: "a file named out" });
    const rules = new IgnoreRules({ cwd: root });
    expect(rules.ignores(join(root, "out"))).toBe(false);
    expect(rules.ignores(join(root, "dir", "out", "x.js"))).toBe(true);
  });

  test("a deeper .gitignore overrides a shallower one, but not inside an ignored directory", () => {
    const root = repo({
      ".gitignore": "*.gen.ts\nvendor/\n",
      "src/.gitignore": "!wanted.gen.ts\n",
      "vendor/.gitignore": "!*\n",
    });
    const rules = new IgnoreRules({ cwd: root });
    expect(rules.ignores(join(root, "src", "other.gen.ts"))).toBe(true);
    expect(rules.ignores(join(root, "src", "wanted.gen.ts"))).toBe(false);
    expect(rules.ignores(join(root, "vendor", "lib.ts"))).toBe(true);
  });

  test("forget() re-reads a .gitignore that changed", () => {
    const root = repo({ ".gitignore": "*.tmp\n" });
    const rules = new IgnoreRules({ cwd: root });
    expect(rules.ignores(join(root, "a.tmp"))).toBe(true);
    writeFileSync(join(root, ".gitignore"), "");
    rules.forget(join(root, ".gitignore"));
    expect(rules.ignores(join(root, "a.tmp"))).toBe(false);
  });

  test("outside a repository the watched roots' .gitignore files count", () => {
    const root = tempDir("lambda-sim-ignore-");
    writeFileSync(join(root, ".gitignore"), "dist/\n");
    const rules = new IgnoreRules({ cwd: root, roots: [root] });
    expect(rules.ignores(join(root, "dist", "x.js"))).toBe(true);
    expect(rules.ignores(join(root, "src", "x.js"))).toBe(false);
  });

  test("--ignore globs: relative to cwd, a glob without / matches any name, a directory covers its files", () => {
    const root = repo({});
    const rules = new IgnoreRules({
      cwd: root,
      globs: ["*.swp", "generated/**", "./snapshots", "docs/*.md"],
    });
    const ignored = (path: string) => rules.ignores(join(root, path));
    expect(ignored("src/.index.ts.swp")).toBe(true);
    expect(ignored("generated/a/b.ts")).toBe(true);
    expect(ignored("snapshots/one.json")).toBe(true);
    expect(ignored("docs/readme.md")).toBe(true);
    expect(ignored("docs/deep/readme.md")).toBe(false);
    expect(ignored("src/index.ts")).toBe(false);
  });

  test("ignored paths (files the simulator writes) cover themselves and what is below them", () => {
    const root = repo({});
    const rules = new IgnoreRules({ cwd: root, paths: ["telemetry.jsonl", join(root, "out")] });
    expect(rules.ignores(join(root, "telemetry.jsonl"))).toBe(true);
    expect(rules.ignores(join(root, "out", "a.js"))).toBe(true);
    expect(rules.ignores(join(root, "outside.js"))).toBe(false);
  });

  test("gitignore: false turns .gitignore files off", () => {
    const root = repo({ ".gitignore": "*.log\n" });
    expect(new IgnoreRules({ cwd: root, gitignore: false }).ignores(join(root, "a.log"))).toBe(false);
  });
});
