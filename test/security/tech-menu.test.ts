/**
 * Attacks on the technician menu (security review, items 3 and 4), on the devkit bundle in the simulator:
 *  3. PIN lockouts lived in RAM: three wrong PINs locked the menu, a power cycle unlocked it, and the lockout
 *     never grew; the console stayed open after the menu was left.
 *  4. The menu decided "provisioned" from cfg.json: with that file gone (a power cut while it is rewritten, or an
 *     attacker with the flash) it opened without a PIN, and 1 opened the JavaScript console.
 */
import assert from "node:assert/strict";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const PIN = "2580";
const screen = (w: World) => w.screenText().join("\n");

async function provisioned(): Promise<World> {
  const w = World.open({ stateDir: null, wallClockMs: T0 });
  await w.provision({ techPin: PIN });
  w.setWifi(false);
  await w.run(500);
  return w;
}

/** D, a PIN and #, on the technician menu; waits for the vault's answer. */
async function typePin(w: World, pin: string): Promise<void> {
  w.keys("D");
  await w.run(300);
  w.keys(pin + "#");
  await w.run(500);
}

describe("attack: the technician PIN lockout (devkit bundle in the simulator)", function () {
  this.timeout(120000);

  it("keeps the menu locked across a power cycle after three wrong PINs", async () => {
    const w = await provisioned();
    await typePin(w, "9999");
    for (let i = 0; i < 2; i++) {
      w.keys("9999#");
      await w.run(500);
    }
    w.keys("1");
    assert.match(screen(w), /Locked/);
    w.powerCut();
    w.powerOn();
    await w.run(500);
    await typePin(w, PIN);
    w.keys("1");
    await w.run(100);
    assert.doesNotMatch(screen(w), /TECHNICIAN MENU/, "the right PIN opened the menu after a power cycle: the lockout was in RAM");
    assert.match(screen(w), /Locked/);
    assert.equal(w.host.consoles.serial, null);
  });

  it("locks for longer at each further wrong PIN (5 minutes, then 10)", async () => {
    const w = await provisioned();
    await typePin(w, "9999");
    for (let i = 0; i < 2; i++) {
      w.keys("9999#");
      await w.run(500);
    }
    w.host.advance(5 * 60000 + 1000);
    w.keys("9999#");
    await w.run(500);
    w.host.advance(6 * 60000);
    w.keys(PIN + "#");
    await w.run(500);
    assert.doesNotMatch(screen(w), /TECHNICIAN MENU/, "a fourth wrong PIN did not lock the menu again");
    w.host.advance(5 * 60000);
    w.keys(PIN + "#");
    await w.run(500);
    assert.match(screen(w), /TECHNICIAN MENU/, "the right PIN opens once the 10 minutes are over");
  });

  it("closes the console when the menu is left with *", async () => {
    const w = await provisioned();
    await typePin(w, PIN);
    w.keys("1");
    assert.equal(w.host.consoles.serial, "Serial1");
    w.keys("*");
    await w.run(100);
    assert.equal(w.host.consoles.serial, null, "the console stayed open after the menu was left");
  });

  it("closes the menu and the console after 10 minutes without a key", async () => {
    const w = await provisioned();
    await typePin(w, PIN);
    w.keys("1");
    assert.equal(w.host.consoles.serial, "Serial1");
    w.host.advance(10 * 60000 + 1000);
    assert.equal(w.host.consoles.serial, null, "the console stayed open on an idle menu");
    assert.doesNotMatch(screen(w), /TECHNICIAN MENU/);
  });
});

describe("attack: the technician menu without cfg.json (devkit bundle in the simulator)", function () {
  this.timeout(120000);

  it("still asks for the PIN when cfg.json is gone, and 1 does not open the console", async () => {
    const w = await provisioned();
    w.powerCut();
    w.host.storage.erase("cfg.json");
    w.powerOn();
    await w.run(500);
    w.keys("D");
    await w.run(300);
    w.keys("1");
    await w.run(100);
    assert.equal(w.host.consoles.serial, null, "the console opened without a PIN on a terminal whose cfg.json is gone");
    assert.match(screen(w), /Enter PIN/);
  });
});
