// The real AWS SDK Lambda client, pointed at a simulator.
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Simulator } from "../../src/index.ts";

/** An SDK client for `sim`, with no retries so every call is exactly one request; destroy it after. */
export function lambdaClientFor(sim: Simulator): LambdaClient {
  return new LambdaClient({
    endpoint: sim.url(),
    region: sim.config.region,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    maxAttempts: 1,
  });
}
