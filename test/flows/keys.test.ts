/**
 * Issuer key rotation in the simulator (devkit bundle, reference gateway): a key the gateway announces at sync is
 * trusted only when an issuer key the terminal already holds signed it, is kept in Storage (the issuer keys' log
 * beside cfg.json, firmware/settings.ts), and is still trusted after a power cut.
 */
import assert from "node:assert/strict";
import { ACTIVITY_FILES } from "../../firmware/activity.ts";
import { toHex } from "../../protocol/codec/hex.ts";
import { issuerKeyBody, revokeBody } from "../../protocol/keys.ts";
import { Gateway } from "../../gateway/gateway.ts";
import { Issuer, signBody } from "../../gateway/issuer.ts";
import { SqliteStore } from "../../gateway/sqlite-store.ts";
import { World } from "../../sim/world.ts";
import { KEYS_LOGS, loadSettings } from "../../firmware/settings.ts";
import { flashStore } from "../update/helpers.ts";
import type { GatewayLike } from "../../sim/world.ts";

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0);

/** The issuer keys the terminal's settings hold on flash (cfg.json with the keys saved at sync over it). */
function cfgKeys(w: World): Record<string, string> {
  return loadSettings(flashStore(w.host.flash)).issuerKeys;
}

function activity(w: World): string {
  let s = "";
  for (const f of ACTIVITY_FILES) s += w.host.storage.read(f) ?? "";
  return s;
}

describe("flow: issuer key rotation at sync (devkit bundle, reference gateway)", function () {
  this.timeout(180000);

  it("trusts a new issuer key only when a held key signed it, keeps it in Storage, and still holds it after a power cut", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer });
    w.attachGateway(g as unknown as GatewayLike);
    w.setWifi(false);
    await w.provision();
    const held = cfgKeys(w);
    assert.deepEqual(Object.keys(held), [String(w.issuer.keyId)]);

    // key 2 signed by the current issuer key (the admin route's way), key 4 signed by key 2 (a chain, in order),
    // key 3 signed by a stranger claiming to be the issuer key, key 5 signed by a key the terminal never had
    const k2 = Issuer.generate(2);
    g.addIssuerKey({ keyId: 2, publicKey: k2.publicKey });
    const k3 = Issuer.generate(3);
    const k4 = Issuer.generate(4);
    const k5 = Issuer.generate(5);
    const list = g.issuerKeys();
    list.push({ id: 3, pub: toHex(k3.publicKey), by: w.issuer.keyId, sig: toHex(signBody(k3.privateKey, issuerKeyBody(3, k3.publicKey))) });
    list.push({ id: 4, pub: toHex(k4.publicKey), by: 2, sig: toHex(signBody(k2.privateKey, issuerKeyBody(4, k4.publicKey))) });
    list.push({ id: 5, pub: toHex(k5.publicKey), by: 9, sig: toHex(signBody(k5.privateKey, issuerKeyBody(5, k5.publicKey))) });
    g.store.setMeta("issuerKeys", JSON.stringify(list));

    w.setWifi(true);
    await w.until("key 2 saved", () => "2" in cfgKeys(w), 20000);
    await w.run(1000);
    const keys = cfgKeys(w);
    assert.deepEqual(Object.keys(keys).sort(), [String(w.issuer.keyId), "2", "4"].sort());
    assert.equal(keys["2"], toHex(k2.publicKey));
    assert.equal(keys["4"], toHex(k4.publicKey));
    assert.equal(keys[String(w.issuer.keyId)], held[String(w.issuer.keyId)], "the provisioned key is kept");
    const log = activity(w);
    assert.match(log, /issuer key 2/);
    assert.match(log, /issuer key 4/);
    assert.match(log, /key 3 bad signature/);
    assert.match(log, /key 5 unknown signer/);

    const hellos = () => g.store.activity().filter((a) => a.kind === "hello").map((a) => JSON.parse(a.detail).keys);
    const before = hellos().length;
    const cfgBefore = JSON.parse(w.host.storage.read("cfg.json")!);
    w.powerCut();
    w.powerOn();
    await w.until("a hello after the reboot (the link settings survived the key's save)", () => hellos().length > before, 20000);
    assert.deepEqual(Object.keys(cfgKeys(w)).sort(), [String(w.issuer.keyId), "2", "4"].sort());
    assert.ok(cfgBefore.linkKey && cfgBefore.wifi, "provisioning's link key and Wi-Fi list are still in cfg.json");
    assert.deepEqual(hellos()[hellos().length - 1].sort(), [w.issuer.keyId, 2, 4].sort(), "after the reboot the terminal says it holds the rotated keys");
  });

  it("keeps a verified key in RAM when Storage cannot save it, logs it, and saves it after the next sync", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer });
    w.attachGateway(g as unknown as GatewayLike);
    w.setWifi(false);
    await w.provision();
    const k2 = Issuer.generate(2);
    g.addIssuerKey({ keyId: 2, publicKey: k2.publicKey });

    // Storage refuses the issuer keys' log (full, say: no room for its file) until told otherwise
    const st = w.host.storage;
    const write = st.write.bind(st);
    let refuse = true;
    let refused = 0;
    st.write = (name: string, ...rest: unknown[]) => {
      if (refuse && KEYS_LOGS.indexOf(name) >= 0) {
        refused++;
        return false;
      }
      return (write as (...a: unknown[]) => boolean)(name, ...rest);
    };
    const heldAtHello = () => g.store.activity().filter((a) => a.kind === "hello").map((a) => JSON.parse(a.detail).keys);

    w.setWifi(true);
    await w.until("the refused write", () => refused > 0, 20000);
    await w.run(1000);
    assert.deepEqual(Object.keys(cfgKeys(w)), [String(w.issuer.keyId)], "nothing saved");
    assert.match(activity(w), /issuer keys not saved/);

    // the next sync says it holds key 2 (RAM), and the write is tried again and lands
    refuse = false;
    w.setWifi(false);
    await w.run(500);
    w.setWifi(true);
    await w.until("key 2 saved", () => "2" in cfgKeys(w), 30000);
    assert.equal(cfgKeys(w)["2"], toHex(k2.publicKey));
    const helloKeys = heldAtHello();
    assert.deepEqual(helloKeys[0], [w.issuer.keyId], "the first hello before the key");
    assert.deepEqual(helloKeys[helloKeys.length - 1], [w.issuer.keyId, 2], "a later hello holds key 2 from RAM");
  });

  it("drops a key revoked by another held key, ignores a forged revocation, and the revoked key stays gone after a power cut", async () => {
    const w = World.open({ stateDir: null, wallClockMs: T0 });
    const g = new Gateway({ store: new SqliteStore(":memory:"), clock: { now: () => w.now() }, issuer: w.issuer });
    w.attachGateway(g as unknown as GatewayLike);
    await w.provision();
    const k2 = Issuer.generate(2);
    g.addIssuerKey({ keyId: 2, publicKey: k2.publicKey });
    w.setWifi(false);
    await w.run(500);
    w.setWifi(true);
    await w.until("key 2 saved", () => "2" in cfgKeys(w), 20000);

    // a forged revocation of the provisioned key (claims key 2, signed by a stranger), then the gateway's own of key 2
    const stranger = Issuer.generate(2);
    const forged = { id: w.issuer.keyId, by: 2, sig: toHex(signBody(stranger.privateKey, revokeBody(w.issuer.keyId))) };
    g.store.setMeta("issuerKeyRevocations", JSON.stringify([forged]));
    g.revokeIssuerKey(2);
    w.setWifi(false);
    await w.run(500);
    w.setWifi(true);
    await w.until("key 2 gone from Storage", () => !("2" in cfgKeys(w)), 20000);
    assert.deepEqual(Object.keys(cfgKeys(w)), [String(w.issuer.keyId)]);
    assert.match(activity(w), new RegExp("revoke " + w.issuer.keyId + " bad signature"));
    assert.match(activity(w), /issuer revoke 2/);

    const helloKeys = () => g.store.activity().filter((a) => a.kind === "hello").map((a) => JSON.parse(a.detail).keys);
    const before = helloKeys().length;
    w.powerCut();
    w.powerOn();
    await w.until("a hello after the reboot", () => helloKeys().length > before, 20000);
    assert.deepEqual(Object.keys(cfgKeys(w)), [String(w.issuer.keyId)]);
    const hellos = helloKeys();
    assert.deepEqual(hellos[hellos.length - 1], [w.issuer.keyId], "after the reboot the terminal holds the provisioned key only");
  });
});
