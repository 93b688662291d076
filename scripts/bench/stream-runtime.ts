#!/usr/bin/env bun
// Benchmark runtime that streams: for each event {"bytes": N} it posts a streamed /response
// (Lambda-Runtime-Function-Response-Mode: streaming, chunked) of N bytes in 64 KiB pieces through
// node:http, waiting for drain as a well-behaved streaming client does. The first piece goes out
// at once. It exits as soon as its API goes away.
import { request } from "node:http";

const [host = "127.0.0.1", port = "9001"] = (process.env.AWS_LAMBDA_RUNTIME_API ?? "").split(":");
const RUNTIME = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const PIECE = Buffer.alloc(64 * 1024, 120);

function stream(id: string, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method: "POST",
        path: `/2018-06-01/runtime/invocation/${id}/response`,
        headers: {
          "Lambda-Runtime-Function-Response-Mode": "streaming",
          "Transfer-Encoding": "chunked",
          "Content-Type": "application/octet-stream",
        },
      },
      (res) => {
        res.resume();
        res.on("end", resolve);
      },
    );
    req.on("error", reject);
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const piece = left >= PIECE.length ? PIECE : PIECE.subarray(0, left);
        left -= piece.length;
        if (!req.write(piece)) {
          req.once("drain", write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

while (true) {
  let next: Response;
  try {
    next = await fetch(`${RUNTIME}/invocation/next`);
  } catch {
    process.exit(0);
  }
  if (!next.ok) process.exit(0);
  const id = next.headers.get("lambda-runtime-aws-request-id") as string;
  const { bytes } = (await next.json()) as { bytes: number };
  try {
    await stream(id, bytes);
  } catch {
    process.exit(0);
  }
}
