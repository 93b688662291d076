/**
 * The smallest external extension, shared by freeze-ext-a.ts and freeze-ext-b.ts (two executables,
 * because an extension registers under its executable's base name and names must differ). It
 * registers for INVOKE and SHUTDOWN and calls event/next again at once after every INVOKE.
 */
import { basename } from "node:path";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension`;
const name = basename(Bun.main);

const registered = await fetch(`${api}/register`, {
  method: "POST",
  headers: { "Lambda-Extension-Name": name },
  body: JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }),
});
if (!registered.ok) {
  console.error(`${name}: register answered ${registered.status} ${await registered.text()}`);
  process.exit(1);
}
await registered.arrayBuffer();
const headers = {
  "Lambda-Extension-Identifier": registered.headers.get("lambda-extension-identifier") ?? "",
};

while (true) {
  let response: Response;
  try {
    response = await fetch(`${api}/event/next`, { headers });
  } catch {
    process.exit(0); // the simulator is gone
  }
  if (!response.ok) process.exit(0);
  const event = (await response.json()) as { eventType: string };
  if (event.eventType === "SHUTDOWN") process.exit(0);
}
