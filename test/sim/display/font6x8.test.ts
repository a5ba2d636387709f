import assert from "node:assert/strict";
import { FONT_H, FONT_W, glyphRows } from "../../../sim/render/font6x8.ts";

const printable = Array.from({ length: 95 }, (_, i) => i + 32);
const key = (rows: Uint8Array): string => Array.from(rows).join(",");

describe("font6x8", () => {
  it("has a 6x8 cell", () => {
    assert.equal(FONT_W, 6);
    assert.equal(FONT_H, 8);
  });

  it("returns 8 rows per glyph using only the 6 cell columns", () => {
    for (const c of printable) {
      const rows = glyphRows(c);
      assert.equal(rows.length, 8, `char ${c}`);
      for (const r of rows) assert.equal(r & ~0x3f, 0, `char ${c} has bits outside 6 columns`);
    }
  });

  it("lights at least one pixel in every printable glyph except space", () => {
    for (const c of printable) {
      const lit = glyphRows(c).some((r) => r !== 0);
      assert.equal(lit, c !== 32, `char ${c} (${String.fromCharCode(c)})`);
    }
  });

  it("gives distinct characters distinct bitmaps", () => {
    const seen = new Map<string, number>();
    for (const c of printable) {
      const k = key(glyphRows(c));
      assert.ok(!seen.has(k), `char ${c} duplicates char ${seen.get(k)}`);
      seen.set(k, c);
    }
  });

  it("keeps the spacing column blank in every glyph", () => {
    for (const c of printable) for (const r of glyphRows(c)) assert.equal(r & 1, 0, `char ${c}`);
  });

  it("draws a placeholder box for codes outside printable ASCII", () => {
    const box = key(glyphRows(0));
    assert.notEqual(box, key(glyphRows(32)));
    for (const c of [0, 31, 127, 200, 0x20ac]) assert.equal(key(glyphRows(c)), box, `code ${c}`);
    assert.ok(!printable.some((c) => key(glyphRows(c)) === box));
  });

  it("returns a copy that callers may modify", () => {
    const a = glyphRows(65);
    a[0] = 0xff;
    assert.notEqual(glyphRows(65)[0], 0xff);
  });
});
