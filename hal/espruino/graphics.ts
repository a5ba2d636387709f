/** Espruino binding of the display Surface: `Graphics.createArrayBuffer` plus `E.mapInPlace` to expand rows. */
import type { Canvas, SurfaceOpen } from "../display.ts";

export const surface: SurfaceOpen = (width, height, bpp) => {
  const g = Graphics.createArrayBuffer(width, height, bpp, { msb: true });
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
};
