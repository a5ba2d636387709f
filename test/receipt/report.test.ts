import assert from "node:assert/strict";
import { ReportTally, reportJob } from "../../firmware/receipt/report.ts";
import { printed } from "./print.ts";

const FROM = Date.UTC(2026, 10, 23, 0, 0);
const TO = Date.UTC(2026, 10, 23, 23, 59);

function day(): ReportTally {
  const t = new ReportTally();
  t.add(1, 1000, true);
  t.add(1, 2550, false);
  t.add(2, 700, false);
  t.add(5, 10000, true, true);
  t.add(0, -1000, false);
  return t;
}

function report(t: ReportTally): string {
  return printed(reportJob({ merchantName: "Corner Cafe", merchantId: "M-1001", terminalId: 42, currency: "EUR", fromMs: FROM, toMs: TO, tally: t }, {})).text;
}

describe("end-of-day report job", () => {
  it("prints the heading and the period", () => {
    const text = report(day());
    assert.match(text, /^ *END OF DAY REPORT$/m);
    assert.match(text, /^ *Terminal 42$/m);
    assert.match(text, /^From +2026-11-23 00:00$/m);
    assert.match(text, /^To +2026-11-23 23:59$/m);
  });

  it("prints count and total for each method used, and none for unused ones", () => {
    const text = report(day());
    assert.match(text, /^Wallet QR\n  2 x +EUR 35\.50$/m);
    assert.match(text, /^Wallet Bluetooth\n  1 x +EUR 7\.00$/m);
    assert.match(text, /^Invoice, online\n  1 x +EUR 100\.00$/m);
    assert.doesNotMatch(text, /Invoice, QR confirm|Invoice, BT confirm/);
  });

  it("prints refunds apart, payments total and the net", () => {
    const text = report(day());
    assert.match(text, /^Refunds and voids\n  1 x +-EUR 10\.00$/m);
    assert.match(text, /^Payments 4 +EUR 142\.50$/m);
    assert.match(text, /^Net 5 +EUR 132\.50$/m);
  });

  it("prints uploaded against not uploaded, and pending against settled as the gateway means them", () => {
    const text = report(day());
    assert.match(text, /^Not uploaded 3 +EUR 22\.50$/m);
    assert.match(text, /^Uploaded 2 +EUR 110\.00$/m);
    // an uploaded wallet payment is still pending at the gateway: only the invoice paid there is settled
    assert.match(text, /^Pending 4 +EUR 32\.50$/m);
    assert.match(text, /^Settled 1 +EUR 100\.00$/m);
  });

  it("an empty day prints zero totals", () => {
    const text = report(new ReportTally());
    assert.match(text, /^Payments 0 +EUR 0\.00$/m);
    assert.match(text, /^Pending 0 +EUR 0\.00$/m);
  });
});
