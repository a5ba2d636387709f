/**
 * ESC/POS receipt encoder for 58 mm printers (384 dots, 32 columns in font A). Pure: receipt -> bytes.
 * Commands from hardware-notes.md section 3 (Epson ESC/POS references, Adafruit Thermal library).
 *
 *   const r = new EscPos().init().align(1).size(2, 2).line("PAID").size(1, 1).qr("X1ABC", 6).feed(3);
 *   printer.print(r.bytes(), done);
 */
export const enum EscPosCmd {
  ESC = 0x1b,
  GS = 0x1d,
  LF = 0x0a,
}

export const COLUMNS = 32;

export class EscPos {
  private parts: Uint8Array[] = [];
  private n = 0;

  private put(b: Uint8Array | number[]): EscPos {
    const u = b instanceof Uint8Array ? b : new Uint8Array(b);
    this.parts.push(u);
    this.n += u.length;
    return this;
  }

  /** ESC @: reset modes. */
  init(): EscPos {
    return this.put([0x1b, 0x40]);
  }

  /** ESC a n: 0 left, 1 centre, 2 right. */
  align(n: number): EscPos {
    return this.put([0x1b, 0x61, n]);
  }

  /** ESC E n: emphasized. */
  bold(on: boolean): EscPos {
    return this.put([0x1b, 0x45, on ? 1 : 0]);
  }

  /** GS ! n: width and height multipliers 1..8. */
  size(w: number, h: number): EscPos {
    return this.put([0x1d, 0x21, ((w - 1) << 4) | (h - 1)]);
  }

  /** Text in the printer's code page; anything outside printable ASCII prints as "?". */
  text(s: string): EscPos {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      b[i] = c >= 32 && c < 127 ? c : 63;
    }
    return this.put(b);
  }

  line(s: string): EscPos {
    return this.text(s).put([0x0a]);
  }

  /** Left and right text on one line of `COLUMNS` (cut on the left when too long). */
  pair(left: string, right: string): EscPos {
    const room = COLUMNS - right.length - 1;
    const l = left.length > room ? left.slice(0, Math.max(0, room)) : left;
    let pad = "";
    for (let i = l.length + right.length; i < COLUMNS; i++) pad += " ";
    return this.line(l + pad + right);
  }

  /** ESC d n: print and feed n lines. */
  feed(n: number): EscPos {
    return this.put([0x1b, 0x64, n]);
  }

  /** QR by the printer's own GS ( k: model 2, module size in dots, ECC M, store then print. */
  qr(data: string, module: number): EscPos {
    const k = data.length + 3;
    this.put([0x1d, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    this.put([0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, module]);
    this.put([0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, 0x31]);
    this.put([0x1d, 0x28, 0x6b, k & 255, k >> 8, 0x31, 0x50, 0x30]);
    this.text(data);
    return this.put([0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30]);
  }

  /**
   * The same QR as a GS v 0 raster, for printers without GS ( k: `size` modules a side, `dark(x, y)`, each module
   * `scale` dots, with a 4-module quiet zone.
   */
  qrRaster(size: number, dark: (x: number, y: number) => boolean, scale: number): EscPos {
    const dots = (size + 8) * scale;
    const wBytes = (dots + 7) >> 3;
    const img = new Uint8Array(8 + wBytes * dots);
    img.set([0x1d, 0x76, 0x30, 0x00, wBytes & 255, wBytes >> 8, dots & 255, dots >> 8]);
    for (let y = 0; y < dots; y++) {
      const my = Math.floor(y / scale) - 4;
      for (let x = 0; x < dots; x++) {
        const mx = Math.floor(x / scale) - 4;
        if (mx >= 0 && my >= 0 && mx < size && my < size && dark(mx, my)) img[8 + y * wBytes + (x >> 3)] |= 0x80 >> (x & 7);
      }
    }
    return this.put(img);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
