/** Scenarios (sim/scenarios/*) and provisioning a World through its technician console. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { runSteps } from "../../sim/cli.ts";
import { runScenario, SCENARIOS } from "../../sim/scenarios/index.ts";
import { World } from "../../sim/world.ts";
import { fixtureBundle } from "../tools/fixture.ts";
import { APP_SOURCE, appBundle } from "./app-bundle.ts";

describe("simulator scenarios", function () {
  this.timeout(60000);

  it("runs the keypad scenario on the shipped bundle: the typed amount shows, * clears it", async () => {
    const w = World.open({ stateDir: null });
    const r = await runScenario(w, "keypad");
    assert.equal(r.ok, true, r.error);
    assert.ok((r.result!.typed as string[]).some((l) => l.indexOf("12.50") >= 0));
    assert.ok(!(r.result!.cleared as string[]).some((l) => l.indexOf("12.50") >= 0));
  });

  it("reports a scenario that cannot finish with the step and the screen, instead of throwing", async () => {
    const w = World.open({ stateDir: null });
    const r = await runScenario(w, "sync");
    assert.equal(r.ok, false);
    assert.match(r.error || "", /no gateway attached/);
  });

  it("refuses an unknown scenario name", async () => {
    const w = World.open({ stateDir: null });
    await assert.rejects(runScenario(w, "no-such"), /no scenario "no-such"/);
    const parsed = await runSteps(w, [{ name: "--scenario", arg: "no-such" }]).catch((e: Error) => e);
    assert.ok(parsed instanceof Error && /no scenario/.test(parsed.message));
  });

  it("lists every scenario in --help", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "sim/cli.ts", "--help"], { encoding: "utf8" });
    for (const name of Object.keys(SCENARIOS)) assert.match(out, new RegExp("^  " + name + " ", "m"));
    assert.match(out, /--receipt-png FILE/);
  });

  it("provisions the terminal through the technician console with npm run provision's code (identity, certificate, settings, receipt)", async () => {
    const w = World.open({ stateDir: null, bundle: await fixtureBundle() });
    const s = await w.provision();
    const cfg = JSON.parse(w.host.storage.read("cfg.json")!);
    assert.equal(cfg.terminalId, String(s.terminalId));
    assert.deepEqual(cfg.wifi, ["shop-net"]);
    assert.ok(w.host.secure.publicKeyOf(0), "identity key made in the secure element");
    assert.match(w.paperText(), /TERMINAL PROVISIONED/);
    assert.equal(w.receiptPngs().length, 1);
    assert.equal(w.host.wifiWorld.networks["shop-net"], "shop-net-password", "the provisioned network is in range");
    assert.deepEqual(w.host.errors, []);
  });

  it("provisions a second time with the technician PIN it set the first time", async () => {
    const w = World.open({ stateDir: null, bundle: await fixtureBundle() });
    await w.provision();
    const first = Buffer.from(w.host.secure.publicKeyOf(0)!).toString("hex");
    await w.provision({ merchantName: "Cafe Green" });
    assert.equal(JSON.parse(w.host.storage.read("cfg.json")!).merchantName, "Cafe Green");
    assert.equal(Buffer.from(w.host.secure.publicKeyOf(0)!).toString("hex"), first, "same identity");
  });

  it("says why provisioning fails on a firmware whose technician menu does not open", async () => {
    const w = World.open({ stateDir: null, bundle: "E.setConsole(null); print('locked down, no technician menu')" });
    await assert.rejects(w.provision(), /technician console did not open/);
  });

  describe("against the terminal application (" + APP_SOURCE + ")", () => {
    let bundle: string | null = null;
    before(async function () {
      bundle = await appBundle();
      if (!bundle) {
        console.log("      (skipped: " + APP_SOURCE + " is not in the tree yet)");
        this.skip();
      }
    });

    it("offline-payment: provisioned, Wi-Fi off, the request QR read off the panel, paid, the receipt's QR printed and read back off the paper", async () => {
      const w = World.open({ stateDir: null, bundle: bundle! });
      const r = await runScenario(w, "offline-payment");
      assert.equal(r.ok, true, r.error);
      const res = r.result as { request: string; payment: string; receiptQr: string; decodedFromPaper: string; wallet: { spentMinor: number } };
      assert.match(res.request, /^R2/);
      assert.match(res.payment, /^P2/);
      assert.ok(res.receiptQr.length > 20);
      assert.equal(res.decodedFromPaper, res.receiptQr, "jsQR reads the printed receipt's QR as the printer got it");
      assert.equal(res.wallet.spentMinor, 1250);
      assert.deepEqual(w.host.errors, []);
    });

    it("ble-payment: the wallet pays over the encrypted Bluetooth session and verifies the terminal's receipt", async () => {
      const w = World.open({ stateDir: null, bundle: bundle! });
      const r = await runScenario(w, "ble-payment");
      assert.equal(r.ok, true, r.error);
      assert.equal(r.result!.receiptVerified, true);
      assert.equal(r.result!.amountMinor, 1250);
      assert.deepEqual(w.host.errors, []);
    });
  });
});
