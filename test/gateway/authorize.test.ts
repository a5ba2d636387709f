/**
 * Online authorization (docs/sync.md, op authorize): the gateway checks a terminal's customer-presented payment
 * against its books across all terminals, settles it at once with no hold, or declines it with nothing changed;
 * idempotent by txId, and the terminal's later upload of the same record is acknowledged without entering anything.
 */
import assert from "node:assert/strict";
import type { Entry } from "../../protocol/entry.ts";
import { encodeEntry } from "../../protocol/entry.ts";
import { toBase64 } from "../../protocol/sync.ts";
import type { SoftTerminal } from "../helpers/soft-terminal.ts";
import { countByTx, makeRig, merchantWithTerminals, newWallet, storeDump, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function authorize(t: SoftTerminal, e: Entry) {
  return t.call("authorize", { entry: toBase64(encodeEntry(e)) });
}

function assertBalanced(rig: Rig): void {
  const b = rig.gw.books();
  assert.deepEqual(b.unbalanced, [], "every movement balances");
  for (const x of b.trial) assert.equal(x.debits, x.credits, "debits = credits in currency " + x.currency);
}

/**
 * What "changes nothing" compares: every table but the activity log, the connection log, SQLite's row counters and
 * the terminal row (its link seq moves with every request), on either database (storeDump).
 */
function state(rig: Rig): string {
  const skip = new Set(["activity", "connections", "terminals", "sqlite_sequence"]);
  return JSON.stringify((JSON.parse(storeDump(rig)) as [string, unknown][]).filter(([name]) => !skip.has(name)));
}

describe("gateway: online authorization (op authorize)", () => {
  it("approves a payment and settles it at once: purse to merchant available, no hold, balanced", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig, 10000, "+4915100000001", 5000);
    const e = t.walletPayment(w, 2500);
    const r = await authorize(t, e);
    assert.equal(r.result, "approved", JSON.stringify(r));
    assert.equal(r.txId, hex(e.txId));
    assert.equal(r.ref, hex(e.txId));
    assert.equal(r.status, "approved");
    assert.equal(r.time, rig.clock.now());
    const [l] = rig.gw.ledger(merchant.merchantId);
    assert.equal(l.status, "approved");
    assert.equal(l.holdUntil, 0, "no 3-day hold");
    assert.equal(l.amountMinor, 2500);
    assert.deepEqual(rig.gw.merchantBalances(merchant.merchantId).pending, 0);
    assert.deepEqual(rig.gw.merchantBalances(merchant.merchantId).available, 2500);
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 5000, purse: 7500, debt: 0, disputed: 0 });
    assertBalanced(rig);
    // the 3-day rule has nothing to approve
    rig.clock.advance(4 * 86400000);
    assert.deepEqual(rig.gw.tick().approved, []);
  });

  it("takes what the purse lacks from the available balance, never making debt", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig, 10000, "+4915100000001", 3000);
    // 9000 of the purse promised: the wallet reported it, its terminal has not uploaded it, and no new allowance
    // could be issued (available 3000 + 1000 left < 10000), so the old one stays live
    terms[0].record(terms[0].walletPayment(w, 9000));
    const s = await walletCall(rig.gw, w, "sync", { spent: w.spent });
    assert.equal(s.json.allowanceError, "INSUFFICIENT_FUNDS");
    const r = await authorize(terms[1], terms[1].walletPayment(w, 1000 + 3000));
    assert.equal(r.result, "approved", JSON.stringify(r));
    assert.deepEqual(rig.gw.walletBalances(w.walletId), { walletId: w.walletId, currency: 978, available: 0, purse: 9000, debt: 0, disputed: 0 });
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, 4000);
    assertBalanced(rig);
  });

  it("acknowledges the terminal's later upload of the same record without entering anything", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 1200);
    assert.equal((await authorize(t, e)).result, "approved");
    const books = JSON.stringify(rig.gw.books());
    const rec = t.record(e);
    const up = await t.uploadBatch();
    assert.deepEqual(up, { acked: [rec.seq], rejected: [] });
    assert.equal(countByTx(rig.gw).get(hex(e.txId)), 1);
    assert.equal(JSON.stringify(rig.gw.books()), books, "no money moved");
    assert.equal(rig.gw.ledger(merchant.merchantId)[0].status, "approved");
    assert.deepEqual(rig.gw.flags(merchant.merchantId), []);
  });

  it("answers the same entry again with the same approval and moves nothing", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 700);
    const first = await authorize(t, e);
    const before = state(rig);
    rig.clock.advance(5000);
    const again = await authorize(t, e);
    assert.deepEqual({ ...again, nonce: "" }, { ...first, nonce: "" });
    assert.equal(state(rig), before);
  });

  it("declines other contents under a txId it holds", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 700);
    await authorize(t, e);
    const other = t.walletPayment(w, 800);
    const r = await authorize(t, { ...other, txId: e.txId } as Entry);
    assert.equal(r.result, "declined");
    assert.equal(r.code, "A_TXID");
  });

  it("declines a wallet on the deny list and changes nothing", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const w = newWallet(rig);
    rig.gw.store.transaction(() => rig.gw.deny(w.walletId, "test", 0, 0));
    const before = state(rig);
    const e = terms[0].walletPayment(w, 500);
    const r = await authorize(terms[0], e);
    assert.deepEqual({ result: r.result, txId: r.txId, code: r.code }, { result: "declined", txId: hex(e.txId), code: "A_DENIED" });
    assert.equal(typeof r.message, "string");
    assert.equal(state(rig), before);
  });

  it("declines a counter another terminal used (across all terminals) and changes nothing", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig);
    const first = terms[0].walletPayment(w, 500);
    terms[0].record(first);
    await terms[0].uploadAll();
    const before = state(rig);
    const r = await authorize(terms[1], terms[1].walletPayment(w, 600, { counter: w.counter - 1 }));
    assert.equal(r.result, "declined");
    assert.equal(r.code, "A_COUNTER");
    assert.match(r.message as string, new RegExp("terminal " + terms[0].terminalId));
    assert.equal(state(rig), before);
    assert.deepEqual(rig.gw.denyList(), [], "a decline denies nobody: nothing was spent twice");
  });

  it("declines a payment over the allowance's cap, counting what every terminal entered", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig, 10000);
    terms[0].record(terms[0].walletPayment(w, 6000));
    await terms[0].uploadAll();
    const r = await authorize(terms[1], terms[1].walletPayment(w, 4001));
    assert.equal(r.code, "A_CAP");
    assert.equal((await authorize(terms[1], terms[1].walletPayment(w, 4000))).result, "approved");
  });

  it("declines what the purse (less what the wallet reported) and the available balance cannot cover", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig, 10000, "+4915100000001", 0);
    terms[0].record(terms[0].walletPayment(w, 6000));
    await walletCall(rig.gw, w, "sync", { spent: w.spent });
    const before = state(rig);
    const r = await authorize(terms[1], terms[1].walletPayment(w, 4001));
    assert.equal(r.code, "A_FUNDS", JSON.stringify(r));
    assert.equal(state(rig), before);
    assert.equal((await authorize(terms[1], terms[1].walletPayment(w, 4000))).result, "approved");
  });

  it("declines a payment under an allowance the wallet has since replaced", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const w = newWallet(rig);
    assert.equal((await authorize(terms[0], terms[0].walletPayment(w, 100))).result, "approved");
    const s = await walletCall(rig.gw, w, "sync", { spent: w.spent });
    assert.equal(s.status, 200, s.body);
    assert.ok(s.json.allowance, "a new allowance, from counter 1");
    // the wallet keeps paying with the old one
    const r = await authorize(terms[0], terms[0].walletPayment(w, 100));
    assert.equal(r.code, "A_ALLOWANCE");
  });

  it("declines a payment whose wallet signature does not hold, and an entry that is not a wallet payment", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 100);
    if (e.kind !== 1) throw new Error("a wallet payment");
    const payment = new Uint8Array(e.payment);
    payment[payment.length - 1] ^= 1;
    const before = state(rig);
    assert.equal((await authorize(t, { ...e, payment })).code, "E_SIG");
    assert.equal((await authorize(t, t.refund(e.txId, 100))).code, "A_KIND");
    const bad = await t.call("authorize", { entry: "not base64!" });
    assert.deepEqual({ result: bad.result, code: bad.code, txId: bad.txId }, { result: "declined", code: "E_ENTRY", txId: "" });
    assert.equal(state(rig), before);
  });

  it("sends payment.confirmed, and order.paid for an order, when it settles", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Shop", 1);
    const w = newWallet(rig);
    await authorize(terms[0], terms[0].walletPayment(w, 900, { orderRef: "ORD-1" }));
    await rig.gw.flushOnce();
    assert.deepEqual(rig.hooks.events().sort(), ["order.paid", "payment.confirmed"]);
    assert.equal(rig.gw.ledger(merchant.merchantId)[0].orderRef, "ORD-1");
  });
});
