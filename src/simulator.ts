/** The facade: one function, its execution environment, the HTTP server and the event bus. */
// consola/core: the same createConsola without the default reporters, which cost ~5 ms to load.
import { type ConsolaInstance, type ConsolaReporter, createConsola, LogLevels } from "consola/core";
import { type AsyncRetryPolicy, asyncRetryPolicy, retryFailedEvents } from "./core/async-retries.ts";
import {
  type FunctionConfig,
  functionArn,
  newLogStreamName,
  resolveFunctionConfig,
  runtimeEnvironment,
} from "./core/config.ts";
import { type EnvironmentPhase, ExecutionEnvironment } from "./core/environment.ts";
import { ConfigurationError } from "./core/errors.ts";
import { EventBus, type SimulatorEventMap, type SimulatorEventName } from "./core/events.ts";
import type { ExtensionInfo, ShutdownReason } from "./core/extensions.ts";
import { FreezeMode } from "./core/freeze.ts";
import {
  Invocation,
  InvocationBuilder,
  type InvocationRequest,
  type InvocationResult,
} from "./core/invocation.ts";
import { type InvocationState, invocationState } from "./core/invocation-state.ts";
import { TelemetryCapture } from "./core/telemetry/capture.ts";
import { TelemetryHub } from "./core/telemetry/hub.ts";
import { recordTelemetry } from "./core/telemetry/recorder.ts";
import type { TelemetryEvent, TelemetryType } from "./core/telemetry/schemas.ts";
import { type ListeningServer, listen } from "./http/listener.ts";
import { transportFor } from "./http/telemetry-transport.ts";
import { processFreezer } from "./process/freezer.ts";
import { extensionEnvironment, extensionLauncher, runtimeLauncher } from "./process/launchers.ts";
import { resolveExecutable } from "./process/process-group.ts";
import { SimulatorBuilder } from "./simulator-builder.ts";

/** Options of `Simulator.start`: the function configuration plus where to listen and what to print. */
export interface SimulatorOptions extends Partial<FunctionConfig> {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Port; 0 (the library default) picks a free one. */
  port?: number;
  /** Echo runtime output and platform lines (START/END/REPORT) through consola (default false). */
  echoLogs?: boolean;
  /** The consola instance to echo with. */
  logger?: ConsolaInstance;
  /** Replaces Lambda's shutdown budget (0/500/2,000 ms), in ms: a debugging aid. */
  shutdownTimeoutMs?: number;
  /** Appends every telemetry event to this file as JSON lines. */
  telemetryFile?: string;
  /** Capture telemetry in memory from the start (see enableTelemetryCapture). */
  captureTelemetry?: boolean;
  /** How far a subscriber may fall behind before events are dropped, in bytes (default 16 × its maxBytes). */
  telemetryQueueLimitBytes?: number;
  /** `FreezeMode.Process` stops every process between invocations, as Lambda freezes the environment. */
  freezeMode?: FreezeMode;
  /** Retries of failed `Event` invocations (default: Lambda's 2 retries after 60 s and 120 s). */
  asyncRetry?: Partial<AsyncRetryPolicy>;
}

/** Hooks of `Simulator.start`. */
export interface StartHooks {
  /**
   * Called once the port listens, before the HTTP routes are built: start processes here (runtime,
   * extensions) to overlap their start-up with the simulator's. Their requests wait for the routes.
   */
  onListening?: (simulator: Simulator) => void;
}

/** Request bodies above this are refused by the server before any route sees them. */
const MAX_REQUEST_BODY_BYTES = 256 * 1024 * 1024;

/** Options of `spawnRuntime`. */
export interface SpawnRuntimeOptions {
  /** Working directory (default: the function's task root). */
  cwd?: string;
  /** Extra environment variables for this process only (on top of the function's). */
  env?: Record<string, string>;
}

/** What `invoke` returns: the payload and, for failures, the function error. */
export interface InvokeResponse extends InvocationResult {
  /** The payload as text. */
  text(): string;
  /** The payload parsed as JSON. */
  json<T = unknown>(): T;
}

const decoder = new TextDecoder();

/** Writes each log line to stderr as it is, after `[tag] ` for runtime and extension output. */
const plainStderr: ConsolaReporter = {
  log: ({ tag, args }) => {
    process.stderr.write(`${tag ? `[${tag}] ` : ""}${args.map(String).join(" ")}\n`);
  },
};

/** Errors of the wait helpers when their time is up. */
export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = "WaitTimeoutError";
  }
}

/** A simulated Lambda function with one execution environment, reachable over HTTP. */
export class Simulator implements AsyncDisposable {
  /** Every state change, as typed events. */
  readonly events = new EventBus();
  readonly config: FunctionConfig;
  private readonly environment: ExecutionEnvironment;
  // Bound by start() before the simulator is handed to anyone.
  private server!: ListeningServer;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly telemetryFile: string | undefined;
  private readonly logger: ConsolaInstance;
  private readonly apiHost: string;
  private readonly telemetry: TelemetryHub;
  /** This environment's log stream (`AWS_LAMBDA_LOG_STREAM_NAME`, telemetry `instanceId`). */
  readonly logStreamName: string;
  private stopped?: Promise<void>;
  private readonly stopRetries: () => void;

  private constructor(options: SimulatorOptions) {
    const {
      host = "127.0.0.1",
      port = 0,
      echoLogs = false,
      logger,
      shutdownTimeoutMs,
      telemetryFile,
      captureTelemetry = false,
      telemetryQueueLimitBytes,
      freezeMode = FreezeMode.None,
      asyncRetry,
      ...config
    } = options;
    // Every option is validated before anything is opened, bound or started.
    if (freezeMode === FreezeMode.Process && process.platform === "win32") {
      throw new ConfigurationError(
        "FreezeMode.Process needs POSIX signals (SIGSTOP/SIGCONT); it is not available on Windows",
      );
    }
    const retryPolicy = asyncRetryPolicy(asyncRetry);
    this.config = resolveFunctionConfig(config);
    this.host = host;
    this.requestedPort = port;
    this.telemetryFile = telemetryFile;
    this.logStreamName = newLogStreamName(this.config);
    // Level and reporter are explicit: consola's defaults hide logs when NODE_ENV=test or TEST is
    // set (as under `bun test`) and prefix every line with `[log]` when CI is set.
    this.logger = logger ?? createConsola({ level: LogLevels.info, reporters: [plainStderr] });
    this.telemetry = new TelemetryHub({
      ownPort: () => this.server.port,
      transports: transportFor,
      queueLimitBytes: telemetryQueueLimitBytes,
    });
    recordTelemetry(
      this.events,
      this.telemetry,
      this.config,
      this.logStreamName,
      () => this.config.logFormat === "JSON",
    );
    if (captureTelemetry) this.enableTelemetryCapture();
    this.environment = new ExecutionEnvironment(this.config, this.events, this.telemetry);
    this.environment.shutdownBudgetOverrideMs = shutdownTimeoutMs;
    if (freezeMode === FreezeMode.Process) this.environment.enableFreezing(processFreezer());
    this.stopRetries = retryFailedEvents(
      this.events,
      retryPolicy,
      (request) => void this.submitRetry(request),
    );
    this.apiHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
    if (echoLogs) this.echoLogs();
  }

  /** Starts a simulator listening on `options.host:options.port` (a free port by default). */
  static async start(options: SimulatorOptions = {}, hooks: StartHooks = {}): Promise<Simulator> {
    const simulator = new Simulator(options);
    // The port is bound before the HTTP routes are even loaded, so that processes started from
    // onListening overlap their own start-up with the rest of the simulator's.
    const app = import("./http/server.ts").then(({ lambdaApp }) =>
      lambdaApp(simulator.environment, simulator),
    );
    try {
      simulator.server = listen(app, {
        hostname: simulator.host,
        port: simulator.requestedPort,
        maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
      });
    } catch (error) {
      simulator.stopRetries();
      throw error;
    }
    try {
      if (simulator.telemetryFile) simulator.writeTelemetryTo(simulator.telemetryFile);
      hooks.onListening?.(simulator);
      await app;
    } catch (error) {
      await simulator.shutdown();
      throw error;
    }
    return simulator;
  }

  /** A fluent builder for the same options. */
  static builder(): SimulatorBuilder {
    return new SimulatorBuilder((options) => Simulator.start(options));
  }

  /** `host:port` without a scheme, as in `AWS_LAMBDA_RUNTIME_API`. */
  runtimeApiUrl(): string {
    return `${this.apiHost.includes(":") ? `[${this.apiHost}]` : this.apiHost}:${this.server.port}`;
  }

  /** `http://host:port`, the base URL of every API (Invoke API included). */
  url(): string {
    return `http://${this.runtimeApiUrl()}`;
  }

  /** The port the server listens on. */
  get port(): number {
    return this.server.port;
  }

  /** The environment's phase (Uninitialized, Initializing, Ready, Invoking, Resetting, ShutDown). */
  phase(): EnvironmentPhase {
    return this.environment.phase;
  }

  /** The function's ARN, with a qualifier when given. */
  functionArn(qualifier?: string): string {
    return functionArn(this.config, qualifier);
  }

  /** The environment variables a runtime process gets. */
  runtimeEnvironment(): Record<string, string> {
    return runtimeEnvironment(this.config, this.runtimeApiUrl(), this.logStreamName);
  }

  /**
   * Starts the runtime (bootstrap) with Lambda's environment in its own process group and runs the
   * init phase now (after the external extensions registered). It is relaunched after every reset.
   */
  spawnRuntime(command: string[], options: SpawnRuntimeOptions = {}): void {
    const cwd = this.checkCommand(command, options, "the runtime");
    this.environment.setLauncher(
      runtimeLauncher({
        command,
        cwd,
        env: () => ({ ...this.runtimeEnvironment(), ...options.env }),
        onLine: (line, stream) => this.environment.processLog(line, stream),
      }),
    );
    this.environment.start();
  }

  /**
   * Adds an external extension (like a file in /opt/extensions). It is launched at every init,
   * before the runtime; its registration name must be the executable's base name. Add extensions
   * before `spawnRuntime`, as Lambda starts them first.
   */
  spawnExtension(command: string[], options: SpawnRuntimeOptions = {}): void {
    const cwd = this.checkCommand(command, options, "the extension");
    const launcher = extensionLauncher({
      command,
      cwd,
      env: () => extensionEnvironment({ ...this.runtimeEnvironment(), ...options.env }),
      onLine: (line, stream) => this.environment.processLog(line, stream, launcher.name),
    });
    try {
      this.environment.addExtension(launcher);
    } catch (error) {
      throw new ConfigurationError((error as Error).message);
    }
  }

  private checkCommand(command: string[], options: SpawnRuntimeOptions, what: string): string {
    const cwd = options.cwd ?? this.config.taskRoot;
    const [program] = command;
    if (!program) throw new ConfigurationError(`cannot start ${what}: empty command`);
    try {
      resolveExecutable(program, cwd);
    } catch (error) {
      throw new ConfigurationError(`cannot start ${what}: ${(error as Error).message}`);
    }
    return cwd;
  }

  /** Starts the init phase now (launching the extensions) when the runtime is started elsewhere. */
  startInit(): void {
    this.environment.start();
  }

  /** Number of inits so far (cold starts, including inits re-run inside an invoke). */
  initCount(): number {
    return this.environment.initCount;
  }

  /** Number of extensions registered in the current init. */
  extensionCount(): number {
    return this.environment.registry.all().length;
  }

  /** Registered extensions: name, id, events, pid, state. */
  registeredExtensions(): ExtensionInfo[] {
    return this.environment.registry.all().map((e) => e.info());
  }

  /** Resolves when init is complete: the runtime and every registered extension called next. */
  waitForExtensionsReady(timeoutMs = 30_000): Promise<void> {
    return this.waitFor((s) => s.phase() === "Ready" || s.phase() === "Invoking", timeoutMs);
  }

  /** Pid of the runtime process the simulator started, while it runs. */
  runtimePid(): number | undefined {
    return this.environment.runtimePid;
  }

  /** Queues an invocation with this payload (JSON value, string or bytes); returns its request id. */
  enqueuePayload(payload: unknown): string {
    return this.enqueue(new InvocationBuilder().payload(payload));
  }

  /** Queues an invocation built with `InvocationBuilder`; returns its request id. */
  enqueue(builder: InvocationBuilder | InvocationRequest): string {
    const request = builder instanceof InvocationBuilder ? builder.build() : builder;
    return this.submit(request).id;
  }

  /** @internal Queues a request and returns the live invocation (used by the Invoke API). */
  submit(request: InvocationRequest): Invocation {
    const invocation = new Invocation(request);
    this.environment.enqueue(invocation);
    return invocation;
  }

  private submitRetry(request: InvocationRequest): void {
    if (this.environment.phase !== "ShutDown") this.submit(request);
  }

  /** Invokes synchronously and resolves with what a `RequestResponse` caller gets. */
  async invoke(payload: unknown): Promise<InvokeResponse> {
    const builder = payload instanceof InvocationBuilder ? payload : new InvocationBuilder().payload(payload);
    const invocation = this.submit(builder.build());
    const result = await invocation.response;
    return {
      ...result,
      text: () => decoder.decode(result.payload),
      json: <T>() => JSON.parse(decoder.decode(result.payload)) as T,
    };
  }

  /** Snapshot of one invocation, if known. */
  invocationState(id: string): InvocationState | undefined {
    const invocation = this.environment.invocation(id);
    return invocation ? invocationState(invocation) : undefined;
  }

  /** Snapshots of every invocation in the history, oldest first. */
  invocationStates(): InvocationState[] {
    return this.environment.allInvocations().map(invocationState);
  }

  /** Resolves with the final state once the invocation reached a terminal status. */
  async waitForInvocationComplete(id: string, timeoutMs = 30_000): Promise<InvocationState> {
    const invocation = this.environment.invocation(id);
    if (!invocation) throw new Error(`unknown invocation ${id}`);
    await withTimeout(invocation.completion, timeoutMs, `invocation ${id} to complete`);
    return invocationState(invocation);
  }

  /** Resolves once `predicate` holds; it is re-checked on every simulator event, never polled. */
  waitFor(predicate: (simulator: Simulator) => boolean, timeoutMs = 30_000): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new WaitTimeoutError("the condition", timeoutMs));
      }, timeoutMs);
      const off = this.events.onAny(() => {
        let done = false;
        try {
          done = predicate(this);
        } catch (error) {
          clearTimeout(timer);
          off();
          reject(error);
          return;
        }
        if (done) {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    });
  }

  /** Resolves with the payload of the next `name` event matching `predicate`. */
  waitForEvent<K extends SimulatorEventName>(
    name: K,
    predicate: (payload: SimulatorEventMap[K]) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<SimulatorEventMap[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new WaitTimeoutError(`event ${name}`, timeoutMs));
      }, timeoutMs);
      const off = this.events.on(name, (payload) => {
        if (!predicate(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }

  /** Starts keeping telemetry events in memory (bounded; off until called). */
  enableTelemetryCapture(limit = 50_000): void {
    this.telemetry.capture ??= new TelemetryCapture(limit);
  }

  /** Every captured telemetry event, oldest first (empty unless capture is enabled). */
  getTelemetryEvents(): TelemetryEvent[] {
    return this.telemetry.capture?.all() ?? [];
  }

  /** Captured telemetry events of one type. */
  getTelemetryEventsByType<T extends TelemetryType>(type: T): TelemetryEvent<T>[] {
    return this.telemetry.capture?.byType(type) ?? [];
  }

  /** Forgets the captured telemetry. */
  clearTelemetryEvents(): void {
    this.telemetry.capture?.clear();
  }

  /** The first captured (or future) telemetry event of `type` matching `predicate`. */
  waitForTelemetry<T extends TelemetryType>(
    type: T,
    predicate: (event: TelemetryEvent<T>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<TelemetryEvent<T>> {
    this.enableTelemetryCapture();
    return (this.telemetry.capture as TelemetryCapture).waitFor(type, predicate, timeoutMs);
  }

  /** Telemetry subscriptions and their delivery counts. */
  telemetrySubscriptions() {
    return this.telemetry.stats();
  }

  private writeTelemetryTo(path: string): void {
    const file = Bun.file(path).writer();
    this.telemetry.addSink((event) => {
      file.write(`${JSON.stringify(event)}\n`);
    });
    this.events.on("shutdownEnd", () => void file.flush());
    process.on("exit", () => void file.end());
  }

  /** True while every process of the environment is stopped (FreezeMode.Process). */
  isFrozen(): boolean {
    return this.environment.isFrozen;
  }

  /** Number of completed freezes so far. */
  freezeEpoch(): number {
    return this.environment.freezeEpoch;
  }

  /** Resolves once the environment is frozen (verified stopped). */
  waitForFrozen(timeoutMs = 30_000): Promise<void> {
    return this.waitFor((s) => s.isFrozen(), timeoutMs);
  }

  /** Freezes and thaws this process (and its descendants) with the environment. */
  registerPidForFreeze(pid: number): void {
    this.environment.registerPidForFreeze(pid);
  }

  /** Summary for the control API. */
  status(): object {
    const states = this.environment.allInvocations();
    const byStatus: Record<string, number> = {};
    for (const invocation of states) byStatus[invocation.status] = (byStatus[invocation.status] ?? 0) + 1;
    return {
      phase: this.environment.phase,
      functionName: this.config.functionName,
      functionVersion: this.config.functionVersion,
      functionArn: this.functionArn(),
      runtimeApi: this.runtimeApiUrl(),
      runtimePid: this.environment.runtimePid ?? null,
      frozen: this.environment.isFrozen,
      freezeEpoch: this.environment.freezeEpoch,
      initCount: this.environment.initCount,
      queued: this.environment.queuedCount,
      currentInvocation: this.environment.currentInvocation?.id ?? null,
      extensions: this.registeredExtensions(),
      telemetrySubscriptions: this.telemetrySubscriptions(),
      invocations: { total: states.length, byStatus },
    };
  }

  /** Stops the environment (shutdown phase with reason `spindown`, nothing left running) and the server. Idempotent. */
  shutdown(): Promise<void> {
    return this.gracefulShutdown("spindown");
  }

  /** The shutdown phase with the given SHUTDOWN reason, then the server stops. Idempotent. */
  gracefulShutdown(reason: ShutdownReason = "spindown"): Promise<void> {
    this.stopped ??= (async () => {
      this.stopRetries();
      await this.environment.shutdown(reason);
      this.telemetry.closeAll();
      await this.server.stop();
    })();
    return this.stopped;
  }

  /** `await using sim = await Simulator.start()` shuts it down at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  private echoLogs(): void {
    const runtimeLog = this.logger.withTag("runtime");
    const extensionLogs = new Map<string, ConsolaInstance>();
    this.events.on("log", ({ source, line, extension }) => {
      if (source === "function") runtimeLog.log(line);
      else if (source === "extension" && extension) {
        let log = extensionLogs.get(extension);
        if (!log) {
          log = this.logger.withTag(extension);
          extensionLogs.set(extension, log);
        }
        log.log(line);
      } else this.logger.log(line);
    });
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
