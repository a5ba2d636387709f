/**
 * Pieces every printed job shares: options, the heading, a rule, a QR by GS ( k or as a raster.
 * Pure: everything returns into an EscPos builder (hal/escpos.ts); nothing here talks to the printer.
 */
import { COLUMNS, EscPos } from "../../hal/escpos.ts";
import { qrEncode } from "../ui/qr-encode.ts";

export interface PrintOptions {
  /** The printer has no GS ( k: print QR codes as a GS v 0 raster made on the terminal. */
  rasterQr?: boolean;
  /** QR module size in dots (default 4 for GS ( k, 6 for raster). */
  qrModule?: number;
  /** A line printed under the heading, e.g. "CUSTOMER COPY". */
  copy?: string;
}

/** `s` cut to `n` characters. */
export function fit(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}

export function rule(p: EscPos): EscPos {
  let s = "";
  for (let i = 0; i < COLUMNS; i++) s += "-";
  return p.line(s);
}

/** ESC @, then merchant name (bold, centred), merchant and terminal IDs, and the copy line. */
export function heading(p: EscPos, merchantName: string, merchantId: string, terminalId: number, o: PrintOptions): EscPos {
  p.init().align(1).bold(true).line(fit(merchantName, COLUMNS)).bold(false);
  if (merchantId) p.line(fit("Merchant " + merchantId, COLUMNS));
  p.line("Terminal " + terminalId);
  if (o.copy) p.line(fit(o.copy, COLUMNS));
  return p.align(0);
}

/**
 * A QR of `text`, centred, with a blank line above and below (the printer adds no quiet zone). Raster when
 * `o.rasterQr`: the display's encoder (alphanumeric up to 335 characters, ASCII up to 230); a text it cannot encode is printed
 * as text lines instead, so it can still be typed in.
 */
export function qrBlock(p: EscPos, text: string, o: PrintOptions): EscPos {
  p.align(1).lf();
  if (!o.rasterQr) p.qr(text, o.qrModule || 4);
  else {
    const m = qrEncode(text);
    if (m) p.qrRaster(m.size, (x, y) => m.modules[y * m.size + x] !== 0, o.qrModule || 6);
    else for (let i = 0; i < text.length; i += COLUMNS) p.line(text.slice(i, i + COLUMNS));
  }
  return p.lf().align(0);
}
