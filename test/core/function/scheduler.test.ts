// The placement rule on snapshots: no processes, no HTTP, no timers.
import { describe, expect, test } from "bun:test";
import { type EnvironmentView, place } from "../../../src/core/function/scheduler.ts";

const env = (id: string, lastUsedMono: number, more: Partial<EnvironmentView> = {}): EnvironmentView => ({
  id,
  available: true,
  finishing: false,
  lastUsedMono,
  ...more,
});

describe("place", () => {
  test("an available environment, most recently used first", () => {
    const placement = place([env("a", 1), env("b", 3), env("c", 2)], 3);
    expect(placement).toEqual({ kind: "assign", environment: env("b", 3) });
  });

  test("never a busy one: a new environment below the limit, else wait", () => {
    const busy = [env("a", 1, { available: false }), env("b", 2, { available: false })];
    expect(place(busy, 3)).toEqual({ kind: "create" });
    expect(place(busy, 2)).toEqual({ kind: "wait" });
    expect(place([], 0)).toEqual({ kind: "wait" });
  });

  test("a finishing environment (answered, re-polls missing) beats a cold start", () => {
    const finishing = env("a", 1, { available: false, finishing: true });
    expect(place([finishing], 4)).toEqual({ kind: "assign", environment: finishing });
  });

  test("tenants: own environment first, then an unbound one, else a new one; at the limit an idle one of another tenant is replaced", () => {
    const mine = env("m", 1, { tenantId: "t1" });
    const unbound = env("u", 5);
    const theirs = env("o", 9, { tenantId: "t2" });
    expect(place([theirs, unbound, mine], 3, "t1")).toEqual({ kind: "assign", environment: mine });
    expect(place([theirs, unbound], 3, "t1")).toEqual({ kind: "assign", environment: unbound });
    expect(place([theirs], 3, "t1")).toEqual({ kind: "create" });
    expect(place([theirs], 1, "t1")).toEqual({ kind: "replace", retire: theirs });
    expect(place([{ ...theirs, available: false }], 1, "t1")).toEqual({ kind: "wait" });
  });
});
