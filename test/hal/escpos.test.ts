import assert from "node:assert/strict";
import { EscPos } from "../../hal/drivers/escpos.ts";
import { printTimeMs } from "../../hal/drivers/escpos-printer.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("ESC/POS encoder", () => {
  it("encodes init, alignment, bold and size as the datasheet's bytes", () => {
    assert.equal(hex(new EscPos().init().align(1).bold(true).size(2, 2).bytes()), "1b40" + "1b6101" + "1b4501" + "1d2111");
  });
  it("prints non-ASCII text as question marks", () => {
    assert.equal(hex(new EscPos().line("a\u20acb").bytes()), "613f620a");
  });
  it("stores and prints a QR with GS ( k, length = data + 3", () => {
    const b = hex(new EscPos().qr("X".repeat(20), 6).bytes());
    assert.ok(b.includes("1d286b1700315030" + "58".repeat(20)), b);
    assert.ok(b.includes("1d286b0300314306"));
    assert.ok(b.endsWith("1d286b0300315130"));
  });
  it("lays two texts out on one 32-column line", () => {
    const s = Buffer.from(new EscPos().pair("Amount", "EUR 1.00").bytes()).toString("latin1");
    assert.equal(s, "Amount" + " ".repeat(32 - 6 - 8) + "EUR 1.00\n");
  });
  it("draws a raster QR with a quiet zone, MSB leftmost", () => {
    const b = new EscPos().qrRaster(1, () => true, 8).bytes();
    // 9 modules x 8 dots = 72 dots = 9 bytes wide, 72 rows; the single dark module is byte 4 of row 32
    assert.equal(hex(b.subarray(0, 8)), "1d763000" + "0900" + "4800");
    assert.equal(b[8 + 32 * 9 + 4], 0xff);
    assert.equal(b[8 + 31 * 9 + 4], 0x00);
  });
});

describe("printer pacing estimate", () => {
  it("charges 24 printed rows and 6 fed rows for a text line", () => {
    assert.equal(printTimeMs(new Uint8Array([0x41, 0x0a]), 0, 2, 19200), Math.ceil((2 * 10 * 1000) / 19200 + 24 * 30 + 6 * 2.1));
  });
  it("does not read raster data as commands when a chunk starts inside an image", () => {
    const img = new EscPos().qrRaster(1, () => true, 8).bytes(); // data is full of 0x0a-free 0xff/0x00
    const whole = printTimeMs(img, 0, img.length, 19200);
    const split = printTimeMs(img, 0, 300, 19200) + printTimeMs(img, 300, img.length, 19200);
    assert.ok(Math.abs(whole - split) <= 2, `${whole} vs ${split}`);
    assert.ok(whole >= 72 * 30);
  });
});
