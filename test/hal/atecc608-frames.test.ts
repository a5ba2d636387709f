import assert from "node:assert/strict";
import {
  AteccOp,
  command,
  crc16,
  maxExecMs,
  parseResponse,
  statusText,
} from "../../hal/drivers/atecc608-frames.ts";

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map((x) => parseInt(x, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0").toUpperCase()).join(" ");

/** Bit-reversal of CRC-16/ARC, the way Linux's atmel-i2c driver computes the same checksum. */
function crcViaArc(d: Uint8Array): number {
  let crc = 0;
  for (const byte of d) {
    crc ^= byte;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  let r = 0;
  for (let b = 0; b < 16; b++) if (crc & (1 << b)) r |= 1 << (15 - b);
  return r;
}

describe("ATECC608 frames", () => {
  describe("crc16", () => {
    it("gives 0x5D03 over the Info(Revision) packet 07 30 00 00 00", () => {
      assert.equal(crc16(hex("07 30 00 00 00"), 0, 5), 0x5d03);
    });
    it("covers only the given range", () => {
      assert.equal(crc16(hex("03 07 30 00 00 00 FF"), 1, 6), 0x5d03);
    });
    it("equals bitrev16(CRC-16/ARC) as Linux computes it, on many inputs", () => {
      for (let len = 1; len < 40; len++) {
        const d = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len * 11) & 0xff);
        assert.equal(crc16(d, 0, len), crcViaArc(d), `length ${len}`);
      }
    });
  });

  describe("command", () => {
    it("builds Info(Revision) as 03 07 30 00 00 00 03 5D", () => {
      assert.equal(toHex(command(AteccOp.Info, 0, 0)), "03 07 30 00 00 00 03 5D");
    });
    const frames: Array<[string, Uint8Array, string]> = [
      ["Random", command(AteccOp.Random, 0, 0), "03 07 1B 00 00 00 24 CD"],
      ["Sign from MsgDigBuf, slot 0", command(AteccOp.Sign, 0xa0, 0), "03 07 41 A0 00 00 7B 85"],
      ["GenKey private, slot 0", command(AteccOp.GenKey, 4, 0), "03 07 40 04 00 00 83 87"],
      ["Counter increment #0", command(AteccOp.Counter, 1, 0), "03 07 24 01 00 00 0F 77"],
      ["Read config 32 B block 0", command(AteccOp.Read, 0x80, 0), "03 07 02 80 00 00 09 AD"],
      ["Lock config, CRC skipped", command(AteccOp.Lock, 0x80, 0), "03 07 17 80 00 00 39 8D"],
    ];
    for (const [name, got, want] of frames) {
      it(`builds ${name} as in the notes`, () => assert.equal(toHex(got), want));
    }
    it("puts P2 little-endian", () => {
      const p = command(AteccOp.Verify, 0x22, 0x0104);
      assert.deepEqual(Array.from(p.subarray(4, 6)), [0x04, 0x01]);
    });
    it("appends both data parts, counts them in COUNT and covers them with the CRC", () => {
      const a = Uint8Array.from({ length: 64 }, (_, i) => i);
      const b = Uint8Array.from({ length: 64 }, (_, i) => 0xff - i);
      const p = command(AteccOp.Verify, 0x22, 4, a, b);
      assert.equal(p.length, 136);
      assert.equal(p[1], 0x87);
      assert.deepEqual(Array.from(p.subarray(6, 70)), Array.from(a));
      assert.deepEqual(Array.from(p.subarray(70, 134)), Array.from(b));
      const c = crc16(p, 1, 134);
      assert.deepEqual([p[134], p[135]], [c & 0xff, c >> 8]);
    });
    it("builds a 32-byte Nonce with COUNT 0x27", () => {
      const p = command(AteccOp.Nonce, 0x43, 0, new Uint8Array(32));
      assert.equal(p.length, 40);
      assert.equal(toHex(p.subarray(0, 6)), "03 27 16 43 00 00");
    });
  });

  describe("parseResponse", () => {
    it("returns the single 00 byte of a success status 04 00 03 40", () => {
      const r = parseResponse(hex("04 00 03 40"));
      assert.ok(r instanceof Uint8Array);
      assert.equal(toHex(r), "00");
    });
    const statuses: Array<[string, string]> = [
      ["04 01 00 C3", "miscompare"],
      ["04 03 83 42", "parse"],
      ["04 0F 23 42", "execution"],
      ["04 EE 31 41", "watchdog"],
      ["04 FF 01 42", "crc"],
      ["04 11 33 43", "awake"],
    ];
    for (const [frame, name] of statuses) {
      it(`maps the status reply ${frame} to "${name}"`, () => assert.equal(parseResponse(hex(frame)), name));
    }
    it("returns the revision bytes of the 608B Info reply", () => {
      assert.equal(toHex(parseResponse(hex("07 00 00 60 03 83 BB")) as Uint8Array), "00 00 60 03");
    });
    it("returns the revision bytes of the 608A Info reply", () => {
      assert.equal(toHex(parseResponse(hex("07 00 00 60 02 80 38")) as Uint8Array), "00 00 60 02");
    });
    it("ignores bytes after COUNT", () => {
      assert.equal(toHex(parseResponse(hex("04 00 03 40 FF FF")) as Uint8Array), "00");
    });
    it("rejects a reply whose CRC does not match", () => {
      assert.equal(parseResponse(hex("07 00 00 60 03 83 BC")), "rx-crc");
    });
    it("rejects a COUNT beyond the bytes received", () => {
      assert.equal(parseResponse(hex("07 00 00 60 03 83")), "rx-count");
    });
    it("rejects a COUNT below 4", () => {
      assert.equal(parseResponse(hex("03 00 00 00")), "rx-count");
    });
    it("rejects an all-FF read (nothing driven on the bus)", () => {
      assert.equal(parseResponse(hex("FF FF FF FF")), "rx-count");
    });
    it("reads the self-test status computed by the algorithm (04 07 40 C2)", () => {
      assert.equal(parseResponse(hex("04 07 40 C2")), "self-test");
    });
  });

  describe("statusText", () => {
    it("names the ECC fault and RNG health codes, and unknown codes generically", () => {
      assert.equal(statusText(0x05), "ecc-fault");
      assert.equal(statusText(0x08), "health");
      assert.equal(statusText(0x42), "status");
    });
  });

  describe("maxExecMs", () => {
    it("follows the 608 table at the default clock divider", () => {
      assert.equal(maxExecMs(AteccOp.Info), 5);
      assert.equal(maxExecMs(AteccOp.Random), 23);
      assert.equal(maxExecMs(AteccOp.Nonce), 20);
      assert.equal(maxExecMs(AteccOp.Counter), 25);
      assert.equal(maxExecMs(AteccOp.GenKey), 115);
      assert.equal(maxExecMs(AteccOp.Sign), 115);
      assert.equal(maxExecMs(AteccOp.Verify), 105);
      assert.equal(maxExecMs(AteccOp.Read), 5);
    });
  });
});
