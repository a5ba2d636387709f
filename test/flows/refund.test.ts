/**
 * Refund or void (firmware/app/refund.ts) on the flow rig: the real ATECC608 driver over the emulated part, the real
 * journal. The list of journaled transactions, void against refund, the limits of an amount, and the signed,
 * journaled Refund.
 */
import assert from "node:assert/strict";
import { journaledTxs, LIST_MAX, makeRefund, reasonFor, REASON_REFUND, REASON_VOID, refundProblem } from "../../firmware/app/refund.ts";
import type { RefundInfo, TxSummary } from "../../firmware/app/refund.ts";
import { encodeEntry, EntryKind } from "../../protocol/entry.ts";
import { txId, utr } from "../../protocol/ids.ts";
import { decodeRefund, encodePaid, encodeRefund } from "../../protocol/messages.ts";
import { verifyMessage } from "../../gateway/issuer.ts";
import { flowRig, TERMINAL_ID } from "./rig.ts";

const NOW_S = 1795000000;

/** A paid-invoice entry (the simplest kind to make by hand): invoice n of amount minor units. */
function paidEntry(n: number, amount: number): Uint8Array {
  const paid = encodePaid({ terminalId: TERMINAL_ID, invoiceNo: n, amountMinor: amount, currency: 978, paidAt: NOW_S + n, method: 1, paymentRef: new Uint8Array(8), issuerKeyId: 1, issuerSig: new Uint8Array(64) });
  return encodeEntry({ kind: EntryKind.InvoicePaid, txId: txId(TERMINAL_ID, n), method: 3, paid, orderRef: "" });
}

function refundEntry(own: number, of: number, amount: number): Uint8Array {
  const refund = encodeRefund({ txId: txId(TERMINAL_ID, of), amountMinor: amount, currency: 978, time: NOW_S, reason: 2, terminalSig: new Uint8Array(64) });
  return encodeEntry({ kind: EntryKind.Refund, txId: txId(TERMINAL_ID, own), refund });
}

const rec = (payload: Uint8Array, uploaded = false) => ({ payload, uploaded });

describe("refund or void: the journaled transactions", () => {
  it("lists payments newest first with their UTR, amount and what was refunded of each", () => {
    const list = journaledTxs([rec(paidEntry(1, 1000), true), rec(paidEntry(2, 500)), rec(refundEntry(3, 1, 300)), rec(refundEntry(4, 1, 200))]);
    assert.deepEqual(
      list.map((t) => [t.utr, t.amountMinor, t.refundedMinor, t.uploaded, t.time]),
      [
        [utr(TERMINAL_ID, 2), 500, 0, false, NOW_S + 2],
        [utr(TERMINAL_ID, 1), 1000, 500, true, NOW_S + 1],
      ],
    );
  });

  it(`keeps only the newest ${LIST_MAX}, and skips a record that is not an entry`, () => {
    const recs = [rec(new Uint8Array([9, 9, 9]))];
    for (let i = 1; i <= LIST_MAX + 5; i++) recs.push(rec(paidEntry(i, i)));
    const list = journaledTxs(recs);
    assert.equal(list.length, LIST_MAX);
    assert.equal(list[0].amountMinor, LIST_MAX + 5);
    assert.equal(list[LIST_MAX - 1].amountMinor, 6);
  });

  it("voids only the whole of a transaction not yet uploaded and never refunded; anything else is a refund", () => {
    const t: TxSummary = journaledTxs([rec(paidEntry(1, 1000))])[0];
    assert.equal(reasonFor(t, 1000), REASON_VOID);
    assert.equal(reasonFor(t, 999), REASON_REFUND);
    assert.equal(reasonFor({ ...t, uploaded: true }, 1000), REASON_REFUND);
    assert.equal(reasonFor({ ...t, refundedMinor: 1 }, 999), REASON_REFUND);
  });

  it("refuses zero, more than is left, and a transaction refunded in full", () => {
    const t = journaledTxs([rec(paidEntry(1, 1000)), rec(refundEntry(2, 1, 400))])[0];
    assert.equal(refundProblem(t, 0), "Amount must be above zero");
    assert.equal(refundProblem(t, 601), "More than is left to refund");
    assert.equal(refundProblem(t, 600), null);
    assert.equal(refundProblem({ ...t, refundedMinor: 1000 }, 1), "Already refunded in full");
  });
});

describe("refund or void: making one", () => {
  it("numbers it from the SE counter, signs it with the identity key, journals entry kind 3 naming the original", () => {
    const r = flowRig();
    assert.ok(!("code" in r.journal.append(paidEntry(1, 1000))));
    const t = journaledTxs(r.journal.records(10))[0];
    let out: { err: unknown; info?: RefundInfo } | null = null;
    makeRefund({ device: r.device, terminalId: TERMINAL_ID, journal: r.journal, now: () => NOW_S * 1000 }, t, 1000, (err, info) => (out = { err, info }));
    r.advance(2000);
    assert.ok(out, "done was called");
    const o = out as { err: unknown; info?: RefundInfo };
    assert.equal(o.err, null);
    const info = o.info!;
    assert.equal(info.reason, REASON_VOID);
    assert.equal(verifyMessage(r.terminalPub, info.refund), true, "signed by the terminal's identity key");
    const m = decodeRefund(info.refund)!;
    assert.deepEqual([...m.txId], [...txId(TERMINAL_ID, 1)]);
    assert.equal(m.amountMinor, 1000);
    assert.equal(m.time, NOW_S);
    const e = r.entries();
    assert.equal(e.length, 2);
    assert.equal(e[1].kind, EntryKind.Refund);
    assert.deepEqual([...e[1].txId], [...info.txId]);
    assert.equal(t.refundedMinor, 1000);
    // nothing is left: a second one is refused and journals nothing
    let again: { code: string } | null = null;
    makeRefund({ device: r.device, terminalId: TERMINAL_ID, journal: r.journal, now: () => NOW_S * 1000 }, t, 1, (err) => (again = err));
    r.advance(2000);
    assert.equal((again as { code: string } | null)?.code, "E_REFUND");
    assert.equal(r.entries().length, 2);
  });
});
