/**
 * ECDH (opcode 43, mode 00) through the real ATECC608 driver against the emulated part, cross-checked with Node's
 * own P-256 ECDH.
 */
import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { SeSlot } from "../../hal/secure-element.ts";
import { seRig } from "../protocol/helpers.ts";
import type { SeRig } from "../protocol/helpers.ts";

/** A Node key pair on P-256: its X||Y (64 bytes) and a function giving the shared X with another X||Y. */
function nodeKey(): { pub: Uint8Array; shared(peer: Uint8Array): Uint8Array } {
  const e = createECDH("prime256v1");
  e.generateKeys();
  return {
    pub: new Uint8Array(e.getPublicKey().subarray(1)),
    shared: (peer) => new Uint8Array(e.computeSecret(Buffer.concat([Buffer.of(4), peer]))),
  };
}

function provision(rig: SeRig, slot: number): Uint8Array {
  const r = rig.run<Uint8Array>((d) => rig.se.provisionKey(slot, d));
  assert.equal(r.err, null);
  return r.value as Uint8Array;
}

/** The config image with SlotConfig of `slot` replaced, then locked (as provisioning would write and lock it). */
function rigWithSlotConfig(slot: number, lo: number, hi: number): SeRig {
  const rig = seRig(false);
  const s = rig.emu.exportState();
  const cfg = Buffer.from(s.config, "hex");
  cfg[20 + slot * 2] = lo;
  cfg[21 + slot * 2] = hi;
  cfg[87] = 0x00;
  s.config = cfg.toString("hex");
  rig.emu.importState(s);
  return rig;
}

describe("ATECC608 ECDH (driver against the emulator)", () => {
  it("gives the same 32-byte shared secret as Node for the storage slot's key", () => {
    const rig = seRig();
    const pub = provision(rig, SeSlot.Storage);
    const peer = nodeKey();
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, peer.pub, d));
    assert.equal(r.err, null);
    assert.equal(r.value!.length, 32);
    assert.deepEqual(Buffer.from(r.value!), Buffer.from(peer.shared(pub)));
  });

  it("uses each slot's own key: the session slot gives another secret with the same peer", () => {
    const rig = seRig();
    provision(rig, SeSlot.Storage);
    const pub3 = provision(rig, SeSlot.Session);
    const peer = nodeKey();
    const s2 = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, peer.pub, d)).value!;
    const s3 = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Session, peer.pub, d)).value!;
    assert.notDeepEqual(Buffer.from(s2), Buffer.from(s3));
    assert.deepEqual(Buffer.from(s3), Buffer.from(peer.shared(pub3)));
  });

  it("gives the same secret twice for the same peer (a fixed point derives fixed keys)", () => {
    const rig = seRig();
    provision(rig, SeSlot.Storage);
    const peer = nodeKey();
    const a = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, peer.pub, d)).value!;
    const b = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, peer.pub, d)).value!;
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
  });

  it("answers an execution error for a private-key slot that holds no key yet", () => {
    const rig = seRig();
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Session, nodeKey().pub, d));
    assert.equal(r.err, "execution");
  });

  it("answers an execution error for a data slot (not an ECC private key)", () => {
    const rig = seRig();
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(9, nodeKey().pub, d));
    assert.equal(r.err, "execution");
  });

  it("answers an execution error for a peer point that is not on the curve", () => {
    const rig = seRig();
    provision(rig, SeSlot.Storage);
    const bad = nodeKey().pub;
    bad[63] ^= 1;
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, bad, d));
    assert.equal(r.err, "execution");
  });

  it("answers an execution error while the config zone is unlocked", () => {
    const rig = seRig(false);
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, nodeKey().pub, d));
    assert.equal(r.err, "execution");
  });

  it("answers an execution error when the slot's SlotConfig does not permit ECDH (ReadKey bit 2 clear)", () => {
    const rig = rigWithSlotConfig(SeSlot.Storage, 0x83, 0x20);
    provision(rig, SeSlot.Storage);
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, nodeKey().pub, d));
    assert.equal(r.err, "execution");
  });

  it("writes the secret to slot N|1 and answers only a status when ReadKey bit 3 is set", () => {
    const rig = rigWithSlotConfig(SeSlot.Storage, 0x8f, 0x20);
    const pub = provision(rig, SeSlot.Storage);
    const peer = nodeKey();
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(SeSlot.Storage, peer.pub, d));
    assert.equal(r.err, null);
    assert.deepEqual(Array.from(r.value!), [0x00], "a status packet, no secret on the bus");
    const slot3 = Buffer.from(rig.emu.exportState().slots[3], "hex");
    assert.deepEqual(slot3.subarray(0, 32), Buffer.from(peer.shared(pub)));
  });

  it("answers a parse error for a slot number over 15", () => {
    const rig = seRig();
    const r = rig.run<Uint8Array>((d) => rig.se.ecdh(16, nodeKey().pub, d));
    assert.equal(r.err, "parse");
  });
});
