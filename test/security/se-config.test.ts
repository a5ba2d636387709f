/**
 * Attack (security review, item 5): the ATECC608 as shipped answers ECDH in the clear, so anyone on the I2C bus asks
 * it for the storage root (ECDH of slot 2 with the public storage point) and opens the journal and the vault. The
 * terminal now configures and locks the part at provisioning (ECDH output encrypted under an I/O protection key,
 * private keys secret) and checks the configuration at every boot: on a part that is not so, it names the part on
 * screen and refuses every payment.
 */
import assert from "node:assert/strict";
import { storagePointHex } from "../../firmware/keys.ts";
import { AteccOp, command } from "../../hal/drivers/atecc608-frames.ts";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join("\n");

/** ECDH of slot 2 with the storage point, asked on the bus as a probe would, mode 00: the answer's length or status. */
function probeStorageRoot(w: World): string {
  const se = w.host.secure;
  se.powerCycle();
  se.i2cWrite(0, [0]);
  w.host.advance(3);
  se.i2cRead(0x60, 4);
  se.i2cWrite(0x60, command(AteccOp.ECDH, 0, 2, new Uint8Array(Buffer.from(storagePointHex(), "hex"))));
  w.host.advance(100);
  const h = se.i2cRead(0x60, 1)!;
  const rest = se.i2cRead(0x60, h[0] - 1)!;
  se.i2cWrite(0x60, [1]);
  return h[0] === 35 ? "secret in the clear" : "status " + rest[0].toString(16);
}

describe("attack: the secure element answers on the bus in the clear (devkit bundle in the simulator)", function () {
  this.timeout(120000);

  it("a provisioned terminal's part refuses the storage root in the clear", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    assert.equal(probeStorageRoot(w), "status f");
  });

  it("refuses payments, and says why, on a part whose ECDH protection is off", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    // the part swapped for one configured otherwise (ChipOptions cleared): the storage root crosses the bus
    const s = w.host.secure.exportState();
    s.config = s.config.slice(0, 90 * 2) + "0000" + s.config.slice(92 * 2);
    w.host.secure.importState(s);
    assert.equal(probeStorageRoot(w), "secret in the clear");
    w.powerCut();
    w.powerOn({ wallClockMs: T0 + 60000 });
    await w.until("idle", () => /Ready/.test(screen(w)), 20000);
    assert.match(screen(w), /Secure element SE_CONFIG/);
    w.keys("500#");
    await w.run(2000);
    assert.match(screen(w), /Refused/);
    assert.match(screen(w), /SE_CONFIG/);
    assert.equal(w.displayQr(), null, "no request QR");
  });
});
