/**
 * What a receipt costs the terminal's memory while it is made, on the real interpreter (ESPRUINO=...): the job of a
 * payment's receipt (its recovery QR by the printer's GS ( k, and as a raster for printers without it) is held in
 * one buffer, not as some 60 small arrays of about 4 JsVars each, and handed to the printer without a copy: 117 JsVars
 * held at the moment the job is complete, 337 in the old builder; with a raster QR, 1,083 for an 11 KB job, 1,306 in
 * the old one, which then copied it whole (hal/escpos.ts). The bench's peaks do not show it: they are sampled at the
 * bridge's transfers, and a receipt is made between two. Skipped without ESPRUINO.
 */
import assert from "node:assert/strict";
import { runEntry } from "./entry-run.ts";
import { interpreter } from "./interpreter.ts";

const bin = interpreter();

const ENTRY = `
import { EscPos } from "./hal/escpos.ts";
import { receiptJob } from "./firmware/receipt/receipt.ts";
declare const process: any, print: any, quit: any;
// the JsVars in use at the moment the job is complete: what the builder holds, before its bytes are copied out
let at = 0;
const bytes = EscPos.prototype.bytes;
EscPos.prototype.bytes = function () {
  at = process.memory(false).usage;
  return bytes.call(this);
};
const info = { merchantName: "Corner Coffee & Bakery", merchantId: "M-000123", terminalId: 7, utr: "ABCD-EFGH-JKLM",
  txIdHex: "0123456789abcdef", amountMinor: 123456789, currency: "EUR", method: "Wallet QR (offline)", timeMs: 1780000000000,
  settled: false, orderRef: "ORD-2026-000042", recoveryQr: "X1" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".repeat(5) };
const out: { [k: string]: number } = {};
for (const raster of [false, true]) {
  const u0 = process.memory(true).usage;
  const job = receiptJob(info, { rasterQr: raster });
  out[raster ? "raster" : "native"] = at - u0;
  out[raster ? "rasterBytes" : "nativeBytes"] = job.length;
}
print("RESULT " + JSON.stringify(out));
quit();
`;

describe("a receipt's job on the Espruino interpreter", function () {
  this.timeout(120000);
  before(function () {
    if (!bin) {
      console.log("      skipped: ESPRUINO is unset");
      this.skip();
    }
  });

  it("is made in one buffer: at most 160 JsVars held when complete with the printer's QR, a tenth of its bytes and 100 more with a raster", async () => {
    const { r, line } = await runEntry<{ native: number; raster: number; nativeBytes: number; rasterBytes: number }>(bin!, ENTRY, "receipt-memory", ["crypto"], 100000);
    console.log("      " + line);
    assert.ok(r.nativeBytes > 500 && r.rasterBytes > 3000, "a whole receipt each time: " + line);
    assert.ok(r.native <= 160, `the builder held ${r.native} JsVars (at most 160)`);
    // a flat buffer holds some 12 bytes a JsVar; a raster grows the buffer to its own size, not to twice the job
    assert.ok(r.raster <= r.rasterBytes / 10 + 100, `the builder held ${r.raster} JsVars for a ${r.rasterBytes}-byte job`);
  });
});
