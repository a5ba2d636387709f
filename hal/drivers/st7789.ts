/**
 * Sitronix ST7789 240x240 IPS panel over SPI (4-wire: SCK, MOSI, CS, DC) with a paletted frame buffer.
 * Datasheet facts from hardware-notes.md section 4 (Adafruit ST77xx init order, Espruino's ST7789 module timing).
 *
 *   const d = new ST7789({ spi, dc, rst, surface, palette: [0x0000, 0xFFFF, 0x07E0, 0xF800] });
 *   d.canvas.drawString("Ready", 10, 10); d.flip();
 *
 * Flipping sends only the rows drawn since the last flip, ROWS at a time, each expanded from the packed
 * buffer to RGB565 by the surface (E.mapInPlace on the device), high byte first on the wire.
 */
import type { Clock } from "../clock.ts";
import type { Canvas, Display, Surface, SurfaceOpen } from "../display.ts";
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

/** Rows sent per SPI transfer: 4 rows of 240 pixels = 1,920 bytes of buffer, allocated once. */
const ROWS = 4;

export interface ST7789Options {
  spi: SPIOpen;
  dc: DigitalOpen;
  rst: DigitalOpen;
  surface: SurfaceOpen;
  clock: Clock;
  width: number;
  height: number;
  /** Bits per pixel of the frame buffer (1, 2 or 4; at 1 each row has one of the palette's inks: hal/espruino/graphics.ts). */
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
  readonly canvas: Canvas;
  private spi: SPI;
  private dc: Digital;
  private surface: Surface;
  private palette: Uint16Array;
  private line: Uint16Array;
  private ready = false;
  private rowOffset: number;

  constructor(o: ST7789Options) {
    this.width = o.width;
    this.height = o.height;
    this.rowOffset = o.rowOffset;
    this.spi = o.spi({ hz: 20000000, mode: 0 });
    this.dc = o.dc({ mode: PinMode.Output });
    this.surface = o.surface(o.width, o.height, o.bpp);
    this.canvas = this.surface.canvas;
    // The panel wants each pixel high byte first; a Uint16Array on the ESP32 is little-endian, so the
    // palette holds byte-swapped colours and the expanded row goes out as-is.
    const pal = new Uint16Array(Math.max(1 << o.bpp, o.palette.length));
    for (let i = 0; i < pal.length && i < o.palette.length; i++) pal[i] = ((o.palette[i] & 0xff) << 8) | (o.palette[i] >> 8);
    this.palette = pal;
    this.line = new Uint16Array(o.width * ROWS);
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
            // Whatever was drawn before the panel was ready goes out now, whole.
            this.surface.takeModified();
            this.send(0, this.height - 1);
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

  /** Send rows y1..y2 (inclusive) of the frame buffer. */
  private send(y1: number, y2: number): void {
    const w = this.width;
    const rowBytes = (w * this.surface.bpp) >> 3;
    const top = y1 + this.rowOffset;
    const bottom = y2 + this.rowOffset;
    this.cmd(ST7789Cmd.CASET, [0, 0, (w - 1) >> 8, (w - 1) & 0xff]);
    this.cmd(ST7789Cmd.RASET, [top >> 8, top & 0xff, bottom >> 8, bottom & 0xff]);
    this.cmd(ST7789Cmd.RAMWR);
    this.dc.write(1);
    for (let y = y1; y <= y2; y += ROWS) {
      const n = Math.min(ROWS, y2 - y + 1);
      const packed = new Uint8Array(this.surface.buffer, y * rowBytes, n * rowBytes);
      const out = n === ROWS ? this.line : new Uint16Array(this.line.buffer, 0, n * w);
      this.surface.expand(packed, out, this.palette, y);
      this.spi.write(new Uint8Array(out.buffer, 0, n * w * 2));
    }
  }

  flip(): void {
    if (!this.ready) return; // the first frame goes out when init completes
    const m = this.surface.takeModified();
    if (!m) return;
    this.send(Math.max(0, m.y1), Math.min(this.height - 1, m.y2));
  }

  power(on: boolean): void {
    this.cmd(on ? ST7789Cmd.DISPON : ST7789Cmd.DISPOFF);
  }
}
