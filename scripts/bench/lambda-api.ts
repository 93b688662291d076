/**
 * The Runtime and Extensions APIs as the bench's runtimes and extensions speak them (each runs as its
 * own bun process). Every loop exits 0 as soon as the API goes away, so none outlives a bench.
 */

/** Base URL of the APIs this process was started with. */
export const API = `http://${process.env.AWS_LAMBDA_RUNTIME_API}`;
const RUNTIME = `${API}/2018-06-01/runtime`;
const EXTENSION = `${API}/2020-01-01/extension`;
const JSON_HEADERS = { "Content-Type": "application/json" };

/**
 * The runtime loop: long-polls /next and posts what `handle` makes of each invocation as its JSON
 * response. Exits 2 on an invocation without a request id.
 */
export async function serveInvocations(handle: (next: Response, requestId: string) => Promise<string>) {
  while (true) {
    let next: Response;
    try {
      next = await fetch(`${RUNTIME}/invocation/next`);
    } catch {
      process.exit(0); // the server is gone
    }
    if (!next.ok) process.exit(0);
    const id = next.headers.get("lambda-runtime-aws-request-id");
    if (!id) process.exit(2);
    const answer = await handle(next, id);
    try {
      const posted = await fetch(`${RUNTIME}/invocation/${id}/response`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: answer,
      });
      await posted.arrayBuffer();
    } catch {
      process.exit(0);
    }
  }
}

/** The header that identifies a registered extension in its further requests. */
export type ExtensionHeaders = { "Lambda-Extension-Identifier": string };

/** Registers as the external extension `name` for `events`; exits 1 when that is refused. */
export async function registerExtension(name: string, events: string[]): Promise<ExtensionHeaders> {
  const registered = await fetch(`${EXTENSION}/register`, {
    method: "POST",
    headers: { "Lambda-Extension-Name": name },
    body: JSON.stringify({ events }),
  });
  if (!registered.ok) {
    console.error(`${name}: register answered ${registered.status} ${await registered.text()}`);
    process.exit(1);
  }
  await registered.arrayBuffer();
  return { "Lambda-Extension-Identifier": registered.headers.get("lambda-extension-identifier") ?? "" };
}

/** The extension's next event (event/next); exits 0 on SHUTDOWN. */
export async function nextExtensionEvent<E extends { eventType: string }>(
  headers: ExtensionHeaders,
): Promise<E> {
  let response: Response;
  try {
    response = await fetch(`${EXTENSION}/event/next`, { headers });
  } catch {
    process.exit(0); // the simulator is gone
  }
  if (!response.ok) process.exit(0);
  const event = (await response.json()) as E;
  if (event.eventType === "SHUTDOWN") process.exit(0);
  return event;
}
