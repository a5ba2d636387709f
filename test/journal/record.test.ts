/**
 * The record codec byte by byte (firmware/journal/record.ts): its layout against an independent encoding with
 * Node's crypto, each header fault on its own, and padding faults behind a valid tag.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash, createHmac } from "node:crypto";
import {
  chainHash,
  decryptRecord,
  deriveIv,
  encodeRecord,
  getU32,
  headerSize,
  MAX_BLOCKS,
  MAX_PAYLOAD,
  MAX_RECORD,
  OVERHEAD,
  putU32,
  recordSize,
  verifyRecord,
} from "../../firmware/journal/record.ts";
import { nodeCrypto, payment, testKeys } from "./helpers.ts";

const c = nodeCrypto();
const keys = testKeys();
const PREV = Uint8Array.from({ length: 16 }, (_, i) => 200 + i);

function aesCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const e = createCipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([e.update(data), e.final()]));
}

/** The IV of `seq` as the layout says: AES-128-CBC(ivKey, zero IV, "JIV\0" | seq | 0*8). */
function ivOf(seq: number): Uint8Array {
  const block = Buffer.alloc(16);
  block.write("JIV\0", 0, "latin1");
  block.writeUInt32BE(seq, 4);
  return aesCbc(keys.iv, new Uint8Array(16), block);
}

/** A record with ciphertext of `plain` (already padded, or padded wrong on purpose) and a valid tag. */
function sealed(seq: number, floor: number, plain: Uint8Array): Uint8Array {
  const rec = new Uint8Array(OVERHEAD + plain.length);
  rec.set([0xa5, 0x01, plain.length >> 4, 0xff, 0xff, 0xff, 0xff, 0xff]);
  new DataView(rec.buffer).setUint32(8, seq);
  new DataView(rec.buffer).setUint32(12, floor);
  rec.set(PREV, 16);
  rec.set(aesCbc(keys.enc, ivOf(seq), plain), 32);
  const tag = createHmac("sha256", keys.mac)
    .update(rec.subarray(0, 4))
    .update(rec.subarray(8, rec.length - 16))
    .digest()
    .subarray(0, 16);
  rec.set(tag, rec.length - 16);
  return rec;
}

function pkcs7(p: Uint8Array): Uint8Array {
  const n = 16 - (p.length % 16);
  const out = new Uint8Array(p.length + n).fill(n);
  out.set(p);
  return out;
}

describe("journal record codec", () => {
  it("sizes: 48 bytes around the padded payload, a whole extra block when it is a multiple of 16", () => {
    assert.equal(recordSize(0), 64);
    assert.equal(recordSize(15), 64);
    assert.equal(recordSize(16), 80);
    assert.equal(recordSize(31), 80);
    assert.equal(recordSize(MAX_PAYLOAD), MAX_RECORD);
    assert.equal(MAX_RECORD, OVERHEAD + MAX_BLOCKS * 16);
  });

  it("u32 fields are big-endian and round-trip the whole range", () => {
    const b = new Uint8Array(6);
    for (const v of [0, 1, 0x01020304, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
      putU32(b, 1, v);
      assert.equal(Buffer.from(b.subarray(1, 5)).readUInt32BE(0), v);
      assert.equal(getU32(b, 1), v);
    }
  });

  it("the IV of a seq is AES(ivKey, \"JIV\\0\" | seq | zeros), different for each seq", () => {
    for (const seq of [1, 2, 0x01020304, 0xffffffff]) assert.deepEqual(deriveIv(c, keys, seq), ivOf(seq));
    assert.notDeepEqual(deriveIv(c, keys, 1), deriveIv(c, keys, 2));
  });

  it("encodes exactly the documented layout (marker, status, seq, floor, prev, AES-CBC ciphertext, HMAC tag)", () => {
    for (const len of [0, 15, 16, 94, 116, 316, MAX_PAYLOAD]) {
      const p = payment(len + 1, len);
      const rec = encodeRecord(c, keys, 0x01020304, 0x00a0b0c0, PREV, p);
      assert.deepEqual(rec, sealed(0x01020304, 0x00a0b0c0, pkcs7(p)), "payload " + len);
    }
  });

  it("the chain hash is SHA-256 of everything from seq to the tag, cut to 16 bytes", () => {
    const rec = encodeRecord(c, keys, 9, 1, PREV, payment(9, 116));
    const buf = new Uint8Array(rec.length + 10);
    buf.set(rec, 5);
    const want = createHash("sha256").update(rec.subarray(8)).digest().subarray(0, 16);
    assert.deepEqual(chainHash(c, buf, 5, rec.length), new Uint8Array(want));
  });

  it("decrypts what it encoded, at any offset in a page", () => {
    for (const len of [0, 1, 15, 16, 17, 316, MAX_PAYLOAD]) {
      const p = payment(len, len);
      const rec = encodeRecord(c, keys, 7, 1, PREV, p);
      const buf = new Uint8Array(rec.length + 40).fill(0xee);
      buf.set(rec, 24);
      assert.ok(verifyRecord(c, keys, buf, 24, rec.length));
      assert.deepEqual(decryptRecord(c, keys, buf, 24, rec.length), p, "payload " + len);
    }
  });

  it("the tag covers every byte but the status word", () => {
    const rec = encodeRecord(c, keys, 3, 1, PREV, payment(3, 94));
    for (let i = 0; i < rec.length; i++) {
      const b = new Uint8Array(rec);
      b[i] ^= 0x01;
      assert.equal(verifyRecord(c, keys, b, 0, b.length), i >= 4 && i < 8, "byte " + i);
    }
  });

  describe("header faults, each on its own", () => {
    const rec = encodeRecord(c, keys, 1, 1, PREV, payment(1, 116)); // 8 blocks: 176 bytes
    const page = (r: Uint8Array, end = 1000) => {
      const b = new Uint8Array(end).fill(0xff);
      b.set(r, 8);
      return b;
    };

    it("a good header gives the record's size", () => {
      assert.equal(headerSize(page(rec), 8, 1000), 176);
    });

    it("a wrong marker", () => {
      const r = new Uint8Array(rec);
      r[0] = 0xa4;
      assert.equal(headerSize(page(r), 8, 1000), 0);
    });

    it("a wrong version", () => {
      for (const v of [0, 2, 0xff]) {
        const r = new Uint8Array(rec);
        r[1] = v;
        assert.equal(headerSize(page(r), 8, 1000), 0, "version " + v);
      }
    });

    it("a fourth marker byte (the flags) that is neither FF nor FE (approved online)", () => {
      for (const f of [0xfd, 0x7f, 0xfc, 0]) {
        const r = new Uint8Array(rec);
        r[3] = f;
        assert.equal(headerSize(page(r), 8, 1000), 0, "flags " + f);
      }
    });

    it("the flags byte FE (approved online) is a record's header, written by encodeRecord and covered by the tag", () => {
      const on = encodeRecord(c, keys, 1, 1, PREV, payment(1, 116), true);
      assert.equal(on[3], 0xfe);
      assert.equal(rec[3], 0xff, "no flag by default");
      assert.equal(headerSize(page(on), 8, 1000), 176);
      assert.ok(verifyRecord(c, keys, on, 0, on.length));
      // the flag cannot be set (or lost) on flash afterwards without the tag failing
      const set = new Uint8Array(rec);
      set[3] = 0xfe;
      assert.equal(verifyRecord(c, keys, set, 0, set.length), false);
      const lost = new Uint8Array(on);
      lost[3] = 0xff;
      assert.equal(verifyRecord(c, keys, lost, 0, lost.length), false);
    });

    it("a block count of 0 or over 20; 1 and 20 are taken", () => {
      const at = (nb: number) => {
        const r = new Uint8Array(rec);
        r[2] = nb;
        return headerSize(page(r, 4096), 8, 4096);
      };
      assert.equal(at(0), 0);
      assert.equal(at(MAX_BLOCKS + 1), 0);
      assert.equal(at(0xff), 0);
      assert.equal(at(1), OVERHEAD + 16);
      assert.equal(at(MAX_BLOCKS), MAX_RECORD);
    });

    it("a length that runs past the end; a record ending exactly at the end is taken", () => {
      assert.equal(headerSize(page(rec), 8, 8 + 176), 176);
      assert.equal(headerSize(page(rec), 8, 8 + 175), 0);
    });

    it("no room for even the smallest record (64 bytes) before the end", () => {
      const small = encodeRecord(c, keys, 1, 1, PREV, payment(1, 0));
      assert.equal(small.length, 64);
      assert.equal(headerSize(page(small), 8, 8 + 64), 64);
      assert.equal(headerSize(page(small), 8, 8 + 63), 0);
    });
  });

  describe("bad padding behind a valid tag is refused", () => {
    const body = payment(5, 30); // 30 bytes: 2 bytes of padding in two blocks

    it("the well-padded control decrypts", () => {
      const r = sealed(5, 1, pkcs7(body));
      assert.ok(verifyRecord(c, keys, r, 0, r.length));
      assert.deepEqual(decryptRecord(c, keys, r, 0, r.length), body);
    });

    it("a full block of padding (16 x 16) is good padding", () => {
      const p = payment(5, 32);
      const r = sealed(5, 1, pkcs7(p));
      assert.equal(r.length, OVERHEAD + 48);
      assert.deepEqual(decryptRecord(c, keys, r, 0, r.length), p);
    });

    for (const [what, last2] of [
      ["a pad byte of 0", [0, 0]],
      ["a pad byte over 16", [17, 17]],
      ["pad bytes that disagree (01 02)", [1, 2]],
      ["pad bytes that disagree (03 02)", [3, 2]],
    ] as const) {
      it(what, () => {
        const plain = new Uint8Array(32);
        plain.set(body);
        plain[30] = last2[0];
        plain[31] = last2[1];
        const r = sealed(5, 1, plain);
        assert.ok(verifyRecord(c, keys, r, 0, r.length), "the tag is valid");
        assert.equal(decryptRecord(c, keys, r, 0, r.length), null);
      });
    }

    it("a pad of 17, even with all 17 bytes saying 17 (more than a block)", () => {
      const plain = new Uint8Array(48).fill(17);
      plain.set(payment(5, 31));
      const r = sealed(5, 1, plain);
      assert.ok(verifyRecord(c, keys, r, 0, r.length), "the tag is valid");
      assert.equal(decryptRecord(c, keys, r, 0, r.length), null);
    });

    it("a pad of 16 with one byte of the block wrong, wherever it is", () => {
      for (let i = 0; i < 15; i++) {
        const plain = new Uint8Array(32).fill(16);
        plain.set(payment(5, 16));
        plain[16 + i] = 15;
        const r = sealed(5, 1, plain);
        assert.equal(decryptRecord(c, keys, r, 0, r.length), null, "byte " + i);
      }
    });
  });
});
