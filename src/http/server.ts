/** Composes every API on one listener, like Lambda's single `AWS_LAMBDA_RUNTIME_API` endpoint. */
import { Elysia } from "elysia";
import type { ExecutionEnvironment } from "../core/environment.ts";
import { ConfigurationError } from "../core/errors.ts";
import { type ControlTarget, controlApi } from "./control.ts";
import { errorResponse, notFound } from "./errors.ts";
import { extensionsApi } from "./extensions.ts";
import { type InvokeTarget, invokeApi } from "./invoke.ts";
import { runtimeApi } from "./runtime.ts";
import { telemetryApi } from "./telemetry.ts";

/** A listening server. */
export interface ListeningServer {
  readonly hostname: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the HTTP server on `host:port` (port 0 picks a free one). */
export function startServer(
  host: string,
  port: number,
  environment: ExecutionEnvironment,
  target: InvokeTarget & ControlTarget,
): ListeningServer {
  const app = new Elysia({
    // Long-polls (/next) and long invocations may be silent for minutes: no idle timeout.
    serve: { idleTimeout: 0, hostname: host, port, maxRequestBodySize: 256 * 1024 * 1024 },
  })
    .use(runtimeApi(environment, target.config))
    .use(extensionsApi(environment))
    .use(telemetryApi(environment))
    .use(invokeApi(target))
    .use(controlApi(target))
    .onError(({ code, error }) => (code === "NOT_FOUND" ? notFound() : errorResponse(error)));
  try {
    app.listen({ hostname: host, port });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") {
      throw new ConfigurationError(
        `port ${port} on ${host} is already in use; choose another with --port (0 picks a free one)`,
      );
    }
    throw new ConfigurationError(
      `cannot listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const server = app.server;
  if (!server) throw new ConfigurationError(`cannot listen on ${host}:${port}`);
  return {
    hostname: host,
    port: server.port ?? port,
    stop: async () => {
      await app.stop(true);
    },
  };
}
