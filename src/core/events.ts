/**
 * The one typed event bus of a simulator. Every state change is announced here; wait helpers,
 * log echo, the control API and (later) telemetry subscribe instead of polling.
 */
import type { ExtensionInfo, ShutdownReason } from "./extensions.ts";
import { Invocation } from "./invocation.ts";
import type { InitPhase, LogSource, OutcomeStatus } from "./vocabulary.ts";

/** Payloads of the events one execution environment announces, keyed by event name. */
export interface EnvironmentEventMap {
  initStart: { phase: InitPhase; generation: number };
  initEnd: {
    phase: InitPhase;
    status: OutcomeStatus;
    errorType?: string;
    durationMs: number;
    /** Extensions registered during this init. */
    extensions: ExtensionInfo[];
  };
  invocationQueued: Invocation;
  invocationStart: Invocation;
  /** The runtime (and INVOKE subscribers) got the event. */
  invocationDispatch: Invocation;
  invocationResponse: Invocation;
  runtimeDone: Invocation;
  invocationComplete: Invocation;
  log: {
    source: LogSource;
    stream: "stdout" | "stderr" | "platform";
    line: string;
    requestId?: string;
    extension?: string;
  };
  phase: { phase: string };
  runtimeExit: { pid: number; code: number | null; signal: string | null };
  extensionRegistered: ExtensionInfo;
  extensionExit: { name: string; code: number | null; signal: string | null };
  shutdownStart: { reason: ShutdownReason };
  /** Every process of the environment is verified stopped. */
  frozen: { epoch: number; pids: number[] };
  /** Every process runs again. */
  thawed: { epoch: number };
  telemetrySubscription: {
    name: string;
    types: ("platform" | "function" | "extension")[];
    api: "telemetry" | "logs";
  };
  shutdownEnd: { reason: ShutdownReason; budgetMs: number };
}

/** Events of payloads that are the live invocation (it carries its environment id itself). */
type InvocationEventName = {
  [K in keyof EnvironmentEventMap]: EnvironmentEventMap[K] extends Invocation ? K : never;
}[keyof EnvironmentEventMap];

/**
 * Payloads of every simulator event: an environment's events, each saying which environment it
 * came from (`environmentId`, or `invocation.environmentId` for invocation events).
 */
export type SimulatorEventMap = {
  [K in keyof EnvironmentEventMap]: K extends InvocationEventName
    ? EnvironmentEventMap[K]
    : EnvironmentEventMap[K] & { environmentId: string };
} & FunctionEventMap;

/** Events of the function as a whole, not of one environment. */
export interface FunctionEventMap {
  /** A new deployment begins: every environment is about to be replaced. */
  recycleStart: { reason: string };
  /** The old environments are gone and the new ones have started their init. */
  recycleEnd: { reason: string; durationMs: number };
}

/** Name of a simulator event. */
export type SimulatorEventName = keyof SimulatorEventMap;

type Listener<T> = (payload: T) => void;

/** A minimal synchronous typed emitter; `onAny` sees every event (for predicate waiters and forwarding). */
export class EventBus<M extends { [K in keyof M]: object } = SimulatorEventMap> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();
  private readonly anyListeners = new Set<<K extends keyof M>(name: K, payload: M[K]) => void>();

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  onAny(listener: <K extends keyof M>(name: K, payload: M[K]) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Delivers `payload` to the listeners of `name`, then to the any-listeners. A throwing listener does not stop the others. */
  emit<K extends keyof M>(name: K, payload: M[K]): void {
    // Snapshots, so a listener that subscribes or unsubscribes does not change this delivery; one
    // listener (the common case on the hot path) needs none.
    const set = this.listeners.get(name);
    if (set && set.size > 0) {
      for (const listener of set.size === 1 ? set : [...set]) safeCall(listener as Listener<M[K]>, payload);
    }
    const any = this.anyListeners;
    if (any.size > 0)
      for (const listener of any.size === 1 ? any : [...any]) safeAny(listener, name, payload);
  }
}

/** The bus of one execution environment. */
export type EnvironmentBus = EventBus<EnvironmentEventMap>;

/**
 * Re-announces every event of an environment's bus on the simulator's bus, saying which environment
 * it came from; returns the unsubscribe function.
 */
export function forwardEnvironmentEvents(
  from: EnvironmentBus,
  to: EventBus<SimulatorEventMap>,
  environmentId: string,
): () => void {
  return from.onAny((name, payload) => {
    if (payload instanceof Invocation) {
      payload.environmentId = environmentId;
      to.emit(name, payload as SimulatorEventMap[typeof name]);
    } else {
      to.emit(name, { ...payload, environmentId } as SimulatorEventMap[typeof name]);
    }
  });
}

/** Calls a listener; a throw is rethrown later, outside the emitter, so the other listeners still run. */
function safeCall<P>(listener: Listener<P>, payload: P): void {
  try {
    listener(payload);
  } catch (error) {
    rethrowLater(error);
  }
}

function safeAny<K, P>(listener: (name: K, payload: P) => void, name: K, payload: P): void {
  try {
    listener(name, payload);
  } catch (error) {
    rethrowLater(error);
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
