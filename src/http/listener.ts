/**
 * The one way this simulator listens for HTTP: `Bun.serve` in front of an Elysia app, with the
 * connection rules real clients depend on applied to every answer of every route.
 */
import type { Server } from "bun";
import { bindError } from "./errors.ts";

/** A listening server. */
export interface ListeningServer {
  readonly hostname: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** What serves the requests: an Elysia app, or anything else with its `fetch`. */
export interface FetchHandler {
  /** `server` is given by `listen` (for the client's address); other listeners leave it out. */
  fetch(request: Request, server?: Server<undefined>): Response | Promise<Response>;
}

/** Where and how to listen. */
export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request body accepted, in bytes. */
  maxRequestBodySize: number;
  /** Names the flag that chooses this port, for the "already in use" message. */
  portFlag?: string;
}

/** True when the request's `Connection` header carries the `close` option (RFC 9112 9.6). */
function asksToClose(request: Request): boolean {
  const connection = request.headers.get("connection");
  if (connection === null) return false;
  for (const option of connection.split(",")) {
    if (option.trim().toLowerCase() === "close") return true;
  }
  return false;
}

/**
 * Marks `response` as the last one on its connection. Bun.serve closes the socket after answering
 * a `Connection: close` request but does not say so, and clients that pool sockets (Node's
 * keep-alive agent under node-fetch 2) then reuse the dead socket and fail with "socket hang up".
 */
function closing(response: Response): Response {
  try {
    response.headers.set("Connection", "close");
    return response;
  } catch {
    // Responses made by fetch() or Response.error() have immutable headers: copy them.
    const headers = new Headers(response.headers);
    headers.set("Connection", "close");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

/**
 * `request` with a URL that parses: for an HTTP/1.0 request without Host, Bun leaves `request.url`
 * relative (the bare target), and with a malformed Host it is no URL; `new URL` and the routers
 * reject both, so such a request is routed by its path alone.
 */
function parsable(request: Request, port: number | undefined): Request {
  const url = request.url;
  if (!url.startsWith("/") && URL.canParse(url)) return request;
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  return new Request(`http://localhost:${port}${start < 0 ? "/" : url.slice(start)}`, request);
}

/**
 * Serves `app` on `hostname:port`. Every request goes through `app.fetch` (not Bun's static
 * route table) so the connection rule above applies to every answer, 404s and errors included.
 */
export function listen(app: FetchHandler | Promise<FetchHandler>, options: ListenOptions): ListeningServer {
  const { hostname, port, maxRequestBodySize, portFlag = "--port" } = options;
  // The routes may still be being built: the port is bound first so that processes needing it can
  // start meanwhile, and their early requests wait for the routes.
  let handle: FetchHandler["fetch"];
  if (app instanceof Promise) {
    handle = (request, server) => app.then((ready) => ready.fetch(request, server));
    app.then(
      (ready) => {
        handle = ready.fetch;
      },
      () => {},
    );
  } else {
    handle = app.fetch;
  }
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname,
      port,
      maxRequestBodySize,
      // Long-polls (/next, event/next) and long invocations may be silent for minutes.
      idleTimeout: 0,
      fetch(request, server) {
        const answer = handle(parsable(request, server.port), server);
        if (!asksToClose(request)) return answer;
        return answer instanceof Promise ? answer.then(closing) : closing(answer);
      },
    });
  } catch (error) {
    throw bindError(error, hostname, port, portFlag);
  }
  return {
    hostname,
    port: server.port ?? port,
    stop: async () => {
      await server.stop(true);
    },
  };
}
