/**
 * The Invoke API operations (invoke.ts, invoke-stream.ts) served natively on a sandbox listener
 * that shares the main port (one environment at a time): the invoke is the hot path, and the
 * Fetch bridge would cost it a Request and a Response per call. Other methods on these paths fall
 * through to the Elysia routes (405).
 */
import { sendAnswer } from "./bridge.ts";
import type { HttpRequest } from "./http1.ts";
import {
  INVOKE_PATH,
  type InvokeTarget,
  invoke,
  type ServiceOperation,
  type ServiceRequest,
  serviceErrorAnswer,
} from "./invoke.ts";
import { INVOKE_STREAM_PATH, invokeWithResponseStream } from "./invoke-stream.ts";
import type { SandboxRoute } from "./sandbox-listener.ts";

/** Largest Invoke API body read (the operations check Lambda's own limits below it). */
const BODY_LIMIT = 256 * 1024 * 1024;

/** A path pattern `prefix/:functionName/suffix` split in two. */
function around(pattern: string): [string, string] {
  const [prefix = "", suffix = ""] = pattern.split(":functionName");
  return [prefix, suffix];
}

const OPERATIONS: [string, string, ServiceOperation][] = [
  [...around(INVOKE_PATH), invoke],
  [...around(INVOKE_STREAM_PATH), invokeWithResponseStream],
];

function serviceRequest(req: HttpRequest): ServiceRequest {
  return {
    query: new URLSearchParams(req.query),
    header: (name) => req.header(name) ?? null,
    body: () => req.body(BODY_LIMIT),
  };
}

/** The Invoke API's POST routes, served natively. */
export function invokeRoutes(target: InvokeTarget): SandboxRoute {
  return (req, res) => {
    const path = req.path;
    if (req.method !== "POST") return false;
    for (const [prefix, suffix, operation] of OPERATIONS) {
      if (!path.startsWith(prefix) || !path.endsWith(suffix)) continue;
      const encoded = path.slice(prefix.length, path.length - suffix.length);
      if (encoded === "" || encoded.includes("/")) continue;
      let functionName: string;
      try {
        functionName = encoded.includes("%") ? decodeURIComponent(encoded) : encoded;
      } catch {
        return false;
      }
      operation(target, serviceRequest(req), functionName)
        .catch(serviceErrorAnswer)
        .then((answer) => sendAnswer(res, answer));
      return true;
    }
    return false;
  };
}
