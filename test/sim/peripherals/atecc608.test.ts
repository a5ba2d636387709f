import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import {
  Atecc608Emulator,
  atcaCrc16,
  p256PublicKey,
  p256SignDigest,
  p256VerifyDigest,
} from "../../../sim/peripherals/atecc608.ts";

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map((x) => parseInt(x, 16)));
const toHex = (b: Uint8Array | null) =>
  b === null ? "NACK" : Array.from(b, (x) => x.toString(16).padStart(2, "0").toUpperCase()).join(" ");
const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash("sha256").update(b).digest());
const ADDR = 0x60;

/** Builds `03 COUNT OP P1 P2lo P2hi DATA CRClo CRChi` with a correct CRC. */
function packet(op: number, p1: number, p2: number, data: ArrayLike<number> = []): Uint8Array {
  const body = [7 + data.length, op, p1, p2 & 0xff, p2 >> 8, ...Array.from(data)];
  const crc = atcaCrc16(body);
  return Uint8Array.from([0x03, ...body, crc & 0xff, crc >> 8]);
}

function rig(opts: { revision?: "608A" | "608B" } = {}) {
  let t = 0;
  const se = new Atecc608Emulator({ now: () => t, ...opts });
  const h = {
    se,
    advance(ms: number) {
      t += ms;
    },
    wake() {
      se.i2cWrite(0x00, [0x00]);
      t += 1.5;
      return se.i2cRead(ADDR, 4);
    },
    /** Sends a packet, waits `waitMs` (default: long enough for any command), reads the response. */
    send(pkt: Uint8Array, waitMs = 120): Uint8Array | null {
      assert.equal(se.i2cWrite(ADDR, pkt), true, "command write NACKed");
      t += waitMs;
      const head = se.i2cRead(ADDR, 1);
      if (head === null) return null;
      const rest = se.i2cRead(ADDR, head[0] - 1);
      return rest === null ? null : Uint8Array.from([...head, ...rest]);
    },
    cmd(op: number, p1: number, p2: number, data: ArrayLike<number> = [], waitMs = 120) {
      return h.send(packet(op, p1, p2, data), waitMs);
    },
    /** Response data (without COUNT and CRC), asserting the CRC. */
    data(resp: Uint8Array | null): Uint8Array {
      assert.ok(resp, "no response");
      const crc = atcaCrc16(resp, 0, resp.length - 2);
      assert.equal(resp[resp.length - 2] | (resp[resp.length - 1] << 8), crc, "response CRC");
      return resp.slice(1, resp.length - 2);
    },
    /** Locks the config zone (CRC skipped) and generates a key in slot 0; returns the public key. */
    provision(): Uint8Array {
      assert.equal(toHex(h.send(hex("03 07 17 80 00 00 39 8D"))), "04 00 03 40");
      const pub = h.data(h.send(hex("03 07 40 04 00 00 83 87")));
      assert.equal(pub.length, 64);
      return pub;
    },
  };
  return h;
}

describe("ATECC608 emulator", () => {
  describe("atcaCrc16", () => {
    it("gives the notes' worked example: Info CRC 0x5D03", () => {
      assert.equal(atcaCrc16(hex("07 30 00 00 00")), 0x5d03);
    });
    it("reproduces every command frame in the notes", () => {
      for (const f of [
        "07 1B 00 00 00 24 CD",
        "07 41 A0 00 00 7B 85",
        "07 40 04 00 00 83 87",
        "07 24 01 00 00 0F 77",
        "07 02 80 00 00 09 AD",
        "07 17 80 00 00 39 8D",
      ]) {
        const b = hex(f);
        const crc = atcaCrc16(b, 0, 5);
        assert.equal(toHex(Uint8Array.of(crc & 0xff, crc >> 8)), toHex(b.slice(5)), f);
      }
    });
    it("reproduces the status replies in the notes", () => {
      for (const r of ["04 00 03 40", "04 11 33 43", "04 0F 23 42", "04 03 83 42", "04 FF 01 42", "04 EE 31 41", "04 01 00 C3"]) {
        const b = hex(r);
        const crc = atcaCrc16(b, 0, 2);
        assert.equal(toHex(Uint8Array.of(crc & 0xff, crc >> 8)), toHex(b.slice(2)), r);
      }
    });
  });

  describe("power states", () => {
    it("NACKs everything at power-up (asleep)", () => {
      const r = rig();
      assert.equal(r.se.i2cRead(ADDR, 4), null);
      assert.equal(r.se.i2cWrite(ADDR, hex("03 07 30 00 00 00 03 5D")), false);
    });

    it("answers 04 11 33 43 after a wake pulse and tWHI", () => {
      const r = rig();
      assert.equal(r.se.i2cWrite(0x00, [0x00]), false, "nobody ACKs address 0");
      assert.equal(toHex(r.wake()), "04 11 33 43");
    });

    it("NACKs a read inside tWHI (1.5 ms) after the wake pulse", () => {
      const r = rig();
      r.se.i2cWrite(0x00, [0x00]);
      r.advance(1.4);
      assert.equal(r.se.i2cRead(ADDR, 4), null);
    });

    it("NACKs another I2C address", () => {
      const r = rig();
      r.wake();
      assert.equal(r.se.i2cRead(0x35, 4), null);
      assert.equal(r.se.i2cWrite(0x35, [0x03]), false);
    });

    it("goes to sleep on word address 01", () => {
      const r = rig();
      r.wake();
      assert.equal(r.se.i2cWrite(ADDR, [0x01]), true);
      assert.equal(r.se.i2cRead(ADDR, 4), null);
    });

    it("sleeps when the 1.3 s watchdog expires after wake", () => {
      const r = rig();
      r.wake();
      r.advance(1297);
      assert.equal(r.se.awake, true);
      r.advance(2);
      assert.equal(r.se.awake, false);
      assert.equal(r.se.i2cRead(ADDR, 4), null);
    });

    it("loses MsgDigBuf when the watchdog puts the chip to sleep", () => {
      const r = rig();
      r.wake();
      r.cmd(0x16, 0x43, 0, new Uint8Array(32), 20);
      assert.equal(r.se.volatileState().msgDigBuf, true);
      r.advance(1300);
      assert.equal(r.se.volatileState().msgDigBuf, false);
    });

    it("refuses a command that would outlast the watchdog with EE", () => {
      const r = rig();
      r.wake();
      r.provision();
      r.advance(1300 - 1.5 - 240 - 100); // about 100 ms of watchdog left; Sign takes 115 ms
      r.cmd(0x16, 0x43, 0, sha256("x"), 20);
      assert.equal(toHex(r.cmd(0x41, 0xa0, 0, [], 0)), "04 EE 31 41");
    });

    it("restarts the watchdog on wake after idle and keeps MsgDigBuf", () => {
      const r = rig();
      r.wake();
      const pub = r.provision();
      const digest = sha256("keep me");
      assert.equal(toHex(r.cmd(0x16, 0x43, 0, digest, 20)), "04 00 03 40");
      r.se.i2cWrite(ADDR, [0x02]); // idle
      r.advance(5000); // far beyond the watchdog: idle has none
      assert.equal(r.se.i2cRead(ADDR, 4), null, "idle NACKs");
      assert.equal(toHex(r.wake()), "04 11 33 43");
      const sig = r.data(r.cmd(0x41, 0xa0, 0));
      assert.equal(p256VerifyDigest(pub, digest, sig), true);
    });
  });

  describe("command packets", () => {
    it("answers Info with the 608A revision bytes", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.send(hex("03 07 30 00 00 00 03 5D"), 5)), "07 00 00 60 02 80 38");
    });

    it("answers Info with the 608B revision bytes", () => {
      const r = rig({ revision: "608B" });
      r.wake();
      assert.equal(toHex(r.send(hex("03 07 30 00 00 00 03 5D"), 5)), "07 00 00 60 03 83 BB");
    });

    it("NACKs reads while a command executes, then answers", () => {
      const r = rig();
      r.wake();
      r.se.i2cWrite(ADDR, hex("03 07 30 00 00 00 03 5D"));
      r.advance(4.9);
      assert.equal(r.se.i2cRead(ADDR, 7), null);
      assert.equal(r.se.i2cWrite(ADDR, [0x00]), false, "writes NACK too while busy");
      r.advance(0.1);
      assert.equal(toHex(r.se.i2cRead(ADDR, 7)), "07 00 00 60 02 80 38");
    });

    it("re-reads the response after word address 00 resets the pointer", () => {
      const r = rig();
      r.wake();
      r.send(hex("03 07 30 00 00 00 03 5D"), 5);
      assert.equal(r.se.i2cWrite(ADDR, [0x00]), true);
      assert.equal(toHex(r.se.i2cRead(ADDR, 7)), "07 00 00 60 02 80 38");
    });

    it("answers FF on a CRC error", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.send(hex("03 07 30 00 00 00 03 5E"), 0)), "04 FF 01 42");
    });

    it("answers FF when COUNT does not match the bytes sent", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.send(hex("03 08 30 00 00 00 03 5D"), 0)), "04 FF 01 42");
    });

    it("gives the CRC error priority over a bad opcode", () => {
      const r = rig();
      r.wake();
      const p = packet(0x99, 0, 0);
      p[p.length - 1] ^= 1;
      assert.equal(toHex(r.send(p, 0)), "04 FF 01 42");
    });

    it("answers 03 on an unknown opcode", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x99, 0, 0, [], 0)), "04 03 83 42");
    });

    it("answers 03 on a bad parameter (Counter #2)", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x24, 0x00, 2, [], 0)), "04 03 83 42");
    });
  });

  describe("Random", () => {
    it("returns 32 random bytes (COUNT 0x23) to the notes' frame", () => {
      const r = rig();
      r.wake();
      const a = r.send(hex("03 07 1B 00 00 00 24 CD"), 23);
      const b = r.send(hex("03 07 1B 00 00 00 24 CD"), 23);
      assert.equal(a?.[0], 0x23);
      assert.equal(r.data(a).length, 32);
      assert.notEqual(toHex(r.data(a)), toHex(r.data(b)));
    });

    it("is still busy 22 ms after the command", () => {
      const r = rig();
      r.wake();
      assert.equal(r.send(hex("03 07 1B 00 00 00 24 CD"), 22), null);
    });
  });

  describe("Nonce", () => {
    it("accepts a 32-byte pass-through into MsgDigBuf (P1=43) with status 00", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x16, 0x43, 0, new Uint8Array(32), 20)), "04 00 03 40");
    });

    it("accepts a 64-byte pass-through into TempKey (P1=23)", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x16, 0x23, 0, new Uint8Array(64), 20)), "04 00 03 40");
    });

    it("rejects a pass-through whose length disagrees with the 64-byte flag", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x16, 0x03, 0, new Uint8Array(64), 20)), "04 03 83 42");
    });

    it("random mode returns RandOut and sets TempKey = SHA-256(RandOut || NumIn || 16 00 00)", () => {
      const r = rig();
      r.wake();
      const pub = r.provision();
      const numIn = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
      const rand = r.data(r.cmd(0x16, 0x00, 0, numIn, 20));
      assert.equal(rand.length, 32);
      const expected = sha256(Uint8Array.from([...rand, ...numIn, 0x16, 0x00, 0x00]));
      const sig = r.data(r.cmd(0x41, 0x80, 0)); // Sign over TempKey
      assert.equal(p256VerifyDigest(pub, expected, sig), true);
    });
  });

  describe("GenKey, Sign and Verify", () => {
    it("GenKey needs the config zone locked", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.send(hex("03 07 40 04 00 00 83 87"))), "04 0F 23 42");
    });

    it("GenKey mode 00 recomputes the same public key", () => {
      const r = rig();
      r.wake();
      const pub = r.provision();
      assert.equal(toHex(r.data(r.cmd(0x40, 0x00, 0))), toHex(pub));
    });

    it("returns a public key that Node derives from the same private key", () => {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const jwk = privateKey.export({ format: "jwk" });
      const d = new Uint8Array(Buffer.from(jwk.d!, "base64url"));
      const xy = Buffer.concat([Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
      assert.equal(toHex(p256PublicKey(d)), toHex(new Uint8Array(xy)));
    });

    it("signs MsgDigBuf (P1=A0) so that Node verifies it against the original message", () => {
      const r = rig();
      r.wake();
      const pub = r.provision();
      const message = "amount=12.50;ctr=7";
      assert.equal(toHex(r.cmd(0x16, 0x43, 0, sha256(message), 20)), "04 00 03 40");
      const resp = r.send(hex("03 07 41 A0 00 00 7B 85"), 115);
      assert.equal(resp?.[0], 0x43);
      const sig = r.data(resp);
      const key = createPublicKey({
        key: { kty: "EC", crv: "P-256", x: Buffer.from(pub.slice(0, 32)).toString("base64url"), y: Buffer.from(pub.slice(32)).toString("base64url") },
        format: "jwk",
      });
      assert.equal(nodeVerify("sha256", Buffer.from(message), { key, dsaEncoding: "ieee-p1363" }, sig), true);
    });

    it("Sign is busy for 115 ms", () => {
      const r = rig();
      r.wake();
      r.provision();
      r.cmd(0x16, 0x43, 0, sha256("m"), 20);
      assert.equal(r.cmd(0x41, 0xa0, 0, [], 114), null);
      r.advance(1);
      assert.equal(r.se.i2cRead(ADDR, 1)?.[0], 0x43);
    });

    it("Sign after sleep fails with 0F (sleep clears MsgDigBuf)", () => {
      const r = rig();
      r.wake();
      r.provision();
      r.cmd(0x16, 0x43, 0, sha256("m"), 20);
      r.se.i2cWrite(ADDR, [0x01]);
      r.wake();
      assert.equal(toHex(r.send(hex("03 07 41 A0 00 00 7B 85"))), "04 0F 23 42");
    });

    it("Sign without a key in the slot fails with 0F", () => {
      const r = rig();
      r.wake();
      r.send(hex("03 07 17 80 00 00 39 8D"));
      r.cmd(0x16, 0x43, 0, sha256("m"), 20);
      assert.equal(toHex(r.cmd(0x41, 0xa0, 1)), "04 0F 23 42");
    });

    it("Verify external (P1=22, P2=0004) accepts a Node signature: status 00", () => {
      const r = rig();
      r.wake();
      r.send(hex("03 07 17 80 00 00 39 8D"));
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const jwk = publicKey.export({ format: "jwk" });
      const xy = Buffer.concat([Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
      const message = Buffer.from("server says hi");
      const sig = nodeSign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" });
      r.cmd(0x16, 0x43, 0, sha256(message), 20);
      const pkt = packet(0x45, 0x22, 0x0004, [...sig, ...xy]);
      assert.equal(pkt[1], 0x87);
      assert.equal(toHex(r.send(pkt, 105)), "04 00 03 40");
    });

    it("Verify external answers 01 for a signature over another digest", () => {
      const r = rig();
      r.wake();
      const pub = r.provision();
      r.cmd(0x16, 0x43, 0, sha256("one"), 20);
      const sig = r.data(r.cmd(0x41, 0xa0, 0));
      r.cmd(0x16, 0x43, 0, sha256("two"), 20);
      assert.equal(toHex(r.cmd(0x45, 0x22, 0x0004, [...sig, ...pub])), "04 01 00 C3");
    });

    it("Verify external with TempKey (P1=02) round-trips an emulator signature", () => {
      const r = rig();
      r.wake();
      const pub = r.provision();
      r.cmd(0x16, 0x03, 0, sha256("t"), 20);
      const sig = r.data(r.cmd(0x41, 0x80, 0));
      assert.equal(toHex(r.cmd(0x45, 0x02, 0x0004, [...sig, ...pub])), "04 00 03 40");
    });

    it("Verify external rejects a key type other than P-256 (P2=0000) with 03", () => {
      const r = rig();
      r.wake();
      r.provision();
      r.cmd(0x16, 0x43, 0, sha256("t"), 20);
      assert.equal(toHex(r.cmd(0x45, 0x22, 0x0000, new Uint8Array(128))), "04 03 83 42");
    });

    it("Verify stored uses a public key written to a slot in the padded 72-byte format", () => {
      const r = rig();
      r.wake();
      // KeyConfig slot 9 = 0x0030: public P-256, lockable (config still unlocked)
      assert.equal(toHex(r.cmd(0x12, 0x00, (3 << 3) | 4, [0x3c, 0x00, 0x30, 0x00])), "04 00 03 40"); // bytes 112-115
      const pub = r.provision();
      const padded = [0, 0, 0, 0, ...pub.slice(0, 32), 0, 0, 0, 0, ...pub.slice(32)];
      for (let block = 0; block < 2; block++) {
        assert.equal(toHex(r.cmd(0x12, 0x82, (block << 8) | (9 << 3), padded.slice(block * 32, block * 32 + 32))), "04 00 03 40");
      }
      for (let w = 0; w < 2; w++) {
        assert.equal(toHex(r.cmd(0x12, 0x02, (2 << 8) | (9 << 3) | w, padded.slice(64 + w * 4, 68 + w * 4))), "04 00 03 40");
      }
      r.cmd(0x16, 0x43, 0, sha256("stored"), 20);
      const sig = r.data(r.cmd(0x41, 0xa0, 0));
      assert.equal(toHex(r.cmd(0x45, 0x20, 9, sig)), "04 00 03 40");
    });
  });

  describe("P-256 helpers", () => {
    it("p256SignDigest signs the digest as-is (Node verifies with sha256 over the message)", () => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const d = new Uint8Array(Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"));
      const msg = Buffer.from("raw digest check");
      const sig = p256SignDigest(d, sha256(msg));
      assert.equal(nodeVerify("sha256", msg, { key: publicKey, dsaEncoding: "ieee-p1363" }, sig), true);
    });
    it("p256VerifyDigest returns null for a point off the curve", () => {
      assert.equal(p256VerifyDigest(new Uint8Array(64).fill(1), new Uint8Array(32), new Uint8Array(64).fill(1)), null);
    });
  });

  describe("Counter", () => {
    it("increments counter 0 with the notes' frame and returns the value little-endian", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.send(hex("03 07 24 01 00 00 0F 77"), 25)), toHex(responseOf([1, 0, 0, 0])));
      assert.equal(toHex(r.data(r.send(hex("03 07 24 01 00 00 0F 77"), 25))), "02 00 00 00");
      assert.equal(toHex(r.data(r.cmd(0x24, 0x00, 0, [], 25))), "02 00 00 00");
      assert.equal(toHex(r.data(r.cmd(0x24, 0x00, 1, [], 25))), "00 00 00 00");
    });

    it("refuses to increment past 2097151 with 0F", () => {
      const r = rig();
      const state = r.se.exportState();
      state.counters = [2097151, 0];
      r.se.importState(state);
      r.wake();
      assert.equal(toHex(r.cmd(0x24, 0x01, 0, [], 25)), "04 0F 23 42");
    });
  });

  describe("Read, Write, Lock", () => {
    it("reads config block 0 (32 bytes) with the serial, revision and I2C address", () => {
      const r = rig();
      r.wake();
      const cfg = r.data(r.send(hex("03 07 02 80 00 00 09 AD"), 5));
      assert.equal(cfg.length, 32);
      assert.equal(toHex(cfg.slice(0, 2)), "01 23");
      assert.equal(toHex(cfg.slice(4, 8)), "00 00 60 02");
      assert.equal(cfg[8], 0x01);
      assert.equal(cfg[16], 0xc0);
    });

    it("reads lock bytes 86/87 as 55 55 while unlocked and 00 00 after locking", () => {
      const r = rig();
      r.wake();
      const lockWord = () => r.data(r.cmd(0x02, 0x00, (2 << 3) | 5, [], 5)); // bytes 84-87
      assert.equal(toHex(lockWord().slice(2)), "55 55");
      r.send(hex("03 07 17 80 00 00 39 8D"));
      r.cmd(0x17, 0x81, 0);
      assert.equal(toHex(lockWord().slice(2)), "00 00");
    });

    it("writes config while unlocked and refuses after Lock config", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x12, 0x00, (0 << 3) | 5, [0xc0, 0x00, 0x00, 0x00], 45)), "04 00 03 40"); // 20-23
      r.send(hex("03 07 17 80 00 00 39 8D"));
      assert.equal(toHex(r.cmd(0x12, 0x00, (0 << 3) | 5, [0xc0, 0x00, 0x00, 0x00], 45)), "04 0F 23 42");
    });

    it("refuses writes to the serial-number words of the config zone", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x12, 0x00, 0, [1, 2, 3, 4], 45)), "04 0F 23 42");
    });

    it("locks config with a matching summary CRC and refuses a wrong one", () => {
      const r = rig();
      r.wake();
      const cfg = [0, 1, 2, 3].flatMap((b) => Array.from(r.data(r.cmd(0x02, 0x80, b << 3, [], 5))));
      const crc = atcaCrc16(cfg);
      assert.equal(toHex(r.cmd(0x17, 0x00, crc ^ 1, [], 35)), "04 0F 23 42");
      assert.equal(toHex(r.cmd(0x17, 0x00, crc, [], 35)), "04 00 03 40");
      assert.equal(toHex(r.cmd(0x17, 0x00, crc, [], 35)), "04 0F 23 42", "already locked");
    });

    it("refuses Lock data before the config zone is locked", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x17, 0x81, 0, [], 35)), "04 0F 23 42");
    });

    it("refuses data-zone reads before the data zone is locked, allows them after", () => {
      const r = rig();
      r.wake();
      r.send(hex("03 07 17 80 00 00 39 8D"));
      assert.equal(toHex(r.cmd(0x12, 0x02, 10 << 3, [9, 8, 7, 6], 45)), "04 00 03 40");
      assert.equal(toHex(r.cmd(0x02, 0x02, 10 << 3, [], 5)), "04 0F 23 42");
      r.cmd(0x17, 0x81, 0);
      assert.equal(toHex(r.data(r.cmd(0x02, 0x02, 10 << 3, [], 5))), "09 08 07 06");
    });

    it("never reveals a private-key slot", () => {
      const r = rig();
      r.wake();
      r.provision();
      r.cmd(0x17, 0x81, 0);
      assert.equal(toHex(r.cmd(0x02, 0x82, 0, [], 5)), "04 0F 23 42");
    });
  });

  describe("SHA", () => {
    it("start / update / end gives SHA-256 of the whole message", () => {
      const r = rig();
      r.wake();
      const msg = Uint8Array.from({ length: 64 + 10 }, (_, i) => i);
      assert.equal(toHex(r.cmd(0x47, 0x00, 0, [], 36)), "04 00 03 40");
      assert.equal(toHex(r.cmd(0x47, 0x01, 64, msg.slice(0, 64), 36)), "04 00 03 40");
      assert.equal(toHex(r.data(r.cmd(0x47, 0x02, 10, msg.slice(64), 36))), toHex(sha256(msg)));
    });

    it("update without start fails with 0F", () => {
      const r = rig();
      r.wake();
      assert.equal(toHex(r.cmd(0x47, 0x01, 64, new Uint8Array(64), 36)), "04 0F 23 42");
    });
  });

  describe("persistence", () => {
    it("exportState/importState carries keys, locks and counters over to a new chip", () => {
      const a = rig();
      a.wake();
      const pub = a.provision();
      a.cmd(0x24, 0x01, 0, [], 25);
      const json = JSON.parse(JSON.stringify(a.se.exportState()));
      const b = rig();
      b.se.importState(json);
      b.wake();
      assert.equal(toHex(b.data(b.cmd(0x40, 0x00, 0))), toHex(pub));
      assert.equal(toHex(b.data(b.cmd(0x24, 0x00, 0, [], 25))), "01 00 00 00");
    });
  });
});

function responseOf(data: number[]): Uint8Array {
  const body = [data.length + 3, ...data];
  const crc = atcaCrc16(body);
  return Uint8Array.from([...body, crc & 0xff, crc >> 8]);
}
