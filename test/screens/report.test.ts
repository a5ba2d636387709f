/**
 * The end-of-day report as the gateway means its words (devkit bundle, reference gateway): a wallet payment the
 * gateway has acknowledged is uploaded and still pending (its 3-day hold), never settled; an invoice paid at the
 * gateway is settled; a wallet payment the gateway approved online is settled (the journal record's flag), also
 * after a reboot, while one that went on offline stays pending.
 */
import assert from "node:assert/strict";
import { Gateway } from "../../gateway/gateway.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import type { GatewayLike } from "../../sim/world.ts";
import { loadReferenceGateway, World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join(" | ");

describe("screens: end-of-day report's uploaded, pending and settled (devkit bundle, reference gateway)", function () {
  this.timeout(180000);

  it("a wallet payment uploaded to the gateway is 'Uploaded' and 'Pending', not 'Settled'", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = await loadReferenceGateway(w);
    assert.ok(g);
    w.attachGateway(g);
    await w.provision();
    w.setWifi(false);
    await w.run(500);
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.keys("1250#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && !req; t += 250) {
      await w.run(250);
      req = w.displayQr();
    }
    assert.ok(req, screen(w));
    w.scanText(await w.pay("gina", req));
    await w.until("the receipt printed", () => w.screenText().includes("Receipt printed"), 60000);
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.setWifi(true);
    w.keys("A1");
    await w.until("the upload", () => /pending 0/.test(screen(w)), 30000);
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    const before = w.paperText().length;
    w.keys("A2");
    await w.until("the report printed", () => w.screenText().includes("Report printed"), 30000);
    const report = w.paperText().slice(before);
    assert.match(report, /END OF DAY REPORT/);
    assert.match(report, /Uploaded 1\s+EUR 12\.50/);
    assert.match(report, /Not uploaded 0\s+EUR 0\.00/);
    assert.match(report, /Pending 1\s+EUR 12\.50/);
    assert.match(report, /Settled 0\s+EUR 0\.00/);
  });

  it("a wallet payment approved online is 'Settled' after a reboot; one that went on offline stays 'Pending'", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer, autoFlush: false });
    w.attachGateway(g as unknown as GatewayLike);
    await w.provision();
    await w.until("the first sync", () => g.store.activity().some((a) => a.kind === "hello") && /ONLINE/.test(screen(w)), 30000);
    const pay = async (who: string, digits: string) => {
      await w.until("idle", () => w.screenText().includes("Ready"), 20000);
      w.keys(digits + "#");
      let req: string | null = null;
      for (let t = 0; t < 10000 && !req; t += 250) {
        await w.run(250);
        req = w.displayQr();
      }
      assert.ok(req, screen(w));
      w.scanText(await w.pay(who, req));
      await w.until("the receipt printed", () => w.screenText().includes("Receipt printed"), 60000);
      const shown = screen(w);
      w.keys("*");
      return shown;
    };
    assert.match(await pay("gina", "1250"), /Approved online/);
    // the gateway's authorizations fail from now on: the next payment goes on offline
    const through = w.gatewayHandler!;
    w.gatewayHandler = (req) => (req.path.indexOf("/authorize") >= 0 ? Promise.resolve({ status: 503, body: "down" }) : through(req));
    assert.match(await pay("hank", "640"), /Gateway did not answer: offline/);
    w.powerOn();
    await w.until("idle after the reboot", () => w.screenText().includes("Ready"), 30000);
    const before = w.paperText().length;
    w.keys("A2");
    await w.until("the report printed", () => w.screenText().includes("Report printed"), 30000);
    const report = w.paperText().slice(before);
    assert.match(report, /Payments 2\s+EUR 18\.90/);
    assert.match(report, /Pending 1\s+EUR 6\.40/);
    assert.match(report, /Settled 1\s+EUR 12\.50/);
    await w.close();
  });
});
