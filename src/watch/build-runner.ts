/** The `--build` command: run through `sh -c` in its own process group, its output passed on line by line. */

/** How a build ended. */
export interface BuildResult {
  ok: boolean;
  /** Exit code, null when a signal ended it. */
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
}

/** A build in progress; `kill()` ends its whole process group (SIGKILL). */
export interface RunningBuild {
  readonly done: Promise<BuildResult>;
  kill(): void;
}

/** Runs `command` with `sh -c` in `cwd`; `onLine` gets each line of its stdout and stderr as it comes. */
export function runBuild(
  command: string,
  onLine: (line: string, stream: "stdout" | "stderr") => void,
  cwd = process.cwd(),
): RunningBuild {
  const started = performance.now();
  const proc = Bun.spawn(["sh", "-c", command], {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // Its own process group, so that kill() reaches what the shell started too.
    detached: true,
  });
  const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) onLine(line, name);
    }
    rest += decoder.decode();
    if (rest !== "") onLine(rest, name);
  };
  const kill = () => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // ESRCH: the build already ended.
    }
  };
  const output = Promise.all([pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr")]);
  const done = (async () => {
    await proc.exited;
    // A background process the build left behind would hold the pipes open (and outlive us).
    kill();
    await output;
    return {
      ok: proc.exitCode === 0,
      exitCode: proc.exitCode,
      signal: proc.signalCode === null ? null : String(proc.signalCode),
      durationMs: performance.now() - started,
    };
  })();
  return {
    done,
    kill,
  };
}
