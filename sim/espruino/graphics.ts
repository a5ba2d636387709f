/**
 * Emulation of the part of Espruino's `Graphics` class the firmware uses, for `Graphics.createArrayBuffer`
 * instances, as built for ESP32 (2v29: `USE_FONT_6X8`, no paletted images, no anti-aliasing, no fast paths), plus
 * `E.mapInPlace`. Semantics follow Espruino's `libs/graphics/jswrap_graphics.c`, `graphics.c`,
 * `lcd_arraybuffer.c` and `src/jswrap_espruino.c` (read for facts; the code here is our own).
 *
 *   const { Graphics } = createGraphicsApi(vmRealm);
 *   const g = Graphics.createArrayBuffer(240, 240, 2, { msb: true });
 *   g.setColor(3).setFont("6x8", 2).setFontAlign(0, 0).drawString("PAY", 120, 120);
 *
 * Differences from the real thing, on purpose: the "6x8" font draws our own glyphs (sim/render/font6x8.ts); the
 * default "4x6" font can be selected and measured but not drawn (drawString throws); 24/32 bpp, rounded rectangles,
 * clip rectangles, rotation (setRotation) and images embedded in strings are not emulated and throw rather than
 * draw something wrong.
 */
import { FONT_H, FONT_W, glyphRows } from "../render/font6x8.ts";

/** Constructors of the realm (vm context) that receives the typed arrays this module creates. */
export interface Realm {
  Uint8Array: Uint8ArrayConstructor;
  Uint16Array: Uint16ArrayConstructor;
  ArrayBuffer: ArrayBufferConstructor;
}

/** Options of `Graphics.createArrayBuffer`. `msb` defaults to true (Espruino 2v25+). */
export interface ArrayBufferOptions {
  msb?: boolean;
  vertical_byte?: boolean;
  zigzag?: boolean;
  /** Use this ArrayBuffer instead of allocating one. */
  buffer?: ArrayBuffer;
}

/** An Espruino image object. Pixels are packed MSB first with no padding between rows. */
export interface ImageObject {
  width: number;
  height: number;
  bpp?: number;
  buffer: ArrayBuffer | ArrayBufferView | string;
  transparent?: number;
  palette?: Uint16Array;
}

/** Options of `drawImage`. */
export interface DrawImageOptions {
  scale?: number;
  rotate?: number;
  frame?: number;
}

/** A rectangle with inclusive corners, as `getModified` reports it. */
export interface ModifiedArea {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The object form accepted by fillRect/clearRect/drawRect: `{x,y,x2,y2}` or `{x,y,w,h}` (x2 = x + w). */
export interface RectObject {
  x?: number;
  y?: number;
  x1?: number;
  y1?: number;
  x2?: number;
  y2?: number;
  w?: number;
  h?: number;
  r?: number;
}

const enum Flag {
  SwapXY = 1,
  InvertX = 2,
  InvertY = 4,
  Msb = 8,
  Zigzag = 16,
  VerticalByte = 32,
}

const FONT_4X6 = "4x6";
const FONT_6X8 = "6x8";
const SCALE_MAX = 8191; // Espruino's JSGRAPHICS_FONTSIZE_SCALE_MASK
const SCALE_XY_MAX = 63;

/** Espruino's jsvGetInteger for the int32 parameters: undefined/NaN → 0, truncation toward zero. */
function toInt(v: unknown): number {
  return Number(v) | 0;
}

/** Espruino's jsvGetFloat: undefined → NaN. */
function toFloat(v: unknown): number {
  return v === undefined ? NaN : Number(v);
}

function tagOf(v: unknown): string {
  return Object.prototype.toString.call(v);
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return tagOf(v) === "[object ArrayBuffer]";
}

function defaultRealm(): Realm {
  return { Uint8Array, Uint16Array, ArrayBuffer };
}

function maskOf(bits: number): number {
  return bits >= 32 ? 0xffffffff : Math.pow(2, bits) - 1;
}

function hexDigit(c: string): number {
  const v = parseInt(c, 16);
  return c.length === 1 && Number.isFinite(v) ? v : -1;
}

/** Bytes of an image buffer (ArrayBuffer, typed array from any realm, or a string of bytes). */
function imageBytes(buffer: unknown): Uint8Array {
  if (typeof buffer === "string") {
    const out = new Uint8Array(buffer.length);
    for (let i = 0; i < buffer.length; i++) out[i] = buffer.charCodeAt(i) & 0xff;
    return out;
  }
  if (isArrayBuffer(buffer)) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new Error("Expecting valid Image");
}

interface ParsedImage {
  width: number;
  height: number;
  bpp: number;
  bytes: Uint8Array;
  /** Byte offset of the first pixel. */
  offset: number;
  transparent: number | undefined;
  palette: ArrayLike<number> | undefined;
  paletteMask: number;
}

/**
 * The state and drawing of one ArrayBuffer-backed Graphics instance. Every public method mirrors the Espruino
 * method of the same name; coordinates are int32-coerced the way Espruino coerces them.
 */
export class ArrayBufferGraphics {
  /** The pixel memory, created in the realm given to createGraphicsApi. */
  buffer: ArrayBuffer;

  private readonly width: number;
  private readonly height: number;
  private readonly bpp: number;
  private readonly bytes: Uint8Array;
  private flags: number;
  private fgColor = 0;
  private bgColor = 0;
  private fontName = FONT_4X6;
  private fontScaleX = 1;
  private fontScaleY = 1;
  private fontScaleXY = false;
  private fontAlignX = -1;
  private fontAlignY = -1;
  private fontRotate = 0;
  private modMinX = 32767;
  private modMinY = 32767;
  private modMaxX = -32768;
  private modMaxY = -32768;

  constructor(realm: Realm, width: unknown, height: unknown, bpp: unknown, options?: ArrayBufferOptions) {
    const w = toInt(width);
    const h = toInt(height);
    const b = toInt(bpp);
    if (w <= 0 || h <= 0 || w > 32767 || h > 32767) throw new Error("Invalid Size");
    if (![1, 2, 4, 8, 16, 24, 32].includes(b)) throw new Error("Invalid BPP");
    if (b > 16) throw new Error(`sim Graphics: ${b} bpp is not emulated`);
    this.width = w;
    this.height = h;
    this.bpp = b;
    let flags = Flag.Msb;
    if (options !== null && typeof options === "object") {
      if (options.zigzag) flags |= Flag.Zigzag;
      if (options.msb !== undefined && !options.msb) flags &= ~Flag.Msb;
      if (options.vertical_byte) {
        if (b !== 1) throw new Error("vertical_byte only works for 1bpp ArrayBuffers");
        if (h & 7) throw new Error("height must be a multiple of 8 when using vertical_byte");
        flags |= Flag.VerticalByte;
      }
    }
    this.flags = flags;
    const size = (w * h * b + 7) >> 3;
    const given = options !== null && typeof options === "object" ? options.buffer : undefined;
    if (given !== undefined) {
      if (!isArrayBuffer(given)) throw new Error(`'buffer' should be ArrayBuffer, got ${tagOf(given)}`);
      this.buffer = given;
    } else {
      this.buffer = new realm.ArrayBuffer(size);
    }
    this.bytes = new Uint8Array(this.buffer);
    this.resetState();
  }

  // ---- state ----------------------------------------------------------------------------------------------------

  private resetState(): void {
    this.fgColor = maskOf(this.bpp);
    this.bgColor = 0;
    this.fontName = FONT_4X6;
    this.fontScaleX = 1;
    this.fontScaleY = 1;
    this.fontScaleXY = false;
    this.fontAlignX = -1;
    this.fontAlignY = -1;
    this.fontRotate = 0;
  }

  getWidth(): number {
    return this.flags & Flag.SwapXY ? this.height : this.width;
  }

  getHeight(): number {
    return this.flags & Flag.SwapXY ? this.width : this.height;
  }

  getBPP(): number {
    return this.bpp;
  }

  /** Resets colours, font and alignment (not the pixels). */
  reset(): this {
    this.resetState();
    return this;
  }

  /** Fills everything with the background colour; with `reset` true, first resets the state. */
  clear(reset?: boolean): this {
    if (reset) this.resetState();
    this.fillRectDevice(0, 0, this.width - 1, this.height - 1, this.bgColor);
    return this;
  }

  /** Espruino's toColor: an integer in the current depth, '#rgb'/'#rrggbb', or r,g,b floats 0..1. */
  toColor(r: unknown, g?: unknown, b?: unknown): number {
    let rf: number;
    let gf: number;
    let bf: number;
    if (typeof r === "string") {
      if (r.length <= 4) {
        rf = hexDigit(r.charAt(1)) / 15;
        gf = hexDigit(r.charAt(2)) / 15;
        bf = hexDigit(r.charAt(3)) / 15;
      } else {
        const byte = (i: number): number => {
          const hi = hexDigit(r.charAt(i));
          const lo = hexDigit(r.charAt(i + 1));
          return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
        };
        rf = byte(1) / 255;
        gf = byte(3) / 255;
        bf = byte(5) / 255;
      }
      if (rf < 0 || gf < 0 || bf < 0 || r.length > 7) {
        throw new Error("If Color is a String, it must be of the form '#rrggbb' or '#rgb'");
      }
    } else {
      rf = toFloat(r);
      gf = toFloat(g);
      bf = toFloat(b);
    }
    if (Number.isFinite(rf) && Number.isFinite(gf) && Number.isFinite(bf)) {
      const clamp = (f: number): number => Math.min(255, Math.max(0, Math.trunc(f * 256)));
      const ri = clamp(rf);
      const gi = clamp(gf);
      const bi = clamp(bf);
      if (this.bpp === 16) return (bi >> 3) | ((gi >> 2) << 5) | ((ri >> 3) << 11);
      // No paletted images on the ESP32 build: every other depth is black or white.
      return ri + gi + bi >= 384 ? 0xffffffff : 0;
    }
    return (toInt(r) >>> 0) & maskOf(this.bpp);
  }

  setColor(r: unknown, g?: unknown, b?: unknown): this {
    this.fgColor = this.toColor(r, g, b);
    return this;
  }

  setBgColor(r: unknown, g?: unknown, b?: unknown): this {
    this.bgColor = this.toColor(r, g, b);
    return this;
  }

  getColor(): number {
    return (this.fgColor & maskOf(this.bpp)) >>> 0;
  }

  getBgColor(): number {
    return (this.bgColor & maskOf(this.bpp)) >>> 0;
  }

  // ---- pixels ---------------------------------------------------------------------------------------------------

  /** Bit index of pixel (x, y) in the buffer, per lcd_arraybuffer.c. */
  private bitIndex(x: number, y: number): number {
    if (this.flags & Flag.Zigzag && y & 1) x = this.width - (x + 1);
    if (this.flags & Flag.VerticalByte) return ((x + (y >> 3) * this.width) << 3) | (y & 7);
    return (x + y * this.width) * this.bpp;
  }

  private writePixel(x: number, y: number, col: number): void {
    const idx = this.bitIndex(x, y);
    const bpp = this.bpp;
    const bytes = this.bytes;
    let i = idx >> 3;
    if (bpp & 7) {
      const bit = idx & 7;
      const mask = (1 << bpp) - 1;
      const shift = this.flags & Flag.Msb ? 8 - (bit + bpp) : bit;
      bytes[i] = (bytes[i] & ~(mask << shift)) | ((col & mask) << shift);
    } else if (this.flags & Flag.Msb) {
      for (let s = bpp - 8; s >= 0; s -= 8) bytes[i++] = (col >>> s) & 0xff;
    } else {
      for (let s = 0; s < bpp; s += 8) bytes[i++] = (col >>> s) & 0xff;
    }
  }

  private readPixel(x: number, y: number): number {
    const idx = this.bitIndex(x, y);
    const bpp = this.bpp;
    const bytes = this.bytes;
    let i = idx >> 3;
    if (bpp & 7) {
      const bit = idx & 7;
      const shift = this.flags & Flag.Msb ? 8 - (bit + bpp) : bit;
      return (bytes[i] >> shift) & ((1 << bpp) - 1);
    }
    let col = 0;
    if (this.flags & Flag.Msb) {
      for (let s = bpp - 8; s >= 0; s -= 8) col |= bytes[i++] << s;
    } else {
      for (let s = 0; s < bpp; s += 8) col |= bytes[i++] << s;
    }
    return col >>> 0;
  }

  private markModified(x1: number, y1: number, x2: number, y2: number): void {
    if (x1 < this.modMinX) this.modMinX = x1;
    if (x2 > this.modMaxX) this.modMaxX = x2;
    if (y1 < this.modMinY) this.modMinY = y1;
    if (y2 > this.modMaxY) this.modMaxY = y2;
  }

  /** graphicsToDeviceCoordinates (only drawString's temporary rotation sets the flags). */
  private toDevice(x: number, y: number): [number, number] {
    if (this.flags & Flag.SwapXY) [x, y] = [y, x];
    if (this.flags & Flag.InvertX) x = this.width - (x + 1);
    if (this.flags & Flag.InvertY) y = this.height - (y + 1);
    return [x, y];
  }

  private toGraphics(x: number, y: number): [number, number] {
    if (this.flags & Flag.InvertX) x = this.width - (x + 1);
    if (this.flags & Flag.InvertY) y = this.height - (y + 1);
    if (this.flags & Flag.SwapXY) [x, y] = [y, x];
    return [x, y];
  }

  private setPixelDevice(x: number, y: number, col: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.markModified(x, y, x, y);
    this.writePixel(x, y, col & maskOf(this.bpp));
  }

  private fillRectDevice(x1: number, y1: number, x2: number, y2: number, col: number): void {
    if (x1 > x2) [x1, x2] = [x2, x1];
    if (y1 > y2) [y1, y2] = [y2, y1];
    if (x1 < 0) x1 = 0;
    if (y1 < 0) y1 = 0;
    if (x2 > this.width - 1) x2 = this.width - 1;
    if (y2 > this.height - 1) y2 = this.height - 1;
    if (x2 < x1 || y2 < y1) return;
    this.markModified(x1, y1, x2, y2);
    const c = col & maskOf(this.bpp);
    for (let y = y1; y <= y2; y++) for (let x = x1; x <= x2; x++) this.writePixel(x, y, c);
  }

  /** graphicsFillRect: corners in graphics coordinates, inclusive, in either order. */
  private fillRectGfx(x1: number, y1: number, x2: number, y2: number, col: number): void {
    const [dx1, dy1] = this.toDevice(x1, y1);
    const [dx2, dy2] = this.toDevice(x2, y2);
    this.fillRectDevice(dx1, dy1, dx2, dy2, col);
  }

  /** Sets a pixel to `col` (converted like setColor's single argument) or to the foreground colour. */
  setPixel(x: unknown, y: unknown, col?: unknown): this {
    const c = col === undefined ? this.fgColor : this.toColor(col);
    const [dx, dy] = this.toDevice(toInt(x), toInt(y));
    this.setPixelDevice(dx, dy, c);
    return this;
  }

  /** The pixel's value in the current depth; 0 outside the buffer. */
  getPixel(x: unknown, y: unknown): number {
    const [dx, dy] = this.toDevice(toInt(x), toInt(y));
    if (dx < 0 || dy < 0 || dx >= this.width || dy >= this.height) return 0;
    return this.readPixel(dx, dy);
  }

  // ---- shapes ---------------------------------------------------------------------------------------------------

  /** _jswrap_graphics_getRect: positional corners, or an object where w/h give x2 = x + w (not x + w - 1). */
  private rectArgs(opt: unknown, y1: unknown, x2: unknown, y2: unknown): [number, number, number, number] {
    let rx1 = 0;
    let ry1 = toInt(y1);
    let rx2 = toInt(x2);
    let ry2 = toInt(y2);
    if (opt !== null && typeof opt === "object") {
      const o = opt as RectObject;
      if (o.x !== undefined) rx1 = toInt(o.x);
      if (o.y !== undefined) ry1 = toInt(o.y);
      if (o.x1 !== undefined) rx1 = toInt(o.x1);
      if (o.y1 !== undefined) ry1 = toInt(o.y1);
      if (o.x2 !== undefined) rx2 = toInt(o.x2);
      if (o.y2 !== undefined) ry2 = toInt(o.y2);
      const w = o.w === undefined ? -1 : toInt(o.w);
      const h = o.h === undefined ? -1 : toInt(o.h);
      if (w >= 0) rx2 = rx1 + w;
      if (h >= 0) ry2 = ry1 + h;
      if (o.r !== undefined && toInt(o.r) > 0) throw new Error("sim Graphics: rounded rectangles are not emulated");
    } else {
      rx1 = toInt(opt);
    }
    return [rx1, ry1, rx2, ry2];
  }

  /** Fills the rectangle with inclusive corners (x1,y1)-(x2,y2) in the foreground colour. */
  fillRect(x1: unknown, y1?: unknown, x2?: unknown, y2?: unknown): this {
    const r = this.rectArgs(x1, y1, x2, y2);
    this.fillRectGfx(r[0], r[1], r[2], r[3], this.fgColor);
    return this;
  }

  /** Fills the rectangle with inclusive corners in the background colour. */
  clearRect(x1: unknown, y1?: unknown, x2?: unknown, y2?: unknown): this {
    const r = this.rectArgs(x1, y1, x2, y2);
    this.fillRectGfx(r[0], r[1], r[2], r[3], this.bgColor);
    return this;
  }

  /** A 1-pixel outline through both (inclusive) corners. */
  drawRect(x1: unknown, y1?: unknown, x2?: unknown, y2?: unknown): this {
    const r = this.rectArgs(x1, y1, x2, y2);
    const [ax, ay] = this.toDevice(r[0], r[1]);
    const [bx, by] = this.toDevice(r[2], r[3]);
    const c = this.fgColor;
    this.fillRectDevice(ax, ay, bx, ay, c);
    this.fillRectDevice(bx, ay, bx, by, c);
    this.fillRectDevice(ax, by, bx, by, c);
    this.fillRectDevice(ax, by, ax, ay, c);
    return this;
  }

  /** Espruino's fixed-point line (8 fractional bits, rounding at +128), both ends drawn. */
  drawLine(x1: unknown, y1: unknown, x2: unknown, y2: unknown): this {
    let [ax, ay] = this.toDevice(toInt(x1), toInt(y1));
    let [bx, by] = this.toDevice(toInt(x2), toInt(y2));
    const xl = Math.abs(bx - ax);
    let yl = Math.abs(by - ay);
    const c = this.fgColor;
    if (xl > yl) {
      if (ax > bx) {
        [ax, bx] = [bx, ax];
        [ay, by] = [by, ay];
      }
      let pos = ay * 256 + 128;
      const step = Math.trunc(((by - ay) * 256) / xl);
      for (let x = ax; x <= bx; x++) {
        this.setPixelDevice(x, pos >> 8, c);
        pos += step;
      }
    } else {
      if (ay > by) {
        [ax, bx] = [bx, ax];
        [ay, by] = [by, ay];
      } else if (yl === 0) {
        yl = 1;
      }
      let pos = ax * 256 + 128;
      const step = Math.trunc(((bx - ax) * 256) / yl);
      for (let y = ay; y <= by; y++) {
        this.setPixelDevice(pos >> 8, y, c);
        pos += step;
      }
    }
    return this;
  }

  // ---- text -----------------------------------------------------------------------------------------------------

  /**
   * Selects a font: "6x8" (our glyphs) or "4x6" (measurable only), with a scale from the second argument or the
   * name ("6x8:2", "6x8:2x3"). Unknown names throw, as in Espruino.
   */
  setFont(name: unknown, size?: unknown): this | undefined {
    if (typeof name !== "string") return undefined; // Espruino returns undefined here, not the instance
    let fontName = name;
    let scale = toInt(size);
    let sx = 0;
    let sy = 0;
    let xy = false;
    const colon = name.indexOf(":");
    if (colon >= 0) {
      const spec = name.slice(colon + 1);
      fontName = name.slice(0, colon);
      const xIdx = spec.indexOf("x");
      if (xIdx >= 0) {
        sx = Math.min(SCALE_XY_MAX, Math.max(0, toInt(parseInt(spec.slice(0, xIdx), 10))));
        sy = Math.min(SCALE_XY_MAX, Math.max(0, toInt(parseInt(spec.slice(xIdx + 1), 10))));
        xy = true;
      } else {
        scale = toInt(parseInt(spec, 10));
      }
    }
    if (fontName.startsWith("Vector")) throw new Error("sim Graphics: Vector fonts are not emulated");
    if (fontName !== FONT_6X8 && fontName !== FONT_4X6 && fontName !== "") {
      throw new Error(`Unknown font ${JSON.stringify(fontName)}`);
    }
    this.fontName = fontName === FONT_6X8 ? FONT_6X8 : FONT_4X6;
    if (xy) {
      this.fontScaleXY = true;
      this.fontScaleX = sx;
      this.fontScaleY = sy;
    } else {
      scale = Math.min(SCALE_MAX, Math.max(1, scale));
      this.fontScaleXY = false;
      this.fontScaleX = scale;
      this.fontScaleY = scale;
    }
    return this;
  }

  /** "6x8", "6x8:2" or "6x8:2x3" (likewise "4x6..."). */
  getFont(): string {
    if (this.fontScaleXY) return `${this.fontName}:${this.fontScaleX}x${this.fontScaleY}`;
    return this.fontScaleX > 1 ? `${this.fontName}:${this.fontScaleX}` : this.fontName;
  }

  getFontHeight(): number {
    return (this.fontName === FONT_6X8 ? FONT_H : 6) * this.fontScaleY;
  }

  /** x: -1 left, 0 centre, 1 right of the given point; y likewise top/centre/bottom; rotation 0..3 (90° steps). */
  setFontAlign(x: unknown, y?: unknown, rotation?: unknown): this {
    this.fontAlignX = Math.min(1, Math.max(-1, toInt(x)));
    this.fontAlignY = Math.min(1, Math.max(-1, toInt(y)));
    this.fontRotate = Math.min(3, Math.max(0, toInt(rotation)));
    return this;
  }

  private charWidth(): number {
    return (this.fontName === FONT_6X8 ? FONT_W : 4) * this.fontScaleX;
  }

  /** Widest line, and number of lines, of `str` from character index `start` (one line only if start given). */
  private lineWidth(str: string, start: number): number {
    let width = 0;
    for (let i = start; i < str.length; i++) {
      if (str.charCodeAt(i) === 10) break;
      width += this.charWidth();
    }
    return width;
  }

  /** Width in pixels of the widest line of `str` in the current font. */
  stringWidth(str: unknown): number {
    const s = String(str);
    let max = 0;
    let start = 0;
    for (;;) {
      max = Math.max(max, this.lineWidth(s, start));
      const nl = s.indexOf("\n", start);
      if (nl < 0) return max;
      start = nl + 1;
    }
  }

  /** `{width, height}` of `str` as Espruino's stringMetrics reports them (no inline images). */
  stringMetrics(str: unknown): { width: number; height: number } {
    const s = String(str);
    return { width: this.stringWidth(s), height: this.getFontHeight() * (s.split("\n").length) };
  }

  /**
   * Draws `str` at (x, y) honouring setFontAlign; with `solid`, unlit cell pixels are painted in the background
   * colour.
   */
  drawString(str: unknown, x: unknown, y: unknown, solid?: unknown): this {
    const s = String(str);
    let px = toInt(x);
    let py = toInt(y);
    const solidBg = !!solid;
    if (this.fontName !== FONT_6X8 && s.length > 0) {
      throw new Error('sim Graphics: font "4x6" is not emulated for drawing; call setFont("6x8")');
    }
    const sx = this.fontScaleX;
    const sy = this.fontScaleY;
    const fontHeight = FONT_H * sy;
    const oldFlags = this.flags;
    try {
      if (this.fontRotate === 1) {
        this.flags ^= Flag.SwapXY | Flag.InvertX;
        const t = this.width - (px + 1);
        px = py;
        py = t;
      } else if (this.fontRotate === 2) {
        this.flags ^= Flag.InvertX | Flag.InvertY;
        px = this.width - (px + 1);
        py = this.height - (py + 1);
      } else if (this.fontRotate === 3) {
        this.flags ^= Flag.SwapXY | Flag.InvertY;
        const t = this.height - (py + 1);
        py = px;
        px = t;
      }
      const startX = px;
      const alignOffset = (width: number, align: number): number => Math.trunc((width * (align + 1)) / 2);
      if (this.fontAlignX >= 0) px = startX - alignOffset(this.lineWidth(s, 0), this.fontAlignX);
      if (this.fontAlignY >= 0) py -= alignOffset(this.stringMetrics(s).height, this.fontAlignY);
      let [minX, minY] = this.toGraphics(0, 0);
      let [maxX, maxY] = this.toGraphics(this.width - 1, this.height - 1);
      if (maxX < minX) [minX, maxX] = [maxX, minX];
      if (maxY < minY) [minY, maxY] = [maxY, minY];
      for (let i = 0; i < s.length; i++) {
        const ch = s.charCodeAt(i);
        if (ch === 10) {
          px = startX;
          if (this.fontAlignX >= 0) px = startX - alignOffset(this.lineWidth(s, i + 1), this.fontAlignX);
          py += fontHeight;
          continue;
        }
        if (ch === 0) throw new Error("sim Graphics: images inside strings are not emulated");
        if (px > minX - FONT_W * sx && px < maxX && py > minY - fontHeight && py <= maxY) {
          this.drawChar(px, py, ch, sx, sy, solidBg);
        }
        px += FONT_W * sx;
      }
    } finally {
      this.flags = oldFlags;
    }
    return this;
  }

  private drawChar(x: number, y: number, ch: number, sx: number, sy: number, solid: boolean): void {
    if (ch <= 32) {
      // Espruino's 6x8 has no glyph for space or control codes: with `solid` it fills (x,y)-(x+5*sx, y+7*sy) inclusive, which
      // leaves a gap at scales above 1. Reproduced so screens match the device.
      if (solid) this.fillRectGfx(x, y, x + 5 * sx, y + 7 * sy, this.bgColor);
      return;
    }
    const rows = glyphRows(ch);
    for (let r = 0; r < FONT_H; r++) {
      const ly = y + r * sy;
      for (let c = 0; c < FONT_W; c++) {
        const lit = (rows[r] >> (FONT_W - 1 - c)) & 1;
        if (lit || solid) {
          this.fillRectGfx(x + c * sx, ly, x + (c + 1) * sx - 1, ly + sy - 1, lit ? this.fgColor : this.bgColor);
        }
      }
    }
  }

  // ---- images ---------------------------------------------------------------------------------------------------

  private parseImage(image: unknown): ParsedImage {
    let width: number;
    let height: number;
    let bpp: number;
    let bytes: Uint8Array;
    let offset = 0;
    let transparent: number | undefined;
    let palette: ArrayLike<number> | undefined;
    let paletteMask = 0;
    if (typeof image === "string" || isArrayBuffer(image)) {
      bytes = imageBytes(image);
      width = bytes[0];
      height = bytes[1];
      bpp = bytes[2];
      offset = 3;
      if (bpp & 128) {
        bpp &= 127;
        transparent = bytes[3];
        offset = 4;
      }
      if (bpp & 64) {
        bpp &= 63;
        if (bpp > 8) throw new Error("Can't have palette on >8 bit images");
        const entries = 1 << bpp;
        const pal = new Uint16Array(entries);
        for (let i = 0; i < entries; i++) pal[i] = bytes[offset + i * 2] | (bytes[offset + i * 2 + 1] << 8);
        palette = pal;
        paletteMask = entries - 1;
        offset += entries * 2;
      }
    } else if (image !== null && typeof image === "object") {
      const o = image as ImageObject;
      width = toInt(o.width);
      height = toInt(o.height);
      bpp = toInt(o.bpp);
      if (bpp <= 0) bpp = 1;
      bytes = imageBytes(o.buffer);
      if (o.transparent !== undefined) transparent = toInt(o.transparent);
      if (o.palette !== undefined) {
        if (tagOf(o.palette) !== "[object Uint16Array]") {
          throw new Error("Palette specified, but must be a flat Uint16Array of 2,4,8,16,256 elements");
        }
        palette = o.palette;
        const l = o.palette.length;
        paletteMask = l === 2 || l === 4 || l === 8 || l === 16 || l === 256 ? l - 1 : 0;
      }
    } else {
      throw new Error("First argument must be Object or String");
    }
    if (palette === undefined && bpp === 1) {
      palette = [this.bgColor & 0xffff, this.fgColor & 0xffff];
      paletteMask = 1;
    }
    if (width <= 0 || height <= 0 || bpp > 32) throw new Error("Expecting valid Image");
    return { width, height, bpp, bytes, offset, transparent, palette, paletteMask };
  }

  /** Raw value of image pixel number `n` (row-major, MSB first, rows not padded); bytes past the end read 0. */
  private static imagePixel(img: ParsedImage, n: number): number {
    const bitOffset = n * img.bpp;
    let i = img.offset + Math.floor(bitOffset / 8);
    const bit = bitOffset & 7;
    let data = img.bytes[i] ?? 0;
    let b = 8 - (bit + img.bpp);
    for (; b < 0; b += 8) data = data * 256 + (img.bytes[++i] ?? 0);
    return Math.floor(data / Math.pow(2, b)) % Math.pow(2, img.bpp);
  }

  /** Maps a raw pixel through transparency and palette; undefined when transparent. */
  private static imageColour(img: ParsedImage, raw: number): number | undefined {
    if (img.transparent !== undefined && raw === img.transparent) return undefined;
    return img.palette ? (img.palette[raw & img.paletteMask] ?? 0) : raw;
  }

  /**
   * Draws an image object (or image string/ArrayBuffer with header) with its top-left at (x, y); `scale` and
   * `rotate` use Espruino's fixed-point sampler (rotate centres the image on x, y). 1 bpp images without a palette
   * draw in the background/foreground colours.
   */
  drawImage(image: unknown, x: unknown, y: unknown, options?: DrawImageOptions): this {
    const img = this.parseImage(image);
    const xPos = toInt(x);
    const yPos = toInt(y);
    let scale = 1;
    let rotate = 0;
    let center = false;
    if (options !== null && typeof options === "object") {
      const frame = toInt(options.frame);
      if (frame > 0) img.offset += ((img.width * img.height * img.bpp + 7) >> 3) * frame;
      scale = toFloat(options.scale);
      if (!Number.isFinite(scale) || scale <= 0) scale = 1;
      rotate = toFloat(options.rotate);
      center = Number.isFinite(rotate);
      if (!center) rotate = 0;
    }
    if (this.flags & Flag.SwapXY) throw new Error("sim Graphics: drawImage with swapped axes is not emulated");
    if (scale === 1 && rotate === 0 && !center) this.drawImageSimple(img, xPos, yPos);
    else this.drawImageTransformed(img, xPos, yPos, scale, rotate, center);
    return this;
  }

  private drawImageSimple(img: ParsedImage, xPos: number, yPos: number): void {
    // The whole image rectangle (clipped) counts as modified, transparent pixels included.
    const x1 = Math.max(0, xPos);
    const y1 = Math.max(0, yPos);
    const x2 = Math.min(this.width - 1, xPos + img.width - 1);
    const y2 = Math.min(this.height - 1, yPos + img.height - 1);
    this.markModified(x1, y1, x2, y2);
    if (y2 < y1 || x2 < x1) return;
    for (let y = y1; y <= y2; y++) {
      for (let ix = 0; ix < img.width; ix++) {
        const col = ArrayBufferGraphics.imageColour(img, ArrayBufferGraphics.imagePixel(img, (y - yPos) * img.width + ix));
        if (col !== undefined) this.setPixelDevice(xPos + ix, y, col);
      }
    }
  }

  /** Port of the GfxDrawImageLayer sampler (8.8 fixed point), which ESP32 builds use for every scaled draw. */
  private drawImageTransformed(img: ParsedImage, xPos: number, yPos: number, scale: number, rotate: number, center: boolean): void {
    const mx = img.width << 8;
    const my = img.height << 8;
    const vcos = Math.cos(rotate);
    const vsin = Math.sin(rotate);
    const sx = Math.trunc((vcos / scale) * 256);
    const sy = Math.trunc((vsin / scale) * 256);
    const iw = Math.trunc(0.5 + scale * (img.width * Math.abs(vcos) + img.height * Math.abs(vsin)));
    const ih = Math.trunc(0.5 + scale * (img.width * Math.abs(vsin) + img.height * Math.abs(vcos)));
    let lx1 = xPos << 8;
    let ly1 = yPos << 8;
    if (center) {
      lx1 -= iw * 128;
      ly1 -= ih * 128;
    }
    const lx2 = lx1 + iw * 256;
    const ly2 = ly1 + ih * 256;
    let px = img.width * 128 - Math.trunc((1 + sx * iw + sy * ih) / 2);
    let py = img.height * 128 - Math.trunc((1 + sx * ih - sy * iw) / 2);
    let x1 = lx1 >> 8;
    let y1 = ly1 >> 8;
    let x2 = (lx2 >> 8) - 1;
    let y2 = (ly2 >> 8) - 1;
    if (x1 < 0) x1 = 0;
    if (y1 < 0) y1 = 0;
    if (x2 > this.width - 1) x2 = this.width - 1;
    if (y2 > this.height - 1) y2 = this.height - 1;
    this.markModified(x1, y1, x2, y2);
    const dx = x1 * 256 - lx1;
    const dy = y1 * 256 - ly1;
    px += (sx * dx + sy * dy) >> 8;
    py += (sx * dy - sy * dx) >> 8;
    for (let y = y1; y <= y2; y++) {
      let qx = px;
      let qy = py;
      for (let x = x1; x <= x2; x++) {
        if (qx >= 0 && qy >= 0 && (qx & ~255) < mx && (qy & ~255) < my) {
          const raw = ArrayBufferGraphics.imagePixel(img, (qx >> 8) + (qy >> 8) * img.width);
          const col = ArrayBufferGraphics.imageColour(img, raw);
          if (col !== undefined) this.writePixel(x, y, col & maskOf(this.bpp));
        }
        qx += sx;
        qy -= sy;
      }
      px += sy;
      py += sx;
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------------------------------

  /** The area drawn since creation or the last reset, or undefined if none; `reset` clears it. */
  getModified(reset?: boolean): ModifiedArea | undefined {
    let area: ModifiedArea | undefined;
    if (this.modMinX <= this.modMaxX) {
      area = { x1: this.modMinX, y1: this.modMinY, x2: this.modMaxX, y2: this.modMaxY };
    }
    if (reset) {
      this.modMinX = 32767;
      this.modMinY = 32767;
      this.modMaxX = -32768;
      this.modMaxY = -32768;
    }
    return area;
  }

  /** Does nothing for ArrayBuffer graphics, as in Espruino; firmware replaces it per instance. */
  flip(): void {}
}

/** The Graphics "class" one simulated device sees; each call makes a fresh one so realms share no prototype. */
export function createGraphicsApi(realm: Realm = defaultRealm()) {
  class Graphics extends ArrayBufferGraphics {
    /** Espruino's Graphics.createArrayBuffer (horizontal bytes; msb defaults to true). */
    static createArrayBuffer(width: number, height: number, bpp: number, options?: ArrayBufferOptions): Graphics {
      return new Graphics(realm, width, height, bpp, options);
    }
  }
  return { Graphics };
}

type ElementArray = { length: number; [i: number]: number; BYTES_PER_ELEMENT?: number };

function elementsOf(v: unknown, what: string): ElementArray {
  if (isArrayBuffer(v)) return new Uint8Array(v);
  if (ArrayBuffer.isView(v) && tagOf(v) !== "[object DataView]") return v as unknown as ElementArray;
  throw new Error(`First 2 arguments should be array buffers (${what})`);
}

/**
 * Espruino's `E.mapInPlace(from, to, map, bits)`: reads `from` as a stream of `bits`-bit values (MSB first; LSB
 * first when `bits` is negative; one per element when 0/undefined), maps each through `map` (array or typed array
 * lookup, or `map(value, index)` where index is the source element index the reader is at, or passes it through
 * when `map` is undefined) and writes one result per element of `to`, stopping when either runs out.
 */
export function mapInPlace(from: unknown, to: unknown, map?: unknown, bits?: number): void {
  const src = elementsOf(from, "from");
  const dst = elementsOf(to, "to");
  const isFn = typeof map === "function";
  if (map !== undefined && !isFn && !Array.isArray(map) && !ArrayBuffer.isView(map) && !isArrayBuffer(map)) {
    throw new Error("Third argument should be a function or array");
  }
  const lookup: ArrayLike<unknown> | undefined = isArrayBuffer(map) ? new Uint8Array(map) : (map as ArrayLike<unknown>);
  const bitsFrom = 8 * (src.BYTES_PER_ELEMENT ?? 1);
  let n = toInt(bits);
  let msbFirst = true;
  if (n < 0) {
    n = -n;
    msbFirst = false;
  }
  if (n === 0) n = bitsFrom;
  const fromScale = Math.pow(2, bitsFrom);
  const outScale = Math.pow(2, n);
  let si = 0;
  let di = 0;
  let el = 0; // only the low `b` bits are meaningful
  let b = 0;
  while ((si < src.length || b >= n) && di < dst.length) {
    const index = si;
    while (b < n) {
      const raw = si < src.length ? Math.trunc(Number(src[si])) : 0;
      const value = ((raw % fromScale) + fromScale) % fromScale;
      if (msbFirst) el = el * fromScale + value;
      else el += value * Math.pow(2, b);
      si++;
      b += bitsFrom;
    }
    let v: number;
    if (msbFirst) {
      v = Math.floor(el / Math.pow(2, b - n)) % outScale;
      el %= Math.pow(2, b - n);
    } else {
      v = el % outScale;
      el = Math.floor(el / outScale);
    }
    b -= n;
    let out: unknown = v;
    if (isFn) out = (map as (value: number, index: number) => unknown)(v, index);
    else if (lookup !== undefined) out = lookup[v];
    dst[di++] = out as number;
  }
}
