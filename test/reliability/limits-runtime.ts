#!/usr/bin/env bun
// A custom runtime for the limit cases (fuzz-limits.test.ts). It never re-serialises the event, so
// a 100,000-level deep one reaches it and leaves it intact (JSON.stringify would overflow the stack).
// The event says what to answer ({"respondBytes": N} and the others below; inside a function URL
// event the same object is its body). Each answer the Runtime API gives it is printed as one line
// `limits-runtime <what> <status> <body>`, as the test needs to see the runtime's side of a 413.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

/** What the test asks for, from the event or from a function URL event's body. */
interface Order {
  respondBytes?: number;
  respondDeep?: number;
  respondDeepBody?: number;
  errorDeep?: number;
}

function deep(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

function orderOf(text: string): Order {
  try {
    const event: unknown = JSON.parse(text);
    if (event === null || typeof event !== "object" || Array.isArray(event)) return {};
    const { body } = event as { body?: unknown };
    return typeof body === "string" ? orderOf(body) : (event as Order);
  } catch {
    // Not JSON (or too deep for the parser): nothing asked.
    return {};
  }
}

async function post(what: string, path: string, body: string, headers: Record<string, string> = {}) {
  const answer = await fetch(`${api}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
  console.log(`limits-runtime ${what} ${answer.status} ${await answer.text()}`);
}

while (true) {
  const next = await fetch(`${api}/invocation/next`, { timeout: false });
  const id = next.headers.get("lambda-runtime-aws-request-id") as string;
  const text = await next.text();
  const order = orderOf(text);
  const respond = `/invocation/${id}/response`;
  if (order.respondBytes !== undefined) {
    // A JSON string of exactly that many bytes.
    await post("response", respond, `"${"x".repeat(order.respondBytes - 2)}"`);
  } else if (order.respondDeep !== undefined) {
    await post("response", respond, deep(order.respondDeep));
  } else if (order.respondDeepBody !== undefined) {
    // A function URL answer whose body is not a string but deep JSON.
    await post("response", respond, `{"statusCode":200,"body":${deep(order.respondDeepBody)}}`);
  } else if (order.errorDeep !== undefined) {
    await post("error", `/invocation/${id}/error`, deep(order.errorDeep), {
      "Lambda-Runtime-Function-Error-Type": "Function.Deep",
    });
  } else {
    await post(
      "response",
      respond,
      JSON.stringify({ bytes: Buffer.byteLength(text), head: text.slice(0, 16) }),
    );
  }
}
