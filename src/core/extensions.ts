/**
 * The Extensions API's registry (reference 2): registration rules and errors, identifiers, and
 * each extension's event queue. Lifecycle decisions (when init ends, when an invoke is complete)
 * stay in environment.ts, which this registry tells about every change.
 */
import { type Deferred, deferred } from "./deferred.ts";
import { LambdaError } from "./errors.ts";
import { isUuid, newRequestId } from "./ids.ts";

/** Event names an extension may register for. */
export type ExtensionEventType = "INVOKE" | "SHUTDOWN";

/** Why the environment shuts down, as sent in the SHUTDOWN event. */
export type ShutdownReason = "spindown" | "timeout" | "failure";

/** States as Lambda's supervisor names them. */
export type ExtensionState =
  | "Registered"
  | "Ready"
  | "Running"
  | "ShuttingDown"
  | "InitError"
  | "ExitError"
  | "Exited";

/** The INVOKE event body. */
export interface InvokeEvent {
  eventType: "INVOKE";
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
  tracing: { type: "X-Amzn-Trace-Id"; value: string };
}

/** The SHUTDOWN event body. */
export interface ShutdownEvent {
  eventType: "SHUTDOWN";
  shutdownReason: ShutdownReason;
  deadlineMs: number;
}

/** An event on its way to an extension, with its `Lambda-Extension-Event-Identifier`. */
export interface ExtensionEvent {
  id: string;
  body: InvokeEvent | ShutdownEvent;
}

/** Public view of a registered extension. */
export interface ExtensionInfo {
  name: string;
  id: string;
  events: ExtensionEventType[];
  external: boolean;
  pid?: number;
  state: ExtensionState;
  errorType?: string;
}

/** The answer to a successful registration. */
export interface Registration {
  extension: Extension;
  body: { functionName: string; functionVersion: string; handler: string; accountId?: string };
}

/** What the registry needs to know about the function and the launched processes. */
export interface RegistryContext {
  functionName: string;
  functionVersion: string;
  handler: string;
  accountId: string;
  /** pid of the external extension executable with this base name, if one was launched. */
  externalPid(name: string): number | undefined;
}

const MAX_EXTENSIONS = 10;

/** One registered extension. */
export class Extension {
  readonly id = newRequestId();
  state: ExtensionState = "Registered";
  errorType?: string;
  private waiter?: Deferred<ExtensionEvent>;
  private readonly pending: ExtensionEvent[] = [];

  constructor(
    readonly name: string,
    readonly events: ReadonlySet<ExtensionEventType>,
    readonly external: boolean,
    readonly pid: number | undefined,
  ) {}

  /** True when this extension is blocked in `event/next`, i.e. done with its previous event. */
  get isWaiting(): boolean {
    return this.waiter !== undefined;
  }

  /** Subscribed to `type`. */
  wants(type: ExtensionEventType): boolean {
    return this.events.has(type);
  }

  /** Public view. */
  info(): ExtensionInfo {
    return {
      name: this.name,
      id: this.id,
      events: [...this.events],
      external: this.external,
      pid: this.pid,
      state: this.state,
      errorType: this.errorType,
    };
  }

  /** Starts waiting for the next event (or takes a queued one at once). */
  next(): Promise<ExtensionEvent> {
    if (this.state === "InitError" || this.state === "ExitError" || this.state === "Exited") {
      throw new LambdaError(
        403,
        "Extension.InvalidExtensionState",
        `State transition from ${this.state} to Ready failed for extension ${this.name}. Error: State transition is not allowed`,
      );
    }
    // After SHUTDOWN an extension is expected to exit; a further next is never answered.
    if (this.state === "ShuttingDown") return new Promise(() => {});
    const queued = this.pending.shift();
    if (queued) {
      this.state = queued.body.eventType === "SHUTDOWN" ? "ShuttingDown" : "Running";
      return Promise.resolve(queued);
    }
    this.waiter?.reject(
      new LambdaError(403, "Extension.InvalidExtensionState", "A newer event/next replaced this one"),
    );
    const waiter = deferred<ExtensionEvent>();
    this.waiter = waiter;
    this.state = "Ready";
    return waiter.promise;
  }

  /** Forgets a waiting `event/next` whose client went away. */
  abandon(promise: Promise<ExtensionEvent>): void {
    if (this.waiter?.promise === promise) this.waiter = undefined;
  }

  /** Hands `body` to the extension now if it waits, else queues it for its next `event/next`. */
  deliver(body: InvokeEvent | ShutdownEvent): void {
    const event = { id: newRequestId(), body };
    const waiter = this.waiter;
    if (!waiter) {
      this.pending.push(event);
      return;
    }
    this.waiter = undefined;
    this.state = body.eventType === "SHUTDOWN" ? "ShuttingDown" : "Running";
    waiter.resolve(event);
  }

  /** Marks a terminal error state (`init/error`, `exit/error`, crash). */
  setError(state: "InitError" | "ExitError" | "Exited", errorType?: string): void {
    this.state = state;
    if (errorType) this.errorType = errorType;
    this.waiter = undefined;
  }
}

function parseEvents(body: Uint8Array): unknown[] {
  if (body.byteLength === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw new LambdaError(403, "InvalidRequestFormat", (error as Error).message);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new LambdaError(403, "InvalidRequestFormat", "Request body must be a JSON object");
  }
  const record = parsed as Record<string, unknown>;
  if ("configurationKeys" in record) {
    throw new LambdaError(
      403,
      "InvalidRequestFormat",
      "configurationKeys are deprecated; use environment variables instead",
    );
  }
  const events = record.events ?? [];
  if (!Array.isArray(events)) throw new LambdaError(403, "InvalidRequestFormat", "events must be an array");
  return events;
}

/** Registered extensions of one init, and the registration window. */
export class ExtensionRegistry {
  private readonly byId = new Map<string, Extension>();
  private open = true;

  constructor(private readonly context: RegistryContext) {}

  /** Registration closes when the runtime first calls `/next`. */
  closeRegistration(): void {
    this.open = false;
  }

  /** Every registered extension, in registration order. */
  all(): Extension[] {
    return [...this.byId.values()];
  }

  /** Registered extensions with a process of their own. */
  external(): Extension[] {
    return this.all().filter((e) => e.external);
  }

  /** `POST /extension/register`, with Lambda's checks in Lambda's order. */
  register(name: string | null, body: Uint8Array, acceptFeatures: string | null): Registration {
    if (!name) throw new LambdaError(403, "Extension.InvalidExtensionName", "Empty extension name");
    const events = parseEvents(body);
    if (!this.open)
      throw new LambdaError(403, "Extension.RegistrationClosed", "Extension registration closed already");
    const pid = this.context.externalPid(name);
    const external = pid !== undefined;
    const duplicate = this.all().find((e) => e.name === name);
    if (duplicate) {
      throw new LambdaError(
        403,
        "Extension.InvalidExtensionState",
        duplicate.external
          ? `State transition from Registered to Registered failed for extension ${name}. Error: State transition is not allowed`
          : "Extension with this name already registered",
      );
    }
    if (this.byId.size >= MAX_EXTENSIONS) {
      throw new LambdaError(
        403,
        "Extension.TooManyExtensions",
        `Extension limit (${MAX_EXTENSIONS}) reached`,
      );
    }
    const types = new Set<ExtensionEventType>();
    for (const event of events) {
      if (event !== "INVOKE" && event !== "SHUTDOWN") {
        throw new LambdaError(403, "Extension.InvalidEventType", `${String(event)}: ErrorInvalidEventType`);
      }
      if (event === "SHUTDOWN" && !external) {
        throw new LambdaError(
          403,
          "Extension.InvalidEventType",
          "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
        );
      }
      types.add(event);
    }
    const extension = new Extension(name, types, external, pid);
    this.byId.set(extension.id, extension);
    const wantsAccount = (acceptFeatures ?? "").split(",").some((f) => f.trim() === "accountId");
    return {
      extension,
      body: {
        functionName: this.context.functionName,
        functionVersion: this.context.functionVersion,
        handler: this.context.handler,
        ...(wantsAccount ? { accountId: this.context.accountId } : {}),
      },
    };
  }

  /** Finds the caller of `event/next` (and the other identified routes), or throws Lambda's 403. */
  identify(
    id: string | null,
    unknownMessage: (id: string) => string = (v) => `Unknown extension ${v}`,
  ): Extension {
    if (!id) {
      throw new LambdaError(
        403,
        "Extension.MissingExtensionIdentifier",
        "Missing Lambda-Extension-Identifier header",
      );
    }
    if (!isUuid(id))
      throw new LambdaError(
        403,
        "Extension.InvalidExtensionIdentifier",
        "Invalid Lambda-Extension-Identifier",
      );
    // UUIDs compare case-insensitively (the supervisor parses the header into a UUID first).
    const extension = this.byId.get(id.toLowerCase());
    if (!extension) throw new LambdaError(403, "Extension.UnknownExtensionIdentifier", unknownMessage(id));
    return extension;
  }
}
