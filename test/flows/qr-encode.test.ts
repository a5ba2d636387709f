import assert from "node:assert/strict";
import jsQR from "jsqr";
import { qrEncode } from "../../firmware/ui/qr-encode.ts";

function decode(text: string, scale = 4): string | null {
  const q = qrEncode(text);
  assert.ok(q, "encoded");
  const quiet = 4;
  const n = (q.size + 2 * quiet) * scale;
  const px = new Uint8ClampedArray(n * n * 4).fill(255);
  for (let y = 0; y < q.size; y++)
    for (let x = 0; x < q.size; x++)
      if (q.modules[y * q.size + x])
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const i = (((y + quiet) * scale + dy) * n + (x + quiet) * scale + dx) * 4;
            px[i] = px[i + 1] = px[i + 2] = 0;
          }
  const r = jsQR(px, n, n);
  return r ? r.data : null;
}

/** Byte-mode capacity at level L (ISO/IEC 18004:2015 Table 7), versions 2..9: the longest text of each version. */
const BYTE_CAP = [32, 53, 78, 106, 134, 154, 192, 230];

function urlOf(len: number): string {
  const b64u = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let t = "http://gateway.sim:8080/pay#";
  for (let i = 0; t.length < len; i++) t += b64u.charAt((i * 13 + 5) % 64);
  return t.slice(0, len);
}

describe("display QR encoder (alphanumeric or byte mode, level L, versions 2-9)", () => {
  it("encodes texts of every supported version so an independent decoder reads them back", () => {
    const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    for (const len of [1, 20, 47, 48, 77, 120, 134, 154]) {
      let t = "R1";
      for (let i = 2; i < len; i++) t += alpha.charAt((i * 7) % alpha.length);
      t = t.slice(0, len);
      assert.equal(decode(t), t, "length " + len);
    }
  });

  it("encodes alphanumeric texts up to version 9 (two interleaved blocks) so jsQR reads them back", () => {
    // alphanumeric capacity at level L (Table 7): v5 154, v6 192, v7 224, v8 279, v9 335
    for (const [len, version] of [[155, 6], [192, 6], [224, 7], [279, 8], [335, 9]]) {
      const t = ("R1" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".repeat(8)).slice(0, len);
      assert.equal(qrEncode(t)!.size, 17 + 4 * version, "length " + len);
      assert.equal(decode(t, 3), t, "length " + len);
    }
  });

  it("encodes byte-mode texts (a pay URL) of every version 2-9, the fullest and the shortest of each, read back by jsQR", () => {
    for (let v = 2; v <= 9; v++) {
      const most = BYTE_CAP[v - 2];
      const least = v === 2 ? 1 : BYTE_CAP[v - 3] + 1;
      for (const len of [least, most]) {
        const t = len < 28 ? "a#".repeat(len).slice(0, len) : urlOf(len);
        const q = qrEncode(t);
        assert.ok(q, "length " + len + " encodes");
        assert.equal(q.size, 17 + 4 * v, "length " + len + " is version " + v);
        assert.equal(decode(t, 3), t, "length " + len + " (version " + v + ")");
      }
    }
  });

  it("puts a typical invoice URL (28 + 112 characters) in version 7: 45 modules, 135 pixels at 3 per module", () => {
    const q = qrEncode(urlOf(140))!;
    assert.equal(q.size, 45);
    assert.equal(decode(urlOf(140), 3), urlOf(140));
  });

  it("keeps the version 7-9 function patterns where the standard puts them: version information, alignment grid", () => {
    const q = qrEncode(urlOf(180))!; // version 8 (155 to 192 bytes)
    assert.equal(q.size, 49);
    const at = (x: number, y: number) => q.modules[y * q.size + x];
    // version 8 information, Annex D Table D.1: 0x085BC (bits 17..0), bit i at (size-11 + i%3, i/3) and mirrored
    const info = 0x085bc;
    for (let i = 0; i < 18; i++) {
      assert.equal(at(q.size - 11 + (i % 3), Math.floor(i / 3)), (info >> i) & 1, "top-right bit " + i);
      assert.equal(at(Math.floor(i / 3), q.size - 11 + (i % 3)), (info >> i) & 1, "bottom-left bit " + i);
    }
    // alignment centres at 6, 24, 42 (Annex E): dark centre, light ring, dark edge
    for (const [x, y] of [[24, 6], [6, 24], [24, 24], [42, 24], [24, 42], [42, 42]]) {
      assert.equal(at(x, y), 1, "centre " + x + "," + y);
      assert.equal(at(x + 1, y), 0, "ring " + x + "," + y);
      assert.equal(at(x + 2, y + 2), 1, "edge " + x + "," + y);
    }
  });

  it("refuses text that is too long for version 9 or not ASCII", () => {
    assert.ok(qrEncode("a"), "lower case goes in byte mode");
    assert.equal(qrEncode("1".repeat(336)), null);
    assert.equal(qrEncode("a".repeat(231)), null);
    assert.equal(qrEncode("caf\u00e9"), null);
    assert.equal(qrEncode("a\u0000b"), null);
  });
});
