/**
 * The Invoke API operations (invoke.ts, invoke-stream.ts) served natively on a sandbox listener
 * that shares the main port (one environment at a time): the invoke is the hot path, and the
 * Fetch bridge would cost it a Request and a Response per call. Other methods on these paths fall
 * through to the Elysia routes (405).
 */
import type { IncomingMessage } from "node:http";
import {
  INVOKE_PATH,
  type InvokeTarget,
  invoke,
  type ServiceOperation,
  type ServiceRequest,
  serviceErrorAnswer,
} from "./invoke.ts";
import { INVOKE_STREAM_PATH, invokeWithResponseStream } from "./invoke-stream.ts";
import { readNodeBody, sendAnswer } from "./node-bridge.ts";
import type { NodeRoute } from "./sandbox-listener.ts";

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

function nodeServiceRequest(req: IncomingMessage): ServiceRequest {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return {
    query: new URLSearchParams(query === -1 ? "" : url.slice(query + 1)),
    header: (name) => {
      const value = req.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
    body: () => readNodeBody(req, BODY_LIMIT),
  };
}

/** The Invoke API's POST routes on node:http. */
export function invokeRoutes(target: InvokeTarget): NodeRoute {
  return (req, res, path) => {
    if (req.method !== "POST") return false;
    for (const [prefix, suffix, operation] of OPERATIONS) {
      if (!path.startsWith(prefix) || !path.endsWith(suffix)) continue;
      const encoded = path.slice(prefix.length, path.length - suffix.length);
      if (encoded === "" || encoded.includes("/")) continue;
      let functionName: string;
      try {
        functionName = decodeURIComponent(encoded);
      } catch {
        return false;
      }
      operation(target, nodeServiceRequest(req), functionName)
        .catch(serviceErrorAnswer)
        .then((answer) => sendAnswer(res, answer));
      return true;
    }
    return false;
  };
}
