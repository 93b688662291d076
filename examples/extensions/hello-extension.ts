#!/usr/bin/env bun
// A complete external extension: register for INVOKE and SHUTDOWN, then loop on event/next.
// Lambda starts every file in /opt/extensions before the runtime; its registration name must be
// the file's name. It prints what it sees (its output is echoed with its name as a prefix).
import { basename } from "node:path";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension`;
const registered = await fetch(`${api}/register`, {
  method: "POST",
  headers: { "Lambda-Extension-Name": basename(import.meta.path) },
  body: JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }),
});
const id = registered.headers.get("Lambda-Extension-Identifier") ?? "";
console.log(`registered for ${JSON.stringify(await registered.json())}`);

while (true) {
  // Calling event/next also says "done with the previous event": the invocation completes then.
  const next = await fetch(`${api}/event/next`, {
    headers: { "Lambda-Extension-Identifier": id },
    timeout: false,
  });
  const event = (await next.json()) as { eventType: string; requestId?: string; shutdownReason?: string };
  if (event.eventType === "SHUTDOWN") {
    console.log(`shutting down (${event.shutdownReason})`);
    process.exit(0);
  }
  console.log(`saw invocation ${event.requestId}`);
}
