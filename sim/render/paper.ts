/**
 * The printer's paper as PNG: black dots on white, 384 dots wide.
 *
 *   paperPng(printer)                         // the whole roll
 *   printer.receipts().map((r) => r.png)     // each printed job (sim/peripherals/escpos-printer.ts)
 *   bitmapPng(printer.renderBitmap())        // any 1-bit bitmap
 */
import type { EscPosPrinterEmulator, PaperBitmap } from "../peripherals/escpos-printer.ts";
import { encodePng } from "./png.ts";

/** A 1-bit bitmap (MSB = leftmost dot, 1 = black) as a PNG; an empty one as 8 white rows. */
export function bitmapPng(bmp: PaperBitmap): Buffer {
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

/** The whole roll as a PNG. */
export function paperPng(printer: EscPosPrinterEmulator): Buffer {
  return bitmapPng(printer.renderBitmap());
}

/** Each printed job as a PNG, oldest first. */
export function receiptPngs(printer: EscPosPrinterEmulator): Buffer[] {
  return printer.receipts().map((r) => r.png);
}
