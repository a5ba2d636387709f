import assert from "node:assert/strict";
import { base45Encode } from "../../protocol/codec/base45.ts";
import { receiptJob } from "../../firmware/receipt/receipt.ts";
import type { ReceiptInfo } from "../../firmware/receipt/receipt.ts";
import { ReportTally, reportJob } from "../../firmware/receipt/report.ts";
import { decodeQr, printed } from "./print.ts";

function qrText(seed: number): string {
  const b = new Uint8Array(87);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed) & 255;
  return "X1" + base45Encode(b);
}

function info(n: number): ReceiptInfo {
  return { merchantName: "Corner Cafe", merchantId: "M-1001", terminalId: 42, utr: "UTR-" + n, txIdHex: "0000002a0000000" + n, amountMinor: 100 * n,
    currency: "EUR", method: "Wallet QR", timeMs: Date.UTC(2026, 10, 23), settled: n % 2 === 0, orderRef: "", recoveryQr: qrText(n) };
}

describe("printed jobs one by one (printer.receipts())", () => {
  it("a roll of receipts and a report splits into one job each, every QR decoding from its own job's PNG", () => {
    const t = new ReportTally();
    t.add(1, 100, false);
    const parts = [receiptJob(info(1), {}), reportJob({ merchantName: "Corner Cafe", merchantId: "M-1001", terminalId: 42, currency: "EUR", fromMs: 0, toMs: 1, tally: t }, {}), receiptJob(info(2), { rasterQr: true })];
    const roll = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      roll.set(p, o);
      o += p.length;
    }
    const jobs = printed(roll).printer.receipts();
    assert.equal(jobs.length, 3);
    assert.match(jobs[0].text, /^UTR +UTR-1$/m);
    assert.match(jobs[0].text, /PENDING/);
    assert.deepEqual(jobs[0].qrs, [qrText(1)]);
    assert.equal(decodeQr(jobs[0].png), qrText(1));
    assert.match(jobs[1].text, /END OF DAY REPORT/);
    assert.equal(decodeQr(jobs[1].png), null);
    assert.match(jobs[2].text, /^UTR +UTR-2$/m);
    assert.match(jobs[2].text, /SETTLED/);
    assert.equal(decodeQr(jobs[2].png), qrText(2));
  });
});
