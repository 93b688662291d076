// The execution environment's rules with fake processes and a fake clock: the phase table, the
// runtime's call table, the init-done and invoke-complete gates, the deadline and the reset it
// causes. No processes, no HTTP: what the end-to-end tests prove, these locate.
import { describe, expect, test } from "bun:test";
import { resolveFunctionConfig } from "../../../src/core/config.ts";
import { ExecutionEnvironment } from "../../../src/core/environment/execution-environment.ts";
import { PHASE_TRANSITIONS, PhaseMachine } from "../../../src/core/environment/phases.ts";
import { assertRuntimeCall, RUNTIME_CALLS } from "../../../src/core/environment/runtime-state.ts";
import { LambdaError } from "../../../src/core/errors.ts";
import { type EnvironmentEventMap, EventBus } from "../../../src/core/events.ts";
import { Invocation, InvocationBuilder } from "../../../src/core/invocation.ts";
import { FakeClock } from "../../helpers/fake-clock.ts";
import { FakeProcess } from "../../helpers/fake-process.ts";

const encoder = new TextEncoder();

function setup(options: { extension?: string; timeoutSeconds?: number } = {}) {
  const clock = new FakeClock();
  const events = new EventBus<EnvironmentEventMap>();
  const config = resolveFunctionConfig({ timeoutSeconds: options.timeoutSeconds ?? 3 });
  const env = new ExecutionEnvironment(config, events, { clock });
  const launched: FakeProcess[] = [];
  const launch = () => {
    const process = new FakeProcess();
    launched.push(process);
    return process;
  };
  env.setLauncher({ launch });
  if (options.extension) env.addExtension({ name: options.extension, launch });
  const phases: string[] = [];
  events.on("phase", ({ phase }) => phases.push(phase));
  return { clock, events, env, launched, phases };
}

const invocation = () => new Invocation(new InvocationBuilder().payload({ hello: 1 }).build());
/** Lets promise callbacks and setImmediate callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("phase table", () => {
  test("every move the table lists is taken; every other is refused naming both phases", () => {
    const phases = Object.keys(PHASE_TRANSITIONS) as (keyof typeof PHASE_TRANSITIONS)[];
    for (const from of phases) {
      for (const to of phases) {
        if (from === to) continue;
        const machine = new PhaseMachine(new EventBus<EnvironmentEventMap>());
        // Walk to `from` along allowed moves.
        const path: Record<string, string[]> = {
          Uninitialized: [],
          Initializing: ["Initializing"],
          Ready: ["Initializing", "Ready"],
          Invoking: ["Initializing", "Invoking"],
          Resetting: ["Initializing", "Resetting"],
          ShutDown: ["ShutDown"],
        };
        for (const step of path[from] ?? []) machine.to(step as typeof from);
        expect(machine.phase).toBe(from);
        if (PHASE_TRANSITIONS[from].includes(to)) {
          machine.to(to);
          expect(machine.phase).toBe(to);
        } else {
          let error: unknown;
          try {
            machine.to(to);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(LambdaError);
          expect((error as LambdaError).errorType).toBe("InvalidStateTransition");
          expect((error as LambdaError).message).toContain(`from ${from} to ${to}`);
          expect(machine.phase).toBe(from);
        }
      }
    }
  });

  test("the runtime's calls: a next while running or a second answer is a 403 naming the states", () => {
    expect(RUNTIME_CALLS.Running).not.toContain("Ready");
    expect(() => assertRuntimeCall("Running", "Ready")).toThrow(
      "State transition from Running to Ready failed for runtime",
    );
    expect(() => assertRuntimeCall("RuntimeResponseSentState", "InvocationResponse")).toThrow(
      "State transition from RuntimeResponseSentState to InvocationResponse",
    );
    expect(() => assertRuntimeCall("Exited", "Ready")).toThrow("from Exited to Ready");
    expect(() => assertRuntimeCall("Started", "InitError")).not.toThrow();
  });
});

describe("execution environment", () => {
  test("init is done only when the runtime and every extension called next; waitingAt names who is missing", async () => {
    const { env, launched, phases } = setup({ extension: "ext" });
    env.start();
    expect(env.phase).toBe("Initializing");
    // The extension is launched first; the runtime waits for its registration.
    expect(launched).toHaveLength(1);
    env.register("ext", encoder.encode(JSON.stringify({ events: ["INVOKE"] })), null);
    expect(launched).toHaveLength(2);
    void env.next();
    await settle();
    expect(env.phase).toBe("Initializing");
    expect(env.waitingAt()).toEqual({ gate: "init done", pending: ["extension ext"] });
    const extension = env.registry.all()[0];
    void env.extensionNext(extension?.id ?? null);
    expect(env.phase).toBe("Ready");
    expect(env.waitingAt()).toBeUndefined();
    expect(phases).toEqual(["Initializing", "Ready"]);
  });

  test("an invoke is complete when the runtime and every INVOKE subscriber polled again", async () => {
    const { env, events } = setup({ extension: "ext" });
    const completed: string[] = [];
    events.on("invocationComplete", (i) => completed.push(i.id));
    env.start();
    env.register("ext", encoder.encode(JSON.stringify({ events: ["INVOKE"] })), null);
    const id = env.registry.all()[0]?.id ?? null;
    const firstNext = env.next();
    const extensionEvent = env.extensionNext(id);
    const one = invocation();
    env.enqueue(one);
    expect((await firstNext).id).toBe(one.id);
    expect((await extensionEvent).body.eventType).toBe("INVOKE");
    env.respond(one.id, encoder.encode('"ok"'), "application/json");
    void env.next();
    await settle();
    // The runtime is back; the extension is still busy with the event.
    expect(completed).toEqual([]);
    expect(env.phase).toBe("Invoking");
    expect(env.waitingAt()).toEqual({ gate: "invoke complete", pending: ["extension ext"] });
    void env.extensionNext(id);
    expect(completed).toEqual([one.id]);
    expect(one.status).toBe("success");
    expect(env.phase).toBe("Ready");
  });

  test("/next while the invocation runs is refused; a second answer is refused", async () => {
    const { env } = setup();
    env.start();
    const first = env.next();
    const one = invocation();
    env.enqueue(one);
    await first;
    await expect(env.next()).rejects.toThrow("from Running to Ready");
    env.respond(one.id, encoder.encode("1"), "application/json");
    expect(() => env.respond(one.id, encoder.encode("2"), "application/json")).toThrow(
      "from RuntimeResponseSentState to InvocationResponse",
    );
    expect(() => env.respond("not-the-id", encoder.encode("2"), "application/json")).toThrow(
      "Invalid request ID",
    );
  });

  test("the deadline times the invocation out and resets the environment; the next invoke cold-starts", async () => {
    const { clock, env, launched, phases } = setup({ timeoutSeconds: 3 });
    env.start();
    const first = env.next();
    const one = invocation();
    env.enqueue(one);
    await first;
    clock.advance(2999);
    expect(one.isComplete).toBe(false);
    clock.advance(1);
    expect(one.status).toBe("timeout");
    expect(one.result?.errorType).toBe("Sandbox.Timedout");
    expect(env.phase).toBe("Resetting");
    // The runtime is killed by the reset (no extensions: SIGKILL at once); then a fresh start.
    await one.completion;
    await settle();
    await settle();
    expect(env.phase).toBe("Uninitialized");
    expect(launched).toHaveLength(1);
    const two = invocation();
    env.enqueue(two);
    expect(env.phase).toBe("Initializing");
    expect(launched).toHaveLength(2);
    expect(phases).toEqual([
      "Initializing",
      "Ready",
      "Invoking",
      "Resetting",
      "Uninitialized",
      "Initializing",
    ]);
  });

  test("the init timeout fails the init with Sandbox.Timedout on the injected clock", async () => {
    const { clock, env, events } = setup();
    const ends: { status: string; errorType?: string }[] = [];
    events.on("initEnd", (e) => ends.push({ status: e.status, errorType: e.errorType }));
    env.start();
    clock.advance(9_999);
    expect(ends).toEqual([]);
    clock.advance(1);
    expect(ends).toEqual([{ status: "timeout", errorType: "Sandbox.Timedout" }]);
    expect(env.phase).toBe("Resetting");
  });

  test("a crash of the runtime mid-invoke fails that invocation with Runtime.ExitError and resets", async () => {
    const { env, launched } = setup();
    env.start();
    const first = env.next();
    const one = invocation();
    env.enqueue(one);
    await first;
    launched[0]?.crash();
    await one.completion;
    expect(one.status).toBe("error");
    expect(one.result?.errorType).toBe("Runtime.ExitError");
    expect(env.phase).toBe("Resetting");
  });
});
