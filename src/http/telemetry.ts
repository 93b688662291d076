/** Telemetry API (`PUT /2022-07-01/telemetry`) and legacy Logs API (`PUT /2020-08-15/logs`). */
import { Elysia } from "elysia";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { LambdaError } from "../core/errors.ts";
import type { SubscriptionApi } from "../core/telemetry/hub.ts";
import { readBody, tryParseJson } from "./body.ts";
import { errorResponse, methodNotAllowed } from "./errors.ts";

/** Routes of both subscription APIs. */
export function telemetryApi(env: () => ExecutionEnvironment) {
  const subscribe =
    (api: SubscriptionApi) =>
    async ({ request }: { request: Request }) => {
      try {
        const bytes = await readBody(request);
        const body = tryParseJson(bytes);
        if (body === undefined) {
          throw new LambdaError(
            400,
            api === "telemetry" ? "ValidationError" : "Logs.ValidationError",
            "Request body is not valid JSON",
          );
        }
        env().subscribeTelemetry(api, request.headers.get("Lambda-Extension-Identifier"), body);
        // Real Lambda answers 200 "OK"; a 202 would tell extensions the API is not supported.
        return new Response(JSON.stringify("OK"), {
          status: 200,
          headers: { "Content-Type": "application/json" },
        });
      } catch (error) {
        return errorResponse(error);
      }
    };
  return new Elysia({ name: "telemetry-api" })
    .put("/2022-07-01/telemetry", subscribe("telemetry"), { parse: "none" })
    .all("/2022-07-01/telemetry", methodNotAllowed)
    .put("/2020-08-15/logs", subscribe("logs"), { parse: "none" })
    .all("/2020-08-15/logs", methodNotAllowed);
}
