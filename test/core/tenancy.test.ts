// The Invoke API's tenancy rule (core/tenancy.ts), without processes or HTTP.
import { describe, expect, test } from "bun:test";
import { ServiceError } from "../../src/core/errors.ts";
import { invocationTenant, MAX_TENANT_ID_LENGTH } from "../../src/core/tenancy.ts";

function refusal(tenantIsolation: boolean, tenantId: string | undefined): ServiceError {
  try {
    invocationTenant(tenantIsolation, tenantId);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("invocationTenant", () => {
  test("a tenant-isolation function takes a valid tenant id and refuses none", () => {
    expect(invocationTenant(true, "blue")).toBe("blue");
    expect(invocationTenant(true, "t".repeat(MAX_TENANT_ID_LENGTH))).toHaveLength(256);
    expect(invocationTenant(true, "org:a/b=c+d@e.f-g_h i")).toBe("org:a/b=c+d@e.f-g_h i");
    for (const missing of [undefined, ""]) {
      expect(refusal(true, missing)).toMatchObject({
        status: 400,
        errorType: "InvalidParameterValueException",
        message:
          "The invoked function is enabled with tenancy configuration. Add a valid tenant ID in your request and try again.",
      });
    }
  });

  test("a tenant id outside the model's TenantId shape is a validation error", () => {
    expect(refusal(true, "t".repeat(257)).message).toEndWith(
      "failed to satisfy constraint: Member must have length less than or equal to 256",
    );
    for (const bad of ["a|b", "tab\there", "ünï"]) {
      expect(refusal(true, bad)).toMatchObject({
        status: 400,
        errorType: "InvalidParameterValueException",
        message: `1 validation error detected: Value '${bad}' at 'tenantId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9\\._:\\/=+\\-@ ]+`,
      });
    }
  });

  test("any other function refuses a tenant id and takes none", () => {
    expect(invocationTenant(false, undefined)).toBeUndefined();
    expect(invocationTenant(false, "")).toBeUndefined();
    expect(refusal(false, "blue")).toMatchObject({
      status: 400,
      errorType: "InvalidParameterValueException",
      message:
        "The invoked function is not enabled with tenancy configuration. Remove the tenant ID from your request and try again.",
    });
  });
});
