import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import sinon from "sinon";
import type { Clock } from "../../hal/clock.ts";
import type { Done } from "../../hal/secure-element.ts";
import { Atecc608 } from "../../hal/drivers/atecc608.ts";
import { Atecc608Emulator } from "../../sim/peripherals/atecc608.ts";

const sha256 = (s: string) => new Uint8Array(createHash("sha256").update(s).digest());
const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** Node's own ECDSA P-256 check of R||S over SHA-256(message), with the key given as X||Y. */
function nodeChecks(message: string, rs: Uint8Array, xy: Uint8Array): boolean {
  const key = createPublicKey({
    key: { kty: "EC", crv: "P-256", x: b64url(xy.subarray(0, 32)), y: b64url(xy.subarray(32, 64)) },
    format: "jwk",
  });
  return nodeVerify("sha256", Buffer.from(message), { key, dsaEncoding: "ieee-p1363" }, rs);
}

describe("ATECC608 driver against the emulator", () => {
  let timers: sinon.SinonFakeTimers;
  let emu: Atecc608Emulator;
  let se: Atecc608;

  beforeEach(() => {
    timers = sinon.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    const clock: Clock = {
      now: () => timers.now,
      set: () => {},
      uptime: () => timers.now,
      setTimeout: (fn, ms) => timers.setTimeout(fn, ms) as unknown as number,
      setInterval: (fn, ms) => timers.setInterval(fn, ms) as unknown as number,
      clear: (id) => timers.clearTimeout(id),
    };
    emu = new Atecc608Emulator({ now: () => timers.now, revision: "608B" });
    se = new Atecc608({
      i2c: () => ({ write: (a, d) => emu.i2cWrite(a, d), read: (a, n) => emu.i2cRead(a, n) }),
      clock,
    });
  });
  afterEach(() => timers.restore());

  /** Runs one driver call to completion on the fake clock; fails if it never calls back. */
  function call<T>(start: (done: Done<T>) => void): { err: string | null; value: T | undefined } {
    let got: { err: string | null; value: T | undefined } | null = null;
    start((err, value) => {
      assert.equal(got, null, "callback called twice");
      got = { err, value };
    });
    for (let t = 0; t < 2000 && !got; t++) timers.tick(1);
    assert.ok(got, "no callback within 2 s");
    return got;
  }
  function ok<T>(start: (done: Done<T>) => void): T {
    const r = call(start);
    assert.equal(r.err, null);
    return r.value as T;
  }
  /** Provisioning normally writes the config zone first, then locks it; the factory image is locked here. */
  function lockConfig(): void {
    const s = emu.exportState();
    s.config = s.config.slice(0, 87 * 2) + "00" + s.config.slice(88 * 2);
    emu.importState(s);
  }

  it("reads the revision of a 608B through Info", () => {
    assert.deepEqual(Array.from(ok<Uint8Array>((d) => se.info(d))), [0x00, 0x00, 0x60, 0x03]);
  });

  it("puts the part to sleep (not idle) after a sequence, clearing the message-digest buffer", () => {
    lockConfig();
    ok<Uint8Array>((d) => se.provisionKey(0, d));
    ok<Uint8Array>((d) => se.sign(0, sha256("x"), d));
    assert.equal(emu.awake, false);
    assert.equal(emu.volatileState().msgDigBuf, false);
  });

  it("gets 32 random bytes that differ from one call to the next", () => {
    const a = ok<Uint8Array>((d) => se.random(d));
    const b = ok<Uint8Array>((d) => se.random(d));
    assert.equal(a.length, 32);
    assert.equal(b.length, 32);
    assert.notDeepEqual(Array.from(a), Array.from(b));
  });

  it("provisions a key, signs a digest with it and verifies the signature on the part", () => {
    lockConfig();
    const pub = ok<Uint8Array>((d) => se.provisionKey(0, d));
    assert.equal(pub.length, 64);
    const digest = sha256("receipt 42: 12.50 EUR");
    const rs = ok<Uint8Array>((d) => se.sign(0, digest, d));
    assert.equal(rs.length, 64);
    assert.equal(ok<boolean>((d) => se.verify(digest, rs, pub, d)), true);
  });

  it("makes signatures that Node's crypto accepts with the public key as a JWK", () => {
    lockConfig();
    const pub = ok<Uint8Array>((d) => se.provisionKey(1, d));
    const message = "receipt 43: 7.00 EUR";
    const rs = ok<Uint8Array>((d) => se.sign(1, sha256(message), d));
    assert.equal(nodeChecks(message, rs, pub), true);
    assert.equal(nodeChecks("receipt 43: 7.01 EUR", rs, pub), false);
  });

  it("answers false when the digest was tampered with", () => {
    lockConfig();
    const pub = ok<Uint8Array>((d) => se.provisionKey(0, d));
    const digest = sha256("receipt 44");
    const rs = ok<Uint8Array>((d) => se.sign(0, digest, d));
    const tampered = digest.slice();
    tampered[31] ^= 1;
    assert.equal(ok<boolean>((d) => se.verify(tampered, rs, pub, d)), false);
  });

  it("returns the provisioned key again through publicKey", () => {
    lockConfig();
    const pub = ok<Uint8Array>((d) => se.provisionKey(2, d));
    assert.deepEqual(Array.from(ok<Uint8Array>((d) => se.publicKey(2, d))), Array.from(pub));
  });

  it("reports the part's execution error when signing with an empty slot", () => {
    lockConfig();
    assert.equal(call<Uint8Array>((d) => se.sign(3, new Uint8Array(32), d)).err, "execution");
  });

  it("increments counter 0 and reads it back, little-endian", () => {
    assert.equal(ok<number>((d) => se.counter(0, false, d)), 0);
    assert.equal(ok<number>((d) => se.counter(0, true, d)), 1);
    assert.equal(ok<number>((d) => se.counter(0, true, d)), 2);
    assert.equal(ok<number>((d) => se.counter(0, false, d)), 2);
    assert.equal(ok<number>((d) => se.counter(1, false, d)), 0);
  });

  it("reads the 128-byte config zone with the serial prefix 01 23 and the lock bytes", () => {
    const cfg = ok<Uint8Array>((d) => se.readConfig(d));
    assert.equal(cfg.length, 128);
    assert.deepEqual([cfg[0], cfg[1]], [0x01, 0x23]);
    assert.deepEqual([cfg[86], cfg[87]], [0x55, 0x55]);
    lockConfig();
    assert.equal(ok<Uint8Array>((d) => se.readConfig(d))[87], 0x00);
  });

  it("runs queued calls back to back", () => {
    const got: string[] = [];
    se.info((err) => got.push(`info ${err}`));
    se.random((err, r) => got.push(`random ${err} ${r && r.length}`));
    se.counter(0, true, (err, n) => got.push(`counter ${err} ${n}`));
    timers.tick(500);
    assert.deepEqual(got, ["info null", "random null 32", "counter null 1"]);
  });
});
