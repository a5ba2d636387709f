/**
 * The flashed bundle takes a payment on the real Espruino interpreter: dist/devkit.js stored as `.bootcde` in the
 * interpreter's Storage and booted from there (sim/engine/espruino-host.ts), the technician's provisioning written
 * into that Storage and the secure element, then an offline customer-presented QR payment end to end through the
 * bridged panel (the request QR is decoded from the ST7789 emulator's frame memory), keypad contacts, GM65 scanner
 * (UART), ATECC608 (synchronous I2C) and ESC/POS printer (UART). Skips, saying so, when ESPRUINO is unset.
 */
import assert from "node:assert/strict";
import { decodeReceipt, MsgType } from "../../protocol/messages.ts";
import { fromQrText } from "../../protocol/qr.ts";
import { espruinoBin } from "../../sim/engine/engine.ts";
import { EspruinoHost } from "../../sim/engine/espruino-host.ts";
import { World } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

describe("espruino engine: an offline customer-QR payment on the real interpreter (ESPRUINO=...)", function () {
  this.timeout(240000);
  let w: World | null = null;

  before(async function () {
    if (!espruinoBin()) {
      console.log("      skipped: ESPRUINO is unset; set ESPRUINO=/path/to/espruino (README, The real interpreter) to run the bundle on Espruino");
      return this.skip();
    }
    w = World.open({ engine: "espruino", stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.until("the idle screen", () => w!.screenText().includes("Ready"), 30000);
  });

  after(async () => {
    if (w) await w.close();
  });

  it("boots the flashed bundle from the interpreter's Storage (.bootcde, after the bridge's .boot0), provisioned", async () => {
    const h = w!.host;
    assert.ok(h instanceof EspruinoHost, "the world runs on the espruino engine");
    const files = h.storage.list();
    assert.ok(files.includes(".bootcde") && files.includes(".boot0"), files.join(", "));
    assert.ok(files.includes("cfg.json") || files.some((f) => f.indexOf("cfg") >= 0), "provisioning wrote its settings: " + files.join(", "));
    const m = await h.memory();
    assert.equal(m.total, 16383, "the ESP32-shaped interpreter (16,383 JsVars)");
    assert.ok(m.usage > 1000 && m.usage < m.total, "JsVars in use once booted: " + m.usage);
    assert.ok(!w!.screenText().includes("NOT PROVISIONED"), w!.screenText().join(" | "));
    assert.deepEqual(h.errors, []);
  });

  it("takes a payment: request QR on the panel, the wallet's code to the scanner, Paid, the receipt printed with its signed QR", async function () {
    // In a CI run (2026-12-05) the payment was journaled but its receipt never reached the paper: the printer
    // emulator's clock had started at the test process's age, so it ignored every byte as if still booting
    // (test/engine/bridge-uart-order.test.ts). It runs whenever ESPRUINO is set (test/flows/engines.ts).
    const world = w!;
    world.keys("1250#");
    let req: string | null = null;
    for (let t = 0; t < 20000 && req === null; t += 500) {
      await world.run(500);
      req = world.displayQr();
    }
    assert.ok(req, "a request QR on the panel; screen: " + world.screenText().join(" | "));
    assert.equal(req.slice(0, 2), "R2");
    assert.ok(world.screenText().join("\n").includes("EUR 12.50"), world.screenText().join(" | "));
    const pay = await world.pay("alice", req);
    world.scanText(pay);
    await world.until("the receipt's QR on paper", () => world.printedQrs().length > 0, 30000);
    await world.until("the Paid screen with the UTR", () => world.screenText().some((l) => l.indexOf("UTR") >= 0), 20000);
    const screen = world.screenText().join("\n");
    assert.ok(world.screenText().includes("Paid"), screen);
    assert.match(screen, /UTR [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    assert.match(screen, /pending 1/);
    const m = fromQrText(world.printedQrs()[0]);
    assert.ok("msg" in m && m.msg[1] === MsgType.Receipt, "the printed QR is a receipt");
    assert.ok(decodeReceipt((m as { msg: Uint8Array }).msg));
    const paper = world.paperText();
    assert.match(paper, /EUR 12\.50/);
    assert.match(paper, /PENDING/);
    assert.match(paper, /Cafe Blue/);
    assert.equal(world.walletInfo("alice").spentMinor, 1250);
    assert.deepEqual(world.host.errors, []);
  });
});
