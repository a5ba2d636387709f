/**
 * Espruino binding of the display Surface: a band of `Graphics.createArrayBuffer` plus `E.mapInPlace` to expand
 * its rows through the palette. The panel is drawn a band at a time (hal/drivers/st7789.ts): 16 rows of 2 bpp are
 * 960 bytes, where a frame of the whole panel was 7,200 at 1 bpp.
 */
import type { Canvas, SurfaceOpen } from "../display.ts";

export const surface: SurfaceOpen = (width, rows, bpp) => {
  const g = Graphics.createArrayBuffer(width, rows, bpp, { msb: true });
  return {
    canvas: g as unknown as Canvas,
    bpp: bpp,
    buffer: g.buffer,
    band(top) {
      // the band's panel row, on the Graphics object: the simulator's screen capture (sim/host.ts) reads it there
      (g as unknown as { top: number }).top = top;
      g.setBgColor(0).clearRect(0, 0, width - 1, rows - 1);
    },
    expand(packed, out, palette) {
      E.mapInPlace(packed, out, palette, bpp);
    },
  };
};
