/** Extensions API (`/2020-01-01/extension`): thin routes over the execution env(). */
import { Elysia } from "elysia";
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { readBody, tryParseJson } from "./body.ts";
import { errorResponse, methodNotAllowed } from "./errors.ts";

const PREFIX = "/2020-01-01/extension";
const ID = "Lambda-Extension-Identifier";
const JSON_HEADERS = { "Content-Type": "application/json" };

/** Routes of the Extensions API of the environment `env()` (resolved per request). */
export function extensionsApi(env: () => ExecutionEnvironment) {
  const reportError =
    (kind: "init" | "exit") =>
    async ({ request }: { request: Request }) => {
      try {
        const body = await readBody(request);
        const parsed = tryParseJson(body) as { errorMessage?: unknown } | undefined;
        const message = typeof parsed?.errorMessage === "string" ? parsed.errorMessage : undefined;
        const errorType = request.headers.get("Lambda-Extension-Function-Error-Type");
        env().extensionError(kind, request.headers.get(ID), errorType, message);
        return new Response(JSON.stringify({ status: "OK" }), { status: 202, headers: JSON_HEADERS });
      } catch (error) {
        return errorResponse(error);
      }
    };
  return new Elysia({ name: "extensions-api" })
    .post(
      `${PREFIX}/register`,
      async ({ request }) => {
        try {
          const body = await readBody(request);
          const { extension, body: answer } = env().register(
            request.headers.get("Lambda-Extension-Name"),
            body,
            request.headers.get("Lambda-Extension-Accept-Feature"),
          );
          return new Response(JSON.stringify(answer), {
            status: 200,
            headers: { ...JSON_HEADERS, [ID]: extension.id },
          });
        } catch (error) {
          return errorResponse(error);
        }
      },
      { parse: "none" },
    )
    .all(`${PREFIX}/register`, methodNotAllowed)
    .get(`${PREFIX}/event/next`, async ({ request }) => {
      try {
        const event = await env().extensionNext(request.headers.get(ID), request.signal);
        return new Response(JSON.stringify(event.body), {
          status: 200,
          headers: { ...JSON_HEADERS, "Lambda-Extension-Event-Identifier": event.id },
        });
      } catch (error) {
        return errorResponse(error);
      }
    })
    .all(`${PREFIX}/event/next`, methodNotAllowed)
    .post(`${PREFIX}/init/error`, reportError("init"), { parse: "none" })
    .all(`${PREFIX}/init/error`, methodNotAllowed)
    .post(`${PREFIX}/exit/error`, reportError("exit"), { parse: "none" })
    .all(`${PREFIX}/exit/error`, methodNotAllowed);
}
