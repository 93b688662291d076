/**
 * The smallest external extension, shared by freeze-ext-a.ts and freeze-ext-b.ts (two executables,
 * because an extension registers under its executable's base name and names must differ). It
 * registers for INVOKE and SHUTDOWN and calls event/next again at once after every INVOKE.
 */
import { basename } from "node:path";
import { nextExtensionEvent, registerExtension } from "./lambda-api.ts";

const headers = await registerExtension(basename(Bun.main), ["INVOKE", "SHUTDOWN"]);
while (true) await nextExtensionEvent(headers);
