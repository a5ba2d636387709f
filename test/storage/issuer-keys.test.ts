/** Issuer keys saved at sync in place beside cfg.json (firmware/settings.ts), on the simulator's Storage. */
import assert from "node:assert/strict";
import { KEYS_LOG_BYTES, loadSettings, saveIssuerKeys } from "../../firmware/settings.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { flashStore } from "../update/helpers.ts";

const CFG = { terminalId: "7", merchantName: "Cafe", currency: "EUR", gatewayUrl: "http://gw.example", merchantId: 3, linkKey: "11".repeat(64), wifi: ["home"], issuerKeys: { "1": "aa".repeat(64) } };
const text = (b: Uint8Array | undefined) => Buffer.from(b!).toString();

function provisioned(): Flash {
  const flash = new Flash({ size: 128 * 1024 });
  const s = flashStore(flash);
  s.write("cfg.json", new Uint8Array(Buffer.from(JSON.stringify(CFG))));
  s.write("keep", new Uint8Array(Buffer.from("intact")));
  return flash;
}

describe("issuer keys saved at sync (firmware/settings.ts)", () => {
  it("are read back over cfg.json's, which keeps every other field provisioning wrote, byte for byte", () => {
    const flash = provisioned();
    const cfgBefore = text(flashStore(flash).read("cfg.json"));
    assert.ok(saveIssuerKeys(flashStore(flash), { "1": "aa".repeat(64), "2": "bb".repeat(64) }));
    const s = loadSettings(flashStore(flash));
    assert.deepEqual(Object.keys(s.issuerKeys).sort(), ["1", "2"]);
    assert.equal(s.merchantName, "Cafe");
    assert.equal(text(flashStore(flash).read("cfg.json")), cfgBefore, "cfg.json untouched: link key and Wi-Fi list stay");
  });

  it("are written in place: rotations make no new file and nothing to compact", () => {
    const flash = provisioned();
    const store = flashStore(flash);
    assert.ok(saveIssuerKeys(store, { "1": "aa".repeat(64), "2": "bb".repeat(64) }));
    const before = store.stats();
    for (let i = 3; i < 12; i++) {
      const k: { [id: string]: string } = { "1": "aa".repeat(64) };
      k[String(i)] = "cc".repeat(64);
      assert.ok(saveIssuerKeys(store, k));
      assert.deepEqual(Object.keys(loadSettings(store).issuerKeys).sort(), ["1", String(i)].sort());
    }
    assert.equal(store.stats().freeBytes, before.freeBytes);
    assert.equal(store.stats().trashBytes, 0);
    assert.ok(KEYS_LOG_BYTES >= 8192);
  });

  it("are ignored once cfg.json is provisioned again (provisioning's keys win)", () => {
    const flash = provisioned();
    assert.ok(saveIssuerKeys(flashStore(flash), { "1": "aa".repeat(64), "2": "bb".repeat(64) }));
    const again = Object.assign({}, CFG, { issuerKeys: { "5": "dd".repeat(64) } });
    flashStore(flash).write("cfg.json", new Uint8Array(Buffer.from(JSON.stringify(again))));
    assert.deepEqual(Object.keys(loadSettings(flashStore(flash)).issuerKeys), ["5"]);
  });

  it("are not saved without a readable cfg.json", () => {
    const flash = new Flash({ size: 64 * 1024 });
    assert.equal(saveIssuerKeys(flashStore(flash), { "1": "aa" }), false);
    flashStore(flash).write("cfg.json", new Uint8Array(Buffer.from("{")));
    assert.equal(saveIssuerKeys(flashStore(flash), { "1": "aa" }), false);
    assert.deepEqual(flashStore(flash).list("keys."), []);
  });

  for (const turnover of [false, true]) {
    it("after a power cut at every flash operation of a save (" + (turnover ? "a turnover" : "in place") + "), holds the old keys or the new ones, and other files survive", () => {
      const base = provisioned();
      const keys = (n: number) => ({ "1": "aa".repeat(64), [String(n)]: "ee".repeat(64) });
      let n = 2;
      assert.ok(saveIssuerKeys(flashStore(base), keys(n)));
      for (;;) {
        const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
        saveIssuerKeys(flashStore(probe), keys(n + 1));
        if (!turnover || flashStore(probe).list("keys.").indexOf("keys.b") >= 0) break;
        assert.ok(saveIssuerKeys(flashStore(base), keys(++n)));
        assert.ok(n < 100);
      }
      const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
      const start = probe.ops;
      assert.ok(saveIssuerKeys(flashStore(probe), keys(n + 1)));
      const total = probe.ops - start;
      const seen = new Set<string>();
      for (let cut = 1; cut <= total; cut++) {
        const flash = new Flash({ image: base.bytes, pageSize: base.pageSize });
        flash.cutPowerAt(cut);
        assert.throws(() => saveIssuerKeys(flashStore(flash), keys(n + 1)), (e: unknown) => (e as { code?: string }).code === "POWER_CUT");
        flash.cutPowerAt(null);
        new EspruinoStorage(flash).boot();
        const got = Object.keys(loadSettings(flashStore(flash)).issuerKeys).sort().join(",");
        assert.ok(got === "1," + n || got === "1," + (n + 1), "cut " + cut + " of " + total + ": " + got);
        seen.add(got);
        assert.equal(text(flashStore(flash).read("keep")), "intact");
        assert.equal(JSON.parse(text(flashStore(flash).read("cfg.json"))).linkKey, CFG.linkKey);
        assert.ok(saveIssuerKeys(flashStore(flash), keys(n + 2)), "save after cut " + cut);
        assert.equal(Object.keys(loadSettings(flashStore(flash)).issuerKeys).sort().join(","), "1," + (n + 2));
      }
      if (turnover) assert.equal(seen.size, 2, "the sweep saw both outcomes");
    });
  }
});
