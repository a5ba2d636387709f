/**
 * ESC/POS receipt encoder for 58 mm printers (384 dots, 32 columns in font A). Pure: receipt -> bytes.
 * Commands from hardware-notes.md section 3 (Epson ESC/POS references, Adafruit Thermal library).
 *
 *   const r = new EscPos().init().align(1).size(2, 2).line("PAID").size(1, 1).qr("X1ABC", 6).feed(3);
 *   printer.print(r.bytes(), done);
 *
 * Text is ASCII only: every other byte prints as "?". QR codes go out as GS ( k (the printer draws them) or, for
 * printers without it, as a GS v 0 raster of a matrix the caller made; no QR is generated here.
 */
export const enum EscPosCmd {
  LF = 0x0a,
  ESC = 0x1b,
  GS = 0x1d,
  /** ESC @ */
  Init = 0x40,
  /** ESC a n */
  Align = 0x61,
  /** ESC E n */
  Emphasized = 0x45,
  /** ESC d n */
  FeedLines = 0x64,
  /** GS ! n */
  Size = 0x21,
  /** GS v 0 */
  Raster = 0x76,
  /** GS ( k */
  Paren = 0x28,
  /** GS ( k, cn = 49: QR code */
  Qr = 0x31,
}

/** Characters per line in font A at normal width. */
export const COLUMNS = 32;
/** Printable dots per line. */
export const DOTS = 384;

export class EscPos {
  /**
   * The job so far, in one buffer that doubles when full (a raster grows it to its own size): a receipt is some 60
   * commands and texts, and a small array each held 337 JsVars on Espruino once a payment's receipt was complete,
   * where one buffer holds about 12 bytes a JsVar (117: test/espruino/receipt-memory.test.ts).
   */
  private buf = new Uint8Array(256);
  private n = 0;

  /** Room for `k` more bytes. */
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    // a raster: its own size and room for the lines after it, not twice that
    if (size < this.n + k) size = this.n + k + 128;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }

  private put(b: Uint8Array | number[]): EscPos {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }

  /** ESC @: reset all modes. */
  init(): EscPos {
    return this.put([EscPosCmd.ESC, EscPosCmd.Init]);
  }

  /** ESC a n: 0 left, 1 centre, 2 right (takes effect at the start of a line). */
  align(n: number): EscPos {
    return this.put([EscPosCmd.ESC, EscPosCmd.Align, n]);
  }

  /** ESC E n: emphasized (bold). */
  bold(on: boolean): EscPos {
    return this.put([EscPosCmd.ESC, EscPosCmd.Emphasized, on ? 1 : 0]);
  }

  /** GS ! n: width and height multipliers 1..8 (2, 2 is double width and height: 16 columns). */
  size(w: number, h: number): EscPos {
    return this.put([EscPosCmd.GS, EscPosCmd.Size, ((w - 1) << 4) | (h - 1)]);
  }

  /** Text, ASCII only: anything outside 0x20..0x7E prints as "?". Lines longer than the paper wrap. */
  text(s: string): EscPos {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.buf[this.n++] = c >= 32 && c < 127 ? c : 63;
    }
    return this;
  }

  /** LF: print the line (an empty line feeds one line). */
  lf(): EscPos {
    return this.put([EscPosCmd.LF]);
  }

  /** Text and LF. */
  line(s: string): EscPos {
    return this.text(s).lf();
  }

  /** Left and right text on one line of `COLUMNS` at normal width (left cut when both do not fit). */
  pair(left: string, right: string): EscPos {
    const room = COLUMNS - right.length - 1;
    const l = left.length > room ? left.slice(0, Math.max(0, room)) : left;
    let pad = "";
    for (let i = l.length + right.length; i < COLUMNS; i++) pad += " ";
    return this.line(l + pad + right);
  }

  /** ESC d n: print and feed n lines. */
  feed(n: number): EscPos {
    return this.put([EscPosCmd.ESC, EscPosCmd.FeedLines, n]);
  }

  /**
   * QR by the printer's own GS ( k: model 2 (fn 165), module size in dots 1..16 (fn 167), ECC M (fn 169), store
   * (fn 180, pL pH = length + 3), print (fn 181). The printer leaves no quiet zone: feed around it.
   */
  qr(data: string, module: number): EscPos {
    const k = data.length + 3;
    const head = [EscPosCmd.GS, EscPosCmd.Paren, 0x6b];
    this.put(head.concat([0x04, 0x00, EscPosCmd.Qr, 0x41, 0x32, 0x00]));
    this.put(head.concat([0x03, 0x00, EscPosCmd.Qr, 0x43, module]));
    this.put(head.concat([0x03, 0x00, EscPosCmd.Qr, 0x45, 0x31]));
    this.put(head.concat([k & 255, k >> 8, EscPosCmd.Qr, 0x50, 0x30]));
    this.text(data);
    return this.put(head.concat([0x03, 0x00, EscPosCmd.Qr, 0x51, 0x30]));
  }

  /**
   * A QR as a GS v 0 raster, for printers without GS ( k: `size` modules a side, `dark(x, y)` from the caller's
   * QR matrix, each module `scale` dots (reduced if the symbol would not fit 384 dots), with a 4-module quiet zone.
   * MSB of each byte is the leftmost dot. `dark` is called once per module.
   */
  qrRaster(size: number, dark: (x: number, y: number) => boolean, scale: number): EscPos {
    const s = Math.max(1, Math.min(scale, Math.floor(DOTS / (size + 8))));
    const dots = (size + 8) * s;
    const w = (dots + 7) >> 3;
    // written in place: the image is the largest thing a job holds (a copy of it would double that)
    this.put([EscPosCmd.GS, EscPosCmd.Raster, 0x30, 0x00, w & 255, w >> 8, dots & 255, dots >> 8]);
    // past `n` the buffer is still zero (nothing is written beyond it): the raster's white dots
    this.room(w * dots);
    const at = this.n;
    this.n += w * dots;
    const row = new Uint8Array(w);
    for (let my = 0; my < size; my++) {
      row.fill(0);
      for (let mx = 0; mx < size; mx++) {
        if (!dark(mx, my)) continue;
        for (let x = (mx + 4) * s, e = x + s; x < e; x++) row[x >> 3] |= 0x80 >> (x & 7);
      }
      for (let y = (my + 4) * s, e = y + s; y < e; y++) this.buf.set(row, at + y * w);
    }
    return this;
  }

  /** The receipt so far as one byte array (the builder's own buffer: add nothing more once it is taken). */
  bytes(): Uint8Array {
    // a view, not a copy: a receipt with a raster QR is some 11 KB
    return this.buf.subarray(0, this.n);
  }
}
