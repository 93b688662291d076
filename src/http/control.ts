/** Control API (`/_simulator/...`): state for tests written in any language. */
import { Elysia } from "elysia";
import type { InvocationState } from "../core/invocation-state.ts";
import { methodNotAllowed } from "./errors.ts";

/** What the control API reads from the simulator. */
export interface ControlTarget {
  status(): object;
  environments(): object[];
  invocationStates(): InvocationState[];
  invocationState(id: string): InvocationState | undefined;
  registeredExtensions(): object[];
  getTelemetryEvents(): { type: string }[];
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
}

/** Routes of the control API. */
export function controlApi(target: ControlTarget) {
  return new Elysia({ name: "control-api" })
    .get("/_simulator/status", () => json(target.status()))
    .all("/_simulator/status", methodNotAllowed)
    .get("/_simulator/environments", () => json(target.environments()))
    .all("/_simulator/environments", methodNotAllowed)
    .get("/_simulator/invocations", () => json(target.invocationStates()))
    .all("/_simulator/invocations", methodNotAllowed)
    .get("/_simulator/extensions", () => json(target.registeredExtensions()))
    .get("/_simulator/telemetry", ({ request }) => {
      const type = new URL(request.url).searchParams.get("type");
      const events = target.getTelemetryEvents();
      return json(type ? events.filter((e) => e.type === type) : events);
    })
    .all("/_simulator/extensions", methodNotAllowed)
    .get("/_simulator/invocations/:id", ({ params }) => {
      const state = target.invocationState(params.id);
      return state
        ? json(state)
        : json({ errorType: "ResourceNotFoundException", errorMessage: `No invocation ${params.id}` }, 404);
    })
    .all("/_simulator/invocations/:id", methodNotAllowed);
}
