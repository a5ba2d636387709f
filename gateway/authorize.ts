/**
 * Online authorization (docs/sync.md, op `authorize`): an online terminal sends a customer-presented wallet payment
 * before it journals it; the gateway checks it against its books across all terminals (signatures, deny list,
 * counter, allowance, cap, purse) and either settles it at once (no hold) or declines it with nothing changed.
 *
 *   // inside linkOp's store transaction, after the request opened under the terminal's link keys:
 *   const reply = authorize(g, terminalRow, request);   // { result: "approved", txId, ref, status, time } | { result: "declined", txId, code, message }
 *
 * Idempotent by txId: the same entry again is approved again with the same answer, and the terminal's later upload
 * of it finds the entered record (seq 0) and is acknowledged without entering anything (gateway/link.ts ingest).
 */
import { toHex } from "./hex.ts";
import { decodeEntry, entryWalletId } from "../protocol/entry.ts";
import { txParts } from "../protocol/ids.ts";
import { decodeRequest } from "../protocol/messages.ts";
import { paymentOf } from "./decoded.ts";
import type { AuthorizeReply } from "../protocol/authorize.ts";
import type { LinkRequest } from "../protocol/sync.ts";
import { walletAvailable } from "./books.ts";
import { orderPaid } from "./orders.ts";
import { walletPaymentRow } from "./reconcile.ts";
import type { Gateway } from "./gateway.ts";
import type { LedgerRow, TerminalRow } from "./store.ts";
import { DAY_MS, strictBase64 } from "./fields.ts";

/** The message of the record an authorization keeps (seq 0, status entered): how a repeat recognises its own. */
export const AUTHORIZED = "authorized online";

/** The answer to one `authorize` request from terminal `t` (its envelope already opened and its seq stored). */
export function authorize(g: Gateway, t: TerminalRow, m: LinkRequest): AuthorizeReply {
  const s = g.store;
  const bytes = typeof m.entry === "string" ? strictBase64(m.entry) : null;
  const e = bytes ? decodeEntry(bytes) : null;
  const txHex = e ? toHex(e.txId) : "";
  const decline = (code: string, message: string): AuthorizeReply => {
    // nothing of the books changes: the activity log keeps the refusal (a denied wallet trying its luck is news)
    g.log(t.merchantId, t.id, "authorize-declined", { txId: txHex, code, message });
    return { result: "declined", txId: txHex, code, message };
  };
  const approved = (l: LedgerRow): AuthorizeReply => ({ result: "approved", txId: txHex, ref: l.ref, status: "approved", time: l.createdAt });
  if (!bytes || !e) return decline("E_ENTRY", "entry is not a well-formed journal entry");
  if (e.kind !== 1) return decline("A_KIND", "only a wallet payment is authorized online");
  if (txParts(e.txId).terminalId !== t.id) return decline("A_TXID", "transaction ID names terminal " + txParts(e.txId).terminalId + ", not this one");
  if (s.txIdTaken(txHex)) {
    // the same entry authorized before (a retry): the same answer; anything else under this txId is not this payment
    const rec = s.recordOfTx(t.merchantId, t.id, txHex);
    const l = s.ledgerByTx(t.merchantId, txHex);
    if (rec && l && rec.seq === 0 && rec.message === AUTHORIZED && toHex(rec.entry) === toHex(bytes)) return approved(l);
    return decline("A_TXID", "transaction " + txHex + " is held already");
  }
  const v = g.verifyEntry(t, e, true);
  if (!v.ok) return decline(v.code, v.message);
  const again = g.samePayment(e.request, e.payment);
  if (again) return decline("A_DUPLICATE", "this payment is entered already as " + again.ref);
  const q = decodeRequest(e.request)!;
  const p = paymentOf(e.payment)!;
  const a = p.allowance;
  const walletId = entryWalletId(g.crypto, e);
  if (s.isDenied(walletId)) return decline("A_DENIED", "the wallet is on the deny list");
  // counters across all terminals: used at any of them, or reported by the wallet for another payment
  const used = s.spendsAt(walletId, p.counter);
  if (used.length) return decline("A_COUNTER", "counter " + p.counter + " was used already at terminal " + used[0].terminalId);
  const rep = s.reportAt(walletId, p.counter);
  if (rep && (rep.terminalId !== t.id || rep.amountMinor !== q.amountMinor)) return decline("A_COUNTER", "the wallet reported counter " + p.counter + " for another payment");
  if (p.counter < a.startCounter) return decline("A_COUNTER", "counter " + p.counter + " is below the allowance's start " + a.startCounter);
  const allowanceKey = a.expiryDay + ":" + a.startCounter;
  const issued = s.allowanceByKey(walletId, allowanceKey);
  if (!issued) return decline("A_ALLOWANCE", "the allowance was not issued by this gateway");
  if (issued.status !== "live") return decline("A_ALLOWANCE", "the allowance was " + issued.status + ": the wallet has a newer one");
  if (Math.floor(g.now() / DAY_MS) > a.expiryDay) return decline("A_ALLOWANCE", "the allowance expired on day " + a.expiryDay);
  const spent = s.spentUnder(walletId, allowanceKey) + q.amountMinor;
  if (spent > a.capMinor) return decline("A_CAP", "spent " + spent + " under an allowance of " + a.capMinor);
  // the purse less what the wallet reported paying and no terminal has entered yet (that money is promised), then
  // the available balance: an online payment never becomes debt
  const purse = Math.max(0, g.money.purse(issued) - g.reportedNotEntered(walletId, issued));
  const available = Math.max(0, g.money.books.balance(walletAvailable(walletId), q.currency));
  if (purse + available < q.amountMinor) return decline("A_FUNDS", "the purse (" + purse + ") and available balance (" + available + ") cannot cover " + q.amountMinor);

  // settled at once: the record (seq 0: the journal's own seq comes with its upload), the spend, the money, the row
  const now = g.now();
  s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: 0, prev: "", entry: bytes, txId: txHex, status: "entered", code: "", message: AUTHORIZED, receivedAt: now });
  s.insertSpend({ walletId, counter: p.counter, allowanceKey, capMinor: a.capMinor, merchantId: t.merchantId, terminalId: t.id, ref: txHex, amountMinor: q.amountMinor });
  const fromPurse = Math.min(q.amountMinor, purse);
  g.money.authorized({ ref: txHex, merchantId: t.merchantId, walletId, amountMinor: q.amountMinor, currency: q.currency, allowance: issued, fromPurse, memo: "counter " + p.counter + ", online" });
  const row = walletPaymentRow(t, e, txHex, walletId, now, "approved");
  s.insertLedger(row);
  g.log(t.merchantId, t.id, "authorized", { ref: txHex, amountMinor: row.amountMinor, walletId, counter: p.counter, fromPurse, fromAvailable: q.amountMinor - fromPurse });
  g.event(t.merchantId, "payment.confirmed", g.eventBody(row));
  if (e.orderRef) {
    g.event(t.merchantId, "order.paid", g.eventBody(row));
    orderPaid(g, t.merchantId, e.orderRef, row);
  }
  return approved(row);
}
