/** The printer's paper roll as a PNG: black dots on white, 384 dots wide. */
import type { EscPosPrinterEmulator } from "../peripherals/escpos-printer.ts";
import { encodePng } from "./png.ts";

export function paperPng(printer: EscPosPrinterEmulator): Buffer {
  const bmp = printer.renderBitmap();
  const width = bmp.width;
  const height = Math.max(8, bmp.height);
  const rgba = new Uint8Array(width * height * 4).fill(255);
  const rowBytes = Math.ceil(width / 8);
  for (let y = 0; y < bmp.height; y++) {
    for (let x = 0; x < width; x++) {
      if (bmp.bits[y * rowBytes + (x >> 3)] & (0x80 >> (x & 7))) {
        const o = (y * width + x) * 4;
        rgba[o] = rgba[o + 1] = rgba[o + 2] = 0;
      }
    }
  }
  return encodePng(width, height, rgba);
}
