/** A function's code in a temp dir, for watch tests: a Bun runtime whose answer is a version string in its source. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WatchEvent } from "../../src/watch/watch.ts";
import { tempDir } from "../helpers/temp.ts";

/** The runtime's source: answers {version, pid} to every invocation; `crash` exits at init instead. */
export function runtimeSource(version: string, options: { crash?: boolean } = {}): string {
  return `#!/usr/bin/env bun
const api = \`http://\${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime\`;
${options.crash ? 'console.log("init: broken on purpose"); process.exit(3);' : ""}
while (true) {
  const next = await fetch(\`\${api}/invocation/next\`, { timeout: false });
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const event = JSON.parse((await next.text()) || "{}");
  if (event.sleepMs) await Bun.sleep(event.sleepMs);
  await fetch(\`\${api}/invocation/\${id}/response\`, {
    method: "POST",
    body: JSON.stringify({ version: ${JSON.stringify(version)}, pid: process.pid, env: process.env.GREETING ?? null }),
  });
}
`;
}

/** A project dir with `src/bootstrap.ts` (executable) at version `v1`. */
export function project(): { dir: string; src: string; bootstrap: string } {
  const dir = tempDir("lambda-sim-watch-");
  const src = join(dir, "src");
  mkdirSync(src);
  const bootstrap = join(src, "bootstrap.ts");
  writeRuntime(bootstrap, "v1");
  return { dir, src, bootstrap };
}

/** Writes the runtime source at `path`, executable. */
export function writeRuntime(path: string, version: string, options: { crash?: boolean } = {}): void {
  writeFileSync(path, runtimeSource(version, options));
  chmodSync(path, 0o755);
}

/** Collects a watcher's events; `next(type)` resolves with the next event of that type. */
export class WatchEvents {
  readonly all: WatchEvent[] = [];
  private readonly waiters: { type: WatchEvent["type"]; resolve: (event: WatchEvent) => void }[] = [];

  readonly onEvent = (event: WatchEvent): void => {
    this.all.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.type !== event.type) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  };

  /** The next event of `type` (from now on), or a rejection after `timeoutMs`. */
  next<T extends WatchEvent["type"]>(type: T, timeoutMs = 30_000): Promise<Extract<WatchEvent, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for watch event ${type}`)),
        timeoutMs,
      );
      this.waiters.push({
        type,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as Extract<WatchEvent, { type: T }>);
        },
      });
    });
  }

  /** How many events of `type` came so far. */
  count(type: WatchEvent["type"]): number {
    return this.all.filter((event) => event.type === type).length;
  }
}
