import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { St7789Emulator } from "../../../sim/peripherals/st7789.ts";
import type { St7789Options } from "../../../sim/peripherals/st7789.ts";

const W = 240;

function cmd(lcd: St7789Emulator, c: number, ...params: number[]): void {
  lcd.write(new Uint8Array([c]), false);
  if (params.length) lcd.write(new Uint8Array(params), true);
}

function window(lcd: St7789Emulator, x0: number, y0: number, x1: number, y1: number): void {
  cmd(lcd, 0x2a, x0 >> 8, x0 & 0xff, x1 >> 8, x1 & 0xff);
  cmd(lcd, 0x2b, y0 >> 8, y0 & 0xff, y1 >> 8, y1 & 0xff);
}

function pixelBytes(...pixels: number[]): Uint8Array {
  return new Uint8Array(pixels.flatMap((p) => [p >> 8, p & 0xff]));
}

function ramwr(lcd: St7789Emulator, ...pixels: number[]): void {
  cmd(lcd, 0x2c);
  lcd.write(pixelBytes(...pixels), true);
}

/** Adafruit's generic_st7789 init, then rotation 0 (MADCTL C0). */
function init(opts?: St7789Options, madctl = 0xc0): St7789Emulator {
  const lcd = new St7789Emulator(opts);
  cmd(lcd, 0x01);
  cmd(lcd, 0x11);
  cmd(lcd, 0x3a, 0x55);
  cmd(lcd, 0x36, 0x08);
  cmd(lcd, 0x2a, 0, 0, 0, 240);
  cmd(lcd, 0x2b, 0, 0, 320 >> 8, 320 & 0xff);
  cmd(lcd, 0x21);
  cmd(lcd, 0x13);
  cmd(lcd, 0x29);
  cmd(lcd, 0x36, madctl);
  return lcd;
}

function at(frame: Uint16Array, x: number, y: number): number {
  return frame[y * W + x];
}

/** "x,y=value" for every non-black pixel of the frame. */
function nonBlack(frame: Uint16Array): string[] {
  const out: string[] = [];
  frame.forEach((c, i) => {
    if (c !== 0) out.push(`${i % W},${Math.floor(i / W)}=${c.toString(16)}`);
  });
  return out;
}

describe("St7789Emulator", () => {
  it("shows a window written after the init sequence at the addressed pixels (rotation 0, rows offset by 80)", () => {
    const lcd = init();
    assert.equal(lcd.on, true);
    window(lcd, 10, 80 + 20, 11, 80 + 21);
    ramwr(lcd, 0xf800, 0x07e0, 0x001f, 0xffff);
    assert.deepEqual(nonBlack(lcd.frame()), ["10,20=f800", "11,20=7e0", "10,21=1f", "11,21=ffff"]);
  });

  it("keeps rows 0..79 of MADCTL C0 addressing off the glass", () => {
    const lcd = init();
    window(lcd, 0, 0, 239, 79);
    ramwr(lcd, ...new Array(240 * 80).fill(0xffff));
    assert.deepEqual(nonBlack(lcd.frame()), []);
    window(lcd, 0, 80, 0, 80);
    ramwr(lcd, 0x1234);
    assert.deepEqual(nonBlack(lcd.frame()), ["0,0=1234"]);
  });

  it("shows MADCTL 00 without offset rotated by 180 degrees on a panel upright under C0", () => {
    const lcd = init(undefined, 0x00);
    window(lcd, 0, 0, 1, 0);
    ramwr(lcd, 0x1111, 0x2222);
    assert.deepEqual(nonBlack(lcd.frame()), ["238,239=2222", "239,239=1111"]);
  });

  it("shows MADCTL 00 upright on a panel configured that way", () => {
    const lcd = init({ uprightMadctl: 0x00 }, 0x00);
    window(lcd, 0, 0, 1, 0);
    ramwr(lcd, 0x1111, 0x2222);
    assert.deepEqual(nonBlack(lcd.frame()), ["0,0=1111", "1,0=2222"]);
  });

  it("rotates by 90 degrees with MADCTL A0 and the 80 offset on columns", () => {
    const lcd = init(undefined, 0xa0);
    window(lcd, 80 + 0, 0, 80 + 0, 0);
    ramwr(lcd, 0x1111);
    window(lcd, 80 + 5, 7, 80 + 5, 7);
    ramwr(lcd, 0x2222);
    assert.deepEqual(nonBlack(lcd.frame()), ["239,0=1111", "232,5=2222"]);
  });

  it("accepts a column window up to 319 only when MV is set", () => {
    const lcd = init(undefined, 0xa0);
    window(lcd, 319, 0, 319, 0);
    assert.doesNotThrow(() => ramwr(lcd, 0x1111));
    cmd(lcd, 0x36, 0xc0);
    window(lcd, 319, 0, 319, 0);
    assert.throws(() => ramwr(lcd, 0x1111), /invalid window/);
  });

  it("wraps RAMWR data back to the start of the window", () => {
    const lcd = init();
    window(lcd, 0, 80, 1, 81);
    ramwr(lcd, 1, 2, 3, 4, 5, 6);
    const f = lcd.frame();
    assert.deepEqual([at(f, 0, 0), at(f, 1, 0), at(f, 0, 1), at(f, 1, 1)], [5, 6, 3, 4]);
  });

  it("joins a pixel split across two data transfers", () => {
    const lcd = init();
    window(lcd, 0, 80, 1, 80);
    cmd(lcd, 0x2c);
    lcd.write(new Uint8Array([0xab]), true);
    lcd.write(new Uint8Array([0xcd, 0x12, 0x34]), true);
    assert.deepEqual(nonBlack(lcd.frame()), ["0,0=abcd", "1,0=1234"]);
  });

  it("renders black until both SLPOUT and DISPON have been seen", () => {
    const lcd = new St7789Emulator();
    cmd(lcd, 0x3a, 0x55);
    cmd(lcd, 0x36, 0xc0);
    cmd(lcd, 0x21);
    window(lcd, 0, 80, 0, 80);
    ramwr(lcd, 0xffff);
    assert.equal(lcd.sleeping, true);
    assert.deepEqual(nonBlack(lcd.frame()), []);
    cmd(lcd, 0x29);
    assert.deepEqual(nonBlack(lcd.frame()), [], "DISPON alone");
    cmd(lcd, 0x11);
    assert.equal(lcd.on, true);
    assert.deepEqual(nonBlack(lcd.frame()), ["0,0=ffff"]);
    cmd(lcd, 0x10);
    assert.deepEqual(nonBlack(lcd.frame()), [], "after SLPIN");
  });

  it("renders black after DISPOFF", () => {
    const lcd = init();
    window(lcd, 0, 80, 0, 80);
    ramwr(lcd, 0xffff);
    cmd(lcd, 0x28);
    assert.equal(lcd.on, false);
    assert.deepEqual(nonBlack(lcd.frame()), []);
  });

  it("inverts every colour when INVON is toggled off on the default IPS panel", () => {
    const lcd = init();
    window(lcd, 0, 80, 1, 80);
    ramwr(lcd, 0xf800, 0x0000);
    const on = lcd.frame();
    cmd(lcd, 0x20);
    const off = lcd.frame();
    assert.deepEqual([at(on, 0, 0), at(on, 1, 0)], [0xf800, 0x0000]);
    assert.deepEqual([at(off, 0, 0), at(off, 1, 0), at(off, 100, 100)], [0x07ff, 0xffff, 0xffff]);
  });

  it("inverts colours under INVON on a TN panel", () => {
    const lcd = init({ panel: "tn" });
    window(lcd, 0, 80, 0, 80);
    ramwr(lcd, 0xf800);
    assert.equal(at(lcd.frame(), 0, 0), 0x07ff);
    cmd(lcd, 0x20);
    assert.equal(at(lcd.frame(), 0, 0), 0xf800);
  });

  it("swaps red and blue when MADCTL's BGR bit is set", () => {
    const lcd = init(undefined, 0xc8);
    window(lcd, 0, 80, 0, 80);
    ramwr(lcd, 0xf800);
    assert.equal(at(lcd.frame(), 0, 0), 0x001f);
  });

  it("refuses pixel data until COLMOD selects 16-bit colour", () => {
    const lcd = new St7789Emulator();
    cmd(lcd, 0x11);
    cmd(lcd, 0x29);
    cmd(lcd, 0x3a, 0x66);
    assert.equal(lcd.colmod, 0x66);
    window(lcd, 0, 0, 0, 0);
    assert.throws(() => ramwr(lcd, 0x1234), /COLMOD 0x66/);
  });

  it("records porch, power and gamma commands without acting on them", () => {
    const lcd = init();
    cmd(lcd, 0xb2, 0x0c, 0x0c, 0x00, 0x33, 0x33);
    cmd(lcd, 0xb7, 0x35);
    cmd(lcd, 0xbb, 0x19);
    for (let c = 0xc0; c <= 0xc6; c++) cmd(lcd, c, 0x01);
    cmd(lcd, 0xd0, 0xa4, 0xa1);
    cmd(lcd, 0xe0, ...new Array(14).fill(0x10));
    cmd(lcd, 0xe1, ...new Array(14).fill(0x10));
    assert.deepEqual(lcd.commandsSeen.slice(-13), [0xb2, 0xb7, 0xbb, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xd0, 0xe0, 0xe1]);
    assert.equal(lcd.madctl, 0xc0);
    assert.equal(lcd.on, true);
  });

  it("rejects a command it does not emulate", () => {
    const lcd = new St7789Emulator();
    assert.throws(() => cmd(lcd, 0x33), /0x33 is not emulated/);
  });

  it("returns to reset state on SWRESET and hardware reset but keeps the frame memory", () => {
    const lcd = init();
    window(lcd, 0, 80, 0, 80);
    ramwr(lcd, 0x1234);
    lcd.hardwareReset();
    assert.equal(lcd.on, false);
    assert.equal(lcd.sleeping, true);
    assert.equal(lcd.madctl, 0);
    assert.equal(lcd.colmod, 0x66);
    cmd(lcd, 0x11);
    cmd(lcd, 0x29);
    cmd(lcd, 0x21);
    cmd(lcd, 0x36, 0xc0);
    assert.deepEqual(nonBlack(lcd.frame()), ["0,0=1234"]);
    cmd(lcd, 0x01);
    assert.equal(lcd.on, false);
  });

  it("encodes the visible frame as a 240x240 PNG", () => {
    const lcd = init();
    window(lcd, 3, 80 + 4, 3, 80 + 4);
    ramwr(lcd, 0x001f);
    const png = PNG.sync.read(lcd.toPng());
    assert.equal(png.width, 240);
    assert.equal(png.height, 240);
    const i = (4 * 240 + 3) * 4;
    assert.deepEqual(Array.from(png.data.subarray(i, i + 4)), [0, 0, 255, 255]);
    assert.deepEqual(Array.from(png.data.subarray(0, 4)), [0, 0, 0, 255]);
  });
});
