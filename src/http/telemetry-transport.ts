/** Delivery of telemetry batches to subscribers: HTTP POST of a JSON array, or NDJSON over TCP. */
import type { Socket } from "node:net";
import type { Destination } from "../core/telemetry/hub.ts";
import type { Transport } from "../core/telemetry/subscription.ts";

/** An HTTP subscriber: each batch is one POST; any 2xx acknowledges it. */
function httpTransport(url: string): Transport {
  const inFlight = new Set<AbortController>();
  return {
    async send(batch) {
      const controller = new AbortController();
      inFlight.add(controller);
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: `[${batch.join(",")}]`,
          signal: controller.signal,
        });
        await response.arrayBuffer();
        if (response.status < 200 || response.status >= 300)
          throw new Error(`subscriber answered ${response.status}`);
      } finally {
        inFlight.delete(controller);
      }
    },
    close() {
      for (const controller of inFlight) controller.abort();
    },
  };
}

/** A TCP subscriber: one connection, one JSON event per line; reconnects after errors. */
function tcpTransport(port: number): Transport {
  let socket: Socket | undefined;
  let closed = false;
  const open = async () => {
    // node:net costs ~2 ms to load: only simulators with a TCP subscriber pay for it.
    const { connect } = await import("node:net");
    return new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => resolve(s));
      s.once("error", reject);
      s.on("close", () => {
        if (socket === s) socket = undefined;
      });
    });
  };
  return {
    async send(batch) {
      if (closed) throw new Error("closed");
      socket ??= await open();
      const s = socket;
      const ok = s.write(`${batch.join("\n")}\n`);
      if (!ok)
        await new Promise<void>((resolve, reject) => {
          s.once("drain", resolve);
          s.once("error", reject);
        });
    },
    close() {
      closed = true;
      socket?.destroy();
    },
  };
}

/** The transport for a resolved destination. */
export function transportFor(destination: Destination): Transport {
  return destination.protocol === "HTTP" ? httpTransport(destination.url) : tcpTransport(destination.port);
}
