/**
 * Sitronix ST7789 display controller, emulated at the SPI byte level: a 240x320 RGB565 frame memory of which a
 * 240x240 panel shows the rows and columns 0..239. Facts: /work/shared/hardware-notes.md section 4 (Adafruit's
 * ST77xx library and Espruino's ST7789 module); the datasheet itself was not seen.
 *
 *   const lcd = new St7789Emulator();
 *   spi.onTransfer((bytes) => lcd.write(bytes, dcPin.value));   // one call per transfer while CS is low
 *   fs.writeFileSync("screen.png", lcd.toPng());
 *
 * Orientation: the panel is square, so which MADCTL value shows an image upright depends on how the glass is
 * mounted. By default MADCTL C0 (MY|MX) with rows offset by 80 is upright, as for Adafruit's 240x240 boards
 * (rotation 0); pass `uprightMadctl: 0x00` for modules where MADCTL 00 without offset is upright (TFT_eSPI's
 * convention). Either way the glass shows frame-memory rows 0..239.
 */
import { encodePng, rgb565ToRgba } from "../render/png.ts";

/** ST7789 command opcodes, named as in the datasheet. */
export const enum St7789Cmd {
  NOP = 0x00,
  SWRESET = 0x01,
  SLPIN = 0x10,
  SLPOUT = 0x11,
  NORON = 0x13,
  INVOFF = 0x20,
  INVON = 0x21,
  DISPOFF = 0x28,
  DISPON = 0x29,
  CASET = 0x2a,
  RASET = 0x2b,
  RAMWR = 0x2c,
  MADCTL = 0x36,
  COLMOD = 0x3a,
  PORCTRL = 0xb2,
  GCTRL = 0xb7,
  VCOMS = 0xbb,
  LCMCTRL = 0xc0,
  IDSET = 0xc1,
  VDVVRHEN = 0xc2,
  VRHS = 0xc3,
  VDVS = 0xc4,
  VCMOFSET = 0xc5,
  FRCTRL2 = 0xc6,
  PWCTRL1 = 0xd0,
  PVGAMCTRL = 0xe0,
  NVGAMCTRL = 0xe1,
}

/** MADCTL bits. */
export const enum Madctl {
  MY = 0x80,
  MX = 0x40,
  MV = 0x20,
  ML = 0x10,
  BGR = 0x08,
}

/** COLMOD value for 16-bit RGB565 (the only pixel format emulated). */
export const COLMOD_RGB565 = 0x55;
/** COLMOD after reset (18-bit); pixel data is refused until COLMOD 0x55 is set. */
export const COLMOD_RESET = 0x66;

/** Commands that take parameters the emulator accepts and ignores (porch, gate, power, VCOM, frame rate, gamma). */
const IGNORED = new Set<number>([
  St7789Cmd.PORCTRL, St7789Cmd.GCTRL, St7789Cmd.VCOMS, St7789Cmd.LCMCTRL, St7789Cmd.IDSET, St7789Cmd.VDVVRHEN,
  St7789Cmd.VRHS, St7789Cmd.VDVS, St7789Cmd.VCMOFSET, St7789Cmd.FRCTRL2, St7789Cmd.PWCTRL1, St7789Cmd.PVGAMCTRL,
  St7789Cmd.NVGAMCTRL,
]);

export interface St7789Options {
  /** Visible width in pixels (default 240). */
  width?: number;
  /** Visible height in pixels (default 240). */
  height?: number;
  /** Frame-memory columns (default 240). */
  ramWidth?: number;
  /** Frame-memory rows (default 320). */
  ramHeight?: number;
  /** The MADCTL orientation bits (MY|MX) under which the glass shows the image upright: 0xC0 (default) or 0x00. */
  uprightMadctl?: 0xc0 | 0x00;
  /**
   * "ips" (default): the glass inverts natively, so colours are true under INVON and inverted under INVOFF, as on
   * the IPS panels these modules use ("most IPS panels need INVON for correct colours"). "tn": true colours under
   * INVOFF. Either way INVON and INVOFF show each other's inverse.
   */
  panel?: "ips" | "tn";
}

/** One emulated ST7789 controller with its panel. */
export class St7789Emulator {
  /** Every command byte received, in order (including ignored ones). */
  readonly commandsSeen: number[] = [];
  /** Last COLMOD parameter received. */
  colmod = COLMOD_RESET;
  /** Last MADCTL parameter received. */
  madctl = 0;

  private readonly width: number;
  private readonly height: number;
  private readonly ramWidth: number;
  private readonly ramHeight: number;
  private readonly uprightMadctl: number;
  private readonly nativeInversion: boolean;
  private readonly ram: Uint16Array;
  private sleepingState = true;
  private displayOn = false;
  private inverted = false;
  private command = -1;
  private params: number[] = [];
  private xs = 0;
  private xe = 0;
  private ys = 0;
  private ye = 0;
  /** Write pointer in host (CASET/RASET) coordinates during RAMWR. */
  private col = 0;
  private row = 0;
  private highByte = -1;

  /** Transfers and resets so far, and the PNG made at a count (toPng). */
  private changes = 0;
  private png: { at: number; buf: Buffer } | null = null;

  constructor(opts: St7789Options = {}) {
    this.width = opts.width ?? 240;
    this.height = opts.height ?? 240;
    this.ramWidth = opts.ramWidth ?? 240;
    this.ramHeight = opts.ramHeight ?? 320;
    this.uprightMadctl = opts.uprightMadctl ?? 0xc0;
    this.nativeInversion = (opts.panel ?? "ips") === "ips";
    if (this.width > this.ramWidth || this.height > this.ramHeight) throw new Error("St7789Emulator: panel larger than RAM");
    this.ram = new Uint16Array(this.ramWidth * this.ramHeight);
    this.reset();
  }

  /** True once the panel shows the frame memory: out of sleep (SLPOUT) and switched on (DISPON). */
  get on(): boolean {
    return !this.sleepingState && this.displayOn;
  }

  /** True after reset or SLPIN until SLPOUT. */
  get sleeping(): boolean {
    return this.sleepingState;
  }

  /** True while INVON is in force. */
  get inversion(): boolean {
    return this.inverted;
  }

  /** The RST pin pulse: registers back to their reset values; the frame memory keeps its contents. */
  hardwareReset(): void {
    this.reset();
  }

  private reset(): void {
    this.changes++;
    this.sleepingState = true;
    this.displayOn = false;
    this.inverted = false;
    this.madctl = 0;
    this.colmod = COLMOD_RESET;
    this.xs = 0;
    this.xe = this.ramWidth - 1;
    this.ys = 0;
    this.ye = this.ramHeight - 1;
    this.command = -1;
    this.params = [];
    this.highByte = -1;
  }

  /** One SPI transfer while CS is low: `dc` false sends command bytes, true sends parameters or pixel data. */
  write(bytes: Uint8Array, dc: boolean): void {
    this.changes++;
    if (!dc) {
      for (const b of bytes) this.startCommand(b);
      return;
    }
    if (this.command === St7789Cmd.RAMWR) {
      this.writePixels(bytes);
      return;
    }
    for (const b of bytes) this.parameter(b);
  }

  private startCommand(cmd: number): void {
    this.commandsSeen.push(cmd);
    this.command = cmd;
    this.params = [];
    this.highByte = -1;
    switch (cmd) {
      case St7789Cmd.NOP:
      case St7789Cmd.NORON:
      case St7789Cmd.CASET:
      case St7789Cmd.RASET:
      case St7789Cmd.MADCTL:
      case St7789Cmd.COLMOD:
        return;
      case St7789Cmd.SWRESET:
        this.reset();
        return;
      case St7789Cmd.SLPIN:
        this.sleepingState = true;
        return;
      case St7789Cmd.SLPOUT:
        this.sleepingState = false;
        return;
      case St7789Cmd.INVOFF:
        this.inverted = false;
        return;
      case St7789Cmd.INVON:
        this.inverted = true;
        return;
      case St7789Cmd.DISPOFF:
        this.displayOn = false;
        return;
      case St7789Cmd.DISPON:
        this.displayOn = true;
        return;
      case St7789Cmd.RAMWR:
        this.col = this.xs;
        this.row = this.ys;
        return;
      default:
        if (IGNORED.has(cmd)) return;
        throw new Error(`St7789Emulator: command 0x${cmd.toString(16).padStart(2, "0")} is not emulated`);
    }
  }

  private parameter(b: number): void {
    this.params.push(b);
    const p = this.params;
    switch (this.command) {
      case St7789Cmd.CASET:
        if (p.length === 4) {
          this.xs = (p[0] << 8) | p[1];
          this.xe = (p[2] << 8) | p[3];
        }
        return;
      case St7789Cmd.RASET:
        if (p.length === 4) {
          this.ys = (p[0] << 8) | p[1];
          this.ye = (p[2] << 8) | p[3];
        }
        return;
      case St7789Cmd.MADCTL:
        if (p.length === 1) this.madctl = b;
        return;
      case St7789Cmd.COLMOD:
        if (p.length === 1) this.colmod = b;
        return;
      default:
        return; // parameters of ignored commands, or stray data after a command without any
    }
  }

  /** Host column/row limits: CASET addresses the 320-long axis when MV is set. */
  private limits(): [number, number] {
    return this.madctl & Madctl.MV ? [this.ramHeight, this.ramWidth] : [this.ramWidth, this.ramHeight];
  }

  private writePixels(bytes: Uint8Array): void {
    if (this.colmod !== COLMOD_RGB565) {
      throw new Error(`St7789Emulator: pixel data with COLMOD 0x${this.colmod.toString(16)}; only 0x55 (RGB565) is emulated`);
    }
    const [colLimit, rowLimit] = this.limits();
    if (this.xs > this.xe || this.ys > this.ye || this.xe >= colLimit || this.ye >= rowLimit) {
      throw new Error(
        `St7789Emulator: RAMWR into an invalid window columns ${this.xs}..${this.xe} rows ${this.ys}..${this.ye} ` +
          `(limits ${colLimit}x${rowLimit}, MADCTL 0x${this.madctl.toString(16)})`,
      );
    }
    for (const b of bytes) {
      if (this.highByte < 0) {
        this.highByte = b;
        continue;
      }
      this.store(this.col, this.row, (this.highByte << 8) | b);
      this.highByte = -1;
      if (++this.col > this.xe) {
        this.col = this.xs;
        if (++this.row > this.ye) this.row = this.ys;
      }
    }
  }

  /** Host (column, row) → frame memory, applying MV (exchange) and then MX/MY (mirror). */
  private store(c: number, r: number, pixel: number): void {
    let pc = c;
    let pr = r;
    if (this.madctl & Madctl.MV) {
      pc = r;
      pr = c;
    }
    if (this.madctl & Madctl.MX) pc = this.ramWidth - 1 - pc;
    if (this.madctl & Madctl.MY) pr = this.ramHeight - 1 - pr;
    this.ram[pr * this.ramWidth + pc] = pixel;
  }

  /**
   * The visible panel as RGB565, row-major, upright as the user sees it: black unless on; inverted under INVOFF on
   * an IPS panel (INVON on a TN one); red and blue swapped when MADCTL's BGR bit is set.
   */
  frame(): Uint16Array {
    const out = new Uint16Array(this.width * this.height);
    if (!this.on) return out;
    const flip = this.uprightMadctl === 0xc0;
    const bgr = (this.madctl & Madctl.BGR) !== 0;
    const invert = this.inverted !== this.nativeInversion;
    for (let y = 0; y < this.height; y++) {
      const pr = flip ? this.height - 1 - y : y;
      for (let x = 0; x < this.width; x++) {
        const pc = flip ? this.width - 1 - x : x;
        let c = this.ram[pr * this.ramWidth + pc];
        if (bgr) c = ((c & 0x1f) << 11) | (c & 0x07e0) | (c >> 11);
        if (invert) c = ~c & 0xffff;
        out[y * this.width + x] = c;
      }
    }
    return out;
  }

  /**
   * The visible panel as a PNG file: the same Buffer while nothing was written to the panel since (a test polling
   * the panel, and decoding its QR, then costs nothing while the screen stands still: on the espruino engine the
   * simulator's time is the bridge's, and the interpreter waits on it for every I2C transfer).
   */
  toPng(): Buffer {
    if (this.png && this.png.at === this.changes) return this.png.buf;
    const buf = encodePng(this.width, this.height, rgb565ToRgba(this.frame()));
    this.png = { at: this.changes, buf };
    return buf;
  }
}
