/**
 * Attack (security review, item 2): a wallet holding two valid allowances alternates them at one terminal. The
 * wallet ledger (firmware/app/ledger.ts) kept one {day, counter, spent} per wallet and reset it whenever the
 * allowance changed, so both the per-wallet limit and each allowance's cap (R07) started from 0 at every switch:
 * 10 x 50.00 were paid against a cap of 100.00 and a per-wallet limit of 100.00.
 *
 * The test drives the ledger exactly as the terminal does for each payment (firmware/app/terminal.ts checkRisk,
 * protocol/check.ts R07 and R08, then record once paid).
 */
import assert from "node:assert/strict";
import { RamLedger } from "../../firmware/app/ledger.ts";
import { checkLimits } from "../../firmware/app/limits.ts";
import type { Limits } from "../../firmware/app/limits.ts";

const LIMITS: Limits = { perTxMinor: 5000, unsyncedMinor: 1000000, maxDaysOffline: 7, perWalletMinor: 10000 };
const CAP = 10000;
const W = "00112233aabbccdd";

/** One payment as the terminal checks it; the refusal's code or "paid". */
function pay(l: RamLedger, allowanceDay: number, counter: number, amount: number): string {
  const r = checkLimits(LIMITS, { amountMinor: amount, unsyncedMinor: 0, walletSpentMinor: l.walletSpent(W), msSinceSync: 0, denied: l.denied(W) });
  if (r) return r.code;
  if (amount + l.spentMinor(W, allowanceDay) > CAP) return "R07";
  if (counter <= l.lastCounter(W, allowanceDay)) return "R08";
  l.record(W, allowanceDay, counter, amount);
  return "paid";
}

describe("attack: one wallet alternates two valid allowances at one terminal", () => {
  it("pays 100.00 in all, not 10 x 50.00: the per-wallet limit counts across allowances", () => {
    const l = new RamLedger();
    const out: string[] = [];
    for (let i = 0; i < 10; i++) out.push(pay(l, i % 2 ? 20800 : 20801, 10 + i, 5000));
    assert.deepEqual(out.filter((o) => o === "paid").length, 2, "outcomes: " + out.join(", "));
    assert.equal(l.walletSpent(W), 10000);
    assert.equal(out[2], "LIMIT_PER_WALLET");
  });

  it("keeps each allowance's own total for R07 across switches", () => {
    const l = new RamLedger();
    assert.equal(pay(l, 20800, 1, 4000), "paid");
    assert.equal(pay(l, 20801, 2, 1000), "paid");
    assert.equal(l.spentMinor(W, 20800), 4000, "switching allowance did not reset the first one's total");
    assert.equal(l.spentMinor(W, 20801), 1000);
    assert.equal(l.lastCounter(W, 20800), 1);
  });

  it("refuses a replayed counter of the first allowance after a switch (R08)", () => {
    const l = new RamLedger();
    assert.equal(pay(l, 20800, 5, 1000), "paid");
    assert.equal(pay(l, 20801, 6, 1000), "paid");
    assert.equal(pay(l, 20800, 5, 1000), "R08");
  });

  it("refuses a fifth allowance of one wallet before a sync rather than forget one (fixed-size table)", () => {
    const l = new RamLedger();
    for (let i = 0; i < 4; i++) assert.equal(pay(l, 20800 + i, 1 + i, 100), "paid");
    assert.equal(pay(l, 20810, 9, 100), "R08");
    l.clear();
    assert.equal(pay(l, 20810, 9, 100), "paid");
  });

  it("an online approval keeps its counter (R08) and spends its allowance (R07), but is no offline risk: not in the per-wallet total", () => {
    const l = new RamLedger();
    l.record(W, 20800, 7, 8000, true);
    assert.equal(l.walletSpent(W), 0, "the per-wallet offline limit does not count it");
    assert.equal(l.spentMinor(W, 20800), 8000, "the allowance's money is spent");
    assert.equal(pay(l, 20800, 7, 1000), "R08", "its counter cannot be replayed offline");
    assert.equal(pay(l, 20800, 8, 2001), "R07", "nor the allowance overspent");
    assert.equal(pay(l, 20800, 8, 2000), "paid");
    assert.equal(l.walletSpent(W), 2000);
  });
});
