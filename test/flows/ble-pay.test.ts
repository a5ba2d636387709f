/**
 * The customer pays over Bluetooth while the request is open (devkit bundle in the simulator): the phone (SimPhone +
 * wallet SDK) opens the encrypted session, reads the request, writes its payment and gets the terminal-signed
 * receipt; the terminal journals it (method BLE) and prints. Also: Wi-Fi lost mid-payment shows on the open request.
 */
import assert from "node:assert/strict";
import type { World } from "../../sim/world.ts";
import { forEachEngine, longOnInterpreter, useWorlds } from "./engines.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

forEachEngine("flow: Bluetooth payment (devkit bundle in the simulator)", (engine) => {
  let w: World;
  const worlds = useWorlds(engine);

  before(async () => {
    w = worlds.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(500);
  });

  it("advertises while the request is open, takes the wallet's payment over the session, returns a verified receipt and prints", async () => {
    assert.equal(w.host.ble.advertising, null);
    await w.type("990#");
    await w.until("Bluetooth advertising", () => !!w.host.ble.advertising && w.displayQr() !== null, 10000);
    const printed = w.printedQrs().length;
    const out = await w.payOverBluetooth("carol");
    assert.equal(out.amountMinor, 990);
    assert.equal(out.receiptVerified, true);
    await w.until("the receipt", () => w.printedQrs().length > printed, 60000);
    await w.until("Paid", () => w.screenText().some((l) => l.indexOf("UTR " + out.utr) >= 0), 10000);
    assert.match(w.paperText(), /Wallet Bluetooth/);
    assert.deepEqual(w.host.errors, []);
  });

  it("shows a Wi-Fi change on the open request's status bar instead of switching silently", async function () {
    longOnInterpreter(this, engine);
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.setWifi(true);
    await w.until("online", () => w.screenText().some((l) => l.indexOf("ONLINE") === 0), 20000);
    await w.type("120#");
    await w.until("the request", () => w.displayQr() !== null, 10000);
    w.setWifi(false);
    await w.run(3000);
    const s = w.screenText();
    assert.ok(s.some((l) => l.indexOf("OFFLINE") === 0), s.join(" | "));
    assert.notEqual(w.displayQr(), null, "the request stays on the display");
  });
});
