/**
 * Sitronix ST7789 240x240 IPS panel over SPI (4-wire: SCK, MOSI, CS, DC), drawn a band of rows at a time.
 * Opcodes, init order and the 240x240 row offset from Adafruit's ST77xx library (Adafruit_ST77xx.h,
 * Adafruit_ST7789.cpp); reset and sleep-out timing from Espruino's ST7789 module.
 *
 *   const d = new ST7789({ spi, dc, rst, surface, palette: [0x0000, 0xFFFF, 0x07E0, 0xF800], ... });
 *   d.paint(0, 239, (c, top) => c.setColor(1).drawString("Ready", 10, 10 - top));
 *
 * No frame of the whole panel is kept: painting rows opens one window (CASET, RASET, RAMWR) and, for each band of
 * BAND rows they cross, clears the band, lets the painter draw it and sends its rows ROWS at a time, each expanded
 * from the packed band to RGB565 by the surface (E.mapInPlace on the device), high byte first on the wire. A band of
 * 16 rows at 2 bpp is 960 bytes; the whole frame was 7,200 at 1 bpp. The band and the rows' buffer (1,920 bytes)
 * exist only while a paint runs: at idle, when nothing is painted, the terminal holds neither (about 220 JsVars).
 */
import type { Clock } from "../clock.ts";
import type { Display, Painter, Surface, SurfaceOpen } from "../display.ts";
import type { Digital, DigitalOpen, SPI, SPIOpen } from "../io.ts";
import { PinMode } from "../io.ts";

export const enum ST7789Cmd {
  SWRESET = 0x01,
  SLPIN = 0x10,
  SLPOUT = 0x11,
  NORON = 0x13,
  INVON = 0x21,
  DISPOFF = 0x28,
  DISPON = 0x29,
  CASET = 0x2a,
  RASET = 0x2b,
  RAMWR = 0x2c,
  MADCTL = 0x36,
  COLMOD = 0x3a,
}

/** Rows sent per SPI transfer: 4 rows of 240 pixels = 1,920 bytes of buffer, allocated for each paint. */
const ROWS = 4;
/** Rows drawn at a time: a multiple of ROWS. */
const BAND = 16;

export interface ST7789Options {
  spi: SPIOpen;
  dc: DigitalOpen;
  rst: DigitalOpen;
  surface: SurfaceOpen;
  clock: Clock;
  width: number;
  height: number;
  /** Bits per pixel of the band (1, 2 or 4): the palette's colours a screen can use. */
  bpp: number;
  /** RGB565 colour of each palette index. */
  palette: number[];
  /** Memory access control: how the panel is mounted (0xC0 for Adafruit's rotation 0 on 240x240 modules). */
  madctl: number;
  /** Row offset of the visible window in the controller's 320-row RAM (80 with MADCTL 0xC0, 0 with 0x00). */
  rowOffset: number;
  /** Called once the panel is initialised. */
  onReady?(): void;
}

export class ST7789 implements Display {
  readonly width: number;
  readonly height: number;
  private spi: SPI;
  private dc: Digital;
  private surface: SurfaceOpen;
  private bpp: number;
  private palette: Uint16Array;
  private ready = false;
  private rowOffset: number;
  /** What was painted before the panel was ready: it paints the whole panel once it is. */
  private early?: Painter;

  constructor(o: ST7789Options) {
    this.width = o.width;
    this.height = o.height;
    this.rowOffset = o.rowOffset;
    this.spi = o.spi({ hz: 20000000, mode: 0 });
    this.dc = o.dc({ mode: PinMode.Output });
    this.surface = o.surface;
    this.bpp = o.bpp;
    // The panel wants each pixel high byte first; a Uint16Array on the ESP32 is little-endian, so the
    // palette holds byte-swapped colours and the expanded row goes out as-is.
    const pal = new Uint16Array(Math.max(1 << o.bpp, o.palette.length));
    for (let i = 0; i < pal.length && i < o.palette.length; i++) pal[i] = ((o.palette[i] & 0xff) << 8) | (o.palette[i] >> 8);
    this.palette = pal;
    const rst = o.rst({ mode: PinMode.Output });
    const clock = o.clock;
    rst.write(0);
    clock.setTimeout(() => {
      rst.write(1);
      clock.setTimeout(() => {
        this.cmd(ST7789Cmd.SWRESET);
        clock.setTimeout(() => {
          this.cmd(ST7789Cmd.SLPOUT);
          clock.setTimeout(() => {
            this.cmd(ST7789Cmd.COLMOD, [0x55]);
            this.cmd(ST7789Cmd.MADCTL, [o.madctl]);
            this.cmd(ST7789Cmd.INVON);
            this.cmd(ST7789Cmd.NORON);
            this.cmd(ST7789Cmd.DISPON);
            this.ready = true;
            // Whatever was painted before the panel was ready goes out now, whole (or the background).
            this.send(0, this.height - 1, this.early || (() => {}));
            this.early = undefined;
            if (o.onReady) o.onReady();
          }, 10);
        }, 150);
      }, 120);
    }, 1);
  }

  private cmd(c: number, params?: number[]): void {
    this.dc.write(0);
    this.spi.write(new Uint8Array([c]));
    if (params) {
      this.dc.write(1);
      this.spi.write(new Uint8Array(params));
    }
  }

  /** Draw rows y1..y2 (inclusive) band by band with `draw` and send them; the band and the rows' buffer are this paint's. */
  private send(y1: number, y2: number, draw: Painter): void {
    const w = this.width;
    const s: Surface = this.surface(w, BAND, this.bpp);
    const line = new Uint16Array(w * ROWS);
    const rowBytes = (w * s.bpp) >> 3;
    const top = y1 + this.rowOffset;
    const bottom = y2 + this.rowOffset;
    this.cmd(ST7789Cmd.CASET, [0, 0, (w - 1) >> 8, (w - 1) & 0xff]);
    this.cmd(ST7789Cmd.RASET, [top >> 8, top & 0xff, bottom >> 8, bottom & 0xff]);
    this.cmd(ST7789Cmd.RAMWR);
    this.dc.write(1);
    for (let b = y1 - (y1 % BAND); b <= y2; b += BAND) {
      s.band(b);
      draw(s.canvas, b);
      const end = Math.min(y2, b + BAND - 1);
      for (let y = Math.max(y1, b); y <= end; y += ROWS) {
        const n = Math.min(ROWS, end - y + 1);
        const out = n === ROWS ? line : new Uint16Array(line.buffer, 0, n * w);
        s.expand(new Uint8Array(s.buffer, (y - b) * rowBytes, n * rowBytes), out, this.palette);
        this.spi.write(new Uint8Array(out.buffer, 0, n * w * 2));
      }
    }
  }

  paint(y1: number, y2: number, draw: Painter): void {
    // the first frame goes out when init completes
    if (!this.ready) this.early = draw;
    else if (y1 <= y2) this.send(Math.max(0, y1), Math.min(this.height - 1, y2), draw);
  }

  power(on: boolean): void {
    this.cmd(on ? ST7789Cmd.DISPON : ST7789Cmd.DISPOFF);
  }
}
