/**
 * Reconciliation's rules one at a time (gateway/reconcile.ts), each found by a mutant every other test let through
 * (docs/mutation.md, module `reconcile`): what a wallet sync must match before it approves, each flag the entering
 * of a payment raises and only then, and the counter a new allowance starts at.
 */
import assert from "node:assert/strict";
import { decodeAllowance } from "../../protocol/messages.ts";
import { fromBase64 } from "../../protocol/sync.ts";
import { makeRig, merchantWithTerminals, newWallet, walletCall } from "./helpers.ts";
import type { Rig } from "./helpers.ts";
import { SoftTerminal } from "../helpers/soft-terminal.ts";
import { dayString } from "../../gateway/fields.ts";
import { orderMessage } from "../../sdk/store.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { T0 } from "./helpers.ts";
import type { SoftWallet } from "../helpers/soft-terminal.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const DAY_S = 86400;

function statusOf(rig: Rig, txId: string): string {
  const l = rig.gw.ledger().find((x) => x.txId === txId);
  assert.ok(l, "no ledger row " + txId);
  return l.status;
}
/** Every flag's kind on one transaction, in order: an exact list, so a flag raised on a clean payment shows. */
const flagsOf = (rig: Rig, txId: string) => rig.gw.flags().filter((f) => f.txId === txId).map((f) => f.kind);
/** Records a payment on the terminal (not uploaded yet): its txId. */
const pay = (t: SoftTerminal, w: SoftWallet, amount: number, o: { counter?: number; time?: number } = {}) => hexOf(t.record(t.walletPayment(w, amount, o)).entry.subarray(1, 9));

async function sync(rig: Rig, w: SoftWallet, spent: SoftWallet["spent"]) {
  const r = await walletCall(rig.gw, w, "sync", { spent });
  assert.equal(r.status, 200, r.body);
  return r.json;
}
const startOf = (allowance: unknown) => decodeAllowance(fromBase64(allowance as string)!)!.startCounter;

describe("reconcile: what a wallet sync must match", () => {
  it("leaves held, and flags once, a payment the sync reports at another terminal (same counter and amount)", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Two Tills", 2);
    const w = newWallet(rig);
    const id = pay(terms[0], w, 300);
    await terms[0].uploadAll();
    const r = await sync(rig, w, [{ ...w.spent[0], terminalId: terms[1].terminalId }]);
    assert.deepEqual(r.matched, []);
    assert.equal(statusOf(rig, id), "held");
    assert.deepEqual(flagsOf(rig, id), ["wallet-mismatch"]);
  });

  it("approves a payment the sync reports exactly, and raises no flag on it, at the upload nor at the sync", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Clean", 1);
    const w = newWallet(rig);
    const id = pay(terms[0], w, 300);
    await terms[0].uploadAll();
    assert.deepEqual(rig.gw.flags(), [], "a clean upload");
    const r = await sync(rig, w, w.spent);
    assert.deepEqual(r.matched, [id]);
    assert.deepEqual(r.unreported, []);
    assert.equal(statusOf(rig, id), "approved");
    assert.deepEqual(rig.gw.flags(), [], "a clean sync");
    // synced again with nothing new: the approved payment is not "unreported"
    assert.deepEqual((await sync(rig, w, [])).unreported, []);
    assert.deepEqual(rig.gw.flags(), [], "a second sync");
  });

  it("holds and flags an upload the wallet reported before it with another amount, or at another terminal", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Early", 2);
    const w = newWallet(rig);
    const a = pay(terms[0], w, 500);
    const b = pay(terms[0], w, 200);
    await sync(rig, w, [{ ...w.spent[0], amountMinor: 50 }, { ...w.spent[1], terminalId: terms[1].terminalId }]);
    await terms[0].uploadAll();
    assert.equal(statusOf(rig, a), "held");
    assert.equal(statusOf(rig, b), "held");
    assert.deepEqual(flagsOf(rig, a), ["wallet-mismatch"]);
    assert.deepEqual(flagsOf(rig, b), ["wallet-mismatch"]);
    assert.equal(rig.gw.holds().length, 2);
  });

  it("approves at upload, with no flag and no 'received' SMS, a payment the wallet reported before it exactly", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Early", 1);
    const w = newWallet(rig);
    const id = pay(terms[0], w, 500);
    await sync(rig, w, w.spent);
    await terms[0].uploadAll();
    assert.equal(statusOf(rig, id), "approved");
    assert.deepEqual(flagsOf(rig, id), []);
    assert.deepEqual(rig.gw.smsOutbox().map((x) => x.kind), []);
  });
});

describe("reconcile: the flags of entering a payment", () => {
  it("flags a counter below its allowance's start, and not one at the start", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Counters", 1);
    const t = terms[0];
    const w = newWallet(rig);
    pay(t, w, 100, { counter: 5 });
    await t.uploadAll();
    const r = await sync(rig, w, w.spent);
    assert.equal(startOf(r.allowance), 6);
    w.setAllowance(fromBase64(r.allowance as string)!);
    const atStart = pay(t, w, 100, { counter: 6 });
    const below = pay(t, w, 100, { counter: 2 });
    await t.uploadAll();
    assert.deepEqual(flagsOf(rig, atStart), []);
    assert.deepEqual(flagsOf(rig, below), ["counter-below-start"]);
  });

  it("flags a payment made after its allowance's expiry day, and not one on its last second", async () => {
    const rig = makeRig(":memory:", { allowanceDays: 1 });
    const { terms } = merchantWithTerminals(rig, "Late", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const expiry = decodeAllowance(w.allowance)!.expiryDay;
    const last = pay(t, w, 100, { time: (expiry + 1) * DAY_S - 1 });
    const after = pay(t, w, 100, { time: (expiry + 1) * DAY_S });
    rig.clock.set((expiry + 1) * DAY_S * 1000 + 60000);
    await t.uploadAll();
    assert.deepEqual(flagsOf(rig, last), []);
    assert.deepEqual(flagsOf(rig, after), ["allowance-expired"]);
  });
});

describe("reconcile: the counter a new allowance starts at", () => {
  it("does not move the start back at a second sync with nothing new, before any terminal uploaded", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Slow", 1);
    const w = newWallet(rig);
    pay(terms[0], w, 100);
    pay(terms[0], w, 100);
    const first = await sync(rig, w, w.spent);
    assert.equal(startOf(first.allowance), 2);
    const second = await sync(rig, w, []);
    assert.equal(startOf(second.allowance), 2);
  });
});

/** The GatewayError a call throws: its status and code (and message, to match). */
function refused(f: () => unknown, status: number, code: string, message?: RegExp): void {
  assert.throws(f, (e: Error & { status?: number; code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    if (message) assert.match(e.message, message);
    return true;
  });
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

describe("reconcile: a wallet sync's report, checked before anything changes", () => {
  it("refuses a report that is not a list of at most 1000 payments, a bad cap, or a payment with a bad field", () => {
    const rig = makeRig();
    const w = newWallet(rig);
    const sync = (r: unknown) => () => rig.gw.syncWallet(w.walletId, r as never);
    const one = { counter: 1, terminalId: 1, amountMinor: 100 };
    refused(sync(null), 400, "BAD_REPORT");
    refused(sync({ spent: "none" }), 400, "BAD_REPORT");
    refused(sync({ spent: Array.from({ length: 1001 }, (_, i) => ({ ...one, counter: i })) }), 400, "BAD_REPORT");
    for (const capMinor of [-1, 1.5, "5", 0x1000000]) refused(sync({ spent: [], capMinor }), 400, "BAD_CAP");
    for (const bad of [null, { ...one, counter: -1 }, { ...one, counter: 0x10000 }, { ...one, terminalId: "1" }, { ...one, amountMinor: undefined }]) {
      refused(sync({ spent: [bad] }), 400, "BAD_REPORT");
    }
    assert.deepEqual(rig.gw.flags(), []);
    refused(() => rig.gw.syncWallet("00".repeat(8), { spent: [] }), 404, "UNKNOWN_WALLET");
  });

  it("takes exactly 1000 payments, counter 0xffff, and a cap of 0xffffff or below the wallet's (the lower one)", () => {
    const rig = makeRig();
    const w = newWallet(rig, 10000);
    const r = rig.gw.syncWallet(w.walletId, { spent: Array.from({ length: 1000 }, (_, i) => ({ counter: 0xffff - i, terminalId: 1, amountMinor: 1 })), capMinor: 0xffffff });
    assert.equal(r.allowanceError, "");
    assert.equal(decodeAllowance(r.allowance!)!.startCounter, 0xffff);
    assert.equal(decodeAllowance(r.allowance!)!.capMinor, 10000, "never above the wallet's own cap");
    const low = rig.gw.syncWallet(w.walletId, { spent: [], capMinor: 500 });
    assert.equal(decodeAllowance(low.allowance!)!.capMinor, 500);
  });

  it("refuses evidence that is not all three protocol messages in base64", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 1);
    const w = newWallet(rig);
    const e = terms[0].walletPayment(w, 400);
    if (e.kind !== 1) throw new Error("a wallet payment");
    const ok = { request: b64(e.request), payment: b64(e.payment), receipt: b64(terms[0].receipt(e)) };
    const s = w.spent[0];
    const cases = [{ request: ok.request }, { payment: ok.payment }, { receipt: ok.receipt }, { ...ok, request: "***" }, { ...ok, payment: "" }, { ...ok, receipt: ok.request }, { ...ok, request: ok.payment }, { ...ok, payment: ok.request }];
    for (const c of cases) refused(() => rig.gw.syncWallet(w.walletId, { spent: [{ ...s, ...c }] }), 400, "BAD_EVIDENCE", /^spent\[\] counter 0: request, payment and receipt are the protocol messages in base64, all three or none$/);
    assert.equal(rig.gw.ledger().length, 0);
  });
});

describe("reconcile: the payer's evidence (a terminal's receipt)", () => {
  async function setup() {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Shop", 2);
    const w = newWallet(rig);
    const t = terms[0];
    const e = t.walletPayment(w, 400);
    if (e.kind !== 1) throw new Error("a wallet payment");
    const ev = { request: b64(e.request), payment: b64(e.payment), receipt: b64(t.receipt(e)) };
    return { rig, terms, t, w, e, ev, s: w.spent[0] };
  }

  it("refuses each receipt that does not prove the payment reported, with its reason, and enters nothing", async () => {
    const { rig, terms, t, w, e, ev, s } = await setup();
    const no = (spent: object, why: RegExp, wallet = w) => refused(() => rig.gw.syncWallet(wallet.walletId, { spent: [spent as never] }), 400, "BAD_EVIDENCE", why);
    // a terminal the gateway does not know
    const stranger = new SoftTerminal({ terminalId: 999, linkPublicKey: rig.gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const e9 = stranger.walletPayment(w, 400);
    if (e9.kind !== 1) throw new Error("a wallet payment");
    no({ ...w.spent[1], request: b64(e9.request), payment: b64(e9.payment), receipt: b64(stranger.receipt(e9)) }, /^spent\[\] counter 1: terminal 999 is not registered$/);
    // the report and the evidence differ
    no({ ...s, ...ev, amountMinor: 401 }, /^spent\[\] counter 0: the evidence is not the payment reported/);
    no({ ...s, ...ev, terminalId: terms[1].terminalId }, /the evidence is not the payment reported/);
    no({ ...s, ...ev, counter: 7 }, /the evidence is not the payment reported/);
    // a receipt naming another terminal's transaction, signed by the right terminal
    no({ ...s, ...ev, receipt: b64(t.receipt({ ...e, txId: terms[1].nextTxId() })) }, /the receipt's transaction ID names another terminal/);
    // signed by another terminal
    no({ ...s, ...ev, receipt: b64(terms[1].receipt(e)) }, new RegExp("the receipt is not signed by terminal " + t.terminalId + "$"));
    // the terminal's receipt of another payment
    const other = t.walletPayment(w, 400);
    no({ ...s, ...ev, receipt: b64(t.receipt({ ...other, txId: e.txId })) }, /the receipt is for another payment/);
    // another wallet showing this wallet's receipt
    const thief = newWallet(rig, 1000, "+4915100000009");
    no({ ...s, ...ev }, /the payment was made by another wallet/, thief);
    assert.equal(rig.gw.ledger().length, 0);
    assert.deepEqual(rig.gw.flags(), []);
  });

  it("enters a proven payment once, from the payer (no 'received' SMS), recorded as evidence; a second proof enters nothing", async () => {
    const { rig, t, w, e, ev, s } = await setup();
    const id = hexOf(e.txId);
    const r = rig.gw.syncWallet(w.walletId, { spent: [{ ...s, ...ev }] });
    assert.deepEqual(r.evidenced, [id]);
    assert.deepEqual(r.matched, [id]);
    assert.equal(statusOf(rig, id), "approved");
    assert.deepEqual(rig.gw.smsOutbox().map((x) => x.kind), []);
    const entered = rig.gw.activity().find((a) => a.kind === "evidence-entered")!;
    assert.deepEqual({ merchantId: entered.merchantId, terminalId: entered.terminalId, detail: JSON.parse(entered.detail) }, {
      merchantId: rig.gw.ledger()[0].merchantId,
      terminalId: t.terminalId,
      detail: { ref: id, walletId: w.walletId, counter: 0, amountMinor: 400 },
    });
    const again = rig.gw.syncWallet(w.walletId, { spent: [{ ...s, ...ev }] });
    assert.deepEqual(again.evidenced, []);
    assert.equal(rig.gw.ledger().length, 1);
  });

  it("enters nothing from a receipt of a payment a terminal uploaded already, under its txId or another", async () => {
    const { rig, t, w, e, ev, s } = await setup();
    t.record(e);
    await t.uploadAll();
    assert.deepEqual(rig.gw.syncWallet(w.walletId, { spent: [{ ...s, ...ev }] }).evidenced, []);
    const renamed = { ...e, txId: t.nextTxId() };
    assert.deepEqual(rig.gw.syncWallet(w.walletId, { spent: [{ ...s, ...ev, receipt: b64(t.receipt(renamed)) }] }).evidenced, []);
    assert.equal(rig.gw.ledger().length, 1);
  });

  it("shows a disputed payment entered from evidence with its evidence and both signatures holding", async () => {
    const { rig, w, e, ev, s } = await setup();
    rig.gw.syncWallet(w.walletId, { spent: [{ ...s, ...ev }] });
    rig.gw.claimFraud(w.walletId, hexOf(e.txId), "dispute", "not me");
    const d = rig.gw.disputes();
    assert.equal(d.length, 1);
    assert.deepEqual(d[0].evidence, { request: ev.request, payment: ev.payment, walletSignature: true, terminalSignature: true });
  });
});

describe("reconcile: the payer's claims and the issuer's review", () => {
  async function held(amounts: number[]) {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Claims", 1);
    const w = newWallet(rig);
    const ids = amounts.map((a) => pay(terms[0], w, a));
    await terms[0].uploadAll();
    return { rig, merchant, t: terms[0], w, ids };
  }
  const rowOf = (rig: Rig, id: string) => rig.gw.ledger().find((l) => l.txId === id)!;

  it("refuses a malformed claim: txId, action, a reason over 200 characters; takes one of 200", async () => {
    const { rig, w, ids } = await held([100]);
    refused(() => rig.gw.claimFraud(w.walletId, ids[0].slice(1), "dispute"), 400, "BAD_TX_ID");
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "undo" as never), 400, "BAD_ACTION");
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "dispute", "x".repeat(201)), 400, "BAD_REASON");
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "dispute", 5 as never), 400, "BAD_REASON");
    refused(() => rig.gw.claimFraud(w.walletId, "00".repeat(8), "dispute"), 404, "UNKNOWN_TRANSACTION", new RegExp("^this wallet made no payment 0{16}$"));
    assert.equal(statusOf(rig, ids[0]), "held");
    assert.equal(rig.gw.claimFraud(w.walletId, ids[0], "dispute", "y".repeat(200)).status, "disputed");
    const log = rig.gw.activity().find((a) => a.kind === "claim-dispute")!;
    assert.deepEqual(JSON.parse(log.detail), { ref: ids[0], walletId: w.walletId, from: "held", reason: "y".repeat(200) });
  });

  it("reverses a held payment until its hold ends, not at that instant", async () => {
    const { rig, w, ids } = await held([100, 200]);
    rig.clock.set(rowOf(rig, ids[0]).holdUntil - 1);
    const r = rig.gw.claimFraud(w.walletId, ids[0], "reverse");
    assert.equal(r.status, "reversed");
    rig.clock.set(rowOf(rig, ids[1]).holdUntil);
    refused(() => rig.gw.claimFraud(w.walletId, ids[1], "reverse"), 409, "NOT_REVERSIBLE", /the payment is held: only a held payment can be reversed/);
    // a reversed payment is neither disputed nor reversed again
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "dispute"), 409, "ALREADY_REVERSED");
    const sms = rig.gw.smsOutbox().find((x) => x.kind === "reversed")!;
    assert.equal(sms.text, "Your payment of 1.00 EUR (ref " + rig.gw.utrOf(ids[0]) + ") was reversed at your request.");
  });

  it("takes a dispute until the window's last millisecond, not after; not twice, even once the issuer decided", async () => {
    const { rig, merchant, w, ids } = await held([100, 200]);
    rig.clock.set(rowOf(rig, ids[0]).txTime + 120 * 86400000);
    assert.equal(rig.gw.claimFraud(w.walletId, ids[0], "dispute").status, "disputed");
    rig.clock.advance(1);
    refused(() => rig.gw.claimFraud(w.walletId, ids[1], "dispute"), 409, "CLAIM_TOO_LATE", /within 120 days/);
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "dispute"), 409, "ALREADY_DISPUTED");
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "reverse"), 409, "NOT_REVERSIBLE");
    rig.gw.resolveDispute(merchant.merchantId, rowOf(rig, ids[0]).ref, "merchant");
    assert.equal(statusOf(rig, ids[0]), "approved");
    refused(() => rig.gw.claimFraud(w.walletId, ids[0], "dispute"), 409, "ALREADY_DISPUTED");
  });

  it("lists only disputed payments, each with its uploaded evidence; resolves for the payer or the merchant, only a disputed one", async () => {
    const { rig, merchant, w, ids } = await held([100, 200, 300]);
    rig.gw.claimFraud(w.walletId, ids[0], "dispute");
    rig.gw.claimFraud(w.walletId, ids[1], "dispute");
    const d = rig.gw.disputes();
    assert.deepEqual(d.map((x) => x.txId).sort(), [ids[0], ids[1]].sort());
    for (const x of d) assert.deepEqual([x.evidence?.walletSignature, x.evidence?.terminalSignature], [true, true]);
    const m = merchant.merchantId;
    const ref = (i: number) => rowOf(rig, ids[i]).ref;
    refused(() => rig.gw.resolveDispute(m, ref(0), "both" as never), 400, "BAD_DECISION");
    refused(() => rig.gw.resolveDispute(m, "nope", "payer"), 404, "UNKNOWN_TRANSACTION");
    refused(() => rig.gw.resolveDispute(m, ref(2), "payer"), 409, "NOT_DISPUTED", /is held, not disputed/);
    await rig.gw.flush();
    rig.hooks.calls.length = 0;
    assert.equal(rig.gw.resolveDispute(m, ref(0), "payer").status, "reversed");
    assert.equal(rig.gw.resolveDispute(m, ref(1), "merchant").status, "approved");
    assert.deepEqual([statusOf(rig, ids[0]), statusOf(rig, ids[1]), statusOf(rig, ids[2])], ["reversed", "approved", "held"]);
    assert.deepEqual(rig.gw.smsOutbox().filter((x) => x.kind === "dispute-reversed").map((x) => x.text), ["Your payment of 1.00 EUR (ref " + rig.gw.utrOf(ids[0]) + ") was reversed after review of your dispute."]);
    assert.deepEqual(rig.gw.activity().filter((a) => a.kind === "dispute-resolved").map((a) => JSON.parse(a.detail)), [{ ref: ref(0), decision: "payer" }, { ref: ref(1), decision: "merchant" }]);
    await rig.gw.flush();
    assert.deepEqual(rig.hooks.calls.map((c) => [c.headers["x-gateway-event"], JSON.parse(c.body).status]), [["payment.reversed", "reversed"], ["payment.confirmed", "approved"]]);
    assert.deepEqual(rig.gw.disputes(), []);
  });
});

describe("reconcile: each flag's words (what the issuer's staff reads)", () => {
  const denials = (rig: Rig) => rig.gw.activity().filter((a) => a.kind === "deny").map((a) => JSON.parse(a.detail));
  const rows = (rig: Rig, txId: string) => rig.gw.flags().filter((f) => f.txId === txId).map((f) => [f.kind, f.detail, f.terminalId, f.walletId]);

  it("a double spend names the other terminal and payment; a spend past the cap its sum; a debt its three parts", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Two", 2);
    const [a, b] = terms;
    const w = newWallet(rig, 1000, "+4915100000001", 0);
    const first = pay(a, w, 500);
    const atCap = pay(a, w, 500);
    await a.uploadAll();
    assert.deepEqual(rig.gw.flags(), [], "500 + 500 is the cap of 1000, not over it");
    const twice = pay(b, w, 300, { counter: 0 });
    await b.uploadAll();
    assert.deepEqual(rows(rig, twice), [
      ["double-spend", "counter 0 also used at terminal " + a.terminalId + " (" + first + ")", b.terminalId, w.walletId],
      ["allowance-exceeded", "spent 1300 under an allowance of 1000", b.terminalId, w.walletId],
      ["beyond-purse", "paid 300: 0 from the purse, 0 from available, 300 became the wallet's debt", b.terminalId, w.walletId],
    ]);
    assert.deepEqual(rows(rig, atCap), []);
    assert.deepEqual(denials(rig), [{ walletId: w.walletId, reason: "double spend: counter 0", byMerchant: rig.gw.ledger()[0].merchantId, byTerminal: b.terminalId }]);
  });

  it("denies a wallet for spending past its allowance's cap, saying by how much", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Cap", 1);
    const w = newWallet(rig, 1000);
    pay(terms[0], w, 600);
    const over = pay(terms[0], w, 600);
    await terms[0].uploadAll();
    assert.deepEqual(flagsOf(rig, over), ["allowance-exceeded"]);
    assert.deepEqual(denials(rig).map((d) => d.reason), ["allowance exceeded: 1200 > 1000"]);
  });

  it("a mismatch says what the wallet reported, at the sync and at a later upload; an unreported payment its counter", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "One", 2);
    const t = terms[0];
    const w = newWallet(rig);
    const up = pay(t, w, 300);
    const left = pay(t, w, 200);
    await t.uploadAll();
    const late = pay(t, w, 700);
    await sync(rig, w, [{ ...w.spent[0], amountMinor: 30 }, { ...w.spent[2], terminalId: terms[1].terminalId }]);
    await t.uploadAll();
    assert.deepEqual(rows(rig, up), [["wallet-mismatch", "wallet reports counter 0 at terminal " + t.terminalId + " for 30", t.terminalId, w.walletId]]);
    assert.deepEqual(rows(rig, left), [["unreported", "the wallet synced without this payment (counter 1)", t.terminalId, w.walletId]]);
    assert.deepEqual(rows(rig, late), [["wallet-mismatch", "the wallet reported counter 2 at terminal " + terms[1].terminalId + " for 700", t.terminalId, w.walletId]]);
  });

  it("a counter below the start and a late payment name their numbers; a replaced allowance the minutes since", async () => {
    const rig = makeRig(":memory:", { allowanceDays: 1 });
    const { terms } = merchantWithTerminals(rig, "Rules", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const old = w.allowance;
    const expiry = decodeAllowance(old)!.expiryDay;
    pay(t, w, 100, { counter: 5 });
    await t.uploadAll();
    const r = await sync(rig, w, w.spent);
    w.setAllowance(fromBase64(r.allowance as string)!);
    const below = pay(t, w, 100, { counter: 2 });
    rig.clock.advance(90 * 60000);
    w.setAllowance(old);
    const stale = pay(t, w, 100, { counter: 9 });
    const lateDay = expiry + 2;
    rig.clock.set(lateDay * DAY_S * 1000 + 1000);
    const late = pay(t, w, 100, { counter: 10, time: lateDay * DAY_S });
    await t.uploadAll();
    assert.deepEqual(rows(rig, below), [["counter-below-start", "counter 2 below the allowance's start 6", t.terminalId, w.walletId]]);
    assert.deepEqual(rows(rig, stale), [["stale-allowance", "paid under allowance 1, replaced 90 min before the payment", t.terminalId, w.walletId]]);
    assert.deepEqual(denials(rig).map((d) => d.reason), ["paid with a replaced allowance"]);
    assert.deepEqual(rows(rig, late).map((x) => x.slice(0, 2)), [
      ["allowance-expired", "paid on day " + lateDay + " after the allowance's expiry day " + expiry],
      ["stale-allowance", "paid under allowance 1, replaced " + Math.round((lateDay * DAY_S * 1000 - rig.gw.store.allowances(w.walletId)[0].replacedAt) / 60000) + " min before the payment"],
    ]);
  });
});

describe("reconcile: what a sync issues, the activity log, purses released", () => {
  it("issues no allowance the available balance and the live purse less what was reported and not entered cannot cover", () => {
    const rig = makeRig();
    const w = newWallet(rig, 1000, "+4915100000001", 0);
    const s0 = { counter: 0, terminalId: 1, amountMinor: 600 };
    assert.equal(rig.gw.syncWallet(w.walletId, { spent: [s0] }).allowanceError, "INSUFFICIENT_FUNDS", "400 left, 1000 asked");
    const r = rig.gw.syncWallet(w.walletId, { spent: [s0], capMinor: 400 });
    assert.equal(r.allowanceError, "");
    assert.equal(decodeAllowance(r.allowance!)!.startCounter, 1);
    // the new purse of 400: the report of counter 0 is below its start, so it does not count against it
    const again = rig.gw.syncWallet(w.walletId, { spent: [], capMinor: 400 });
    assert.equal(again.allowanceError, "");
    assert.ok(again.allowance);
  });

  it("logs a sync's counts, a payment's entering and a hold's release with their fields", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Log", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const id = pay(t, w, 250);
    await t.uploadAll();
    const r = rig.gw.syncWallet(w.walletId, { spent: w.spent });
    assert.equal(r.allowanceError, "");
    const logs = (kind: string) => rig.gw.activity().filter((a) => a.kind === kind).map((a) => [a.merchantId, a.terminalId, JSON.parse(a.detail)]);
    const m = rig.gw.ledger()[0].merchantId;
    assert.equal(rig.gw.store.movementByKey("payment:" + id)?.memo, "counter 0", "the payment's movement names its counter");
    assert.deepEqual(logs("ledger-entered"), [[m, t.terminalId, { ref: id, kind: "wallet", amountMinor: 250, walletId: w.walletId, counter: 0, status: "held" }]]);
    assert.deepEqual(logs("hold-released"), [[m, t.terminalId, { ref: id, status: "approved", why: "wallet-sync" }]]);
    assert.deepEqual(logs("wallet-synced"), [[0, 0, { walletId: w.walletId, reported: 1, matched: 1, unreported: 0, evidenced: 0, denied: false, allowanceError: "" }]]);
    assert.equal(rig.gw.store.getWallet(w.walletId)!.syncedAt, rig.clock.now());
  });

  it("releases a purse whose payments can no longer arrive, logging only one that gave money back", () => {
    const rig = makeRig();
    const w = newWallet(rig, 1000);
    rig.gw.syncWallet(w.walletId, { spent: [] });
    rig.clock.advance(45 * 86400000);
    rig.gw.tick();
    assert.deepEqual(rig.gw.store.allowances(w.walletId).map((a) => [a.n, a.status]), [[1, "released"], [2, "released"]]);
    assert.deepEqual(rig.gw.activity().filter((a) => a.kind === "purse-released").map((a) => JSON.parse(a.detail)), [{ walletId: w.walletId, allowance: 2, amountMinor: 1000 }]);
    // the books' movement of the final release: its own key (one per allowance) and memo
    assert.equal(rig.gw.store.movementByKey("release:" + w.walletId + ":2")?.memo, "final");
  });

  it("reads a UTR from a txId, and gives back what is not 8 bytes of hex", () => {
    const rig = makeRig();
    assert.equal(rig.gw.utrOf("zz"), "zz");
    assert.equal(rig.gw.utrOf("00".repeat(7)), "00".repeat(7));
    assert.notEqual(rig.gw.utrOf("0000000100000002"), "0000000100000002");
  });
});

describe("reconcile: a payment proven twice, and refunds", () => {
  it("enters the proof of a second payment under a counter another terminal used (a double spend), and flags it", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Two", 2);
    const [a, b] = terms;
    const w = newWallet(rig);
    pay(a, w, 300);
    await a.uploadAll();
    const e = b.walletPayment(w, 300, { counter: 0 });
    if (e.kind !== 1) throw new Error("a wallet payment");
    const r = rig.gw.syncWallet(w.walletId, { spent: [{ ...w.spent[1], request: b64(e.request), payment: b64(e.payment), receipt: b64(b.receipt(e)) }] });
    assert.deepEqual(r.evidenced, [hexOf(e.txId)]);
    assert.deepEqual(flagsOf(rig, hexOf(e.txId)), ["double-spend"]);
  });

  it("knows a payment entered from evidence under another txId, and shows each disputed one its own evidence", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "One", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e1 = t.walletPayment(w, 300);
    const e2 = t.walletPayment(w, 400);
    if (e1.kind !== 1 || e2.kind !== 1) throw new Error("wallet payments");
    const proof = (e: typeof e1, i: number) => ({ ...w.spent[i], request: b64(e.request), payment: b64(e.payment), receipt: b64(t.receipt(e)) });
    assert.equal(rig.gw.syncWallet(w.walletId, { spent: [proof(e1, 0), proof(e2, 1)] }).evidenced.length, 2);
    assert.deepEqual(rig.gw.syncWallet(w.walletId, { spent: [proof({ ...e2, txId: t.nextTxId() }, 1)] }).evidenced, []);
    rig.gw.claimFraud(w.walletId, hexOf(e2.txId), "dispute");
    assert.deepEqual(rig.gw.disputes().map((d) => d.evidence?.payment), [b64(e2.payment)]);
  });

  it("enters a refund settled at its time, and tells the merchant whether it was a void or a refund", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Refunds", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 1000);
    t.record(e);
    const refund = t.refund(e.txId, 300, 2);
    t.record(refund);
    const voided = t.refund(e.txId, 200, 1);
    t.record(voided);
    await t.uploadAll();
    const row = rig.gw.ledger().find((l) => l.txId === hexOf(refund.txId))!;
    assert.deepEqual([row.kind, row.status, row.amountMinor, row.original, row.walletId], ["refund", "settled", -300, hexOf(e.txId), w.walletId]);
    assert.equal(row.txTime % 1000, 0);
    assert.ok(Math.abs(row.txTime - rig.clock.now()) < 5000, "seconds made milliseconds");
    await rig.gw.flush();
    const bodies = rig.hooks.calls.filter((c) => c.headers["x-gateway-event"] === "refund.recorded").map((c) => JSON.parse(c.body));
    assert.deepEqual(bodies.map((b) => [b.amountMinor, b.reason, b.original]), [[-300, "refund", hexOf(e.txId)], [-200, "void", hexOf(e.txId)]]);
    const logs = rig.gw.activity().filter((a) => a.kind === "ledger-entered").map((a) => JSON.parse(a.detail)).filter((d) => d.kind === "refund");
    assert.deepEqual(logs[0], { ref: hexOf(refund.txId), kind: "refund", amountMinor: -300, original: hexOf(e.txId), status: "settled" });
  });
});

describe("reconcile: the words of each refusal, and what each decision moves", () => {
  it("says what is wrong with a report, a claim or a decision", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Words", 1);
    const w = newWallet(rig);
    const id = pay(terms[0], w, 100);
    await terms[0].uploadAll();
    const sync = (r: unknown) => () => rig.gw.syncWallet(w.walletId, r as never);
    refused(sync({ spent: 1 }), 400, "BAD_REPORT", /^spent: an array of at most 1000 payments$/);
    refused(sync({ spent: [], capMinor: -1 }), 400, "BAD_CAP", /^capMinor: 0 to the wallet's cap$/);
    refused(sync({ spent: [{}] }), 400, "BAD_REPORT", /^spent\[\]: \{counter \(u16\), terminalId, amountMinor\}$/);
    refused(() => rig.gw.syncWallet("11".repeat(8), { spent: [] }), 404, "UNKNOWN_WALLET", /^no such wallet$/);
    refused(() => rig.gw.claimFraud(w.walletId, "x", "dispute"), 400, "BAD_TX_ID", /^txId: 16 hex digits$/);
    refused(() => rig.gw.claimFraud(w.walletId, id, "x" as never), 400, "BAD_ACTION", /^action: dispute or reverse$/);
    refused(() => rig.gw.claimFraud(w.walletId, id, "dispute", "r".repeat(201)), 400, "BAD_REASON", /^reason: at most 200 characters$/);
    refused(() => rig.gw.resolveDispute(merchant.merchantId, id, "x" as never), 400, "BAD_DECISION", /^decision: payer or merchant$/);
    refused(() => rig.gw.resolveDispute(merchant.merchantId, "nope", "payer"), 404, "UNKNOWN_TRANSACTION", new RegExp("^no transaction nope at merchant " + merchant.merchantId + "$"));
    refused(() => rig.gw.resolveDispute(merchant.merchantId, id, "payer"), 409, "NOT_DISPUTED", new RegExp("^transaction " + id + " is held, not disputed$"));
  });

  it("gives a dispute decided for the payer its money back, and one decided for the merchant the merchant's", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Review", 1);
    const w = newWallet(rig);
    const [a, b] = [pay(terms[0], w, 700), pay(terms[0], w, 300)];
    await terms[0].uploadAll();
    rig.gw.claimFraud(w.walletId, a, "dispute");
    rig.gw.claimFraud(w.walletId, b, "dispute");
    const wallet0 = rig.gw.walletBalances(w.walletId).available;
    const merchant0 = rig.gw.merchantBalances(merchant.merchantId).available;
    rig.gw.resolveDispute(merchant.merchantId, a, "payer");
    assert.equal(rig.gw.walletBalances(w.walletId).available, wallet0 + 700);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, merchant0);
    rig.gw.resolveDispute(merchant.merchantId, b, "merchant");
    assert.equal(rig.gw.walletBalances(w.walletId).available, wallet0 + 700);
    assert.equal(rig.gw.merchantBalances(merchant.merchantId).available, merchant0 + 300);
  });

  it("claims without a reason log an empty one; a claim's webhook carries the new status; a refund is no wallet payment to claim", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Claim", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 1000);
    t.record(e);
    const refund = t.refund(e.txId, 300, 2);
    t.record(refund);
    await t.uploadAll();
    assert.equal(rig.gw.ledger().find((l) => l.txId === hexOf(e.txId))!.original, "");
    refused(() => rig.gw.claimFraud(w.walletId, hexOf(refund.txId), "dispute"), 404, "UNKNOWN_TRANSACTION");
    await rig.gw.flush();
    rig.hooks.calls.length = 0;
    rig.gw.claimFraud(w.walletId, hexOf(e.txId), "dispute");
    assert.equal(JSON.parse(rig.gw.activity().find((a) => a.kind === "claim-dispute")!.detail).reason, "");
    await rig.gw.flush();
    assert.deepEqual(rig.hooks.calls.map((c) => [c.headers["x-gateway-event"], JSON.parse(c.body).status, JSON.parse(c.body).ref]), [["payment.disputed", "disputed", hexOf(e.txId)]]);
  });

  it("refuses a receipt-proven payment whose wallet signature does not hold, with the check's code", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Sig", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 400);
    if (e.kind !== 1) throw new Error("a wallet payment");
    const payment = new Uint8Array(e.payment);
    payment[payment.length - 1] ^= 1;
    const bad = { ...e, payment };
    refused(() => rig.gw.syncWallet(w.walletId, { spent: [{ ...w.spent[0], request: b64(bad.request), payment: b64(payment), receipt: b64(t.receipt(bad)) }] }), 400, "BAD_EVIDENCE", /^spent\[\] counter 0: E_\w+: /);
    assert.equal(rig.gw.ledger().length, 0);
  });

  it("records the payer's evidence as a record of its own (seq 0), and logs why a 3-day approval happened", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Ev", 1);
    const t = terms[0];
    const w = newWallet(rig);
    const e = t.walletPayment(w, 400);
    if (e.kind !== 1) throw new Error("a wallet payment");
    rig.gw.syncWallet(w.walletId, { spent: [{ ...w.spent[0], request: b64(e.request), payment: b64(e.payment), receipt: b64(t.receipt(e)) }] });
    const m = rig.gw.ledger()[0].merchantId;
    const rec = rig.gw.store.recordsAt(m, t.terminalId, 0)[0];
    assert.deepEqual([rec.txId, rec.status, rec.prev, rec.code, rec.message], [hexOf(e.txId), "evidence", "", "", "entered from the payer's receipt"]);
    const id = pay(t, w, 200);
    await t.uploadAll();
    rig.clock.advance(4 * 86400000);
    assert.deepEqual(rig.gw.tick().approved, [id]);
    assert.deepEqual(rig.gw.activity().filter((a) => a.kind === "hold-released").map((a) => JSON.parse(a.detail).why), ["wallet-sync", "3 days without the payer's sync"]);
  });

  it("sends an order callback for an invoice the terminal records with an order, none without one; logs the recording", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Orders", 1);
    const t = terms[0];
    const card = { number: "4242424242424242", expiry: "12/30", cvc: "123" };
    const paidOf = async (n: number) => {
      const r = await rig.gw.payInvoice({ invoice: t.invoice(n, 500), method: "card", card });
      return (r as { paid: Uint8Array }).paid;
    };
    const p1 = await paidOf(1);
    const p2 = await paidOf(2);
    await rig.gw.flush();
    rig.hooks.calls.length = 0;
    t.record(t.invoicePaid(p1, 5, ""));
    const rec = t.record(t.invoicePaid(p2, 5, "ORD-2"));
    await t.uploadAll();
    await rig.gw.flush();
    const orders = rig.hooks.calls.filter((c) => c.headers["x-gateway-event"] === "order.paid").map((c) => JSON.parse(c.body).orderRef);
    assert.deepEqual(orders, ["ORD-2"]);
    const logs = rig.gw.activity().filter((a) => a.kind === "invoice-recorded").map((a) => JSON.parse(a.detail));
    assert.deepEqual(logs[1], { invoiceNo: 2, ref: rig.gw.ledger().find((l) => l.orderRef === "ORD-2")!.ref, txId: hexOf(rec.entry.subarray(1, 9)), method: 5 });
  });
});

describe("reconcile: what tick() runs besides the 3-day rule", () => {
  const ISSUER = { name: "Offline Pay Issuer", iban: "DE89370400440532013000", bic: "COBADEFFXXX" };
  async function shop(rig: Rig) {
    const { merchant, terms } = merchantWithTerminals(rig, "Cafe", 1);
    rig.gw.updateMerchant(merchant.merchantId, { iban: "FR1420041010050500013M02606" });
    await rig.gw.payInvoice({ invoice: terms[0].invoice(1, 1234), method: "card", card: { number: "4242424242424242", expiry: "12/30", cvc: "123" } });
  }
  const yesterday = (rig: Rig) => dayString(rig.clock.now() - 86400000);

  it("runs yesterday's payouts only when daily payouts are on, and only with the issuer's payout account", async () => {
    const off = makeRig(":memory:", { payoutAccount: ISSUER });
    await shop(off);
    off.gw.tick();
    assert.equal(off.gw.store.payoutRun(yesterday(off)), undefined, "daily payouts off");
    const noAccount = makeRig(":memory:", { dailyPayouts: true });
    await shop(noAccount);
    noAccount.gw.tick();
    assert.equal(noAccount.gw.store.payoutRun(yesterday(noAccount)), undefined, "no payout account");
    const on = makeRig(":memory:", { dailyPayouts: true, payoutAccount: ISSUER });
    await shop(on);
    on.gw.tick();
    assert.ok(on.gw.store.payoutRun(yesterday(on)));
    assert.equal(on.gw.store.payoutRun(dayString(on.clock.now())), undefined, "not today's, still going on");
  });

  it("sends what it queued at once when the gateway flushes by itself", async () => {
    const rig = makeRig(":memory:", { autoFlush: true });
    const { terms } = merchantWithTerminals(rig, "Auto", 1);
    const w = newWallet(rig);
    pay(terms[0], w, 100);
    await terms[0].uploadAll();
    await rig.gw.flush();
    const before = rig.sms.sent.length;
    rig.clock.advance(4 * 86400000);
    rig.gw.tick();
    for (let i = 0; i < 20 && rig.sms.sent.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(rig.sms.sent.length, before + 1, "the auto-approval's SMS, sent by tick() itself");
  });
});

describe("reconcile: an order's own callback when its invoice is recorded", () => {
  it("queues order.paid to the order's callback when the terminal records the invoice paid online for that order", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Orders", 1);
    const t = terms[0];
    await t.hello();
    const orderKey = "6f726465722d6b65792d6d65726368616e742d3432";
    const order = toBase64(orderMessage({ orderKey, merchantId: merchant.merchantId, orderRef: "ORD-5", amountMinor: 500, expires: Math.floor(T0 / 1000) + 3600 }));
    const r = await rig.gw.payInvoice({ invoice: t.invoice(5, 500), method: "card", card: { number: "4242424242424242", expiry: "12/30", cvc: "123" } });
    const rec = t.record(t.invoicePaid((r as { paid: Uint8Array }).paid, 5, "ORD-5"));
    const up = await t.call("upload", { records: [{ seq: rec.seq, prev: rec.prev, entry: toBase64(rec.entry) }], orders: [{ order, callback: "https://shop.example/o/5" }] });
    assert.deepEqual(up.acked, [rec.seq]);
    await rig.gw.flush();
    const calls = rig.hooks.calls.filter((c) => c.url === "https://shop.example/o/5").map((c) => JSON.parse(c.body));
    assert.deepEqual(calls.map((b) => [b.event, b.orderRef, b.amountMinor]), [["order.paid", "ORD-5", 500]]);
  });
});
