/**
 * Receipts, limits, deny list and activity log on the real Espruino interpreter (ESPRUINO=...): the jobs it builds
 * must be the bytes Node builds, and the deny list and activity log must work over its own Storage. Skipped when no
 * interpreter is given.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../build.ts";
import { checkLimits, DAY_MS } from "../../firmware/app/limits.ts";
import { receiptJob } from "../../firmware/receipt/receipt.ts";
import { ReportTally, reportJob } from "../../firmware/receipt/report.ts";
import { interpreter, runOnInterpreter } from "../espruino/interpreter.ts";

const QR = "X1" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$%*+-./:".repeat(3);
const INFO = `{ merchantName: "Corner Cafe", merchantId: "M-1001", terminalId: 42, utr: "0000-01A0-0037", txIdHex: "0000002a00000007",
  amountMinor: 123456, currency: "EUR", method: "Wallet QR", timeMs: 1795423200000, settled: false, orderRef: "ORD-1", recoveryQr: "${QR}" }`;

const SCRIPT = `
import { storage } from "./hal/espruino/storage.ts";
import { ActivityLog } from "./firmware/activity.ts";
import { checkLimits, DAY_MS, denyListFromHex, denyListHasHex, loadDenyList, saveDenyList } from "./firmware/app/limits.ts";
import { receiptJob } from "./firmware/receipt/receipt.ts";
import { ReportTally, reportJob } from "./firmware/receipt/report.ts";
const out = (s: string) => console.log("OUT " + s);
function sum(b: Uint8Array): string {
  let a = 1, s = 0;
  for (let i = 0; i < b.length; i++) { a = (a + b[i]) % 65521; s = (s + a) % 65521; }
  return b.length + ":" + s + ":" + a;
}
const info: any = ${INFO};
out("qr " + sum(receiptJob(info, {})));
out("raster " + sum(receiptJob(info, { rasterQr: true })));
const t = new ReportTally();
t.add(1, 1000, true); t.add(2, 2550, false); t.add(0, -500, false);
out("report " + sum(reportJob({ merchantName: "C", merchantId: "M", terminalId: 1, currency: "EUR", fromMs: 0, toMs: DAY_MS, tally: t }, {})));
const L = { perTxMinor: 10000, unsyncedMinor: 40000, maxDaysOffline: 4, perWalletMinor: 20000 };
const r = checkLimits(L, { amountMinor: 8000, unsyncedMinor: 0, walletSpentMinor: 0, msSinceSync: DAY_MS, denied: false, currency: "EUR" });
out("limit " + (r ? r.code + " " + r.message : "none"));
const S = require("Storage");
S.eraseAll();
const st = storage();
const ids: string[] = [];
for (let i = 0; i < 200; i++) ids.push(("000" + ((i * 7919) % 1000)).slice(-4) + "000000000000");
saveDenyList(st, denyListFromHex(ids, 5));
const d = loadDenyList(st);
out("deny " + d.count + " " + d.version + " " + denyListHasHex(d, ids[17]) + " " + denyListHasHex(d, "ffff000000000000"));
let now = 1795423200000;
const log = new ActivityLog(st, () => now);
for (let i = 0; i < 120; i++) { log.add("sync", "round " + i); now += 60000; }
const again = new ActivityLog(st, () => now);
out("log " + again.recent(3).join("|") + " " + S.getStats().trashCount);
`;

function sum(b: Uint8Array): string {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    a = (a + b[i]) % 65521;
    s = (s + a) % 65521;
  }
  return b.length + ":" + s + ":" + a;
}

describe("receipts, limits and activity log on the Espruino interpreter", function () {
  this.timeout(120000);
  it("build the same jobs as Node and keep the deny list and log in its Storage", async function () {
    const bin = interpreter();
    if (!bin) return this.skip();
    const js = await compile(SCRIPT, "receipt-probe.ts", ["crypto", "Storage"]);
    const file = join(mkdtempSync(join(tmpdir(), "receipt-probe-")), "probe.js");
    writeFileSync(file, js + "\nquit();\n");
    const run = await runOnInterpreter(bin, file);
    assert.deepEqual(run.errors, [], run.lines.join("\n"));
    const got: Record<string, string> = {};
    for (const l of run.lines) if (l.startsWith("OUT ")) got[l.slice(4, l.indexOf(" ", 4))] = l.slice(l.indexOf(" ", 4) + 1);
    const info = new Function("return " + INFO)();
    assert.equal(got.qr, sum(receiptJob(info, {})));
    assert.equal(got.raster, sum(receiptJob(info, { rasterQr: true })));
    const t = new ReportTally();
    t.add(1, 1000, true);
    t.add(2, 2550, false);
    t.add(0, -500, false);
    assert.equal(got.report, sum(reportJob({ merchantName: "C", merchantId: "M", terminalId: 1, currency: "EUR", fromMs: 0, toMs: DAY_MS, tally: t }, {})));
    const r = checkLimits({ perTxMinor: 10000, unsyncedMinor: 40000, maxDaysOffline: 4, perWalletMinor: 20000 }, { amountMinor: 8000, unsyncedMinor: 0, walletSpentMinor: 0, msSinceSync: DAY_MS, denied: false, currency: "EUR" });
    assert.equal(got.limit, r!.code + " " + r!.message);
    assert.equal(got.deny, "200 5 true false");
    assert.match(got.log, /^2026-11-23 (\d\d:\d\d) sync round 119\|2026-11-23 \d\d:\d\d sync round 118\|2026-11-23 \d\d:\d\d sync round 117 \d+$/);
  });
});
