/**
 * Attack (issue 16, "Time cannot be rolled back across a reboot"): the terminal ran offline, then its clock is set
 * back and it is restarted. The time floor was saved only at a sync or a boot (at most once a day), so a clock set
 * back to just after the last save was trusted: the days-offline limit started again from there and an allowance
 * that had expired in between paid (the hours here stand for the days, which the simulator would take minutes to
 * run; test/time-floor.test.ts runs the arithmetic over days). Erasing the floor's files did the same. The floor now moves with the secure element's
 * monotonic counter 1, which the terminal increments once per hour it runs: at boot the floor is the best saved
 * floor plus one hour per increment since it was saved, so neither a wound-back clock nor an old file lowers it, and
 * a counter that ran with no floor saved (files erased) trusts no clock until a sync.
 */
import assert from "node:assert/strict";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join("\n");

/** Types an amount and #; resolves with the request QR, or null once a refusal is on the panel. */
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

const HOUR_MS = 3600000;

describe("attack: the clock set back across a reboot after hours offline (devkit bundle in the simulator)", function () {
  this.timeout(240000);

  it("a reboot with the clock set back 2 hours after 3 hours offline takes no payment", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(3 * HOUR_MS + 60000, 600000);
    w.powerCut();
    w.powerOn({ wallClockMs: T0 + HOUR_MS }); // the clock says 1 hour after the sync: 2 hours less than passed
    await w.run(500);
    const req = await tryToPay(w, "500");
    assert.equal(req, null, "the terminal opened a request with its clock set back: " + screen(w).replace(/\n/g, " | "));
    assert.match(screen(w), /LIMIT_NO_TIME/);
  });

  it("erasing the time floor's files before that reboot does not help", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(3 * HOUR_MS + 60000, 600000);
    for (const f of ["time.a", "time.b"]) w.host.storage.erase(f);
    w.powerCut();
    w.powerOn({ wallClockMs: T0 + HOUR_MS });
    await w.run(500);
    assert.equal(await tryToPay(w, "500"), null, "a request after the floor's files were erased: " + screen(w).replace(/\n/g, " | "));
    assert.match(screen(w), /LIMIT_NO_TIME/);
  });

  it("still pays after a reboot whose clock kept running", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(3 * HOUR_MS + 60000, 600000);
    w.powerCut();
    w.powerOn({ wallClockMs: T0 + 3 * HOUR_MS + 120000 });
    await w.run(500);
    assert.ok(await tryToPay(w, "500"), "a request QR: " + screen(w).replace(/\n/g, " | "));
  });
});
