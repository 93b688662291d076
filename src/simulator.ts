/** The facade: one function, its execution environment, the HTTP server and the event bus. */
// consola/core: the same createConsola without the default reporters, which cost ~5 ms to load.
import { type ConsolaInstance, type ConsolaReporter, createConsola, LogLevels } from "consola/core";
import { asyncRetryPolicy, retryFailedEvents } from "./core/async-retries.ts";
import { type FunctionConfig, functionArn, resolveFunctionConfig } from "./core/config.ts";
import type { EnvironmentPhase, GateWait } from "./core/environment/execution-environment.ts";
import { FreezeMode } from "./core/environment/freeze.ts";
import { ConfigurationError } from "./core/errors.ts";
import { EventBus, type SimulatorEventMap, type SimulatorEventName } from "./core/events.ts";
import type { ExtensionInfo, ShutdownReason } from "./core/extensions.ts";
import { LambdaFunction } from "./core/function/lambda-function.ts";
import { type FunctionUrlConfig, functionUrlConfig } from "./core/function-url.ts";
import {
  Invocation,
  InvocationBuilder,
  type InvocationRequest,
  type InvocationResult,
} from "./core/invocation.ts";
import { type InvocationState, invocationState } from "./core/invocation-state.ts";
import { answerStream } from "./core/streamed-answer.ts";
import { TelemetryCapture } from "./core/telemetry/capture.ts";
import type { TelemetryEvent, TelemetryType } from "./core/telemetry/schemas.ts";
import { invocationTenant } from "./core/tenancy.ts";
import type { InitializationType } from "./core/vocabulary.ts";
import { type ListeningServer, listen } from "./http/listener.ts";
import { listenSandbox, type SandboxRoute, sandboxRoutes } from "./http/sandbox-listener.ts";
import { resolveExecutable } from "./process/process-group.ts";
import { MAX_REQUEST_BODY_BYTES, type ProcessSpec, Sandbox, type SandboxContext } from "./sandbox.ts";
import { SimulatorBuilder } from "./simulator-builder.ts";
import type { RecycleOptions, SimulatorOptions } from "./simulator-options.ts";

export type { SimulatorOptions } from "./simulator-options.ts";

/** One execution environment, as `environments()` reports it. */
export interface EnvironmentInfo {
  id: string;
  phase: EnvironmentPhase;
  /** Pid of its runtime process, while it runs. */
  runtimePid: number | null;
  /** Its `AWS_LAMBDA_RUNTIME_API`. */
  runtimeApi: string;
  logStreamName: string;
  initializationType: InitializationType;
  invocationsServed: number;
  frozen: boolean;
  tenantId: string | null;
  /** The gate it is held at ("init done", "invoke complete") and who has not called next yet. */
  waitingAt: GateWait | null;
}

/** Hooks of `Simulator.start`. */
export interface StartHooks {
  /**
   * Called once the port listens, before the HTTP routes are built: start processes here (runtime,
   * extensions) to overlap their start-up with the simulator's. Their requests wait for the routes.
   */
  onListening?: (simulator: Simulator) => void;
}

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

/** What `invokeStream` returns: the answer's bytes as they come, and how it ended. */
export interface InvokeStreamResponse {
  readonly requestId: string;
  /** The content type the function declared (a streaming runtime's `Content-Type`). */
  readonly contentType: string;
  /** The function's bytes as they arrive; a buffered answer arrives as one chunk. Async-iterable. */
  readonly body: ReadableStream<Uint8Array>;
  /** Resolves when the answer has ended: with `errorType` and `errorDetails` when the function failed. */
  readonly completion: Promise<{ bytes: number; errorType?: string; errorDetails?: string }>;
  /** Reads the whole body (the bytes sent before an error included) as text. */
  text(): Promise<string>;
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

/** A simulated Lambda function with its execution environments, reachable over HTTP. */
export class Simulator implements AsyncDisposable {
  /** Every state change of every environment, as typed events. */
  readonly events = new EventBus();
  readonly config: FunctionConfig;
  private readonly function: LambdaFunction;
  private readonly context: SandboxContext;
  // Bound by start() before the simulator is handed to anyone.
  private server!: ListeningServer;
  private readonly logger: ConsolaInstance;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly telemetryFile: string | undefined;
  private readonly maxConcurrency: number;
  private readonly provisioned: number;
  private capture?: TelemetryCapture;
  private readonly captureLimitBytes?: number;
  private inits = 0;
  /** The environment primary() gave last (still answered after the shutdown cleared the set). */
  private lastPrimary?: Sandbox;
  private stopped?: Promise<void>;
  private readonly stopRetries: () => void;
  /** The function URL front, when `httpPort` asks for one. */
  private readonly urlConfig?: FunctionUrlConfig;
  private urlServer?: ListeningServer;

  private constructor(options: SimulatorOptions) {
    const {
      host = "127.0.0.1",
      port = 0,
      echoLogs = false,
      logger,
      shutdownTimeoutMs,
      telemetryFile,
      captureTelemetry = false,
      telemetryCaptureLimitBytes,
      telemetryQueueLimitBytes,
      freezeMode = FreezeMode.None,
      asyncRetry,
      maxConcurrency,
      throttle = false,
      provisionedConcurrency = 0,
      idleTimeoutSeconds,
      streamBandwidthLimit = true,
      httpPort,
      httpInvokeMode,
      ...config
    } = options;
    // Every option is validated before anything is opened, bound or started.
    if (freezeMode === FreezeMode.Process && process.platform === "win32") {
      throw new ConfigurationError(
        "FreezeMode.Process needs POSIX signals (SIGSTOP/SIGCONT); it is not available on Windows",
      );
    }
    const retryPolicy = asyncRetryPolicy(asyncRetry);
    this.urlConfig = functionUrlConfig(httpPort, httpInvokeMode);
    this.config = resolveFunctionConfig(config);
    const count = (value: number | undefined, name: string, min: number) => {
      if (value !== undefined && (!Number.isInteger(value) || value < min || value > 1000)) {
        throw new ConfigurationError(`${name}: must be an integer from ${min} to 1000, got ${value}`);
      }
    };
    count(maxConcurrency, "maxConcurrency", 0);
    count(provisionedConcurrency, "provisionedConcurrency", 0);
    if (idleTimeoutSeconds !== undefined && !(idleTimeoutSeconds > 0)) {
      throw new ConfigurationError(`idleTimeoutSeconds: must be more than 0, got ${idleTimeoutSeconds}`);
    }
    this.maxConcurrency = maxConcurrency ?? Math.max(1, provisionedConcurrency);
    if (this.config.tenantIsolation && provisionedConcurrency > 0) {
      throw new ConfigurationError(
        "provisionedConcurrency: Lambda does not offer provisioned concurrency to a function with tenant isolation; use one or the other",
      );
    }
    if (provisionedConcurrency > this.maxConcurrency) {
      throw new ConfigurationError(
        `provisionedConcurrency: ${provisionedConcurrency} exceeds maxConcurrency: ${this.maxConcurrency} (provisioned concurrency cannot exceed reserved concurrency)`,
      );
    }
    this.provisioned = provisionedConcurrency;
    this.host = host;
    this.requestedPort = port;
    this.telemetryFile = telemetryFile;
    // Level and reporter are explicit: consola's defaults hide logs when NODE_ENV=test or TEST is
    // set (as under `bun test`) and prefix every line with `[log]` when CI is set.
    this.logger = logger ?? createConsola({ level: LogLevels.info, reporters: [plainStderr] });
    if (
      telemetryCaptureLimitBytes !== undefined &&
      !(Number.isInteger(telemetryCaptureLimitBytes) && telemetryCaptureLimitBytes > 0)
    ) {
      throw new ConfigurationError(
        `telemetryCaptureLimitBytes: must be a positive integer, got ${telemetryCaptureLimitBytes}`,
      );
    }
    this.captureLimitBytes = telemetryCaptureLimitBytes;
    if (captureTelemetry) this.capture = new TelemetryCapture(undefined, telemetryCaptureLimitBytes);
    this.context = {
      config: this.config,
      events: this.events,
      host,
      mainPort: () => this.server.port,
      freeze: freezeMode === FreezeMode.Process,
      shutdownTimeoutMs,
      telemetryQueueLimitBytes,
      streamBandwidthLimit,
      capture: () => this.capture,
      sinks: [],
      extensions: [],
    };
    this.events.on("initStart", () => this.inits++);
    this.function = new LambdaFunction({
      events: this.events,
      maxConcurrency: this.maxConcurrency,
      throttle,
      provisionedConcurrency,
      idleTimeoutMs: idleTimeoutSeconds === undefined ? undefined : idleTimeoutSeconds * 1000,
      createEnvironment: (initializationType) => Sandbox.open(this.context, initializationType),
    });
    this.stopRetries = retryFailedEvents(
      this.events,
      retryPolicy,
      (request) => void this.submitRetry(request),
    );
    if (echoLogs) this.echoLogs();
  }

  /** Starts a simulator listening on `options.host:options.port` (a free port by default). */
  static async start(options: SimulatorOptions = {}, hooks: StartHooks = {}): Promise<Simulator> {
    const simulator = new Simulator(options);
    // The port is bound before the HTTP routes are even loaded, so that processes started from
    // onListening overlap their own start-up with the rest of the simulator's.
    const apps = import("./http/server.ts");
    // With tenant isolation environments are replaced as tenants change: each gets its own port,
    // so a retiring runtime's late request can never reach its successor.
    const shared = simulator.maxConcurrency === 1 && !simulator.config.tenantIsolation;
    const listenOptions = {
      hostname: simulator.host,
      port: simulator.requestedPort,
      maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
    };
    const parts = { config: simulator.config, front: simulator };
    try {
      if (shared) {
        // One environment at a time: its sandbox APIs share the main port, as they always did.
        const env = () => simulator.primary().environment;
        const runtime = sandboxRoutes(env, simulator.config);
        // The Invoke API is served natively too once its module is loaded (Elysia until then).
        let invokes: SandboxRoute | undefined;
        simulator.server = listenSandbox(
          (req, res) => runtime(req, res) || (invokes?.(req, res) ?? false),
          apps.then(({ lambdaApp, invokeRoutes }) => {
            invokes = invokeRoutes(simulator);
            return lambdaApp({ ...parts, env });
          }),
          listenOptions,
        );
      } else {
        simulator.server = listen(
          apps.then(({ lambdaApp }) => lambdaApp(parts)),
          listenOptions,
        );
      }
    } catch (error) {
      simulator.stopRetries();
      throw error;
    }
    try {
      if (simulator.urlConfig) {
        const { listenFunctionUrl } = await import("./http/function-url.ts");
        simulator.urlServer = listenFunctionUrl(simulator, simulator.urlConfig, simulator.host);
      }
      if (simulator.telemetryFile) simulator.writeTelemetryTo(simulator.telemetryFile);
      if (!shared) {
        const { sandboxServer } = await apps;
        simulator.context.sandboxListener = (env) =>
          sandboxServer({ env, config: simulator.config }, { ...listenOptions, port: 0 });
      }
      simulator.openInitialEnvironments();
      hooks.onListening?.(simulator);
      await apps;
    } catch (error) {
      await simulator.shutdown();
      throw error;
    }
    return simulator;
  }

  /**
   * A new deployment, as Lambda makes one when the code changes (watch mode): every environment
   * finishes its in-flight invocation (`wait`, the default) or has it cancelled, runs its shutdown
   * phase (`spindown`), and fresh environments start their init (runtime and extensions relaunched,
   * new log streams); invocations that arrive meanwhile wait and are served by the new ones.
   * `config` changes what a deployment may change. Resolves once the new environments have started
   * their init.
   */
  async recycle(options: RecycleOptions = {}): Promise<void> {
    const { reason = "recycle", wait = true, config } = options;
    // Checked before anything stops: a bad value leaves the running code as it is.
    const next = config ? resolveFunctionConfig({ ...this.config, ...config }) : undefined;
    const started = performance.now();
    await this.function.recycle(
      wait,
      () => {
        // Applied once no old environment runs: every part that reads the config sees the new one.
        if (next) Object.assign(this.config as FunctionConfig, next);
        this.openInitialEnvironments();
      },
      () => this.events.emit("recycleStart", { reason }),
    );
    this.events.emit("recycleEnd", { reason, durationMs: performance.now() - started });
  }

  /** The environments that exist from the start: the provisioned ones, or one on-demand. */
  private openInitialEnvironments(): void {
    if (this.provisioned > 0) {
      for (let i = 0; i < this.provisioned; i++) this.function.addEnvironment("provisioned-concurrency");
    } else if (this.maxConcurrency > 0) {
      this.function.addEnvironment("on-demand");
    }
  }

  /**
   * The first live environment (the one a runtime started by hand talks to); one is opened when
   * none lives (after an idle spindown).
   */
  private primary(): Sandbox {
    const [first] = this.function.environments();
    if (first) this.lastPrimary = first as Sandbox;
    else if (!this.stopped || !this.lastPrimary)
      this.lastPrimary = this.function.addEnvironment("on-demand") as Sandbox;
    return this.lastPrimary;
  }

  private sandboxes(): Sandbox[] {
    return this.function.environments() as Sandbox[];
  }

  /** A fluent builder for the same options. */
  static builder(): SimulatorBuilder<Simulator> {
    return new SimulatorBuilder((options) => Simulator.start(options));
  }

  /**
   * `host:port` without a scheme, as in `AWS_LAMBDA_RUNTIME_API`: the first environment's (with
   * one environment at a time, the main port).
   */
  runtimeApiUrl(): string {
    return this.sandboxes()[0]?.runtimeApi ?? this.mainAddress();
  }

  /** `http://host:port`, the base URL of the Invoke and control APIs (and, with one environment, of all). */
  url(): string {
    return `http://${this.mainAddress()}`;
  }

  private mainAddress(): string {
    return this.address(this.server.port);
  }

  private address(port: number): string {
    const host = this.host === "0.0.0.0" || this.host === "::" ? "127.0.0.1" : this.host;
    return `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /** `http://host:port` of the function URL (started with the `httpPort` option). */
  functionUrl(): string {
    if (!this.urlServer) {
      throw new ConfigurationError("no function URL: start the simulator with the httpPort option (--http)");
    }
    return `http://${this.address(this.urlServer.port)}`;
  }

  /** The first environment's log stream (`AWS_LAMBDA_LOG_STREAM_NAME`, telemetry `instanceId`). */
  get logStreamName(): string {
    return this.primary().logStreamName;
  }

  /** Every live execution environment, oldest first. */
  environments(): EnvironmentInfo[] {
    return this.sandboxes().map((sandbox) => ({
      id: sandbox.id,
      phase: sandbox.environment.phase,
      runtimePid: sandbox.environment.runtimePid ?? null,
      runtimeApi: sandbox.runtimeApi,
      logStreamName: sandbox.logStreamName,
      initializationType: sandbox.initializationType,
      invocationsServed: sandbox.invocationsServed,
      frozen: sandbox.environment.isFrozen,
      tenantId: sandbox.tenantId ?? null,
      waitingAt: sandbox.environment.waitingAt() ?? null,
    }));
  }

  /** The port the server listens on. */
  get port(): number {
    return this.server.port;
  }

  /** The first environment's phase (Uninitialized, Initializing, Ready, Invoking, Resetting, ShutDown). */
  phase(): EnvironmentPhase {
    if (this.stopped) return "ShutDown";
    return this.sandboxes()[0]?.environment.phase ?? "Uninitialized";
  }

  /** The function's ARN, with a qualifier when given. */
  functionArn(qualifier?: string): string {
    return functionArn(this.config, qualifier);
  }

  /** The environment variables the first environment's runtime process gets. */
  runtimeEnvironment(): Record<string, string> {
    return this.primary().runtimeEnvironment();
  }

  /**
   * Starts the runtime (bootstrap) with Lambda's environment in its own process group and runs the
   * init phase now (after the external extensions registered). It is relaunched after every reset,
   * and started in every environment the function opens.
   */
  spawnRuntime(command: string[], options: SpawnRuntimeOptions = {}): void {
    const spec: ProcessSpec = {
      command,
      cwd: this.checkCommand(command, options, "the runtime"),
      env: options.env,
    };
    this.context.runtime = spec;
    for (const sandbox of this.sandboxes()) {
      sandbox.setRuntime(spec);
      sandbox.environment.start();
    }
  }

  /**
   * Adds an external extension (like a file in /opt/extensions). It is launched at every init of
   * every environment, before the runtime; its registration name must be the executable's base
   * name. Add extensions before `spawnRuntime`, as Lambda starts them first.
   */
  spawnExtension(command: string[], options: SpawnRuntimeOptions = {}): void {
    const spec: ProcessSpec = {
      command,
      cwd: this.checkCommand(command, options, "the extension"),
      env: options.env,
    };
    for (const sandbox of this.sandboxes()) sandbox.addExtension(spec);
    (this.context.extensions as ProcessSpec[]).push(spec);
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
    this.primary().environment.start();
  }

  /** Number of inits so far, in every environment (cold starts, including inits re-run inside an invoke). */
  initCount(): number {
    return this.inits;
  }

  /** Number of extensions registered in the first environment's current init. */
  extensionCount(): number {
    return (this.sandboxes()[0] ?? this.lastPrimary)?.environment.registry.all().length ?? 0;
  }

  /** Extensions registered in the first environment: name, id, events, pid, state. */
  registeredExtensions(): ExtensionInfo[] {
    return (this.sandboxes()[0] ?? this.lastPrimary)?.environment.registry.all().map((e) => e.info()) ?? [];
  }

  /** Resolves when init is complete: the runtime and every registered extension called next. */
  waitForExtensionsReady(timeoutMs = 30_000): Promise<void> {
    return this.waitFor((s) => s.phase() === "Ready" || s.phase() === "Invoking", timeoutMs);
  }

  /** Pid of the first environment's runtime process, while it runs. */
  runtimePid(): number | undefined {
    return this.sandboxes()[0]?.environment.runtimePid;
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
    const tenantId = invocationTenant(this.config.tenantIsolation, request.tenantId);
    if (this.maxConcurrency > 1 && !this.context.runtime) {
      throw new ConfigurationError(
        `with maxConcurrency ${this.maxConcurrency} every environment starts its own runtime: call spawnRuntime first (a runtime started by hand serves one environment only)`,
      );
    }
    // Another tenant's invoke replaces the environment, and the new one needs a runtime to start.
    if (this.config.tenantIsolation && !this.context.runtime) {
      throw new ConfigurationError(
        "with tenantIsolation each tenant gets environments of its own, each starting its own runtime: call spawnRuntime first (a runtime started by hand serves one environment only)",
      );
    }
    const invocation = new Invocation({ ...request, tenantId });
    this.function.submit(invocation);
    return invocation;
  }

  private submitRetry(request: InvocationRequest): void {
    if (!this.stopped) this.submit(request);
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

  /**
   * Invokes as `InvokeWithResponseStream` does: resolves when the answer starts, with its bytes as
   * the runtime streams them (nothing is collected) and its end, where a mid-stream error lives.
   */
  async invokeStream(payload: unknown): Promise<InvokeStreamResponse> {
    const builder = payload instanceof InvocationBuilder ? payload : new InvocationBuilder().payload(payload);
    const invocation = this.submit({ ...builder.build(), streamResponse: true });
    const result = await invocation.response;
    const { body, ended } = answerStream(result);
    return {
      requestId: invocation.id,
      contentType: result.contentType,
      body,
      completion: ended.then(({ bytes, error }) =>
        error ? { bytes, errorType: error.errorType, errorDetails: error.details } : { bytes },
      ),
      text: () => new Response(body).text(),
    };
  }

  /** Snapshot of one invocation, if known. */
  invocationState(id: string): InvocationState | undefined {
    const invocation = this.function.invocation(id);
    return invocation ? invocationState(invocation) : undefined;
  }

  /** Snapshots of every invocation in the history, oldest first. */
  invocationStates(): InvocationState[] {
    return this.function.allInvocations().map(invocationState);
  }

  /** Resolves with the final state once the invocation reached a terminal status. */
  async waitForInvocationComplete(id: string, timeoutMs = 30_000): Promise<InvocationState> {
    const invocation = this.function.invocation(id);
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
  enableTelemetryCapture(limit = 50_000, limitBytes = this.captureLimitBytes): void {
    this.capture ??= new TelemetryCapture(limit, limitBytes);
    for (const sandbox of this.sandboxes()) sandbox.hub.capture = this.capture;
  }

  /** Every captured telemetry event, oldest first (empty unless capture is enabled). */
  getTelemetryEvents(): TelemetryEvent[] {
    return this.capture?.all() ?? [];
  }

  /** Captured telemetry events of one type. */
  getTelemetryEventsByType<T extends TelemetryType>(type: T): TelemetryEvent<T>[] {
    return this.capture?.byType(type) ?? [];
  }

  /** Forgets the captured telemetry. */
  clearTelemetryEvents(): void {
    this.capture?.clear();
  }

  /** The first captured (or future) telemetry event of `type` matching `predicate`. */
  waitForTelemetry<T extends TelemetryType>(
    type: T,
    predicate: (event: TelemetryEvent<T>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<TelemetryEvent<T>> {
    this.enableTelemetryCapture();
    return (this.capture as TelemetryCapture).waitFor(type, predicate, timeoutMs);
  }

  /** Telemetry subscriptions of every environment and their delivery counts. */
  telemetrySubscriptions() {
    return this.sandboxes().flatMap((sandbox) => sandbox.hub.stats());
  }

  private writeTelemetryTo(path: string): void {
    const file = Bun.file(path).writer();
    const sink = (event: TelemetryEvent) => {
      file.write(`${JSON.stringify(event)}\n`);
    };
    (this.context.sinks as ((event: TelemetryEvent) => void)[]).push(sink);
    for (const sandbox of this.sandboxes()) sandbox.hub.addSink(sink);
    this.events.on("shutdownEnd", () => void file.flush());
    process.on("exit", () => void file.end());
  }

  /** True while every process of the first environment is stopped (FreezeMode.Process). */
  isFrozen(): boolean {
    return this.sandboxes()[0]?.environment.isFrozen ?? false;
  }

  /** Number of completed freezes of the first environment so far. */
  freezeEpoch(): number {
    return this.sandboxes()[0]?.environment.freezeEpoch ?? 0;
  }

  /** Resolves once the first environment is frozen (verified stopped). */
  waitForFrozen(timeoutMs = 30_000): Promise<void> {
    return this.waitFor((s) => s.isFrozen(), timeoutMs);
  }

  /** Freezes and thaws this process (and its descendants) with the first environment. */
  registerPidForFreeze(pid: number): void {
    this.primary().environment.registerPidForFreeze(pid);
  }

  /** Summary for the control API: the first environment's state, and every environment's. */
  status(): object {
    const states = this.function.allInvocations();
    const byStatus: Record<string, number> = {};
    for (const invocation of states) byStatus[invocation.status] = (byStatus[invocation.status] ?? 0) + 1;
    const first = this.sandboxes()[0]?.environment;
    return {
      phase: this.phase(),
      functionName: this.config.functionName,
      functionVersion: this.config.functionVersion,
      functionArn: this.functionArn(),
      runtimeApi: this.runtimeApiUrl(),
      runtimePid: first?.runtimePid ?? null,
      frozen: first?.isFrozen ?? false,
      freezeEpoch: first?.freezeEpoch ?? 0,
      initCount: this.inits,
      queued: this.function.queuedCount + this.sandboxes().reduce((n, s) => n + s.environment.queuedCount, 0),
      currentInvocation: first?.currentInvocation?.id ?? null,
      maxConcurrency: this.maxConcurrency,
      environments: this.environments(),
      extensions: first ? this.registeredExtensions() : [],
      telemetrySubscriptions: this.telemetrySubscriptions(),
      invocations: { total: states.length, byStatus },
    };
  }

  /** Stops every environment (shutdown phase with reason `spindown`, nothing left running) and the server. Idempotent. */
  shutdown(): Promise<void> {
    return this.gracefulShutdown("spindown");
  }

  /** The shutdown phase of every environment, in parallel, with the given SHUTDOWN reason; then the server stops. Idempotent. */
  gracefulShutdown(reason: ShutdownReason = "spindown"): Promise<void> {
    this.stopped ??= (async () => {
      this.stopRetries();
      await this.function.shutdown(reason);
      await Promise.all([this.server?.stop(), this.urlServer?.stop()]);
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
