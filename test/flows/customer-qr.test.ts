/**
 * Customer presents a QR, end to end in the simulator: the devkit bundle (dist/devkit.js) provisioned through the
 * technician console, the merchant types an amount and #, the customer's wallet (SDK) pays the request QR decoded
 * from the panel, the scanner reads the wallet's payment, the receipt prints with the terminal-signed receipt QR.
 */
import assert from "node:assert/strict";
import { decodeReceipt, MsgType } from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { parseRequestQr } from "../../protocol/qr-session.ts";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

async function openAmount(w: World, digits: string): Promise<string> {
  w.keys(digits + "#");
  let req: string | null = null;
  for (let t = 0; t < 10000 && req === null; t += 500) {
    await w.run(500);
    req = w.displayQr();
  }
  assert.ok(req, "a request QR on the display; screen: " + w.screenText().join(" | "));
  return req;
}

describe("flow: customer presents a QR (devkit bundle in the simulator)", function () {
  this.timeout(120000);
  let w: World;

  before(async () => {
    w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(500);
  });

  it("takes a payment: request QR on the panel, wallet's code to the scanner, Paid, receipt with the signed receipt QR", async () => {
    const req = await openAmount(w, "1250");
    // the request carries the secure element's session key (R2), and the wallet's code is sealed to it (P2)
    assert.equal(req.slice(0, 2), "R2");
    assert.ok(parseRequestQr(req), "an R2 request with a compressed session key");
    assert.ok(w.screenText().join("\n").includes("EUR 12.50"));
    const printed = w.printedQrs().length;
    const pay = await w.pay("alice", req);
    assert.equal(pay.slice(0, 2), "P2");
    assert.equal(pay.length, 467);
    w.scanText(pay);
    await w.until("the receipt", () => w.printedQrs().length > printed, 20000);
    await w.until("the Paid screen with the UTR", () => w.screenText().some((l) => l.indexOf("UTR") >= 0), 10000);
    assert.ok(w.screenText().includes("Paid"));
    const screen = w.screenText().join("\n");
    assert.match(screen, /UTR [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    assert.match(screen, /pending 1/);
    const qr = w.printedQrs()[w.printedQrs().length - 1];
    const m = fromQrText(qr);
    assert.ok("msg" in m && m.msg[1] === MsgType.Receipt, "the printed QR is a receipt");
    const rc = decodeReceipt((m as { msg: Uint8Array }).msg);
    assert.ok(rc);
    const paper = w.paperText();
    assert.match(paper, /EUR 12\.50/);
    assert.match(paper, /PENDING/);
    assert.match(paper, /Cafe Blue/);
    assert.equal(w.walletInfo("alice").spentMinor, 1250);
    assert.deepEqual(w.host.errors, []);
  });

  it("refuses the same payment scanned again on a new request (R11: signed for another request) with its code", async () => {
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    const req = await openAmount(w, "500");
    const parsed = parseRequestQr(req);
    assert.ok(parsed);
    const sealed = await w.pay("bob", req);
    // the same request in the clear form (P1): a wallet may show that too, and it is still bound to its request
    const pay = await w.pay("bob", toQrText(parsed.request));
    w.keys("C");
    await w.run(200);
    const req2 = await openAmount(w, "500");
    assert.notEqual(req2, req);
    // sealed to the first request: it does not open under the second; the notice, then the request again
    w.scanText(sealed);
    await w.until("the R01 notice", () => w.screenText().join("\n").indexOf("R01") >= 0, 5000);
    await w.until("the request again", () => w.displayQr() === req2, 10000);
    w.scanText(pay);
    await w.until("a refusal", () => w.screenText().some((l) => l.indexOf("Refused") >= 0), 5000);
    const s = w.screenText().join("\n");
    assert.match(s, /Refused\nR11/);
    assert.match(s, /Payment signature is not valid/);
  });

  it("cancels a request that sees no progress for 30 s", async () => {
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    await openAmount(w, "300");
    await w.run(31000);
    assert.ok(w.screenText().some((l) => l.indexOf("Timed out") >= 0), w.screenText().join(" | "));
  });

  it("prints the end-of-day report from the merchant menu (A, 2): today's wallet payment, pending", async () => {
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    const before = w.paperText().length;
    w.keys("A");
    assert.ok(w.screenText().some((l) => l.indexOf("End-of-day report") >= 0));
    w.keys("2");
    await w.until("the report printed", () => w.screenText().includes("Report printed"), 20000);
    const report = w.paperText().slice(before);
    assert.match(report, /END OF DAY REPORT/);
    assert.match(report, /Wallet QR/);
    assert.match(report, /1 x\s+EUR 12\.50/);
    assert.match(report, /Pending 1\s+EUR 12\.50/);
  });
});

describe("flow: risk limits (devkit bundle in the simulator)", function () {
  this.timeout(120000);

  it("refuses an amount over the per-payment limit before showing a request, naming the limit", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision({ limits: { perTxMinor: 1000, unsyncedMinor: 100000, maxDaysOffline: 7, perWalletMinor: 50000 } });
    w.setWifi(false);
    await w.run(500);
    w.keys("2000#");
    await w.until("a refusal", () => w.screenText().includes("Refused"), 5000);
    const s = w.screenText().join("\n");
    assert.match(s, /LIMIT_PER_TX/);
    assert.match(s, /Limit: per-payment limit/);
    assert.match(s, /EUR 10\.00/);
    assert.equal(w.displayQr(), null);
  });
});

describe("flow: a terminal that is not provisioned (devkit bundle in the simulator)", function () {
  this.timeout(60000);

  it("says so instead of opening a payment, and opens only the technician menu", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.run(500);
    assert.ok(w.screenText().includes("NOT PROVISIONED"), w.screenText().join(" | "));
    w.keys("500#");
    await w.run(300);
    assert.ok(w.screenText().includes("Not provisioned"), w.screenText().join(" | "));
    assert.equal(w.displayQr(), null);
    w.keys("*");
    w.keys("D");
    assert.ok(w.screenText().includes("TECHNICIAN MENU"), w.screenText().join(" | "));
    assert.deepEqual(w.host.errors, []);
  });
});
