/**
 * Extensions API (`/2020-01-01/extension`), served natively on the sandbox listener
 * (sandbox-listener.ts): thin routes over the execution environment. Every extension polls
 * `event/next` once per invoke, so this path allocates no Fetch objects.
 */
import type { ExecutionEnvironment } from "../core/environment/execution-environment.ts";
import { tryParseJson } from "./body.ts";
import { sendError } from "./bridge.ts";
import { METHOD_NOT_ALLOWED } from "./errors.ts";
import type { HttpRequest, HttpResponse } from "./http1.ts";
import { RUNTIME_BODY_LIMIT } from "./runtime-response.ts";
import type { SandboxRoute } from "./sandbox-listener.ts";

const PREFIX = "/2020-01-01/extension";
const ID = "Lambda-Extension-Identifier";
const JSON_TYPE = { "Content-Type": "application/json" };
const ACCEPTED = JSON.stringify({ status: "OK" });

function methodNotAllowed(res: HttpResponse): void {
  res.send(405, { "Content-Type": "text/plain" }, METHOD_NOT_ALLOWED);
}

function register(env: ExecutionEnvironment, req: HttpRequest, res: HttpResponse): void {
  req
    .body(RUNTIME_BODY_LIMIT)
    .then((body) => {
      const { extension, body: answer } = env.register(
        req.header("Lambda-Extension-Name") ?? null,
        body,
        req.header("Lambda-Extension-Accept-Feature") ?? null,
      );
      res.send(200, { ...JSON_TYPE, [ID]: extension.id }, JSON.stringify(answer));
    })
    .catch((error) => sendError(res, error));
}

function next(env: ExecutionEnvironment, req: HttpRequest, res: HttpResponse): void {
  // An extension that hangs up while it waits is no longer waiting (the event stays queued for it).
  const abort = new AbortController();
  res.onAbort(() => abort.abort());
  try {
    env.extensionNext(req.header(ID) ?? null, abort.signal).then(
      (event) =>
        res.send(
          200,
          { ...JSON_TYPE, "Lambda-Extension-Event-Identifier": event.id },
          JSON.stringify(event.body),
        ),
      (error) => sendError(res, error),
    );
  } catch (error) {
    sendError(res, error);
  }
}

function reportError(kind: "init" | "exit", env: ExecutionEnvironment, req: HttpRequest, res: HttpResponse) {
  req
    .body(RUNTIME_BODY_LIMIT)
    .then((body) => {
      const parsed = tryParseJson(body) as { errorMessage?: unknown } | undefined;
      const message = typeof parsed?.errorMessage === "string" ? parsed.errorMessage : undefined;
      const errorType = req.header("Lambda-Extension-Function-Error-Type") ?? null;
      env.extensionError(kind, req.header(ID) ?? null, errorType, message);
      res.send(202, JSON_TYPE, ACCEPTED);
    })
    .catch((error) => sendError(res, error));
}

/** Routes of the Extensions API of the environment `env()` (resolved per request). */
export function extensionRoutes(env: () => ExecutionEnvironment): SandboxRoute {
  return (req, res) => {
    const path = req.path;
    if (!path.startsWith(PREFIX)) return false;
    const action = path.slice(PREFIX.length);
    const method = req.method;
    if (action === "/register") {
      if (method === "POST") register(env(), req, res);
      else methodNotAllowed(res);
    } else if (action === "/event/next") {
      if (method === "GET") next(env(), req, res);
      else methodNotAllowed(res);
    } else if (action === "/init/error" || action === "/exit/error") {
      if (method === "POST") reportError(action === "/init/error" ? "init" : "exit", env(), req, res);
      else methodNotAllowed(res);
    } else {
      return false;
    }
    return true;
  };
}
