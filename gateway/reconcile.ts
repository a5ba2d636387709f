/**
 * Reconciliation: entering a verified journal entry in the books (double spending, the allowance's cap, the hold),
 * matching it with the payer's wallet sync, the payer's evidence and fraud claims, approval and the 3-day rule.
 */
import { fromHex } from "../protocol/codec/hex.ts";
import { sameBytes, toHex } from "./hex.ts";
import { orderPaid } from "./orders.ts";
import type { Entry, WalletPaymentEntry } from "../protocol/entry.ts";
import { decodeEntry, encodeEntry, entryWalletId } from "../protocol/entry.ts";
import { txParts, utr } from "../protocol/ids.ts";
import { decodePaid, decodePayment, decodeReceipt, decodeRefund, decodeRequest } from "../protocol/messages.ts";
import { allowanceOf, paymentOf, paymentWalletId, requestOf, walletSigned } from "./decoded.ts";
import { HOLD_MS } from "../protocol/rules.ts";
import { toBase64 } from "../protocol/sync.ts";
import { autoApprovedText, offlineReceivedText } from "./sms.ts";
import type { AllowanceRow, LedgerRow, TerminalRow, WalletRow } from "./store.ts";
import { walletAvailable } from "./books.ts";
import type { Gateway, WalletReport, WalletSynced } from "./gateway.ts";
import { DAY_MS, DISPUTE_WINDOW_MS, GatewayError, bad, dayString, isHex, money, strictBase64, toPosInt } from "./fields.ts";

/** A wallet's sync: its report matches held payments; it gets a new allowance (none when denied). */
export function syncWallet(g: Gateway, walletId: string, report: WalletReport): WalletSynced {
  if (!report || !Array.isArray(report.spent) || report.spent.length > 1000) throw bad("BAD_REPORT", "spent: an array of at most 1000 payments");
  if (report.capMinor !== undefined && (!toPosInt(report.capMinor) || report.capMinor > 0xffffff)) throw bad("BAD_CAP", "capMinor: 0 to the wallet's cap");
  const evidence = new Map<number, { request: Uint8Array; payment: Uint8Array; receipt: Uint8Array }>();
  for (const s of report.spent) {
    if (!s || !toPosInt(s.counter) || s.counter > 0xffff || !toPosInt(s.terminalId) || !toPosInt(s.amountMinor)) {
      throw bad("BAD_REPORT", "spent[]: {counter (u16), terminalId, amountMinor}");
    }
    if (s.request === undefined && s.payment === undefined && s.receipt === undefined) continue;
    const request = strictBase64(s.request as string);
    const payment = strictBase64(s.payment as string);
    const receipt = strictBase64(s.receipt as string);
    if (!request || !payment || !receipt || !decodeRequest(request) || !decodePayment(payment) || !decodeReceipt(receipt)) {
      throw bad("BAD_EVIDENCE", "spent[] counter " + s.counter + ": request, payment and receipt are the protocol messages in base64, all three or none");
    }
    evidence.set(s.counter, { request, payment, receipt });
  }
  return g.store.transaction(() => {
    const w = g.store.getWallet(walletId);
    if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no such wallet");
    const now = g.now();
    const matched: string[] = [];
    const evidenced: string[] = [];
    let top = w.startCounter - 1;
    for (const s of report.spent) {
      top = Math.max(top, s.counter);
      const ev = evidence.get(s.counter);
      if (ev) {
        const ref = g.enterEvidence(w, s, ev);
        if (ref) evidenced.push(ref);
      }
      g.store.upsertReport({ walletId, counter: s.counter, terminalId: s.terminalId, amountMinor: s.amountMinor, reportedAt: now });
      for (const sp of g.store.spendsAt(walletId, s.counter)) {
        const l = g.store.ledgerByRef(sp.merchantId, sp.ref);
        if (!l) continue;
        if (l.terminalId !== s.terminalId || l.amountMinor !== s.amountMinor) {
          g.flag({ merchantId: l.merchantId, terminalId: l.terminalId, walletId, txId: l.txId, kind: "wallet-mismatch", detail: "wallet reports counter " + s.counter + " at terminal " + s.terminalId + " for " + s.amountMinor });
          continue;
        }
        if (l.status === "held") {
          g.approve(l, "approved", "wallet-sync");
          matched.push(l.ref);
        }
      }
    }
    const reported = new Set(report.spent.map((s) => s.counter));
    const unreported: string[] = [];
    for (const l of g.store.ledgerOfWallet(walletId)) {
      if (l.kind !== "wallet") continue;
      top = Math.max(top, l.counter);
      if (l.status === "held" && !reported.has(l.counter)) {
        unreported.push(l.ref);
        g.flag({ merchantId: l.merchantId, terminalId: l.terminalId, walletId, txId: l.txId, kind: "unreported", detail: "the wallet synced without this payment (counter " + l.counter + ")" });
      }
    }
    const denied = g.store.isDenied(walletId);
    let allowance: Uint8Array | null = null;
    let allowanceError = "";
    const patch: Partial<WalletRow> = { syncedAt: now };
    if (!denied) {
      const cap = Math.min(w.capMinor, report.capMinor ?? w.capMinor);
      if (g.canIssue(w, cap)) {
        const start = Math.min(0xffff, top + 1);
        const a = g.newAllowance({ ...w, capMinor: cap }, start);
        allowance = a.allowance;
        patch.allowance = a.allowance;
        patch.startCounter = start;
        patch.expiryDay = a.expiryDay;
      } else allowanceError = "INSUFFICIENT_FUNDS";
    }
    g.store.updateWallet(walletId, patch);
    g.log(0, 0, "wallet-synced", { walletId, reported: report.spent.length, matched: matched.length, unreported: unreported.length, evidenced: evidenced.length, denied, allowanceError });
    return { walletId, allowance, denied, matched, unreported, evidenced, allowanceError, balances: g.money.books.wallet(walletId, w.currency) };
  });
}

/**
 * True when a new allowance's cap is covered: the available balance plus what replacing the live allowance
 * returns at once (its purse less what the payer reported and no terminal has entered).
 */
export function canIssue(g: Gateway, w: WalletRow, cap: number): boolean {
  let can = g.money.books.balance(walletAvailable(w.id), w.currency);
  for (const a of g.store.allowances(w.id)) if (a.status === "live") can += Math.max(0, g.money.purse(a) - g.reportedNotEntered(w.id, a));
  return can >= cap;
}

/** What the wallet reported paying under an allowance that no terminal (nor its evidence) has entered yet. */
export function reportedNotEntered(g: Gateway, walletId: string, a: AllowanceRow): number {
  let sum = 0;
  for (const r of g.store.reportsOf(walletId)) {
    if (r.counter < a.startCounter) continue;
    const spends = g.store.spendsAt(walletId, r.counter);
    if (!spends.length) sum += r.amountMinor;
  }
  return sum;
}

/**
 * A payment the wallet proves with the terminal's own receipt, entered when no terminal has uploaded it (a
 * terminal lost or broken before its upload): the same checks as an upload, plus the receipt's signature by the
 * terminal, its txId and its hash of the payment. Returns the ledger ref, or "" when the txId is entered already.
 */
export function enterEvidence(g: Gateway, w: WalletRow, s: { counter: number; terminalId: number; amountMinor: number }, ev: { request: Uint8Array; payment: Uint8Array; receipt: Uint8Array }): string {
  const no = (why: string) => new GatewayError(400, "BAD_EVIDENCE", "spent[] counter " + s.counter + ": " + why);
  const q = decodeRequest(ev.request)!;
  const p = paymentOf(ev.payment)!;
  const rc = decodeReceipt(ev.receipt)!;
  const t = g.store.getTerminal(q.terminalId);
  if (!t) throw no("terminal " + q.terminalId + " is not registered");
  if (q.terminalId !== s.terminalId || q.amountMinor !== s.amountMinor || p.counter !== s.counter) throw no("the evidence is not the payment reported (terminal, amount or counter differ)");
  if (txParts(rc.txId).terminalId !== t.id) throw no("the receipt's transaction ID names another terminal");
  if (!g.verifier.message(t.pub, ev.receipt)) throw no("the receipt is not signed by terminal " + t.id);
  if (toHex(g.crypto.sha256(ev.payment).subarray(0, 8)) !== toHex(rc.paymentHash)) throw no("the receipt is for another payment");
  const e: Entry = { kind: 1, txId: rc.txId, method: 1, request: ev.request, payment: ev.payment, orderRef: "" };
  if (entryWalletId(g.crypto, e) !== w.id) throw no("the payment was made by another wallet");
  const txHex = toHex(rc.txId);
  if (g.store.txIdTaken(txHex) || g.samePayment(ev.request, ev.payment)) return "";
  const v = g.verifyEntry(t, e);
  if (!v.ok) throw no(v.code + ": " + v.message);
  g.store.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: 0, prev: "", entry: encodeEntry(e), txId: txHex, status: "evidence", code: "", message: "entered from the payer's receipt", receivedAt: g.now() });
  g.enter(t, e, txHex, true);
  g.log(t.merchantId, t.id, "evidence-entered", { ref: txHex, walletId: w.id, counter: s.counter, amountMinor: s.amountMinor });
  return txHex;
}

/** The payer claims fraud on one of its wallet payments: "dispute" freezes it, "reverse" takes it back. */
export function claimFraud(g: Gateway, walletId: string, txId: string, action: "dispute" | "reverse", reason = ""): LedgerRow {
  if (!isHex(txId, 8)) throw bad("BAD_TX_ID", "txId: 16 hex digits");
  if (action !== "dispute" && action !== "reverse") throw bad("BAD_ACTION", "action: dispute or reverse");
  if (typeof reason !== "string" || reason.length > 200) throw bad("BAD_REASON", "reason: at most 200 characters");
  return g.store.transaction(() => {
    const l = g.store.ledgerOfWallet(walletId).find((r) => r.txId === txId && r.kind === "wallet");
    if (!l) throw new GatewayError(404, "UNKNOWN_TRANSACTION", "this wallet made no payment " + txId);
    if (l.status === "reversed") throw new GatewayError(409, "ALREADY_REVERSED", "the payment was reversed already");
    if (action === "dispute" && (l.status === "disputed" || g.store.movementByKey("dispute:" + l.ref))) throw new GatewayError(409, "ALREADY_DISPUTED", "the payment is disputed already");
    // A reversal is the payer's own undo, only while the payment is held (before its payer confirmed it and before
    // the 3-day rule); after that, or once disputed, only the issuer's review (with the wallet-signed evidence) decides.
    if (action === "reverse" && (l.status !== "held" || g.now() >= l.holdUntil)) {
      throw new GatewayError(409, "NOT_REVERSIBLE", "the payment is " + l.status + ": only a held payment can be reversed; dispute it for the issuer's review");
    }
    if (action === "dispute" && g.now() > l.txTime + DISPUTE_WINDOW_MS) throw new GatewayError(409, "CLAIM_TOO_LATE", "disputes are taken within " + DISPUTE_WINDOW_MS / DAY_MS + " days of the payment");
    const status = action === "dispute" ? "disputed" : "reversed";
    if (action === "dispute") g.money.dispute(l);
    else g.money.reverse(l);
    g.store.updateLedger(l.merchantId, l.ref, { status, updatedAt: g.now() });
    g.log(l.merchantId, l.terminalId, "claim-" + action, { ref: l.ref, walletId, from: l.status, reason });
    g.event(l.merchantId, action === "dispute" ? "payment.disputed" : "payment.reversed", g.eventBody({ ...l, status }));
    if (action === "reverse") g.queueSms(walletId, l.ref, "Your payment of " + money(l.amountMinor, l.currency) + " (ref " + g.utrOf(l.txId) + ") was reversed at your request.", "reversed");
    return { ...l, status };
  });
}

/**
 * Disputed payments waiting for the issuer's review, each with its evidence: the terminal-signed request and the
 * wallet-signed payment as the terminal uploaded them (or the payer proved them), and whether each signature holds.
 */
export function disputes(g: Gateway): (LedgerRow & { evidence: { request: string; payment: string; walletSignature: boolean; terminalSignature: boolean } | null })[] {
  return g.store.ledger().filter((l) => l.status === "disputed").map((l) => {
    const t = g.store.getTerminal(l.terminalId);
    const rec = g.store.recordOfTx(l.merchantId, l.terminalId, l.txId) ?? g.store.recordsAt(l.merchantId, l.terminalId, 0).find((r) => r.txId === l.txId && r.status === "evidence");
    const e = rec ? decodeEntry(rec.entry) : null;
    if (!t || !e || e.kind !== 1) return { ...l, evidence: null };
    const p = paymentOf(e.payment);
    const a = allowanceOf(e.payment).allowance;
    const walletSignature = !!p && !!a && g.verifier.body(a.walletPub, walletSigned(e.payment, e.request), p.walletSig);
    return { ...l, evidence: { request: toBase64(e.request), payment: toBase64(e.payment), walletSignature, terminalSignature: g.verifier.message(t.pub, e.request) } };
  });
}

/** The issuer's review of a disputed payment: for the payer (money back, reversed) or the merchant (approved). */
export function resolveDispute(g: Gateway, merchantId: number, ref: string, decision: "payer" | "merchant"): LedgerRow {
  if (decision !== "payer" && decision !== "merchant") throw bad("BAD_DECISION", "decision: payer or merchant");
  return g.store.transaction(() => {
    const l = g.store.ledgerByRef(merchantId, ref);
    if (!l) throw new GatewayError(404, "UNKNOWN_TRANSACTION", "no transaction " + ref + " at merchant " + merchantId);
    if (l.status !== "disputed") throw new GatewayError(409, "NOT_DISPUTED", "transaction " + ref + " is " + l.status + ", not disputed");
    g.money.resolveDispute(l, decision === "payer");
    const status = decision === "payer" ? "reversed" : "approved";
    g.store.updateLedger(merchantId, ref, { status, updatedAt: g.now() });
    g.log(merchantId, l.terminalId, "dispute-resolved", { ref, decision });
    if (decision === "payer") g.queueSms(l.walletId, l.ref, "Your payment of " + money(l.amountMinor, l.currency) + " (ref " + g.utrOf(l.txId) + ") was reversed after review of your dispute.", "dispute-reversed");
    g.event(merchantId, decision === "payer" ? "payment.reversed" : "payment.confirmed", g.eventBody({ ...l, status }));
    return { ...l, status };
  });
}

export function approve(g: Gateway, l: LedgerRow, status: "approved" | "auto-approved", why: string): void {
  g.money.approve(l);
  g.store.updateLedger(l.merchantId, l.ref, { status, updatedAt: g.now() });
  g.log(l.merchantId, l.terminalId, "hold-released", { ref: l.ref, status, why });
  g.event(l.merchantId, "payment.confirmed", g.eventBody({ ...l, status }));
}

/**
 * The 3-day rule: held payments whose payer has not synced are auto-approved, and the payer gets an SMS. Then the
 * outboxes are flushed (unless autoFlush is off), so a timer calling tick() also sends webhook retries when due.
 */
export function tick(g: Gateway): { approved: string[] } {
  const approved = g.store.transaction(() => {
    const out: string[] = [];
    // several processes on one database: one of them runs the rule at a time (the others find it taken and go on)
    if (!g.store.tryLock("three-day-rule")) return out;
    for (const l of g.store.heldDue(g.now())) {
      g.approve(l, "auto-approved", "3 days without the payer's sync");
      const m = g.store.getMerchant(l.merchantId);
      g.queueSms(
        l.walletId,
        l.ref,
        autoApprovedText({ amount: money(l.amountMinor, l.currency), merchant: m ? m.name : "merchant " + l.merchantId, utr: g.utrOf(l.txId) }),
        "auto-approved",
      );
      out.push(l.ref);
    }
    // purses whose payments can no longer arrive return to available
    for (const a of g.store.allowancesToRelease(g.now())) {
      const back = g.money.release(a, g.money.purse(a), "final");
      g.store.updateAllowance(a.walletId, a.n, { status: "released" });
      if (back) g.log(0, 0, "purse-released", { walletId: a.walletId, allowance: a.n, amountMinor: back });
    }
    return out;
  });
  if (g.dailyPayouts) {
    const period = dayString(g.now() - DAY_MS);
    // once per period whichever process gets there first: the lock, then the run's own unique period
    g.store.transaction(() => {
      if (g.store.tryLock("payout-run") && !g.store.payoutRun(period) && g.payoutAccount()) g.runPayouts(period);
    });
  }
  // also delivers what is due: SMS queued, webhook retries whose time has come
  g.kick();
  return { approved };
}

/**
 * The ledger row of a wallet payment (a journal entry of kind 1): "held" for 3 days from its time when entered
 * from an upload, "approved" at once when the gateway authorized it online (./authorize.ts).
 */
export function walletPaymentRow(t: TerminalRow, e: WalletPaymentEntry, txHex: string, walletId: string, now: number, status: "held" | "approved"): LedgerRow {
  const q = requestOf(e.request)!;
  const p = paymentOf(e.payment)!;
  const txTime = q.time * 1000;
  return {
    merchantId: t.merchantId,
    terminalId: t.id,
    txId: txHex,
    ref: txHex,
    kind: "wallet",
    method: e.method,
    amountMinor: q.amountMinor,
    currency: q.currency,
    walletId,
    counter: p.counter,
    orderRef: e.orderRef,
    status,
    txTime,
    holdUntil: status === "held" ? txTime + HOLD_MS : 0,
    original: "",
    createdAt: now,
    updatedAt: now,
  };
}

/** Enters one journal entry in the books; `fromPayer`: the payer's own evidence, not a terminal's upload. */
export function enter(g: Gateway, t: TerminalRow, e: Entry, txHex: string, fromPayer = false): void {
  const s = g.store;
  const now = g.now();
  const base = { merchantId: t.merchantId, terminalId: t.id, txId: txHex, createdAt: now, updatedAt: now, original: "", holdUntil: 0, walletId: "", counter: 0 };
  if (e.kind === 1) {
    const q = requestOf(e.request)!;
    const p = paymentOf(e.payment)!;
    const a = p.allowance;
    const walletId = paymentWalletId(g.crypto, e.payment);
    const row = walletPaymentRow(t, e, txHex, walletId, now, "held");
    const flag = (kind: string, detail: string) => g.flag({ merchantId: t.merchantId, terminalId: t.id, walletId, txId: txHex, kind, detail });
    // double spending: the same counter twice, or more than the allowance's cap across terminals
    const allowanceKey = a.expiryDay + ":" + a.startCounter;
    const twice = s.spendsAt(walletId, p.counter);
    if (twice.length) {
      flag("double-spend", "counter " + p.counter + " also used at terminal " + twice[0].terminalId + " (" + twice[0].ref + ")");
      g.deny(walletId, "double spend: counter " + p.counter, t.merchantId, t.id);
    }
    const spent = s.spentUnder(walletId, allowanceKey) + q.amountMinor;
    if (spent > a.capMinor) {
      flag("allowance-exceeded", "spent " + spent + " under an allowance of " + a.capMinor);
      g.deny(walletId, "allowance exceeded: " + spent + " > " + a.capMinor, t.merchantId, t.id);
    }
    if (p.counter < a.startCounter) flag("counter-below-start", "counter " + p.counter + " below the allowance's start " + a.startCounter);
    if (Math.floor(q.time / 86400) > a.expiryDay) flag("allowance-expired", "paid on day " + Math.floor(q.time / 86400) + " after the allowance's expiry day " + a.expiryDay);
    s.insertSpend({ walletId, counter: p.counter, allowanceKey, capMinor: a.capMinor, merchantId: t.merchantId, terminalId: t.id, ref: txHex, amountMinor: q.amountMinor });
    // an allowance the wallet had already swapped for a newer one at a sync: its app always pays with the newest, so
    // spending an older one afterwards is a wallet replaying its allowances to spend several caps (security review 8)
    const issued = s.allowanceByKey(walletId, allowanceKey);
    if (issued && issued.replacedAt && row.txTime > issued.replacedAt) {
      flag("stale-allowance", "paid under allowance " + issued.n + ", replaced " + Math.round((row.txTime - issued.replacedAt) / 60000) + " min before the payment");
      g.deny(walletId, "paid with a replaced allowance", t.merchantId, t.id);
    }
    // the money: purse (then available, then debt) -> merchant pending; the issuer guarantees what the terminal took
    const drawn = g.money.offlinePayment({ ref: txHex, merchantId: t.merchantId, walletId, amountMinor: q.amountMinor, currency: q.currency, allowance: issued, memo: "counter " + p.counter });
    if (drawn.debt > 0) {
      flag("beyond-purse", "paid " + q.amountMinor + ": " + drawn.fromPurse + " from the purse, " + drawn.fromAvailable + " from available, " + drawn.debt + " became the wallet's debt");
      g.deny(walletId, "spent beyond its purse and balance: debt " + drawn.debt, t.merchantId, t.id);
    }
    // the payer synced first and reported this payment: matched at once
    const rep = s.reportAt(walletId, p.counter);
    const matched = !!rep && rep.terminalId === t.id && rep.amountMinor === q.amountMinor && !twice.length;
    if (rep && !matched) flag("wallet-mismatch", "the wallet reported counter " + p.counter + " at terminal " + rep.terminalId + " for " + rep.amountMinor);
    if (matched) {
      g.money.approve(row);
      row.status = "approved";
    }
    s.insertLedger(row);
    g.log(t.merchantId, t.id, "ledger-entered", { ref: txHex, kind: "wallet", amountMinor: row.amountMinor, walletId, counter: p.counter, status: row.status });
    // the payer hears that the issuer holds their payment (not when their own sync already confirmed it)
    if (!matched && !fromPayer) g.queueSms(walletId, txHex, offlineReceivedText({ amount: money(row.amountMinor, row.currency), merchant: g.merchant(t.merchantId).name, utr: g.utrOf(txHex), holdUntil: row.holdUntil }), "offline-received");
    g.event(t.merchantId, matched ? "payment.confirmed" : "payment.received", g.eventBody(row));
    if (e.orderRef) {
      g.event(t.merchantId, "order.paid", g.eventBody(row));
      orderPaid(g, t.merchantId, e.orderRef, row);
    }
    return;
  }
  if (e.kind === 2) {
    const c = decodePaid(e.paid)!;
    const inv = s.getInvoice(t.merchantId, t.id, c.invoiceNo)!;
    const ref = "pay:" + inv.paymentRef;
    const orderRef = e.orderRef || inv.orderRef;
    // the order callback went out when the invoice was paid online, unless only the terminal knew the order
    const orderNews = !!e.orderRef && !inv.orderRef;
    s.updateInvoice(t.merchantId, t.id, c.invoiceNo, { recorded: 1, orderRef });
    const l = s.ledgerByRef(t.merchantId, ref);
    if (l) s.updateLedger(t.merchantId, ref, { txId: txHex, method: e.method, orderRef, updatedAt: now });
    else {
      s.insertLedger({ ...base, ref, kind: "invoice", method: e.method, amountMinor: c.amountMinor, currency: c.currency, orderRef, status: "settled", txTime: c.paidAt * 1000 });
    }
    const row = s.ledgerByRef(t.merchantId, ref)!;
    g.log(t.merchantId, t.id, "invoice-recorded", { invoiceNo: c.invoiceNo, ref, txId: txHex, method: e.method });
    if (orderNews) g.event(t.merchantId, "order.paid", g.eventBody(row));
    orderPaid(g, t.merchantId, orderRef, row);
    return;
  }
  const x = decodeRefund(e.refund)!;
  // verifyEntry refused a refund of an original the books do not hold, or beyond what remains of it
  const orig = s.ledgerByTx(t.merchantId, toHex(x.txId)) as LedgerRow;
  const row: LedgerRow = {
    ...base,
    ref: txHex,
    kind: "refund",
    method: x.reason,
    amountMinor: -x.amountMinor,
    currency: x.currency,
    walletId: orig.walletId,
    orderRef: orig.orderRef,
    status: "settled",
    txTime: x.time * 1000,
    original: orig.ref,
  };
  s.insertLedger(row);
  g.money.refund(txHex, t.merchantId, x.amountMinor, x.currency, orig);
  g.log(t.merchantId, t.id, "ledger-entered", { ref: txHex, kind: "refund", amountMinor: row.amountMinor, original: row.original, status: row.status });
  g.event(t.merchantId, "refund.recorded", { ...g.eventBody(row), original: row.original, reason: x.reason === 1 ? "void" : "refund" });
}

/** The ledger row of a wallet payment with exactly this request and payment (bytes), entered under any txId. */
export function samePayment(g: Gateway, request: Uint8Array, payment: Uint8Array): LedgerRow | null {
  const p = paymentOf(payment);
  if (!p) return null;
  const walletId = paymentWalletId(g.crypto, payment);
  for (const sp of g.store.spendsAt(walletId, p.counter)) {
    const l = g.store.ledgerByRef(sp.merchantId, sp.ref);
    if (!l) continue;
    const rec = g.store.recordOfTx(sp.merchantId, sp.terminalId, l.txId) ?? g.store.recordsAt(sp.merchantId, sp.terminalId, 0).find((r) => r.txId === l.txId && r.status === "evidence");
    const had = rec ? decodeEntry(rec.entry) : null;
    if (had && had.kind === 1 && sameBytes(had.request, request) && sameBytes(had.payment, payment)) return l;
  }
  return null;
}

export function utrOf(_g: Gateway, txIdHex: string): string {
  const b = fromHex(txIdHex);
  if (!b || b.length !== 8) return txIdHex;
  const p = txParts(b);
  return utr(p.terminalId, p.seq) || txIdHex;
}

export function eventBody(g: Gateway, l: LedgerRow): Record<string, unknown> {
  return {
    ref: l.ref,
    txId: l.txId,
    utr: l.txId ? g.utrOf(l.txId) : "",
    terminalId: l.terminalId,
    kind: l.kind,
    amountMinor: l.amountMinor,
    currency: l.currency,
    walletId: l.walletId,
    orderRef: l.orderRef,
    status: l.status,
  };
}
