/**
 * Refund or void (flow 5) of a transaction in the journal, once the merchant's PIN was checked (./terminal.ts).
 *
 *   const c = txCollector();  journal.forEach(true, (r) => c.add(r));  const list = c.list();   // newest first
 *   const t = list[0];
 *   makeRefund(ctx, t, t.amountMinor - t.refundedMinor, (err, r) => { ...print r... });
 *
 * A void takes back the whole of a transaction the gateway has not been sent yet; anything else (a part, or a
 * transaction already uploaded) is a refund. Both are a Refund message (docs/protocol.md: txId of the original,
 * amount, currency, time, reason 1 void / 2 refund) signed by the terminal's identity key, journaled as entry kind 3
 * under a txId of its own (SE counter 0, like a payment) and uploaded like one.
 */
import type { Device } from "../../hal/device.ts";
import { SeSlot } from "../../hal/secure-element.ts";
import { equalConstantTime } from "../../protocol/codec/hex.ts";
import { decodeEntry, encodeEntry, entryAmount, entryCurrency, EntryKind } from "../../protocol/entry.ts";
import { txId as makeTxId, txParts, utr } from "../../protocol/ids.ts";
import { encodeRefund, SIG, signedPart } from "../../protocol/messages.ts";

/** The SE counter that numbers transactions (refunds get their own number too). */
const TX_COUNTER = 0;
export const REASON_VOID = 1;
export const REASON_REFUND = 2;

/** One journaled payment as the refund screens show it. */
export interface TxSummary {
  txId: Uint8Array;
  utr: string;
  amountMinor: number;
  /** ISO 4217 numeric. */
  currency: number;
  /** Entry method (1..5, protocol/entry.ts). */
  method: number;
  /** Unix seconds. */
  time: number;
  /** Sent to the gateway already (then only a refund, never a void). */
  uploaded: boolean;
  /** Refunded or voided so far (minor units). */
  refundedMinor: number;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

/** Most transactions the refund list keeps (the newest). */
export const LIST_MAX = 32;

/**
 * Collects the refund list record by record (journal.forEach hands them one at a time, oldest first): payments and
 * paid invoices, the newest LIST_MAX, each with the refunds recorded against it.
 */
export function txCollector(): { add(rec: { payload: Uint8Array; uploaded: boolean }): void; list(): TxSummary[] } {
  const out: TxSummary[] = [];
  return {
    add(rec) {
      const e = decodeEntry(rec.payload);
      if (!e) return;
      if (e.kind === EntryKind.Refund) {
        // a refund comes after its original in the journal: it is in the list already, or too old to be shown
        const t = findTx(out, e.refund.subarray(2, 10));
        if (t) t.refundedMinor -= entryAmount(e);
        return;
      }
      const p = txParts(e.txId);
      // the signed message's time: the request's (offset 20) or the confirmation's paidAt (offset 16)
      const time = e.kind === EntryKind.WalletPayment ? u32(e.request, 20) : u32(e.paid, 16);
      if (out.length >= LIST_MAX) out.shift();
      out.push({ txId: e.txId, utr: utr(p.terminalId, p.seq), amountMinor: entryAmount(e), currency: entryCurrency(e), method: e.method, time: time, uploaded: rec.uploaded, refundedMinor: 0 });
    },
    /** Newest first. */
    list() {
      return out.slice().reverse();
    },
  };
}

/** txCollector over records in journal order (oldest first); the list newest first. */
export function journaledTxs(recs: { payload: Uint8Array; uploaded: boolean }[]): TxSummary[] {
  const c = txCollector();
  for (let i = 0; i < recs.length; i++) c.add(recs[i]);
  return c.list();
}

/** The transaction with this txId, or null. */
export function findTx(list: TxSummary[], id: Uint8Array): TxSummary | null {
  for (let i = 0; i < list.length; i++) if (equalConstantTime(list[i].txId, id)) return list[i];
  return null;
}

/** What a recorded refund hands back for the receipt and the screen. */
export interface RefundInfo {
  txId: Uint8Array;
  utr: string;
  reason: number;
  amountMinor: number;
  time: number;
  /** The signed Refund message (85 bytes), printed as a QR. */
  refund: Uint8Array;
}

export interface RefundContext {
  device: Device;
  terminalId: number;
  journal: { append(p: Uint8Array): { seq: number } | { code: string; message: string }; canAccept(): { code: string; message: string } | null };
  /** Trusted wall-clock ms. */
  now(): number;
}

/** Why a refund of `amountMinor` cannot be made, or null. */
export function refundProblem(t: TxSummary, amountMinor: number): string | null {
  const left = t.amountMinor - t.refundedMinor;
  if (left <= 0) return "Already refunded in full";
  if (!(amountMinor > 0)) return "Amount must be above zero";
  if (amountMinor > left) return "More than is left to refund";
  return null;
}

/** Void when the whole of a transaction not yet uploaded, and never refunded, goes back; else refund. */
export function reasonFor(t: TxSummary, amountMinor: number): number {
  return !t.uploaded && t.refundedMinor === 0 && amountMinor === t.amountMinor ? REASON_VOID : REASON_REFUND;
}

/** Numbers, signs and journals the refund; the caller prints it. */
export function makeRefund(c: RefundContext, t: TxSummary, amountMinor: number, done: (err: { code: string; message: string } | null, r?: RefundInfo) => void): void {
  const bad = refundProblem(t, amountMinor);
  if (bad) return done({ code: "E_REFUND", message: bad });
  const full = c.journal.canAccept();
  if (full) return done(full);
  const d = c.device;
  const reason = reasonFor(t, amountMinor);
  d.secure.counter(TX_COUNTER, true, (err, seq) => {
    if (err || seq === undefined) return done({ code: "E_SE", message: "Secure element: no transaction number (" + err + ")" });
    const time = Math.floor(c.now() / 1000);
    const m = encodeRefund({ txId: t.txId, amountMinor: amountMinor, currency: t.currency, time: time, reason: reason, terminalSig: new Uint8Array(SIG) });
    d.secure.sign(SeSlot.Identity, d.crypto.sha256(signedPart(m)), (serr, sig) => {
      // unsigned, the gateway would refuse it: nothing is journaled then
      if (serr || !sig || sig.length !== SIG) return done({ code: "E_SE", message: "Secure element: signing failed (" + serr + ")" });
      m.set(sig, m.length - SIG);
      const id = makeTxId(c.terminalId, seq);
      const r = c.journal.append(encodeEntry({ kind: EntryKind.Refund, txId: id, refund: m }));
      if ("code" in r) return done(r);
      t.refundedMinor += amountMinor;
      done(null, { txId: id, utr: utr(c.terminalId, seq), reason: reason, amountMinor: amountMinor, time: time, refund: m });
    });
  });
}
