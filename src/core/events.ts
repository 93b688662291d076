/**
 * The one typed event bus of a simulator. Every state change is announced here; wait helpers,
 * log echo, the control API and (later) telemetry subscribe instead of polling.
 */
import type { ExtensionInfo, ShutdownReason } from "./extensions.ts";
import type { Invocation } from "./invocation.ts";

/** Init phase as Lambda names it: `init` at start, `invoke` when re-run inside an invocation. */
export type InitPhase = "init" | "invoke";

/** Outcome status as Lambda reports it in telemetry. */
export type OutcomeStatus = "success" | "error" | "failure" | "timeout";

/** Where a log line came from. */
export type LogSource = "function" | "extension" | "platform";

/** Payloads of every simulator event, keyed by event name. */
export interface SimulatorEventMap {
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

/** Name of a simulator event. */
export type SimulatorEventName = keyof SimulatorEventMap;

type Listener<T> = (payload: T) => void;

/** A minimal synchronous typed emitter; `onAny` sees every event (for predicate waiters). */
export class EventBus {
  private readonly listeners = new Map<SimulatorEventName, Set<Listener<never>>>();
  private readonly anyListeners = new Set<(name: SimulatorEventName) => void>();

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends SimulatorEventName>(name: K, listener: Listener<SimulatorEventMap[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  onAny(listener: (name: SimulatorEventName) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Delivers `payload` to the listeners of `name`, then to the any-listeners. A throwing listener does not stop the others. */
  emit<K extends SimulatorEventName>(name: K, payload: SimulatorEventMap[K]): void {
    const set = this.listeners.get(name);
    if (set) {
      for (const listener of [...set]) safeCall(() => (listener as Listener<SimulatorEventMap[K]>)(payload));
    }
    for (const listener of [...this.anyListeners]) safeCall(() => listener(name));
  }
}

function safeCall(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
