/**
 * Scans that are not a payment, on the devkit bundle in the simulator: a code that is not a payment (R01) shows its
 * notice and then the request QR again, so the customer can still pay; a code with bytes that are not ASCII text
 * gets a notice (during a payment and at idle), never silence.
 */
import assert from "node:assert/strict";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join(" ");

async function openAmount(w: World, digits: string): Promise<string> {
  w.keys(digits + "#");
  let req: string | null = null;
  for (let t = 0; t < 10000 && req === null; t += 500) {
    await w.run(500);
    req = w.displayQr();
  }
  assert.ok(req, "a request QR on the display; screen: " + screen(w));
  return req;
}

describe("screens: scans that are not a payment (devkit bundle in the simulator)", function () {
  this.timeout(120000);
  let w: World;

  before(async () => {
    w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(500);
  });

  it("R01: shows the notice, then the same request QR again; the customer still pays it", async () => {
    const req = await openAmount(w, "700");
    w.scanText("HELLO-THIS-IS-NOT-A-PAYMENT");
    await w.until("the notice", () => /Not a payment/.test(screen(w)), 5000);
    assert.match(screen(w), /R01/);
    await w.run(4000);
    assert.equal(w.displayQr(), req, "the request QR is back; screen: " + screen(w));
    const pay = await w.pay("alice", req);
    w.scanText(pay);
    await w.until("paid", () => w.screenText().includes("Paid"), 20000);
  });

  it("a code with non-ASCII bytes during a payment: a notice, then the request again", async () => {
    await w.until("the end of the payment", () => !/Printing|Checking/.test(screen(w)), 60000);
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    const req = await openAmount(w, "300");
    w.scanText(new Uint8Array([0x50, 0x31, 0xc3, 0xa9, 0xe2, 0x82, 0xac]));
    await w.until("a notice", () => /Unreadable \(garbage\)/.test(screen(w)), 5000);
    await w.run(4000);
    assert.equal(w.displayQr(), req, "the request QR is back; screen: " + screen(w));
    w.keys("C");
    await w.until("cancelled", () => /Cancelled/.test(screen(w)), 5000);
  });

  it("a code with non-ASCII bytes at idle: 'Code not read', never silence", async () => {
    w.keys("*");
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.scanText(new Uint8Array([0xff, 0xfe, 0x41, 0x42]));
    await w.until("a notice", () => /Code not read/.test(screen(w)), 5000);
    assert.match(screen(w), /Unreadable \(garbage\)/);
  });
});
