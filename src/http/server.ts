/** Composes every API into one Elysia app, served by one listener (see listener.ts). */
import { Elysia } from "elysia";
import type { ExecutionEnvironment } from "../core/environment.ts";
import { type ControlTarget, controlApi } from "./control.ts";
import { errorResponse, notFound } from "./errors.ts";
import { extensionsApi } from "./extensions.ts";
import { type InvokeTarget, invokeApi } from "./invoke.ts";
import { runtimeApi } from "./runtime.ts";
import { telemetryApi } from "./telemetry.ts";

/** Every API of the simulator as one app, like Lambda's single `AWS_LAMBDA_RUNTIME_API` endpoint. */
export function lambdaApp(environment: ExecutionEnvironment, target: InvokeTarget & ControlTarget) {
  // Not precompiled (app.compile()): that costs ~3 ms at start-up, and each route compiles on its
  // first request for a fraction of that.
  return new Elysia()
    .use(runtimeApi(environment, target.config))
    .use(extensionsApi(environment))
    .use(telemetryApi(environment))
    .use(invokeApi(target))
    .use(controlApi(target))
    .onError(({ code, error }) => (code === "NOT_FOUND" ? notFound() : errorResponse(error)));
}
