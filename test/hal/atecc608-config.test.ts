/**
 * The terminal's ATECC608 configuration (hal/drivers/atecc608-config.ts) written and locked by the driver's setup()
 * against the emulated part, and what the locked part then refuses: config writes, clear reads of the secret I/O key
 * slot, a new identity key, ECDH output in the clear. The encrypted ECDH result decrypts (in the driver) to Node's
 * own shared secret.
 */
import assert from "node:assert/strict";
import { createECDH, createHash } from "node:crypto";
import { checkConfig, IO_KEY_SLOT, terminalConfig } from "../../hal/drivers/atecc608-config.ts";
import { AteccOp, command } from "../../hal/drivers/atecc608-frames.ts";
import { SeSlot } from "../../hal/secure-element.ts";
import { seRig } from "../protocol/helpers.ts";
import type { SeRig } from "../protocol/helpers.ts";

const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

function nodeKey(): { pub: Uint8Array; shared(peer: Uint8Array): Uint8Array } {
  const e = createECDH("prime256v1");
  e.generateKeys();
  return { pub: new Uint8Array(e.getPublicKey().subarray(1)), shared: (peer) => new Uint8Array(e.computeSecret(Buffer.concat([Buffer.of(4), peer]))) };
}

/** A blank part set up by the driver; the I/O key it kept. */
function setUp(): { rig: SeRig; io: Uint8Array } {
  const rig = seRig(false);
  let kept: Uint8Array | null = null;
  const r = rig.run<string>((d) => rig.se.setup({ ioKey: null, keep: (k) => ((kept = new Uint8Array(k)), true), sha256 }, (code) => d(null, code)), 20000);
  assert.equal(r.value, "", "setup ends configured");
  assert.ok(kept && (kept as Uint8Array).length === 32);
  return { rig, io: kept! };
}

/** One raw command through the emulator's bus; the response bytes. */
function raw(rig: SeRig, op: number, p1: number, p2: number, data?: Uint8Array): Uint8Array {
  rig.emu.i2cWrite(0, [0]);
  rig.clock.advance(2, undefined, 1);
  rig.emu.i2cRead(0x60, 4);
  rig.emu.i2cWrite(0x60, command(op, p1, p2, data));
  for (let t = 0; t < 300; t++) {
    const h = rig.emu.i2cRead(0x60, 1);
    if (h) {
      const r = new Uint8Array([h[0], ...rig.emu.i2cRead(0x60, h[0] - 1)!]);
      rig.emu.i2cWrite(0x60, [1]); // sleep, as the driver leaves it
      return r;
    }
    rig.clock.advance(1, undefined, 1);
  }
  throw new Error("no answer");
}
const status = (r: Uint8Array) => (r[0] === 4 ? r[1] : 0);

describe("ATECC608 configuration for the terminal (driver setup against the emulator)", () => {
  it("a blank part fails the boot check as unlocked", () => {
    const rig = seRig(false);
    const r = rig.run<string>((d) => rig.se.check(new Uint8Array(32), sha256, (c) => d(null, c)));
    assert.equal(r.value, "SE_UNLOCKED");
  });

  it("a part locked with the factory image fails the boot check as misconfigured", () => {
    const rig = seRig(true);
    const s = rig.emu.exportState();
    s.config = s.config.slice(0, 86 * 2) + "00" + s.config.slice(87 * 2);
    rig.emu.importState(s);
    const r = rig.run<string>((d) => rig.se.check(new Uint8Array(32), sha256, (c) => d(null, c)));
    assert.equal(r.value, "SE_CONFIG");
  });

  it("writes the slots, keys and options, locks both zones, and reads back what checkConfig accepts", () => {
    const { rig } = setUp();
    const cfg = rig.run<Uint8Array>((d) => rig.se.readConfig(d)).value!;
    assert.equal(cfg[87], 0x00, "LockConfig");
    assert.equal(cfg[86], 0x00, "LockValue");
    assert.deepEqual([...cfg.subarray(90, 92)], [0x02, 0x61], "ChipOptions: IOProtKeyEnable, ECDHProt 1, I/O key in slot 6");
    assert.deepEqual([...cfg.subarray(20, 36)], [0x85, 0, 0x80, 0, 0x84, 0, 0x84, 0x20, 0x80, 0, 0x80, 0, 0x80, 0x20, 0x80, 0]);
    assert.equal(checkConfig(cfg), "");
    for (const slot of [SeSlot.Identity, SeSlot.Storage, SeSlot.Session]) assert.ok(rig.emu.publicKeyOf(slot), "key in slot " + slot);
  });

  it("checkConfig names one changed slot or option", () => {
    const { rig } = setUp();
    const cfg = rig.run<Uint8Array>((d) => rig.se.readConfig(d)).value!;
    for (const [at, v] of [[24, 0x87], [91, 0x60], [90, 0], [96 + 12, 0x33]] as const) {
      const c = new Uint8Array(cfg);
      c[at] = v;
      assert.equal(checkConfig(c), "SE_CONFIG", "byte " + at);
    }
    assert.deepEqual(terminalConfig(cfg), cfg, "a configured part is its own image");
  });

  it("refuses config writes once locked, and a second config lock", () => {
    const { rig } = setUp();
    assert.equal(status(raw(rig, AteccOp.Write, 0, 5, new Uint8Array([0x87, 0x20, 0x87, 0x20]))), 0x0f);
    assert.equal(status(raw(rig, AteccOp.Lock, 0x80, 0)), 0x0f);
  });

  it("never reads the I/O key slot in the clear and refuses to rewrite it", () => {
    const { rig } = setUp();
    assert.equal(status(raw(rig, AteccOp.Read, 0x82, IO_KEY_SLOT << 3)), 0x0f);
    assert.equal(status(raw(rig, AteccOp.Write, 0x82, IO_KEY_SLOT << 3, new Uint8Array(32))), 0x0f);
    assert.equal(status(raw(rig, AteccOp.Read, 0x82, SeSlot.Storage << 3)), 0x0f, "nor a private key");
  });

  it("refuses a new identity or storage key once locked, but makes a new session key", () => {
    const { rig } = setUp();
    assert.equal(rig.run<Uint8Array>((d) => rig.se.provisionKey(SeSlot.Identity, d)).err, "execution");
    assert.equal(rig.run<Uint8Array>((d) => rig.se.provisionKey(SeSlot.Storage, d)).err, "execution");
    assert.equal(rig.run<Uint8Array>((d) => rig.se.provisionKey(SeSlot.Session, d)).err, null);
  });

  it("refuses ECDH in the clear on the bus (mode 00), answers it encrypted, and the driver decrypts it to Node's secret", () => {
    const { rig, io } = setUp();
    const peer = nodeKey();
    assert.equal(status(raw(rig, AteccOp.ECDH, 0x00, SeSlot.Storage, peer.pub)), 0x0f, "clear output refused");
    const enc = raw(rig, AteccOp.ECDH, 0x0e, SeSlot.Storage, peer.pub);
    assert.equal(enc[0], 67, "32 encrypted bytes and the 32-byte output nonce");
    const want = peer.shared(rig.emu.publicKeyOf(SeSlot.Storage)!);
    assert.notDeepEqual(Buffer.from(enc.subarray(1, 33)), Buffer.from(want), "what crosses the bus is not the secret");
    // the driver, once the boot check gave it the I/O key
    assert.equal(rig.run<string>((d) => rig.se.check(io, sha256, (c) => d(null, c))).value, "");
    const z = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, peer.pub, d));
    assert.equal(z.err, null);
    assert.deepEqual(Buffer.from(z.value!), Buffer.from(want));
  });

  it("the boot check wants the I/O key: without it the part is not ready", () => {
    const { rig } = setUp();
    assert.equal(rig.run<string>((d) => rig.se.check(null, sha256, (c) => d(null, c))).value, "SE_IO_KEY");
  });

  it("a second setup on a locked part changes nothing and keeps the keys", () => {
    const { rig, io } = setUp();
    const before = rig.emu.exportState();
    const r = rig.run<string>((d) => rig.se.setup({ ioKey: io, keep: () => assert.fail("no new key"), sha256 }, (c) => d(null, c)), 20000);
    assert.equal(r.value, "");
    assert.deepEqual(rig.emu.exportState().keys, before.keys);
  });
});

describe("ATECC608 setup on a part locked by someone else", () => {
  it("refuses a part whose configuration was locked with other slots, without locking its data zone", () => {
    const rig = seRig(true); // the factory image, config locked, data open
    const r = rig.run<string>((d) => rig.se.setup({ ioKey: null, keep: () => true, sha256 }, (c) => d(null, c)), 20000);
    assert.equal(r.value, "SE_CONFIG");
    assert.equal(rig.run<Uint8Array>((d) => rig.se.readConfig(d)).value![86], 0x55, "data zone still unlocked");
  });
});
