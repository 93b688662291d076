/**
 * The listener of an execution environment's sandbox APIs (what `AWS_LAMBDA_RUNTIME_API` points
 * at), on the HTTP/1.1 server of http1.ts, which reads request trailers (a streamed response's
 * mid-stream error lives there). The Runtime and Extensions APIs, and the Invoke API when the
 * front shares the port, are served natively; the other routes (Telemetry, Logs, control) are
 * Elysia apps reached through the Fetch bridge.
 */
import type { FunctionConfig } from "../core/config.ts";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { fetchRequest, sendError, sendFetchResponse } from "./bridge.ts";
import { extensionRoutes } from "./extensions.ts";
import { type HttpRequest, type HttpResponse, listenHttp } from "./http1.ts";
import type { FetchHandler, ListeningServer, ListenOptions } from "./listener.ts";
import { runtimeRoutes } from "./runtime.ts";

/** A route the sandbox listener serves itself; returns false when the request is not its own. */
export type SandboxRoute = (req: HttpRequest, res: HttpResponse) => boolean;

/** The routes served natively for the environment `env()`: the Runtime and Extensions APIs. */
export function sandboxRoutes(env: () => ExecutionEnvironment, config: FunctionConfig): SandboxRoute {
  const runtime = runtimeRoutes(env, config);
  const extensions = extensionRoutes(env);
  return (req, res) => runtime(req, res) || extensions(req, res);
}

/** Serves `route` first, then `app`, on `hostname:port`. */
export function listenSandbox(
  route: SandboxRoute,
  app: FetchHandler | Promise<FetchHandler>,
  options: ListenOptions,
): ListeningServer {
  const { hostname, port, maxRequestBodySize, portFlag } = options;
  let handler: FetchHandler | undefined;
  const loaded = Promise.resolve(app).then((ready) => {
    handler = ready;
    return ready;
  });
  loaded.catch(() => {});
  const viaApp = async (req: HttpRequest, res: HttpResponse) => {
    try {
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const body = hasBody ? await req.body(maxRequestBodySize) : undefined;
      const fetchHandler = handler ?? (await loaded);
      await sendFetchResponse(res, await fetchHandler.fetch(fetchRequest(req, body)));
    } catch (error) {
      sendError(res, error);
    }
  };
  const listener = listenHttp(
    (req, res) => {
      if (!route(req, res)) void viaApp(req, res);
    },
    { hostname, port, portFlag },
  );
  return { hostname, port: listener.port, stop: listener.stop };
}
