/** Storage keys from the secure element (firmware/keys.ts), through the real driver on the emulated part. */
import assert from "node:assert/strict";
import { createECDH, createHash, createHmac } from "node:crypto";
import { SeSlot } from "../../hal/secure-element.ts";
import type { KeyError, StorageKeys } from "../../firmware/keys.ts";
import { deriveStorageKeys, provisionSeKeys, storagePointHex, STORAGE_POINT_LABEL } from "../../firmware/keys.ts";
import { crypto, seRig } from "../protocol/helpers.ts";
import type { SeRig } from "../protocol/helpers.ts";

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const GX = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";

function modPow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b %= P;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

function derive(rig: SeRig): { err: KeyError | null; keys?: StorageKeys } {
  let got: { err: KeyError | null; keys?: StorageKeys } | null = null;
  deriveStorageKeys(rig.se, crypto, (err, keys) => (got = { err, keys }));
  for (let t = 0; t < 2000 && !got; t++) rig.clock.advance(1, undefined, 1);
  assert.ok(got, "no callback");
  return got;
}

function provisioned(): SeRig {
  const rig = seRig();
  const r = rig.run<number[]>((d) => provisionSeKeys(rig.se, (e, c) => d(e ? e.code : null, c)));
  assert.equal(r.err, null);
  return rig;
}

describe("storage keys from the secure element", () => {
  it("uses a storage point hashed to the curve from its documented label (nothing up the sleeve)", () => {
    let found = "";
    for (let ctr = 0; ctr < 256 && !found; ctr++) {
      const h = createHash("sha256").update(Buffer.concat([Buffer.from(STORAGE_POINT_LABEL), Buffer.of(ctr)])).digest("hex");
      const x = BigInt("0x" + h);
      if (x >= P) continue;
      const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
      let y = modPow(rhs, (P + 1n) / 4n);
      if ((y * y) % P !== rhs) continue;
      if (y & 1n) y = P - y;
      found = h + y.toString(16).padStart(64, "0");
    }
    assert.equal(storagePointHex(), found);
    assert.notEqual(storagePointHex().slice(0, 64), GX, "not the generator");
  });

  it("derives each key as HMAC-SHA256(ECDH(storage key, point), label)[0..16], as Node computes it", () => {
    const rig = provisioned();
    const d = Buffer.from(rig.emu.exportState().keys[SeSlot.Storage]!, "hex");
    const e = createECDH("prime256v1");
    e.setPrivateKey(d);
    const root = e.computeSecret(Buffer.from("04" + storagePointHex(), "hex"));
    const k = (label: string) => createHmac("sha256", root).update(label).digest().subarray(0, 16);
    const r = derive(rig);
    assert.equal(r.err, null);
    const keys = r.keys!;
    assert.deepEqual(Buffer.from(keys.journal.enc), k("journal enc"));
    assert.deepEqual(Buffer.from(keys.journal.mac), k("journal mac"));
    assert.deepEqual(Buffer.from(keys.journal.iv), k("journal iv"));
    assert.deepEqual(Buffer.from(keys.vault.enc), k("vault enc"));
    assert.deepEqual(Buffer.from(keys.vault.mac), k("vault mac"));
  });

  it("derives the same keys at every boot and different keys on another part", () => {
    const rig = provisioned();
    const a = derive(rig).keys!;
    rig.emu.powerCycle();
    const b = derive(rig).keys!;
    assert.deepEqual(a, b);
    const other = derive(provisioned()).keys!;
    assert.notDeepEqual(Buffer.from(a.vault.enc), Buffer.from(other.vault.enc));
  });

  it("gives five distinct 16-byte keys, none of them the storage key's public X", () => {
    const rig = provisioned();
    const keys = derive(rig).keys!;
    const all = [keys.journal.enc, keys.journal.mac, keys.journal.iv, keys.vault.enc, keys.vault.mac].map((x) => Buffer.from(x).toString("hex"));
    for (const h of all) assert.equal(h.length, 32);
    assert.equal(new Set(all).size, 5);
    const pubX = Buffer.from(rig.emu.publicKeyOf(SeSlot.Storage)!.subarray(0, 16)).toString("hex");
    assert.ok(!all.includes(pubX));
  });

  it("fails with KEYS_SE when the storage slot holds no key", () => {
    const r = derive(seRig());
    assert.equal(r.err?.code, "KEYS_SE");
    assert.equal(r.keys, undefined);
  });

  it("provisions the storage and session slots when empty, and never replaces an existing storage key", () => {
    const rig = seRig();
    const first = rig.run<number[]>((d) => provisionSeKeys(rig.se, (e, c) => d(e ? e.code : null, c)));
    assert.deepEqual(first.value, [SeSlot.Storage, SeSlot.Session]);
    const pub = rig.emu.publicKeyOf(SeSlot.Storage);
    const again = rig.run<number[]>((d) => provisionSeKeys(rig.se, (e, c) => d(e ? e.code : null, c)));
    assert.deepEqual(again.value, []);
    assert.deepEqual(rig.emu.publicKeyOf(SeSlot.Storage), pub);
  });
});
