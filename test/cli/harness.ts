/**
 * Runs `lambda-sim` as a real process (`bun src/cli/main.ts ...` from the repo root) and makes
 * sure nothing a test started outlives it: `cleanup` (each file's afterEach) SIGKILLs every CLI
 * process and every process group a test registered.
 */
import { expect } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { groupMembers, isAlive } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

/** The repository root: the working directory of every CLI process. */
export const REPO_ROOT = join(import.meta.dir, "..", "..");
/** The echo runtime, relative to the repo root as a user would type it. */
export const ECHO = "test/fixtures/runtimes/echo.ts";
/** What the echo runtime answers: the event, the headers of its /next and its pid. */
export interface EchoBody {
  echo: unknown;
  headers: Record<string, string>;
  env: { pid: number };
}
/** A runtime that answers with its environment (see its header). */
export const ENV_RUNTIME = "test/fixtures/cli/env-runtime.ts";

/** Generous limits for a slow 2-core machine. */
export const STARTUP_MS = 30_000;
export const EXIT_MS = 30_000;

/** The text of a stream, collected as it arrives; `waitFor` resolves as soon as a pattern shows up. */
export class StreamText {
  text = "";
  ended = false;
  readonly done: Promise<void>;
  private readonly listeners = new Set<() => void>();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.text += decoder.decode(chunk, { stream: true });
        this.notify();
      }
      this.text += decoder.decode();
      this.ended = true;
      this.notify();
    })();
  }

  /** Resolves with the first match of `pattern`, rejects if the stream ends or time is up first. */
  waitFor(pattern: RegExp, timeoutMs = STARTUP_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.text.match(pattern);
        if (match) {
          finish();
          resolve(match);
        } else if (this.ended) {
          finish();
          reject(new Error(`stream ended without ${pattern}; got:\n${this.text}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; got:\n${this.text}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** A CLI process with its output collected. */
export interface CliProcess {
  readonly proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  readonly stdout: StreamText;
  readonly stderr: StreamText;
  /** Exit code once the process and both streams are done. */
  finished(): Promise<number | null>;
}

const spawned: Subprocess[] = [];
const groups = new Set<number>();
const tempDirs: string[] = [];

/**
 * Kills what the current test started. Every test file registers it itself with
 * `afterEach(cleanup)`: a hook registered while this shared module loads would only apply to the
 * first test file that imports it (Bun evaluates the module once per run).
 */
export async function cleanup(): Promise<void> {
  for (const proc of spawned.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await proc.exited;
  }
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // ESRCH: already gone, as it should be.
    }
  }
  groups.clear();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Registers a process group to SIGKILL after the current test, in case the test failed early. */
export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

/** Registers a process to SIGKILL after the current test. */
export function trackProcess(proc: Subprocess): void {
  spawned.push(proc);
}

/** A fresh temporary directory, removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lambda-sim-cli-"));
  tempDirs.push(dir);
  return dir;
}

/** Starts `lambda-sim <args>`; stdin is the given text, or closed. */
export function spawnCli(args: string[], options: { stdin?: string } = {}): CliProcess {
  return spawnProcess(["bun", "src/cli/main.ts", ...args], options);
}

/** Starts `command` in the repo root (killed after the test), its output collected as it arrives. */
export function spawnProcess(
  command: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): CliProcess {
  const proc = Bun.spawn(command, {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  }) as Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  trackProcess(proc);
  const stdout = new StreamText(proc.stdout);
  const stderr = new StreamText(proc.stderr);
  return {
    proc,
    stdout,
    stderr,
    finished: async () => {
      await Promise.all([proc.exited, stdout.done, stderr.done]);
      return proc.exitCode;
    },
  };
}

/** What a finished CLI run produced. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `lambda-sim <args>` to completion (SIGKILLed, failing the test, after `timeoutMs`). */
export async function runCli(
  args: string[],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const cli = spawnCli(args, options);
  const timeoutMs = options.timeoutMs ?? EXIT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    cli.proc.kill("SIGKILL");
  }, timeoutMs);
  const code = await cli.finished();
  clearTimeout(timer);
  if (timedOut) {
    throw new Error(
      `lambda-sim ${args.join(" ")} did not exit within ${timeoutMs} ms\nstdout:\n${cli.stdout.text}\nstderr:\n${cli.stderr.text}`,
    );
  }
  return { code, stdout: cli.stdout.text, stderr: cli.stderr.text };
}

/** The non-empty lines of `text`. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** Expects a usage error: exit 2, nothing on stdout, exactly one line on stderr matching `message`. */
export function expectUsageError(result: CliResult, message: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
  const errorLines = lines(result.stderr);
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toMatch(/^lambda-sim: /);
  expect(errorLines[0]).toMatch(message);
}

/** A `serve` process that printed its ready line. */
export interface Served extends CliProcess {
  /** `http://127.0.0.1:<port>` from the ready line. */
  url: string;
  port: number;
  /** `host:port` to give a runtime as AWS_LAMBDA_RUNTIME_API. */
  runtimeApi: string;
}

/** Starts `lambda-sim serve --port 0 <args>` and waits for its ready line on stdout. */
export async function startServe(args: string[]): Promise<Served> {
  const cli = spawnCli(["serve", "--port", "0", ...args]);
  const [, url, port] = await cli.stdout.waitFor(/(http:\/\/127\.0\.0\.1:(\d+))\b/);
  const [, runtimeApi] = await cli.stdout.waitFor(/AWS_LAMBDA_RUNTIME_API=(\S+)/);
  return { ...cli, url: url as string, port: Number(port), runtimeApi: runtimeApi as string };
}

/** The control API's `GET /_simulator/status`. */
export interface Status {
  phase: string;
  runtimePid: number | null;
  initCount: number;
  invocations: { total: number };
}

export async function status(url: string): Promise<Status> {
  const response = await fetch(`${url}/_simulator/status`);
  expect(response.status).toBe(200);
  return (await response.json()) as Status;
}

/** Waits (on the control API) for the runtime `serve` started to be Ready; returns its pid. */
export async function waitForReadyRuntime(url: string): Promise<number> {
  let last: Status | undefined;
  await waitUntil(
    async () => {
      last = await status(url);
      return last.phase === "Ready" && last.runtimePid !== null;
    },
    STARTUP_MS,
    "the runtime to be Ready",
  );
  const pid = (last as Status).runtimePid as number;
  trackGroup(pid);
  return pid;
}

/** POSTs `payload` to the Invoke API. */
export function invokeHttp(url: string, payload: unknown, functionName = "function"): Promise<Response> {
  return fetch(`${url}/2015-03-31/functions/${functionName}/invocations`, {
    method: "POST",
    body: JSON.stringify(payload),
  });
}

/** Waits until no live process is left in process group `pgid`. */
export function waitForGroupGone(pgid: number): Promise<void> {
  return waitUntil(() => groupMembers(pgid).length === 0, EXIT_MS, `process group ${pgid} to be gone`);
}

/** Waits until `pid` is gone (or a zombie). */
export function waitForProcessGone(pid: number): Promise<void> {
  return waitUntil(() => !isAlive(pid), EXIT_MS, `process ${pid} to be gone`);
}

/** A unique argument to append to a bootstrap command, to find its processes in /proc later. */
export function marker(): string {
  return `lambda-sim-test-${crypto.randomUUID()}`;
}

/** Pids of live (non-zombie) processes with `arg` as one of their command-line arguments. */
export function processesWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
      if (args.includes(arg) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

/** Waits until no process carries `arg` (see `marker`). */
export function waitForNoProcessWithArg(arg: string): Promise<void> {
  return waitUntil(
    () => processesWithArg(arg).length === 0,
    EXIT_MS,
    `processes with argument ${arg} to end`,
  );
}
