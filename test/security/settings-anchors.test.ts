/**
 * Attack (security review, item 5a): cfg.json holds the issuer keys and the gateway link key with no
 * authentication. An attacker with the flash (the ESP32's SPI flash is readable and writable over the cable or a
 * clip until flash encryption is on: docs/technician.md) writes their own issuer key into it, and pays with
 * allowances they issue themselves. The terminal now keeps the settings' digest in its vault (sealed under the
 * secure element's key) and, when cfg.json does not match at boot, trusts no issuer key and takes no payment.
 */
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { Issuer } from "../../gateway/index.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { World } from "../../sim/world.ts";

const DAY_MS = 86400000;
const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);
const screen = (w: World) => w.screenText().join("\n");

describe("attack: the attacker's issuer key written into cfg.json (devkit bundle in the simulator)", function () {
  this.timeout(180000);

  it("refuses payments after cfg.json was changed on flash, and says so, instead of paying a self-issued allowance", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    await w.run(500);
    // the attacker's issuer key (ID 9) goes into cfg.json while the terminal is off
    const mallory = Issuer.generate(9);
    w.powerCut();
    const cfg = JSON.parse(String(w.host.storage.read("cfg.json")));
    cfg.issuerKeys["9"] = Buffer.from(mallory.publicKey).toString("hex");
    w.host.storage.write("cfg.json", JSON.stringify(cfg));
    w.powerOn();
    await w.run(500);
    // a wallet with an allowance the attacker issued
    const kp = await Wallet.generateKey(true);
    const jwk = await webcrypto.subtle.exportKey("jwk", kp.privateKey as webcrypto.CryptoKey);
    const allowance = mallory.issueAllowance({ walletPub: await Wallet.publicKeyOf(kp), capMinor: 20000, currency: 978, expiryDay: Math.floor(T0 / DAY_MS) + 30, startCounter: 1 });
    (w as unknown as { restoreWallet(n: string, s: unknown): void }).restoreWallet("mallory", { jwk, allowance: Buffer.from(allowance).toString("hex"), state: null });

    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.keys("1500#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && req === null && !/Refused/.test(screen(w)); t += 250) {
      await w.run(250);
      req = w.displayQr();
    }
    if (req) {
      const pay = await w.pay("mallory", req);
      w.scanText(pay);
      await w.run(8000);
      assert.doesNotMatch(screen(w), /Paid/, "the terminal paid an allowance issued by a key written into cfg.json");
    }
    assert.match(screen(w), /SETTINGS_AUTH/, screen(w));
    w.keys("*");
    await w.run(200);
    assert.match(screen(w), /Settings altered/, "the idle screen says why");
  });

  it("still takes payments when nothing was changed (the digest written at provisioning matches)", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    await w.provision();
    w.setWifi(false);
    w.powerCut();
    w.powerOn();
    await w.run(500);
    await w.until("idle", () => w.screenText().includes("Ready"), 20000);
    w.keys("500#");
    let req: string | null = null;
    for (let t = 0; t < 10000 && req === null; t += 250) {
      await w.run(250);
      req = w.displayQr();
    }
    assert.ok(req, screen(w));
    assert.doesNotMatch(screen(w), /Settings altered/);
  });
});
