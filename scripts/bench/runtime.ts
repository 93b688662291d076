#!/usr/bin/env bun
// Benchmark runtime: the smallest keep-alive custom runtime. It long-polls /next, reads the event and
// posts a constant small JSON answer. The simulator and the bare floor relay both run this same program.
// It prints nothing per invocation and exits as soon as its API goes away, so it never outlives a bench.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const answer = JSON.stringify({ ok: true, answer: 42 });
const responseHeaders = { "Content-Type": "application/json" };

while (true) {
  let next: Response;
  try {
    next = await fetch(`${api}/invocation/next`);
  } catch {
    process.exit(0); // the server is gone
  }
  if (!next.ok) process.exit(0);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  await next.arrayBuffer();
  if (!id) process.exit(2);
  try {
    const posted = await fetch(`${api}/invocation/${id}/response`, {
      method: "POST",
      headers: responseHeaders,
      body: answer,
    });
    await posted.arrayBuffer();
  } catch {
    process.exit(0);
  }
}
