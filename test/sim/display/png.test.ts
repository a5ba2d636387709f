import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { encodePng, rgb565ToRgba } from "../../../sim/render/png.ts";

describe("png", () => {
  it("round-trips RGBA pixels through encodePng and pngjs's decoder", () => {
    const width = 3;
    const height = 2;
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37 + 11) & 0xff;
    const decoded = PNG.sync.read(encodePng(width, height, rgba));
    assert.equal(decoded.width, width);
    assert.equal(decoded.height, height);
    assert.deepEqual(new Uint8Array(decoded.data), rgba);
  });

  it("rejects a pixel array whose length does not match the size", () => {
    assert.throws(() => encodePng(2, 2, new Uint8Array(15)), /expected 16 bytes/);
  });

  it("expands RGB565 primaries and white to full-scale opaque RGBA", () => {
    const rgba = rgb565ToRgba(new Uint16Array([0xf800, 0x07e0, 0x001f, 0xffff, 0x0000]));
    assert.deepEqual(Array.from(rgba), [
      255, 0, 0, 255,
      0, 255, 0, 255,
      0, 0, 255, 255,
      255, 255, 255, 255,
      0, 0, 0, 255,
    ]);
  });

  it("replicates high bits into low bits for mid-scale RGB565 values", () => {
    // r = 0b10000 → 0b10000100, g = 0b100000 → 0b10000010, b = 0b00001 → 0b00001000
    const rgba = rgb565ToRgba([(0b10000 << 11) | (0b100000 << 5) | 0b00001]);
    assert.deepEqual(Array.from(rgba), [0x84, 0x82, 0x08, 255]);
  });
});
