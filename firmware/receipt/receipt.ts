/**
 * The payment receipt as an ESC/POS job.
 *
 *   const job = receiptJob({ merchantName: "Corner Cafe", merchantId: "M-1001", terminalId: 42, utr,
 *     txIdHex: toHex(id), amountMinor: 1250, currency: "EUR", method: methodLabel(1), timeMs: now,
 *     settled: false, orderRef: "", recoveryQr: toQrText(signedReceipt) }, { rasterQr: !printerHasQr });
 *   printer.print(job, done);
 *
 * A payment the gateway approved online says so; one taken offline is pending and shows the date the gateway
 * auto-approves it (time + 3 days, UTC); a refund or void (negative
 * amount) says it is recorded and goes to the gateway at the next sync. The QR carries the signed
 * receipt, so the customer can prove and recover a pending payment even if the terminal is lost.
 */
import { COLUMNS, EscPos } from "../../hal/escpos.ts";
import { formatMoney } from "../money.ts";
import { fit, heading, qrBlock, rule } from "./common.ts";
import type { PrintOptions } from "./common.ts";
import { formatDateTime } from "./time.ts";

export type { PrintOptions } from "./common.ts";

/** How long a pending payment waits before the gateway approves it (the hold of protocol/rules.ts). */
export { HOLD_MS as AUTO_APPROVE_MS } from "../../protocol/rules.ts";
import { HOLD_MS as AUTO_APPROVE_MS } from "../../protocol/rules.ts";

export interface ReceiptInfo {
  merchantName: string;
  merchantId: string;
  terminalId: number;
  /** "XXXX-XXXX-XXXX" (protocol/ids.ts utr). */
  utr: string;
  /** The 8-byte transaction ID in hex. */
  txIdHex: string;
  /** Minor units; negative for a refund. */
  amountMinor: number;
  currency: string;
  /** e.g. methodLabel(entry.method). */
  method: string;
  /** Unix ms of the payment. */
  timeMs: number;
  /**
   * Settled by the gateway; false = pending until timeMs + AUTO_APPROVE_MS. A refund or void (negative amount) is
   * never auto-approved: unsettled, it is "sent at the next sync".
   */
  settled: boolean;
  /** Approved online by the gateway (docs/sync.md, authorize): settled, printed "APPROVED ONLINE". */
  online?: boolean;
  /** The store's order ID, "" for none. */
  orderRef: string;
  /** QR text of the signed receipt (protocol/qr.ts toQrText); "" prints no QR. */
  recoveryQr: string;
  /** Top line, default "PAYMENT" (e.g. "REFUND", "VOID"). */
  title?: string;
}


/** Label of a journal entry's method code (protocol/entry.ts: 1 QR, 2 BLE, 3..5 invoice paid). */
export function methodLabel(method: number): string {
  return ["", "Wallet QR", "Wallet Bluetooth", "Invoice, QR confirm", "Invoice, BT confirm", "Invoice, online"][method] || "Method " + method;
}

export function receiptJob(r: ReceiptInfo, o: PrintOptions): Uint8Array {
  const p = heading(new EscPos(), r.merchantName, r.merchantId, r.terminalId, o);
  rule(p);
  p.align(1).bold(true).line(r.title || "PAYMENT").bold(false).align(0);
  p.pair("UTR", r.utr);
  p.pair("Tx", r.txIdHex);
  p.pair("Time", formatDateTime(r.timeMs));
  p.pair("Method", fit(r.method, COLUMNS - 8));
  if (r.orderRef) p.pair("Order", fit(r.orderRef, COLUMNS - 7));
  rule(p);
  p.align(1).size(2, 2).bold(true).line(fit(formatMoney(r.amountMinor, r.currency), COLUMNS / 2)).size(1, 1);
  if (r.online) p.line("APPROVED ONLINE").bold(false);
  else if (r.settled) p.line("SETTLED").bold(false);
  else if (r.amountMinor < 0) p.line("RECORDED").bold(false).line("sent at the next sync");
  else p.line("OFFLINE").line("PENDING").bold(false).line("auto-approves " + formatDateTime(r.timeMs + AUTO_APPROVE_MS));
  p.align(0);
  if (r.recoveryQr) {
    qrBlock(p, r.recoveryQr, o);
    p.align(1).line("Keep this receipt: its QR").line("proves and recovers the payment").align(0);
  }
  return p.feed(3).bytes();
}
