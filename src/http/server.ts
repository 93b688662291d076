/**
 * The simulator's apps: the sandbox APIs of an execution environment (Runtime, Extensions,
 * Telemetry, Logs: what `AWS_LAMBDA_RUNTIME_API` points at) and the front (Invoke API, control
 * API). The front alone is served by `Bun.serve` (listener.ts); a listener with the sandbox APIs is
 * HTTP/1.1 on `Bun.listen` with the Runtime and Extensions APIs native (sandbox-listener.ts,
 * http1.ts).
 */
import { Elysia } from "elysia";
import type { FunctionConfig } from "../core/config.ts";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { type ControlTarget, controlApi } from "./control.ts";
import { errorResponse, notFound } from "./errors.ts";
import { type InvokeTarget, invokeApi } from "./invoke.ts";

export { invokeRoutes } from "./invoke-routes.ts";

import { invokeStreamApi } from "./invoke-stream.ts";
import type { ListeningServer, ListenOptions } from "./listener.ts";
import { listenSandbox, sandboxRoutes } from "./sandbox-listener.ts";
import { telemetryApi } from "./telemetry.ts";

/** What an app serves; `env` is resolved per request, since an environment may be replaced. */
export interface AppParts {
  /** The sandbox APIs of this environment (none: the front only). */
  env?: () => ExecutionEnvironment;
  config: FunctionConfig;
  /** The Invoke and control APIs (none: the sandbox only). */
  front?: InvokeTarget & ControlTarget;
}

/**
 * One app with the parts asked for (the Runtime and Extensions APIs aside: see sandboxRoutes). Not
 * precompiled (app.compile()): that costs ~3 ms at start-up, and each route compiles on its first
 * request for a fraction of that.
 */
export function lambdaApp({ env, front }: AppParts) {
  const app = new Elysia();
  if (env) app.use(telemetryApi(env));
  if (front) app.use(invokeApi(front)).use(invokeStreamApi(front)).use(controlApi(front));
  return app.onError(({ code, error }) => (code === "NOT_FOUND" ? notFound() : errorResponse(error)));
}

/** A listener with an environment's sandbox APIs (and the front, when `parts.front` is set). */
export function sandboxServer(
  parts: AppParts & { env: () => ExecutionEnvironment },
  options: ListenOptions,
): ListeningServer {
  return listenSandbox(sandboxRoutes(parts.env, parts.config), lambdaApp(parts), options);
}
