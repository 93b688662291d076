#!/usr/bin/env bun
// A complete custom runtime in ~40 lines: the loop every Lambda runtime runs.
// It answers {"greeting":"Hello, <name>!"} and reports handler errors through /error.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

interface Context {
  requestId: string;
  deadlineMs: number;
  functionArn: string;
}

async function handler(event: { name?: string; fail?: boolean }, context: Context) {
  if (event.fail) throw new TypeError("asked to fail");
  console.log(`handling ${context.requestId} with ${context.deadlineMs - Date.now()} ms left`);
  return { greeting: `Hello, ${event.name ?? "world"}!`, function: context.functionArn };
}

console.log(`init: ${process.env.AWS_LAMBDA_FUNCTION_NAME} (${process.env._HANDLER})`);
while (true) {
  const next = await fetch(`${api}/invocation/next`, { timeout: false });
  const context: Context = {
    requestId: next.headers.get("Lambda-Runtime-Aws-Request-Id") ?? "",
    deadlineMs: Number(next.headers.get("Lambda-Runtime-Deadline-Ms")),
    functionArn: next.headers.get("Lambda-Runtime-Invoked-Function-Arn") ?? "",
  };
  try {
    const result = await handler((await next.json()) as { name?: string; fail?: boolean }, context);
    await fetch(`${api}/invocation/${context.requestId}/response`, {
      method: "POST",
      body: JSON.stringify(result),
    });
  } catch (error) {
    const err = error as Error;
    await fetch(`${api}/invocation/${context.requestId}/error`, {
      method: "POST",
      headers: { "Lambda-Runtime-Function-Error-Type": `Runtime.${err.name}` },
      body: JSON.stringify({
        errorType: err.name,
        errorMessage: err.message,
        stackTrace: err.stack?.split("\n"),
      }),
    });
  }
}
