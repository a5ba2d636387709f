/**
 * The last sync's age on the devkit bundle in the simulator, with the reference gateway: after power returns the
 * status bar shows the last trusted sync (its day), not "sync never"; a payment refused only because the last sync
 * is too old, while the terminal is online, makes it sync at once and then decides, and never says "Offline too
 * long" with ONLINE on the status bar.
 */
import assert from "node:assert/strict";
import { loadReferenceGateway, World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const DAY = 86400000;
const screen = (w: World) => w.screenText().join(" | ");

describe("screens: the last sync's age (devkit bundle, reference gateway)", function () {
  this.timeout(180000);
  let w: World;

  before(async () => {
    w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = await loadReferenceGateway(w);
    assert.ok(g, "the reference gateway is in the tree");
    w.attachGateway(g);
    await w.provision({ limits: { perTxMinor: 100000, unsyncedMinor: 100000, maxDaysOffline: 2, perWalletMinor: 50000 } });
    await w.until("a first sync", () => /ONLINE/.test(screen(w)) && !/sync never/.test(screen(w)), 30000);
    // the power goes for three days; the gateway is out of reach when it returns (Wi-Fi up: a dead uplink)
    w.powerCut();
    w.fastForward(3 * DAY);
    w.setGatewayReachable(false);
    w.powerOn();
    await w.until("idle", () => w.screenText().includes("Ready"), 30000);
  });

  it("after power returns, the status bar shows the last sync's age, not 'sync never'", async () => {
    assert.doesNotMatch(screen(w), /sync never/);
    assert.match(screen(w), /sync 3 d/);
  });

  it("online with the gateway out of reach: asks it first, then refuses without 'Offline too long'", async () => {
    await w.until("ONLINE on the bar", () => /ONLINE/.test(screen(w)), 30000);
    w.keys("500#");
    await w.until("a refusal", () => /Refused/.test(screen(w)) && /Any key: back/.test(screen(w)), 60000);
    assert.match(screen(w), /LIMIT_OFFLINE_DAYS/);
    assert.match(screen(w), /gateway not reached/);
    if (/ONLINE/.test(screen(w))) assert.doesNotMatch(screen(w), /Offline too long/);
  });

  it("online with the gateway back: syncs at once, then opens the request", async () => {
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.setGatewayReachable(true);
    w.keys("500#");
    let q: string | null = null;
    for (let t = 0; t < 30000 && !q; t += 250) {
      await w.run(250);
      assert.doesNotMatch(screen(w), /Offline too long/);
      q = w.displayQr();
    }
    assert.ok(q && q.charAt(0) === "R", "the request QR after the sync; screen: " + screen(w));
    assert.doesNotMatch(screen(w), /sync 3 d/);
  });
});
