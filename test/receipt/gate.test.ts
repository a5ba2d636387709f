/** Receipts, risk limits, deny list and activity log pass the Espruino gate, compiled as for the device. */
import assert from "node:assert/strict";
import { compile } from "../../build.ts";
import { devkitData as devkit } from "../../boards/devkit-data.ts";
import { checkBundle } from "../gate/espruino-gate.ts";

const ENTRY = `
import { devkit } from "./boards/devkit.ts";
import { ActivityLog } from "./firmware/activity.ts";
import { checkLimits, DEFAULT_LIMITS, denyListFromHex, denyListHasHex, loadDenyList, saveDenyList } from "./firmware/app/limits.ts";
import { receiptJob, methodLabel } from "./firmware/receipt/receipt.ts";
import { ReportTally, reportJob } from "./firmware/receipt/report.ts";
import { diagnosticsJob, provisioningJob } from "./firmware/receipt/service.ts";
const d = devkit.createDevice("gate");
const log = new ActivityLog(d.storage, () => d.clock.now());
log.add("boot", "gate");
print(log.recent(3).join("|"));
const dl = denyListFromHex(["0102030405060708"], 1);
saveDenyList(d.storage, dl);
print(denyListHasHex(loadDenyList(d.storage), "0102030405060708"));
const r = checkLimits(DEFAULT_LIMITS, { amountMinor: 1, unsyncedMinor: 0, walletSpentMinor: 0, msSinceSync: 0, denied: false });
print(r ? r.message : "ok");
const job = receiptJob({ merchantName: "M", merchantId: "1", terminalId: 2, utr: "U", txIdHex: "00", amountMinor: 5, currency: "EUR",
  method: methodLabel(1), timeMs: 0, settled: false, orderRef: "", recoveryQr: "X1ABC" }, { rasterQr: true });
const t = new ReportTally();
t.add(1, 5, false);
print(job.length + reportJob({ merchantName: "M", merchantId: "1", terminalId: 2, currency: "EUR", fromMs: 0, toMs: 1, tally: t }, {}).length +
  provisioningJob({ terminalId: 2, merchantName: "M", merchantId: "1", gatewayUrl: "g", firmware: "1", identityKeyHex: "ab", timeMs: 0 }, {}).length +
  diagnosticsJob(["x"], {}).length);
`;

describe("receipts, limits and activity log pass the Espruino gate", function () {
  this.timeout(30000);
  it("compiled as for the device, with the devkit board", async () => {
    const js = await compile(ENTRY, "receipt.entry.ts", devkit.platform.builtinModules);
    assert.deepEqual(checkBundle(js, "receipt.js"), []);
  });
});
