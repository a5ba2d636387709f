/**
 * End-of-day report: count and total by method, refunds, uploaded against not, pending against settled.
 *
 *   const t = new ReportTally();
 *   for each journal entry of the day: t.add(entry.method, entryAmount(entry), uploaded, settled);   // refunds: method 0
 *   printer.print(reportJob({ merchantName, merchantId, terminalId, currency, fromMs, toMs, tally: t }, opts), done);
 */
import { EscPos } from "../../hal/escpos.ts";
import { formatMoney } from "../money.ts";
import { heading, rule } from "./common.ts";
import type { PrintOptions } from "./common.ts";
import { methodLabel } from "./receipt.ts";
import { formatDateTime } from "./time.ts";

/** Methods 1..5 of the journal; slot 0 holds refunds and voids. */
const SLOTS = 6;

/**
 * Running totals in typed arrays (no per-transaction objects). Amounts in minor units. The states are the
 * gateway's words (docs/gateway.md, ledger statuses): uploaded = the gateway acknowledged the record (sync's
 * `acked`), settled = money the gateway has settled (an invoice is paid at the gateway; a refund is settled once
 * it holds it; a wallet payment the gateway approved online, which it settled before the journal wrote it, as the
 * record's flag says), pending = everything else (a wallet payment taken offline waits for its payer or the 3-day
 * rule even once uploaded: the terminal learns nothing more of it from the gateway).
 */
export class ReportTally {
  /** Per method slot (0 = refunds): count and total. */
  readonly count = new Float64Array(SLOTS);
  readonly total = new Float64Array(SLOTS);
  /** [not uploaded, uploaded, pending, settled] counts and totals over all transactions (refunds negative). */
  readonly stateCount = new Float64Array(4);
  readonly stateTotal = new Float64Array(4);

  /** One journaled transaction: `method` 1..5, or 0 for a refund / void (amount negative). */
  add(method: number, amountMinor: number, uploaded: boolean, settled?: boolean): void {
    const m = method > 0 && method < SLOTS ? method : 0;
    this.count[m]++;
    this.total[m] += amountMinor;
    const u = uploaded ? 1 : 0;
    const s = settled ? 3 : 2;
    this.stateCount[u]++;
    this.stateTotal[u] += amountMinor;
    this.stateCount[s]++;
    this.stateTotal[s] += amountMinor;
  }
}

export interface ReportInfo {
  merchantName: string;
  merchantId: string;
  terminalId: number;
  currency: string;
  /** The period covered, Unix ms. */
  fromMs: number;
  toMs: number;
  tally: ReportTally;
}

export function reportJob(r: ReportInfo, o: PrintOptions): Uint8Array {
  const p = heading(new EscPos(), r.merchantName, r.merchantId, r.terminalId, o);
  const t = r.tally;
  const money = (x: number) => formatMoney(x, r.currency);
  rule(p);
  p.align(1).bold(true).line("END OF DAY REPORT").bold(false).align(0);
  p.pair("From", formatDateTime(r.fromMs));
  p.pair("To", formatDateTime(r.toMs));
  rule(p);
  let n = 0;
  let sum = 0;
  for (let m = 1; m < SLOTS; m++) {
    if (!t.count[m]) continue;
    p.line(methodLabel(m)).pair("  " + t.count[m] + " x", money(t.total[m]));
    n += t.count[m];
    sum += t.total[m];
  }
  if (t.count[0]) p.line("Refunds and voids").pair("  " + t.count[0] + " x", money(t.total[0]));
  rule(p);
  p.bold(true).pair("Payments " + n, money(sum)).bold(false);
  p.pair("Net " + (n + t.count[0]), money(sum + t.total[0]));
  p.pair("Not uploaded " + t.stateCount[0], money(t.stateTotal[0]));
  p.pair("Uploaded " + t.stateCount[1], money(t.stateTotal[1]));
  p.pair("Pending " + t.stateCount[2], money(t.stateTotal[2]));
  p.pair("Settled " + t.stateCount[3], money(t.stateTotal[3]));
  return p.feed(3).bytes();
}
