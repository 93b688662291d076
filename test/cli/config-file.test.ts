// The config file: parsing and validation in-process, then `run`, `serve` and the schema file for real.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findConfigFile, loadConfigFile, mergeConfig } from "../../src/cli/config-file.ts";
import { configJsonSchema } from "../../src/cli/config-schema.ts";
import { UsageError } from "../../src/cli/usage.ts";
import {
  cleanup,
  ECHO,
  ENV_RUNTIME,
  expectUsageError,
  invokeHttp,
  lines,
  REPO_ROOT,
  runCli,
  startServe,
  tempDir,
} from "./harness.ts";

afterEach(cleanup);

function configFile(contents: string, name = "lambda-sim.json"): string {
  const path = join(tempDir(), name);
  writeFileSync(path, contents);
  return path;
}

function loadError(contents: string): string {
  try {
    loadConfigFile(configFile(contents));
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("config file: validation", () => {
  test("comments and trailing commas are allowed (JSONC), in .json and .jsonc alike", () => {
    const text = '{\n  // the name\n  "function-name": "orders", /* memory */ "memory": 256,\n}\n';
    for (const name of ["lambda-sim.json", "lambda-sim.jsonc"]) {
      expect(loadConfigFile(configFile(text, name)).values).toEqual({
        "function-name": "orders",
        memory: 256,
      });
    }
  });

  test("an unknown key is refused, naming it", () => {
    expect(loadError('{"functionName": "x"}')).toMatch(/unknown key "functionName"/);
  });

  test("a bad value is refused, naming the key and the value", () => {
    expect(loadError('{"memory": "lots"}')).toMatch(/"memory" expected integer, got "lots"/);
    expect(loadError('{"memory": 64}')).toMatch(/"memory" .*128.*, got 64/);
    expect(loadError('{"log-format": "XML"}')).toMatch(
      /"log-format" must be one of "Text", "JSON", got "XML"/,
    );
    expect(loadError('{"env": {"A": 1}}')).toMatch(/"env" at A expected string, got 1/);
    expect(loadError('{"bootstrap": []}')).toMatch(/"bootstrap"/);
    expect(loadError("[1]")).toMatch(/one JSON object/);
    expect(loadError("{nope")).toMatch(/not valid JSON/);
  });

  test("lambda-sim.json and lambda-sim.jsonc side by side are ambiguous", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "lambda-sim.json"), "{}");
    expect(findConfigFile(undefined, dir)).toBe(join(dir, "lambda-sim.json"));
    writeFileSync(join(dir, "lambda-sim.jsonc"), "{}");
    expect(() => findConfigFile(undefined, dir)).toThrow(/both lambda-sim.json and lambda-sim.jsonc/);
    expect(findConfigFile("other.json", dir)).toBe(join(dir, "other.json"));
  });

  test("flags override the file; env merges key by key; bootstrap fills in for a missing --", () => {
    const values = {
      "function-name": "from-file",
      memory: 256,
      freeze: true,
      env: { A: "file", B: "file" },
      extension: ["ext-from-file"],
      watch: ["src"],
      bootstrap: ["./bootstrap", "arg"],
    };
    const keys = ["function-name", "memory", "freeze", "env", "extension", "bootstrap"];
    const merged = mergeConfig(
      { "function-name": "from-flag", memory: "128" },
      ["--function-name", "from-flag", "--env", "A=flag"],
      values,
      keys,
    );
    expect(merged.args).toMatchObject({ "function-name": "from-flag", memory: "256", freeze: true });
    // The file's --env first, so the command line's wins; watch is not a key of this command.
    expect(merged.rawArgs).toEqual([
      "--env",
      "A=file",
      "--env",
      "B=file",
      "--extension",
      "ext-from-file",
      "--function-name",
      "from-flag",
      "--env",
      "A=flag",
      "--",
      "./bootstrap",
      "arg",
    ]);
    const withCommand = mergeConfig({}, ["--extension", "x", "--", "./mine"], values, keys);
    expect(withCommand.rawArgs).toEqual([
      "--env",
      "A=file",
      "--env",
      "B=file",
      "--extension",
      "x",
      "--",
      "./mine",
    ]);
  });

  test("examples/lambda-sim.jsonc is a valid config file", () => {
    expect(loadConfigFile(join(REPO_ROOT, "examples", "lambda-sim.jsonc")).values).toMatchObject({
      "function-name": "greeter",
      bootstrap: ["examples/runtime/bootstrap.ts"],
    });
  });

  test("lambda-sim.schema.json is generated from the schema (bun scripts/config-schema.ts)", () => {
    const file = JSON.parse(readFileSync(join(REPO_ROOT, "lambda-sim.schema.json"), "utf8"));
    expect(file).toEqual(configJsonSchema());
  });
});

describe("config file: the commands", () => {
  test("run reads --config: function settings, env, bootstrap; flags override it", async () => {
    const config = configFile(
      JSON.stringify({
        "function-name": "orders",
        memory: 512,
        env: { GREETING: "file", ONLY_FILE: "yes" },
        bootstrap: [join(REPO_ROOT, ENV_RUNTIME)],
      }),
    );
    const result = await runCli(["run", "--config", config, "--memory", "1024", "--env", "GREETING=flag"]);
    expect(result.code).toBe(0);
    const [line] = lines(result.stdout);
    const { env } = JSON.parse(line as string) as { env: Record<string, string> };
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: "orders",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
      GREETING: "flag",
      ONLY_FILE: "yes",
    });
  });

  test("serve refuses an unknown key and a bad value naming the key: exit 2, one line", async () => {
    expectUsageError(
      await runCli(["serve", "--port", "0", "--config", configFile('{"max_concurrency": 2}'), "--", ECHO]),
      /unknown key "max_concurrency"/,
    );
    expectUsageError(
      await runCli(["serve", "--port", "0", "--config", configFile('{"timeout": -1}'), "--", ECHO]),
      /"timeout" .*got -1/,
    );
    expectUsageError(
      await runCli(["serve", "--config", join(tempDir(), "missing.json"), "--", ECHO]),
      /cannot read config file .*missing\.json: ENOENT/,
    );
  });

  test("serve with a config file: its port and function name are used", async () => {
    const config = configFile(
      '{"function-name": "from-config", "bootstrap": ["test/fixtures/runtimes/echo.ts"]}',
    );
    const served = await startServe(["--config", config]);
    const response = await invokeHttp(served.url, { a: 1 }, "from-config");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ echo: { a: 1 } });
    served.proc.kill("SIGINT");
    expect(await served.finished()).toBe(0);
  });
});
