/** Resolving the `FunctionName` and `Qualifier` of a Lambda API call against the simulated function. */
import type { FunctionConfig } from "./config.ts";
import { ServiceError } from "./errors.ts";

const FULL_ARN = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const NAME = /^([^:]+)(?::([^:]+))?$/;
const QUALIFIER = /^(\$LATEST|[0-9]+|[a-zA-Z0-9_-]{1,128})$/;

/** The qualifier the call resolved to (undefined for an unqualified call). */
export interface ResolvedFunction {
  qualifier?: string;
}

/**
 * Matches a name, `name:qualifier`, a full ARN or a partial ARN against the configured function.
 * Unknown functions and versions are 404 `ResourceNotFoundException`, as in Lambda; an alias
 * qualifier is taken to point at the simulated version.
 */
export function resolveFunction(
  config: FunctionConfig,
  functionName: string,
  queryQualifier: string | undefined,
): ResolvedFunction {
  let region = config.region;
  let account = config.accountId;
  let name: string | undefined;
  let qualifier: string | undefined;
  const full = FULL_ARN.exec(functionName);
  const partial = full ? null : PARTIAL_ARN.exec(functionName);
  const plain = full || partial ? null : NAME.exec(functionName);
  if (full) [, region = "", account = "", name, qualifier] = full;
  else if (partial) [, account = "", name, qualifier] = partial;
  else if (plain) [, name, qualifier] = plain;
  if (!name || functionName.length > 170) {
    throw new ServiceError(
      400,
      "InvalidParameterValueException",
      `1 validation error detected: Value '${functionName}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  if (queryQualifier !== undefined && queryQualifier !== "") {
    if (qualifier !== undefined && qualifier !== queryQualifier) {
      throw new ServiceError(
        400,
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
      );
    }
    qualifier = queryQualifier;
  }
  if (qualifier !== undefined && !QUALIFIER.test(qualifier)) {
    throw new ServiceError(400, "InvalidParameterValueException", `Invalid qualifier: ${qualifier}`);
  }
  const wanted = `arn:aws:lambda:${region}:${account}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
  const sameFunction =
    name === config.functionName && region === config.region && account === config.accountId;
  const numericQualifierElsewhere =
    qualifier !== undefined && /^[0-9]+$/.test(qualifier) && qualifier !== config.functionVersion;
  if (!sameFunction || numericQualifierElsewhere) {
    throw new ServiceError(404, "ResourceNotFoundException", `Function not found: ${wanted}`);
  }
  return { qualifier };
}
