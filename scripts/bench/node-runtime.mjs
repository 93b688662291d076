#!/usr/bin/env node
// Benchmark runtime on Node 22: the smallest custom runtime loop a Node user would write, with
// node:http and a keep-alive agent (no imports beyond node:http, so its start is Node's own).
// Exits as soon as its API goes away, so it never outlives a bench.
import { Agent, request } from "node:http";

const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API ?? "").split(":");
const agent = new Agent({ keepAlive: true });
const answer = JSON.stringify({ ok: true, answer: 42 });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, agent }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ headers: res.headers, status: res.statusCode, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (;;) {
  let next;
  try {
    next = await call("GET", "/2018-06-01/runtime/invocation/next");
  } catch {
    process.exit(0);
  }
  if (next.status !== 200) process.exit(0);
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    await call("POST", `/2018-06-01/runtime/invocation/${id}/response`, answer);
  } catch {
    process.exit(0);
  }
}
