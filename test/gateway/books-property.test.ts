/**
 * The books under random days (fast-check): allowances, offline payments at several terminals, uploads, wallet
 * syncs (some with the payer's receipts as evidence), double spends, clock moves past 3 days, disputes, reversals,
 * refunds, online payments, top-ups and payout runs, in any order. After every step: each movement balances and the
 * trial balance is even; no purse and no available balance goes negative; a wallet owes (debt) only with a recorded
 * double spend or spend beyond its purse; each txId is in the ledger once and moved to a merchant at most once; each
 * merchant's pending equals its held payments; every merchant's statement reconciles.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { WalletPaymentEntry } from "../../protocol/entry.ts";
import { decodePayment } from "../../protocol/messages.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { HOLD_MS } from "../../protocol/rules.ts";
import { T0, makeRig, merchantWithTerminals, newWallet, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";
import type { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";

const CARD = { number: "4242424242424242", expiry: "12/30", cvc: "123" };
const IBAN = ["FR1420041010050500013M02606", "GB29NWBK60161331926819"];
const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const counterOf = (e: WalletPaymentEntry) => decodePayment(e.payment)!.counter;

type Step =
  | { k: "pay"; w: number; t: number; amount: number; reuse: boolean }
  | { k: "upload"; t: number }
  | { k: "sync"; w: number; evidence: boolean }
  | { k: "allowance"; w: number; cap: number }
  | { k: "clock"; hours: number }
  | { k: "claim"; w: number; i: number; action: "dispute" | "reverse" }
  | { k: "review"; i: number; payer: boolean }
  | { k: "refund"; i: number; amount: number }
  | { k: "online"; w: number; t: number; amount: number; card: boolean }
  | { k: "topup"; w: number; amount: number }
  | { k: "payout" };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant("pay" as const), w: fc.nat(2), t: fc.nat(2), amount: fc.integer({ min: 1, max: 4000 }), reuse: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("upload" as const), t: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("sync" as const), w: fc.nat(2), evidence: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("allowance" as const), w: fc.nat(2), cap: fc.integer({ min: 0, max: 12000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("clock" as const), hours: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("claim" as const), w: fc.nat(2), i: fc.nat(20), action: fc.constantFrom("dispute" as const, "reverse" as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("review" as const), i: fc.nat(20), payer: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("refund" as const), i: fc.nat(20), amount: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("online" as const), w: fc.nat(2), t: fc.nat(2), amount: fc.integer({ min: 1, max: 3000 }), card: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("topup" as const), w: fc.nat(2), amount: fc.integer({ min: 1, max: 20000 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: "payout" as const }) },
);

interface World {
  rig: Rig;
  terms: SoftTerminal[];
  merchants: number[];
  wallets: SoftWallet[];
  /** Every wallet payment made, with its terminal and receipt. */
  made: { w: number; t: number; e: WalletPaymentEntry; receipt: Uint8Array }[];
  invoiceNo: number;
  topups: number;
}

function world(): World {
  const rig = makeRig();
  rig.gw.setPayoutAccount({ name: "Issuer", iban: "DE89370400440532013000", bic: "" });
  const a = merchantWithTerminals(rig, "A", 2);
  const b = merchantWithTerminals(rig, "B", 1);
  rig.gw.updateMerchant(a.merchant.merchantId, { iban: IBAN[0] });
  rig.gw.updateMerchant(b.merchant.merchantId, { iban: IBAN[1] });
  const wallets = [newWallet(rig, 10000, "+4915100000001", 5000), newWallet(rig, 6000, "+4915100000002", 0), newWallet(rig, 8000, "+4915100000003", 20000)];
  return { rig, terms: [...a.terms, ...b.terms], merchants: [a.merchant.merchantId, b.merchant.merchantId], wallets, made: [], invoiceNo: 0, topups: 0 };
}

async function run(x: World, s: Step): Promise<void> {
  const gw = x.rig.gw;
  switch (s.k) {
    case "pay": {
      const w = x.wallets[s.w];
      const t = x.terms[s.t];
      const prior = x.made.filter((m) => m.w === s.w);
      const counter = s.reuse && prior.length ? counterOf(prior[prior.length - 1].e) : undefined;
      const e = t.walletPayment(w, s.amount, { counter }) as WalletPaymentEntry;
      t.record(e);
      x.made.push({ w: s.w, t: s.t, e, receipt: t.receipt(e) });
      return;
    }
    case "upload":
      await x.terms[s.t].uploadAll();
      return;
    case "sync": {
      const w = x.wallets[s.w];
      const spent = w.spent.map((sp) => {
        const m = x.made.find((y) => y.w === s.w && counterOf(y.e) === sp.counter && x.terms[y.t].terminalId === sp.terminalId);
        return s.evidence && m ? { ...sp, request: toBase64(m.e.request), payment: toBase64(m.e.payment), receipt: toBase64(m.receipt) } : sp;
      });
      // a double spend reports one counter twice: the wallet reports each counter once
      const once = spent.filter((sp, i) => spent.findIndex((o) => o.counter === sp.counter) === i);
      const r = await walletCall(gw, w, "sync", { spent: once });
      assert.ok(r.status === 200 || r.status === 400, r.body);
      if (r.status === 200 && r.json.allowance) w.setAllowance(Buffer.from(r.json.allowance as string, "base64"));
      return;
    }
    case "allowance": {
      const w = x.wallets[s.w];
      const r = await walletCall(gw, w, "allowance", { capMinor: s.cap });
      assert.ok([200, 402, 403].includes(r.status), r.body);
      if (r.status === 200) w.setAllowance(Buffer.from(r.json.allowance as string, "base64"));
      return;
    }
    case "clock":
      x.rig.clock.advance(s.hours * 3600000);
      gw.tick();
      return;
    case "claim": {
      const mine = x.made.filter((m) => m.w === s.w);
      if (!mine.length) return;
      const m = mine[s.i % mine.length];
      const r = await walletCall(gw, x.wallets[s.w], "claims", { txId: hexOf(m.e.txId), action: s.action });
      assert.ok([200, 404, 409].includes(r.status), r.body);
      return;
    }
    case "review": {
      const d = gw.ledger().filter((l) => l.status === "disputed");
      if (!d.length) return;
      const l = d[s.i % d.length];
      gw.resolveDispute(l.merchantId, l.ref, s.payer ? "payer" : "merchant");
      return;
    }
    case "refund": {
      const up = gw.ledger().filter((l) => l.kind === "wallet");
      if (!up.length) return;
      const l = up[s.i % up.length];
      const t = x.terms.find((y) => y.terminalId === l.terminalId)!;
      t.record(t.refund(Buffer.from(l.txId, "hex"), Math.min(s.amount, l.amountMinor)));
      await t.uploadAll();
      return;
    }
    case "online": {
      const t = x.terms[s.t];
      const invoice = t.invoice(++x.invoiceNo, s.amount);
      try {
        if (s.card) await gw.payInvoice({ invoice, method: "card", card: CARD });
        else await gw.payInvoice({ invoice, method: "wallet", walletId: x.wallets[s.w].walletId });
      } catch (e) {
        const st = (e as { status?: number }).status;
        assert.ok(st === 402 || st === 403, String(e));
      }
      return;
    }
    case "topup":
      gw.topUp(x.wallets[s.w].walletId, s.amount, "t" + ++x.topups);
      return;
    case "payout":
      gw.runPayouts(new Date(x.rig.clock.now()).toISOString().slice(0, 10));
      return;
  }
}

function check(x: World, trace: string): void {
  const gw = x.rig.gw;
  const b = gw.books();
  assert.deepEqual(b.unbalanced, [], "unbalanced movements " + trace);
  for (const t of b.trial) assert.equal(t.debits, t.credits, "trial balance " + trace);
  const flagged = new Set(gw.flags().filter((f) => f.kind === "beyond-purse" || f.kind === "double-spend").map((f) => f.walletId));
  for (const w of x.wallets) {
    const bal = gw.walletBalances(w.walletId);
    assert.ok(bal.available >= 0, "available >= 0 " + trace);
    assert.ok(bal.disputed >= 0, "disputed >= 0 " + trace);
    assert.ok(bal.debt <= 0, "debt is what the wallet owes " + trace);
    if (bal.debt < 0) assert.ok(flagged.has(w.walletId), "debt only with a recorded double spend " + trace);
  }
  for (const p of x.rig.gw.store.balances("wallet:")) if (p.account.includes(":purse:")) assert.ok(p.balance >= 0, p.account + " negative " + trace);
  const byTx = new Map<string, number>();
  for (const l of gw.ledger()) if (l.txId) byTx.set(l.txId, (byTx.get(l.txId) ?? 0) + 1);
  for (const [tx, n] of byTx) assert.equal(n, 1, "txId " + tx + " in the ledger once " + trace);
  for (const l of gw.ledger().filter((y) => y.kind === "wallet")) {
    const moved = gw.store.postings("merchant:").filter((p) => p.ref === l.ref && (p.kind === "payment" || p.kind === "approve") && p.credit > 0);
    assert.ok(moved.filter((p) => p.kind === "payment").length <= 1, "paid to a merchant at most once " + trace);
    assert.ok(moved.filter((p) => p.kind === "approve").length <= 1, "settled at most once " + trace);
  }
  for (const mid of x.merchants) {
    const held = gw.ledger(mid).filter((l) => l.status === "held").reduce((a, l) => a + l.amountMinor, 0);
    assert.equal(gw.merchantBalances(mid).pending, held, "pending = held payments " + trace);
    gw.statement(mid, T0 - 1, x.rig.clock.now() + 1); // throws unless opening + postings = closing
  }
}

describe("gateway books: properties over random days", function () {
  this.timeout(300000);
  it("keep postings balanced, purses and balances non-negative but for recorded double spends, each txId settled once, statements reconciled", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        const x = world();
        try {
          check(x, "at start");
          for (let i = 0; i < steps.length; i++) {
            await run(x, steps[i]);
            check(x, "after step " + i + " " + JSON.stringify(steps[i]));
          }
          // the end of the day: everything uploaded, 3 days pass
          for (let t = 0; t < x.terms.length; t++) await run(x, { k: "upload", t });
          await run(x, { k: "clock", hours: HOLD_MS / 3600000 + 1 });
          check(x, "at the end");
          if (process.env.PROPERTY_STATS) console.log("steps", steps.length, "ledger", x.rig.gw.ledger().length, "statuses", [...new Set(x.rig.gw.ledger().map((l) => l.status))].join("/"), "flags", x.rig.gw.flags().length, "payouts", x.rig.gw.store.payouts().length);
          assert.equal(x.rig.gw.ledger().filter((l) => l.status === "held").length, 0, "nothing held after 3 days");
        } finally {
          x.rig.gw.close();
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
    );
  });
});
