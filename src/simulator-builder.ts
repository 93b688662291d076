/** The fluent way to configure and start a Simulator. */
import type { FreezeMode } from "./core/environment/freeze.ts";
import type { SimulatorOptions } from "./simulator-options.ts";

/** Fluent construction of a Simulator: `Simulator.builder().functionName("orders").timeout(5).build()`. */
export class SimulatorBuilder<S> {
  private readonly options: SimulatorOptions = {};

  constructor(private readonly start: (options: SimulatorOptions) => Promise<S>) {}

  /** Function name (default `function`). */
  functionName(value: string): this {
    this.options.functionName = value;
    return this;
  }
  /** Function version (default `$LATEST`). */
  functionVersion(value: string): this {
    this.options.functionVersion = value;
    return this;
  }
  /** Handler string passed as `_HANDLER`. */
  handler(value: string): this {
    this.options.handler = value;
    return this;
  }
  /** Memory in MB (128-10240). */
  memorySize(mb: number): this {
    this.options.memorySizeMB = mb;
    return this;
  }
  /** Function timeout in seconds. */
  timeout(seconds: number): this {
    this.options.timeoutSeconds = seconds;
    return this;
  }
  /** Init phase limit in seconds (default 10). */
  initTimeout(seconds: number): this {
    this.options.initTimeoutSeconds = seconds;
    return this;
  }
  /** Region (default us-east-1). */
  region(value: string): this {
    this.options.region = value;
    return this;
  }
  /** Account id (default 123456789012). */
  accountId(value: string): this {
    this.options.accountId = value;
    return this;
  }
  /** `Text` or `JSON` log format. */
  logFormat(value: "Text" | "JSON"): this {
    this.options.logFormat = value;
    return this;
  }
  /** Function environment variables (merged). */
  env(values: Record<string, string>): this {
    this.options.environment = { ...this.options.environment, ...values };
    return this;
  }
  /** The function's code directory (`LAMBDA_TASK_ROOT`, the runtime's working directory). */
  taskRoot(path: string): this {
    this.options.taskRoot = path;
    return this;
  }
  /** Listen address. */
  host(value: string): this {
    this.options.host = value;
    return this;
  }
  /** Port (0 picks a free one). */
  port(value: number): this {
    this.options.port = value;
    return this;
  }
  /** `FreezeMode.Process` freezes the environment's processes between invocations. */
  freezeMode(mode: FreezeMode): this {
    this.options.freezeMode = mode;
    return this;
  }
  /** Tenant isolation mode: every invoke names a tenant; an environment serves one tenant only. */
  tenantIsolation(value = true): this {
    this.options.tenantIsolation = value;
    return this;
  }
  /** Echo runtime output and platform lines through consola. */
  echoLogs(value = true): this {
    this.options.echoLogs = value;
    return this;
  }
  /** Starts the simulator. */
  build(): Promise<S> {
    return this.start(this.options);
  }
}
