import assert from "node:assert/strict";
import { checkLimits, DAY_MS, DEFAULT_LIMITS, effectiveLimits } from "../../firmware/app/limits.ts";
import type { Limits, LimitState } from "../../firmware/app/limits.ts";

const L: Limits = { perTxMinor: 10000, unsyncedMinor: 40000, maxDaysOffline: 4, perWalletMinor: 20000 };

function state(over: Partial<LimitState>): LimitState {
  return { amountMinor: 1000, unsyncedMinor: 0, walletSpentMinor: 0, msSinceSync: 0, denied: false, ...over };
}

describe("risk limits", () => {
  it("defaults are whole integers with a positive offline window", () => {
    for (const v of [DEFAULT_LIMITS.perTxMinor, DEFAULT_LIMITS.unsyncedMinor, DEFAULT_LIMITS.perWalletMinor, DEFAULT_LIMITS.maxDaysOffline]) {
      assert.ok(Number.isInteger(v) && v > 0);
    }
  });

  it("apply as set during the first day after a sync", () => {
    assert.deepEqual(effectiveLimits(L, DAY_MS - 1), L);
  });

  it("shrink linearly with each full day offline", () => {
    assert.deepEqual(effectiveLimits(L, DAY_MS), { perTxMinor: 7500, unsyncedMinor: 30000, maxDaysOffline: 4, perWalletMinor: 15000 });
    assert.deepEqual(effectiveLimits(L, 3 * DAY_MS + 5), { perTxMinor: 2500, unsyncedMinor: 10000, maxDaysOffline: 4, perWalletMinor: 5000 });
  });

  it("are zero from maxDaysOffline on", () => {
    assert.deepEqual(effectiveLimits(L, 4 * DAY_MS), { perTxMinor: 0, unsyncedMinor: 0, maxDaysOffline: 4, perWalletMinor: 0 });
  });

  it("floor to whole minor units", () => {
    const e = effectiveLimits({ perTxMinor: 1001, unsyncedMinor: 7, maxDaysOffline: 3, perWalletMinor: 5 }, DAY_MS);
    assert.deepEqual([e.perTxMinor, e.unsyncedMinor, e.perWalletMinor], [667, 4, 3]);
  });

  it("let a payment within every limit through", () => {
    assert.equal(checkLimits(L, state({ amountMinor: 10000, unsyncedMinor: 30000, walletSpentMinor: 10000 })), null);
  });

  it("refuse a denied wallet first, naming the deny list", () => {
    const r = checkLimits(L, state({ denied: true, amountMinor: 999999 }));
    assert.deepEqual(r, { code: "LIMIT_DENIED", limit: "deny list", message: "Wallet blocked by gateway" });
  });

  it("refuse everything after maxDaysOffline days without sync", () => {
    const r = checkLimits(L, state({ msSinceSync: 4 * DAY_MS }));
    assert.equal(r?.code, "LIMIT_OFFLINE_DAYS");
    assert.equal(r?.limit, "days offline limit");
    assert.equal(checkLimits(L, state({ msSinceSync: Infinity }))?.code, "LIMIT_OFFLINE_DAYS");
  });

  it("refuse when the time since sync is unknown (NaN from an unset clock)", () => {
    assert.equal(checkLimits(L, state({ msSinceSync: NaN }))?.code, "LIMIT_OFFLINE_DAYS");
  });

  it("refuse over the per-payment limit with the limit in the message", () => {
    const r = checkLimits(L, state({ amountMinor: 10001 }));
    assert.deepEqual(r, { code: "LIMIT_PER_TX", limit: "per-payment limit", message: "Over payment limit 100.00" });
  });

  it("state the tightened limit, in the currency given", () => {
    const r = checkLimits(L, state({ amountMinor: 8000, msSinceSync: DAY_MS, currency: "EUR" }));
    assert.equal(r?.message, "Over payment limit EUR 75.00");
  });

  it("refuse when the wallet's total since sync would pass its limit", () => {
    const r = checkLimits(L, state({ amountMinor: 5000, walletSpentMinor: 15001 }));
    assert.equal(r?.code, "LIMIT_PER_WALLET");
    assert.equal(r?.message, "Over wallet limit 200.00");
  });

  it("refuse when the unsynced total would pass its limit", () => {
    const r = checkLimits(L, state({ amountMinor: 5000, unsyncedMinor: 35001 }));
    assert.equal(r?.code, "LIMIT_UNSYNCED");
    assert.equal(r?.limit, "unsynced total limit");
  });

  it("messages fit one 240 px line of the 6x8 font (40 columns), limit names a 2x title (20)", () => {
    const big: Limits = { perTxMinor: 99999999999, unsyncedMinor: 99999999999, maxDaysOffline: 7, perWalletMinor: 99999999999 };
    for (const s of [state({ amountMinor: 1e12 }), state({ amountMinor: 1, walletSpentMinor: 1e12 }), state({ amountMinor: 1, unsyncedMinor: 1e12 }), state({ denied: true }), state({ msSinceSync: 1e12 })]) {
      const r = checkLimits(big, s);
      assert.ok(r && r.message.length <= 40 && r.limit.length <= 20, r?.message);
    }
  });

  it("stay as set when the time since sync is negative (clock set back) or unknown (NaN)", () => {
    assert.deepEqual(effectiveLimits(L, -5 * DAY_MS), L);
    assert.deepEqual(effectiveLimits(L, NaN), L);
  });

  it("apply as set on the day of the sync even with maxDaysOffline 0 (the first day is never tightened)", () => {
    const z: Limits = { ...L, maxDaysOffline: 0 };
    assert.deepEqual(effectiveLimits(z, 0), z);
    assert.deepEqual(effectiveLimits(z, DAY_MS - 1), z);
  });

  it("stay zero, never negative, past maxDaysOffline", () => {
    assert.deepEqual(effectiveLimits(L, 9 * DAY_MS), { perTxMinor: 0, unsyncedMinor: 0, maxDaysOffline: 4, perWalletMinor: 0 });
  });

  it("say each refusal in full: offline days, per wallet, unsynced total", () => {
    assert.deepEqual(checkLimits(L, state({ msSinceSync: 4 * DAY_MS })), {
      code: "LIMIT_OFFLINE_DAYS",
      limit: "days offline limit",
      message: "Offline too long: sync",
    });
    assert.deepEqual(checkLimits(L, state({ amountMinor: 5000, walletSpentMinor: 15001 })), {
      code: "LIMIT_PER_WALLET",
      limit: "per-wallet limit",
      message: "Over wallet limit 200.00",
    });
    assert.deepEqual(checkLimits(L, state({ amountMinor: 5000, unsyncedMinor: 35001 })), {
      code: "LIMIT_UNSYNCED",
      limit: "unsynced total limit",
      message: "Over unsynced limit 400.00",
    });
  });
});
