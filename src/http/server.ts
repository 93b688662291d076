/** Composes every API on one listener, like Lambda's single `AWS_LAMBDA_RUNTIME_API` endpoint. */
import { Elysia } from "elysia";
import type { ExecutionEnvironment } from "../core/environment.ts";
import { type ControlTarget, controlApi } from "./control.ts";
import { errorResponse, notFound } from "./errors.ts";
import { extensionsApi } from "./extensions.ts";
import { type InvokeTarget, invokeApi } from "./invoke.ts";
import { type ListeningServer, listen } from "./listener.ts";
import { runtimeApi } from "./runtime.ts";
import { telemetryApi } from "./telemetry.ts";

/** Starts the HTTP server on `host:port` (port 0 picks a free one). */
export function startServer(
  host: string,
  port: number,
  environment: ExecutionEnvironment,
  target: InvokeTarget & ControlTarget,
): ListeningServer {
  const app = new Elysia()
    .use(runtimeApi(environment, target.config))
    .use(extensionsApi(environment))
    .use(telemetryApi(environment))
    .use(invokeApi(target))
    .use(controlApi(target))
    .onError(({ code, error }) => (code === "NOT_FOUND" ? notFound() : errorResponse(error)));
  return listen(app, { hostname: host, port, maxRequestBodySize: 256 * 1024 * 1024 });
}
