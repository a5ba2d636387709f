/**
 * Espruino binding of the display Surface: `Graphics.createArrayBuffer` plus `E.mapInPlace` to expand rows.
 *
 * At 1 bpp each row has an ink: its set pixels show in the palette colour last drawn on that row, its clear ones in
 * the background (index 0). The frame buffer is half the 2 bpp one (7,200 bytes of 240x240 instead of 14,400: ~515
 * JsVars less, idle and peak) while the screens keep their four colours, because every row of a screen is drawn in
 * one ink (status bar: accent or text, drawn over in the background colour; titles in accent or alert; text and QR
 * in the text colour). A row drawn in two inks shows both in the last one. The rows an ink covers come from
 * Graphics' own modified area (`getModified(true)`), read at each colour change and at each flip.
 */
import type { Canvas, SurfaceOpen } from "../display.ts";

export const surface: SurfaceOpen = (width, height, bpp) => {
  const g = Graphics.createArrayBuffer(width, height, bpp, { msb: true });
  if (bpp !== 1)
    return {
      canvas: g as unknown as Canvas,
      bpp: bpp,
      buffer: g.buffer,
      takeModified() {
        const m = g.getModified(true);
        return m ? { y1: m.y1, y2: m.y2 } : undefined;
      },
      expand(packed, out, palette) {
        E.mapInPlace(packed, out, palette, bpp);
      },
    };
  const inks = new Uint8Array(height);
  const pair = new Uint16Array(2);
  const rowBytes = width >> 3;
  let ink = 0;
  let y1 = height;
  let y2 = -1;
  // the rows drawn since the last colour change take the colour they were drawn in (the background leaves inks)
  const commit = () => {
    const m = g.getModified(true);
    if (!m) return;
    if (ink) inks.fill(ink, m.y1, m.y2 + 1);
    if (m.y1 < y1) y1 = m.y1;
    if (m.y2 > y2) y2 = m.y2;
  };
  const setColor = g.setColor;
  g.setColor = function (c: number) {
    commit();
    ink = c;
    return setColor.call(g, c ? 1 : 0);
  };
  return {
    canvas: g as unknown as Canvas,
    bpp: 1,
    buffer: g.buffer,
    takeModified() {
      commit();
      if (y2 < 0) return undefined;
      const r = { y1: y1, y2: y2 };
      y1 = height;
      y2 = -1;
      return r;
    },
    expand(packed, out, palette, y) {
      pair[0] = palette[0];
      // one E.mapInPlace per run of rows in the same ink
      const rows = packed.length / rowBytes;
      for (let r = 0; r < rows; ) {
        const k = inks[y + r];
        let n = 1;
        while (r + n < rows && inks[y + r + n] === k) n++;
        pair[1] = palette[k];
        E.mapInPlace(new Uint8Array(packed.buffer, packed.byteOffset + r * rowBytes, n * rowBytes), new Uint16Array(out.buffer, out.byteOffset + r * width * 2, n * width), pair, 1);
        r += n;
      }
    },
  };
};
