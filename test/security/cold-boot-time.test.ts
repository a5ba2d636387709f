/**
 * Attack (security review, item 1): jam Wi-Fi, pull the plug, power on. An ESP32's RTC restarts near 1970 after a
 * power loss, and until the first sync the terminal's time was the device clock: the allowance expiry (R05) never
 * fired and the days-offline limit read 0, so an allowance that expired 10 days ago paid ("Paid", a request dated
 * 1970). The terminal now keeps a time floor that only moves forward (firmware/time-floor.ts) and refuses offline
 * payments while no trusted time is known, saying so on screen.
 */
import assert from "node:assert/strict";
import { World } from "../../sim/world.ts";

const DAY_MS = 86400000;
const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

const screen = (w: World) => w.screenText().join("\n");

/** Types an amount and #; resolves once a request QR or a refusal is on the panel. */
async function tryToPay(w: World, digits: string): Promise<string | null> {
  await w.until("idle", () => w.screenText().includes("Ready"), 20000);
  w.keys(digits + "#");
  let req: string | null = null;
  for (let t = 0; t < 10000 && req === null && !/Refused/.test(screen(w)); t += 250) {
    await w.run(250);
    req = w.displayQr();
  }
  return req;
}

describe("attack: a cold boot winds the clock back to 1970 (devkit bundle in the simulator)", function () {
  this.timeout(180000);

  it("refuses an offline payment from an allowance that expired 10 days ago after a power-on at 1970, and says why", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.wallet("alice"); // its allowance ends on day T0 + 30
    const expiredAt = Math.floor(T0 / DAY_MS) + 30;
    // 40 days later the allowance has been expired for 10 days; the plug is pulled and the RTC restarts at 1970
    w.powerCut();
    w.powerOn({ wallClockMs: 5000 });
    await w.run(500);
    const req = await tryToPay(w, "1250");
    if (req) {
      // the attack as it worked: the wallet pays a request dated 1970, and the terminal prints Paid
      const pay = await w.pay("alice", req);
      w.scanText(pay);
      await w.run(8000);
      assert.fail("the terminal opened a request after a cold boot at 1970 (allowance expired on day " + expiredAt + "); it ended: " + screen(w).replace(/\n/g, " | "));
    }
    assert.match(screen(w), /Refused/);
    assert.match(screen(w), /LIMIT_NO_TIME/);
    assert.match(screen(w), /No trusted time: sync first/);
    w.keys("*");
    await w.run(200);
    assert.match(screen(w), /No trusted time/, "the idle screen says payments wait for a sync");
    assert.deepEqual(w.host.errors, []);
  });

  it("refuses too after a power-on with the clock moved back 2 days before the last sync (no offline limit restored)", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    w.powerCut();
    w.powerOn({ wallClockMs: T0 - 2 * DAY_MS });
    await w.run(500);
    assert.equal(await tryToPay(w, "500"), null, "no request QR: " + screen(w).replace(/\n/g, " | "));
    assert.match(screen(w), /LIMIT_NO_TIME/);
  });

  it("still takes payments after a reboot whose clock kept running (an update's restart)", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    w.powerCut();
    w.powerOn({ wallClockMs: T0 + 3600000 });
    await w.run(500);
    assert.doesNotMatch(screen(w), /No trusted time/);
    const req = await tryToPay(w, "500");
    assert.ok(req, "a request QR: " + screen(w).replace(/\n/g, " | "));
  });
});
