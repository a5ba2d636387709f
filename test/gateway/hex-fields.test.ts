/**
 * The gateway's Node-speed byte helpers (gateway/hex.ts, strictBase64 in gateway/fields.ts) answer exactly what the
 * device's codecs (protocol/codec/hex.ts, the link's base64) answer: they replaced them on the upload path for speed
 * only (docs/gateway.md, ingest at the limit, fifth pass).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { toHex as deviceHex } from "../../protocol/codec/hex.ts";
import { fromBase64, toBase64 } from "../../protocol/sync.ts";
import { strictBase64 } from "../../gateway/fields.ts";
import { sameBytes, toHex } from "../../gateway/hex.ts";

describe("gateway byte helpers", () => {
  it("toHex is the device's toHex, for views into larger buffers too", () => {
    for (const n of [0, 1, 8, 32, 64, 140, 316]) {
      const big = new Uint8Array(randomBytes(n + 40));
      const view = big.subarray(17, 17 + n);
      assert.equal(toHex(view), deviceHex(view));
      assert.equal(toHex(new Uint8Array(view)), deviceHex(view));
    }
    assert.equal(toHex(Uint8Array.of(0, 15, 16, 255)), "000f10ff");
  });

  it("sameBytes compares contents and lengths, not buffers", () => {
    const a = new Uint8Array(randomBytes(50));
    const big = new Uint8Array(80);
    big.set(a, 13);
    assert.equal(sameBytes(a, big.subarray(13, 63)), true);
    assert.equal(sameBytes(a, big.subarray(13, 62)), false);
    const b = new Uint8Array(a);
    b[49] ^= 1;
    assert.equal(sameBytes(a, b), false);
    assert.equal(sameBytes(new Uint8Array(0), new Uint8Array(0)), true);
  });

  it("strictBase64 takes exactly the canonical base64 the device's codec writes", () => {
    for (const n of [0, 1, 2, 3, 4, 31, 32, 33, 316]) {
      const b = new Uint8Array(randomBytes(n));
      const s = toBase64(b);
      assert.deepEqual(strictBase64(s), b);
      assert.deepEqual(fromBase64(s), b);
    }
    const bad = [
      "QQ", // no padding
      "QQ=", // short padding
      "QR==", // bits under the padding not zero
      "Q===", // three "="
      "QQ==QQ==", // padding inside
      "ab-_", // base64url
      "ab c", // a space
      "ab\ncd==",
      "abé=", // not ASCII
      "QUJD\u0000", // a NUL
      "=AAA",
      "AA=A",
    ];
    for (const s of bad) assert.equal(strictBase64(s), null, JSON.stringify(s));
    // and the same verdicts as the pattern test the gateway had (alphabet, at most two "=" at the end)
    const pattern = (s: string) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && Buffer.from(Buffer.from(s, "base64")).toString("base64") === s;
    const alphabet = "AB+/=-_ a\u00e9";
    for (let i = 0; i < 4000; i++) {
      let s = "";
      const n = 4 * (1 + (i % 3));
      for (let j = 0; j < n; j++) s += alphabet[(i * 7 + j * 13 + ((i * j) >> 2)) % alphabet.length];
      assert.equal(strictBase64(s) !== null, pattern(s), JSON.stringify(s));
    }
  });
});
