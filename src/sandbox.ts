/**
 * One execution environment with everything it owns outside core: its event bus (forwarded to the
 * simulator's with its id), its telemetry hub and recorder, its log stream, its processes, and
 * (when the function may have several) its own listener, so its `AWS_LAMBDA_RUNTIME_API` is its own.
 */
import { type FunctionConfig, newLogStreamName, runtimeEnvironment } from "./core/config.ts";
import { ExecutionEnvironment } from "./core/environment/execution-environment.ts";
import { ConfigurationError } from "./core/errors.ts";
import { type EnvironmentEventMap, EventBus, forwardEnvironmentEvents } from "./core/events.ts";
import type { ShutdownReason } from "./core/extensions.ts";
import type { FunctionEnvironment } from "./core/function/lambda-function.ts";
import type { TelemetryCapture } from "./core/telemetry/capture.ts";
import { TelemetryHub } from "./core/telemetry/hub.ts";
import { recordTelemetry } from "./core/telemetry/recorder.ts";
import type { TelemetryEvent } from "./core/telemetry/schemas.ts";
import type { InitializationType } from "./core/vocabulary.ts";
import type { ListeningServer } from "./http/listener.ts";
import { transportFor } from "./http/telemetry-transport.ts";
import { processFreezer } from "./process/freezer.ts";
import { extensionEnvironment, extensionLauncher, runtimeLauncher } from "./process/launchers.ts";

/** A process to start in every environment: the runtime or an external extension. */
export interface ProcessSpec {
  command: string[];
  cwd: string;
  /** Extra variables for this process only. */
  env?: Record<string, string>;
}

/** What every environment of one simulator shares. */
export interface SandboxContext {
  config: FunctionConfig;
  events: EventBus;
  host: string;
  /** The main listener's port (where the sandbox APIs live when the environment has no listener of its own). */
  mainPort: () => number;
  /**
   * Opens a listener with the sandbox APIs of an environment; when set, each environment gets its
   * own (the function may run several at once). Unset: they live on the main listener.
   */
  sandboxListener?: (env: () => ExecutionEnvironment) => ListeningServer;
  /** Cap streamed responses at Lambda's bandwidth (default on). */
  streamBandwidthLimit?: boolean;
  freeze: boolean;
  shutdownTimeoutMs?: number;
  telemetryQueueLimitBytes?: number;
  capture: () => TelemetryCapture | undefined;
  sinks: readonly ((event: TelemetryEvent) => void)[];
  runtime?: ProcessSpec;
  extensions: readonly ProcessSpec[];
}

/** Request bodies above this are refused by a listener before any route sees them. */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024 * 1024;

let counter = 0;

/** One execution environment and what it owns; see the file comment. */
export class Sandbox implements FunctionEnvironment {
  readonly id: string;
  readonly environment: ExecutionEnvironment;
  readonly logStreamName: string;
  readonly hub: TelemetryHub;
  tenantId?: string;
  lastUsedMono = 0;
  invocationsServed = 0;
  private readonly bus = new EventBus<EnvironmentEventMap>();
  private readonly unforward: () => void;
  private listener?: ListeningServer;
  private stopped?: Promise<void>;

  private constructor(
    private readonly context: SandboxContext,
    readonly initializationType: InitializationType,
  ) {
    counter++;
    this.id = `env-${counter}`;
    const { config } = context;
    this.logStreamName = newLogStreamName(config);
    this.unforward = forwardEnvironmentEvents(this.bus, context.events, this.id);
    this.hub = new TelemetryHub({
      ownPort: () => this.port,
      transports: transportFor,
      queueLimitBytes: context.telemetryQueueLimitBytes,
    });
    this.hub.capture = context.capture();
    for (const sink of context.sinks) this.hub.addSink(sink);
    recordTelemetry(
      this.bus,
      this.hub,
      config,
      this.logStreamName,
      () => config.logFormat === "JSON",
      initializationType,
    );
    this.environment = new ExecutionEnvironment(config, this.bus, {
      telemetry: this.hub,
      initializationType,
      shutdownBudgetOverrideMs: context.shutdownTimeoutMs,
      streamBandwidthLimit: context.streamBandwidthLimit,
    });
    if (context.freeze) this.environment.enableFreezing(processFreezer());
  }

  /**
   * A new environment: its listener bound (when it has its own), its processes set up from the
   * context and its init started when there is something to launch.
   */
  static open(context: SandboxContext, initializationType: InitializationType): Sandbox {
    const sandbox = new Sandbox(context, initializationType);
    if (context.sandboxListener) sandbox.listener = context.sandboxListener(() => sandbox.environment);
    if (context.runtime) sandbox.setRuntime(context.runtime);
    for (const extension of context.extensions) sandbox.addExtension(extension);
    sandbox.environment.start();
    return sandbox;
  }

  /** The port its sandbox APIs are served on. */
  get port(): number {
    return this.listener?.port ?? this.context.mainPort();
  }

  /** `host:port`, as in `AWS_LAMBDA_RUNTIME_API`. */
  get runtimeApi(): string {
    const host =
      this.context.host === "0.0.0.0" || this.context.host === "::" ? "127.0.0.1" : this.context.host;
    return `${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  /** Takes an invocation now (see ExecutionEnvironment.available). */
  get available(): boolean {
    return this.environment.available;
  }

  /** Its invocation is answered; only re-polls are missing. */
  get finishing(): boolean {
    return this.environment.finishing;
  }

  /** The variables its runtime gets. */
  runtimeEnvironment(): Record<string, string> {
    return runtimeEnvironment(
      this.context.config,
      this.runtimeApi,
      this.logStreamName,
      this.initializationType,
    );
  }

  /** Sets the runtime it launches at each init. */
  setRuntime(spec: ProcessSpec): void {
    this.environment.setLauncher(
      runtimeLauncher({
        command: spec.command,
        cwd: spec.cwd,
        env: () => ({ ...this.runtimeEnvironment(), ...spec.env }),
        onLine: (line, stream) => this.environment.processLog(line, stream),
      }),
    );
  }

  /** Adds an external extension it launches at each init. */
  addExtension(spec: ProcessSpec): void {
    const launcher = extensionLauncher({
      command: spec.command,
      cwd: spec.cwd,
      env: () => extensionEnvironment({ ...this.runtimeEnvironment(), ...spec.env }),
      onLine: (line, stream) => this.environment.processLog(line, stream, launcher.name),
    });
    try {
      this.environment.addExtension(launcher);
    } catch (error) {
      throw new ConfigurationError((error as Error).message);
    }
  }

  /** Shuts it down with `reason` (nothing left running), then closes its telemetry and listener. */
  shutdown(reason: ShutdownReason): Promise<void> {
    this.stopped ??= (async () => {
      await this.environment.shutdown(reason);
      this.hub.closeAll();
      await this.listener?.stop();
      this.unforward();
    })();
    return this.stopped;
  }
}
