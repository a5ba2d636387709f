/**
 * The end-of-day report (merchant menu 2): today's (UTC) journaled transactions by method, uploaded or not,
 * pending or settled as the gateway means them (firmware/receipt/report.ts), printed; no keys of its own.
 *
 *   printReport(kit);
 */
import { Ink } from "../../hal/display.ts";
import { decodeEntry, entryAmount, EntryKind } from "../../protocol/entry.ts";
import { DAY_MS } from "../app/limits.ts";
import { ReportTally, reportJob } from "../receipt/report.ts";
import type { Kit } from "./kit.ts";

/** Unix seconds of an entry: the request's time, the confirmation's paidAt, the refund's time. */
export function entryTime(e: { kind: number; request?: Uint8Array; paid?: Uint8Array; refund?: Uint8Array }): number {
  const b = (e.kind === EntryKind.WalletPayment ? e.request : e.kind === EntryKind.InvoicePaid ? e.paid : e.refund) as Uint8Array;
  const o = e.kind === EntryKind.WalletPayment ? 20 : 16;
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

export function printReport(k: Kit): void {
  const journal = k.ready();
  if (!journal) return k.noJournal();
  const t = new ReportTally();
  const day = Math.floor(k.now() / DAY_MS);
  // one record at a time (journal.forEach keeps none)
  journal.forEach(true, (r) => {
    const e = decodeEntry(r.payload);
    // settled as the gateway means it: an invoice paid there, a refund it holds, a wallet payment it approved online
    // (the record's flag, so after a reboot too); any other wallet payment waits (pending)
    if (e && Math.floor(entryTime(e) / 86400) === day) t.add(e.kind === EntryKind.Refund ? 0 : e.method, entryAmount(e), r.acked, r.online || e.kind === EntryKind.InvoicePaid || (r.acked && e.kind === EntryKind.Refund));
  });
  k.busy("Printing", ["End-of-day report"]);
  const c = k.cfg;
  const job = reportJob({ merchantName: c.merchantName, merchantId: String(c.merchantId), terminalId: k.terminalId, currency: c.currency, fromMs: day * DAY_MS, toMs: k.now(), tally: t }, {});
  k.d.printer.print(job, (err) => k.result(err ? "Printer: " + err : "Report printed", err ? Ink.Alert : Ink.Accent, []));
}
