/**
 * The listener of an execution environment's sandbox APIs (what `AWS_LAMBDA_RUNTIME_API` points
 * at). It is `node:http`, not `Bun.serve`: a streamed `/response` reports mid-stream errors in
 * request trailers, which `Bun.serve` does not read (it answers 400 over them and kills the
 * runtime's connection). The Runtime API is served natively (runtime.ts); the other routes
 * (Extensions, Telemetry, Logs, and the front when it shares the port) are Elysia apps reached
 * through the bridge.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { ConfigurationError } from "../core/errors.ts";
import type { FetchHandler, ListeningServer, ListenOptions } from "./listener.ts";
import { fetchRequest, readNodeBody, sendFetchResponse, sendNodeError } from "./node-bridge.ts";

/** A route served on `node:http` directly; returns false when the request is not its own. */
export type NodeRoute = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** A bound listener; `ready` rejects (with the reason in words) when the port could not be bound. */
export interface SandboxListener extends ListeningServer {
  readonly ready: Promise<void>;
}

function pathOf(url: string): string {
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return url.slice(Math.max(start, 0), query === -1 ? undefined : query);
}

/** Serves `route` first, then `app`, on `hostname:port`. */
export function listenSandbox(
  route: NodeRoute,
  app: FetchHandler | Promise<FetchHandler>,
  options: ListenOptions,
): SandboxListener {
  const { hostname, port, maxRequestBodySize, portFlag = "--port" } = options;
  let handler: FetchHandler | undefined;
  const loaded = Promise.resolve(app).then((ready) => {
    handler = ready;
    return ready;
  });
  loaded.catch(() => {});
  const viaApp = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const body = hasBody ? await readNodeBody(req, maxRequestBodySize) : undefined;
      if (!hasBody) req.resume();
      const fetchHandler = handler ?? (await loaded);
      await sendFetchResponse(res, await fetchHandler.fetch(fetchRequest(req, body)));
    } catch (error) {
      sendNodeError(res, error);
    }
  };
  const server = createServer((req, res) => {
    if (!route(req, res, pathOf(req.url ?? "/"))) void viaApp(req, res);
  });
  // Long-polls (/next, event/next) wait for minutes, and a frozen runtime's idle socket must
  // still be there when it thaws: no server-side timeouts.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.timeout = 0;
  const ready = new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new ConfigurationError(
              `port ${port} on ${hostname} is already in use; choose another with ${portFlag} (0 picks a free one)`,
            )
          : new ConfigurationError(`cannot listen on ${hostname}:${port}: ${error.message}`),
      );
    });
  });
  ready.catch(() => {});
  server.listen(port, hostname);
  const address = server.address();
  return {
    hostname,
    port: typeof address === "object" && address ? address.port : port,
    ready,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
