/**
 * Which execution environment gets the next invocation (reference trap 21: never a busy one). A pure
 * rule over a snapshot of the environments, so it is tested without processes or timers.
 */

/** What the scheduler needs to know of one environment. */
export interface EnvironmentView {
  readonly id: string;
  /** It can take an invocation now: no invocation in flight or assigned, not resetting or shut down. */
  readonly available: boolean;
  /** Its invocation is answered, only the re-polls are missing: the next one may wait here. */
  readonly finishing: boolean;
  /** Monotonic time it was last given an invocation (or was created). */
  readonly lastUsedMono: number;
  /** The tenant it serves, with tenant isolation. */
  readonly tenantId?: string;
}

/** The decision for one invocation. */
export type Placement<E extends EnvironmentView> =
  | { kind: "assign"; environment: E }
  | { kind: "create" }
  /** At the limit, only an idle environment of another tenant stands in the way: retire it, then create. */
  | { kind: "replace"; retire: E }
  | { kind: "wait" };

/**
 * An available environment of the invocation's tenant, most recently used first (then one that
 * serves no tenant yet, then one that is finishing); else a new one while fewer than `maxConcurrency` exist; else wait. Without
 * tenant isolation every invocation and environment has no tenant, so only recency counts.
 */
export function place<E extends EnvironmentView>(
  environments: readonly E[],
  maxConcurrency: number,
  tenantId?: string,
): Placement<E> {
  let best: E | undefined;
  let unbound: E | undefined;
  let idleOfOtherTenant: E | undefined;
  let finishing: E | undefined;
  const newer = (a: E, b: E | undefined) => !b || a.lastUsedMono > b.lastUsedMono;
  for (const environment of environments) {
    if (!environment.available) {
      const ours = environment.tenantId === tenantId || environment.tenantId === undefined;
      if (environment.finishing && ours && newer(environment, finishing)) finishing = environment;
      continue;
    }
    if (environment.tenantId === tenantId) {
      if (newer(environment, best)) best = environment;
    } else if (environment.tenantId === undefined) {
      if (newer(environment, unbound)) unbound = environment;
    } else if (!idleOfOtherTenant || environment.lastUsedMono < idleOfOtherTenant.lastUsedMono) {
      idleOfOtherTenant = environment;
    }
  }
  // A warm environment about to be free beats a cold start (a caller that invokes again as soon as
  // it has its answer keeps one environment, as it does in Lambda).
  const chosen = best ?? unbound ?? finishing;
  if (chosen) return { kind: "assign", environment: chosen };
  if (environments.length < maxConcurrency) return { kind: "create" };
  if (idleOfOtherTenant) return { kind: "replace", retire: idleOfOtherTenant };
  return { kind: "wait" };
}
