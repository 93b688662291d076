#!/usr/bin/env bun
// Soak extension: subscribes to the Telemetry API (platform and function records) with an HTTP
// receiver that reads and drops every batch, and calls event/next again at once after every INVOKE,
// like a log shipper that forwards in the background.
import { basename } from "node:path";
import { API, nextExtensionEvent, registerExtension } from "./lambda-api.ts";

const name = basename(Bun.main);
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    await request.arrayBuffer();
    return new Response(null, { status: 200 });
  },
});

const headers = await registerExtension(name, ["INVOKE", "SHUTDOWN"]);
const subscribed = await fetch(`${API}/2022-07-01/telemetry`, {
  method: "PUT",
  headers,
  body: JSON.stringify({
    schemaVersion: "2022-12-13",
    types: ["platform", "function"],
    buffering: { maxItems: 1_000, maxBytes: 262_144, timeoutMs: 100 },
    destination: { protocol: "HTTP", URI: `http://sandbox.localdomain:${server.port}/telemetry` },
  }),
});
if (!subscribed.ok) {
  console.error(`${name}: subscribe answered ${subscribed.status} ${await subscribed.text()}`);
  process.exit(1);
}
await subscribed.arrayBuffer();

// SHUTDOWN (or the simulator going away) ends the loop inside nextExtensionEvent.
while (true) await nextExtensionEvent(headers);
