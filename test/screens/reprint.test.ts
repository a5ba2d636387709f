/**
 * Merchant menu 5 (devkit bundle in the simulator): reprints the last receipt marked COPY, with the same UTR and
 * the same signed receipt QR; with none printed since start it says so.
 */
import assert from "node:assert/strict";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join(" | ");

describe("screens: reprint the last receipt from the merchant menu (devkit bundle in the simulator)", function () {
  this.timeout(120000);
  let w: World;

  before(async () => {
    w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(500);
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
  });

  it("offers it on the menu and says when there is none yet", async () => {
    w.keys("A");
    assert.match(screen(w), /5 Reprint last receipt/);
    w.keys("5");
    await w.until("the answer", () => /No receipt/.test(screen(w)), 5000);
  });

  it("prints the last receipt again, marked COPY, same UTR and the same receipt QR", async () => {
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.keys("1250#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && !req; t += 250) {
      await w.run(250);
      req = w.displayQr();
    }
    assert.ok(req, screen(w));
    w.scanText(await w.pay("alice", req));
    await w.until("the receipt printed", () => w.screenText().includes("Receipt printed"), 60000);
    const utr = (screen(w).match(/UTR ([0-9A-Z-]+)/) || [])[1];
    assert.ok(utr, screen(w));
    const qrs = w.printedQrs().length;
    const before = w.paperText().length;
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.keys("A5");
    await w.until("the copy printed", () => /Copy printed/.test(screen(w)), 30000);
    const copy = w.paperText().slice(before);
    assert.match(copy, /PAYMENT - COPY/);
    assert.ok(copy.indexOf(utr) >= 0, "the same UTR " + utr + " on the copy:\n" + copy);
    const all = w.printedQrs();
    assert.equal(all.length, qrs + 1);
    assert.equal(all[all.length - 1], all[all.length - 2], "the copy carries the same signed receipt QR");
  });
});
