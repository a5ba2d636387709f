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

describe("display QR encoder (alphanumeric, level L, versions 2-5)", () => {
  it("encodes texts of every supported version so an independent decoder reads them back", () => {
    const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    for (const len of [1, 20, 47, 48, 77, 120, 134, 154]) {
      let t = "R1";
      for (let i = 2; i < len; i++) t += alpha.charAt((i * 7) % alpha.length);
      t = t.slice(0, len);
      assert.equal(decode(t), t, "length " + len);
    }
  });

  it("refuses text that is too long or not alphanumeric", () => {
    assert.equal(qrEncode("a"), null);
    assert.equal(qrEncode("1".repeat(200)), null);
  });
});
