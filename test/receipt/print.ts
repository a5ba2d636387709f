/** Test helpers: run a job through the ESC/POS emulator, read the roll as text, decode its QR from the PNG. */
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { EscPosPrinterEmulator } from "../../sim/peripherals/escpos-printer.ts";
import { paperPng } from "../../sim/render/paper.ts";

export function printed(job: Uint8Array): { printer: EscPosPrinterEmulator; text: string; png: Buffer } {
  let t = 0;
  const printer = new EscPosPrinterEmulator({
    now: () => t,
    onTransmit: () => {
      throw new Error("the printer answered a status request nobody made");
    },
    baud: 0,
    bootMs: 0,
    bufferSize: 1 << 20,
  });
  printer.receive(job);
  t += 3600000;
  printer.tick();
  if (printer.overflowBytes || printer.unknown.length) throw new Error("printer saw overflow or unknown commands: " + JSON.stringify(printer.unknown));
  return { printer, text: printer.text(), png: paperPng(printer) };
}

/** The text of the QR code jsQR finds in the PNG, or null. */
export function decodeQr(png: Buffer): string | null {
  const img = PNG.sync.read(png);
  const r = jsQR(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length), img.width, img.height);
  return r ? r.data : null;
}
