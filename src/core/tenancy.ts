/**
 * Lambda's tenant isolation mode (`TenancyConfig.TenantIsolationMode: PER_TENANT`): which invokes
 * the Invoke API accepts. Where an accepted tenant's invocation runs (only in environments of that
 * tenant) is the scheduler's rule, in core/function/scheduler.ts.
 */
import { ServiceError } from "./errors.ts";

/** Longest tenant id the Invoke API takes (the `TenantId` shape of the Lambda API model). */
export const MAX_TENANT_ID_LENGTH = 256;
/** Characters a tenant id may use: the `TenantId` shape's pattern, as the model spells it. */
const TENANT_ID_PATTERN = "[a-zA-Z0-9\\._:\\/=+\\-@ ]+";
const TENANT_ID = new RegExp(`^${TENANT_ID_PATTERN}$`);

/**
 * The tenant id an invoke runs with, or Lambda's 400 `InvalidParameterValueException`: a
 * tenant-isolation function needs a valid tenant id, any other function refuses one. An empty
 * value counts as none, as an empty header is no header to the SDKs.
 */
export function invocationTenant(tenantIsolation: boolean, tenantId: string | undefined): string | undefined {
  const given = tenantId === undefined || tenantId === "" ? undefined : tenantId;
  if (!tenantIsolation) {
    if (given === undefined) return undefined;
    throw new ServiceError(
      400,
      "InvalidParameterValueException",
      "The invoked function is not enabled with tenancy configuration. Remove the tenant ID from your request and try again.",
    );
  }
  if (given === undefined) {
    throw new ServiceError(
      400,
      "InvalidParameterValueException",
      "The invoked function is enabled with tenancy configuration. Add a valid tenant ID in your request and try again.",
    );
  }
  if (given.length > MAX_TENANT_ID_LENGTH) {
    throw invalidTenantId(given, `Member must have length less than or equal to ${MAX_TENANT_ID_LENGTH}`);
  }
  if (!TENANT_ID.test(given)) {
    throw invalidTenantId(given, `Member must satisfy regular expression pattern: ${TENANT_ID_PATTERN}`);
  }
  return given;
}

/** The model's validation message, in the shape the other Invoke API parameter checks use. */
function invalidTenantId(value: string, constraint: string): ServiceError {
  return new ServiceError(
    400,
    "InvalidParameterValueException",
    `1 validation error detected: Value '${value}' at 'tenantId' failed to satisfy constraint: ${constraint}`,
  );
}
