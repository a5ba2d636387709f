import assert from "node:assert/strict";
import qrcode from "qrcode-generator";
import { EscPos } from "../../hal/escpos.ts";
import { PrintTime } from "../../hal/drivers/escpos-printer.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const BYTE_MS = 10000 / 19200;

describe("ESC/POS encoder", () => {
  it("encodes init, alignment, bold and double size as the datasheet's bytes", () => {
    assert.equal(hex(new EscPos().init().align(1).bold(true).size(2, 2).bytes()), "1b40" + "1b6101" + "1b4501" + "1d2111");
  });
  it("turns bold off with ESC E 0 and size back to normal with GS ! 0", () => {
    assert.equal(hex(new EscPos().bold(false).size(1, 1).bytes()), "1b4500" + "1d2100");
  });
  it("ends a line with LF and feeds n lines with ESC d n", () => {
    assert.equal(hex(new EscPos().line("ab").lf().feed(3).bytes()), "61620a" + "0a" + "1b6403");
  });
  it("prints bytes outside printable ASCII as question marks", () => {
    assert.equal(hex(new EscPos().text("a\u20acb\u00e9\t~").bytes()), "613f623f3f7e");
  });
  it("stores and prints a QR with GS ( k: model 2, module size, ECC M, data + 3 as pL pH, print", () => {
    const data = "X".repeat(20);
    assert.equal(
      hex(new EscPos().qr(data, 6).bytes()),
      "1d286b040031413200" + "1d286b0300314306" + "1d286b0300314531" + "1d286b1700315030" + "58".repeat(20) + "1d286b0300315130",
    );
  });
  it("puts a long QR payload's length in pL and pH", () => {
    const b = hex(new EscPos().qr("A".repeat(300), 3).bytes());
    assert.ok(b.includes("1d286b2f01315030"), "303 = 0x012F");
  });
  it("lays two texts out on one 32-column line", () => {
    const s = Buffer.from(new EscPos().pair("Amount", "EUR 1.00").bytes()).toString("latin1");
    assert.equal(s, "Amount" + " ".repeat(32 - 6 - 8) + "EUR 1.00\n");
  });
  it("cuts the left text when both do not fit 32 columns", () => {
    const s = Buffer.from(new EscPos().pair("A".repeat(40), "EUR 1.00").bytes()).toString("latin1");
    assert.equal(s, "A".repeat(23) + " EUR 1.00\n");
  });

  describe("raster QR (GS v 0)", () => {
    it("writes the header, a 4-module quiet zone and the modules MSB leftmost", () => {
      const b = new EscPos().qrRaster(1, () => true, 8).bytes();
      // 9 modules x 8 dots = 72 dots = 9 bytes wide, 72 rows; the single dark module is byte 4 of rows 32..39
      assert.equal(hex(b.subarray(0, 8)), "1d763000" + "0900" + "4800");
      assert.equal(b.length, 8 + 9 * 72);
      assert.equal(b[8 + 32 * 9 + 4], 0xff);
      assert.equal(b[8 + 39 * 9 + 4], 0xff);
      assert.equal(b[8 + 31 * 9 + 4], 0x00);
      assert.equal(b[8 + 40 * 9 + 4], 0x00);
      assert.equal(b[8 + 32 * 9 + 3], 0x00);
    });
    it("places module (x, y) at column x and row y", () => {
      // 2x2 matrix, only (1, 0) dark, scale 1: 10 dots -> 2 bytes wide; dark dot at x = 5, y = 4
      const b = new EscPos().qrRaster(2, (x, y) => x === 1 && y === 0, 1).bytes();
      assert.equal(hex(b.subarray(0, 8)), "1d763000" + "0200" + "0a00");
      const img = b.subarray(8);
      assert.equal(img[4 * 2], 0x04);
      assert.equal(img.reduce((n, v) => n + v, 0), 0x04);
    });
    it("shrinks the module size so the symbol fits 384 dots", () => {
      const b = new EscPos().qrRaster(41, () => false, 10).bytes();
      const w = b[4] + 256 * b[5];
      assert.equal(w * 8 <= 384, true);
      assert.equal(b[6] + 256 * b[7], 49 * 7); // floor(384 / 49) = 7 dots a module
    });
    it("asks the matrix once per module", () => {
      let calls = 0;
      new EscPos().qrRaster(25, () => (calls++, true), 6);
      assert.equal(calls, 25 * 25);
    });
  });
});

describe("printer pacing estimate (PrintTime)", () => {
  const est = (b: Uint8Array) => new PrintTime(b, 19200).until(b.length);
  it("charges 24 printed rows and 6 fed rows for a text line", () => {
    assert.equal(est(new Uint8Array([0x41, 0x0a])), Math.ceil(2 * BYTE_MS + 24 * 30 + 6 * 2.1));
  });
  it("charges only the line pitch for an empty line", () => {
    assert.equal(est(new Uint8Array([0x0a])), Math.ceil(BYTE_MS + 30 * 2.1));
  });
  it("charges 48 rows for a double-height line", () => {
    assert.equal(est(new EscPos().size(2, 2).line("A").bytes()), Math.ceil(5 * BYTE_MS + 48 * 30));
  });
  it("charges the rows of a line the printer wraps by itself", () => {
    const b = new EscPos().text("A".repeat(33)).bytes();
    assert.equal(est(b), Math.ceil(33 * BYTE_MS + 24 * 30 + 6 * 2.1));
  });
  it("charges ESC d n as n line pitches fed", () => {
    assert.equal(est(new EscPos().feed(3).bytes()), Math.ceil(3 * BYTE_MS + 90 * 2.1));
  });
  it("charges 30 ms per raster row from the GS v 0 header", () => {
    const img = new EscPos().qrRaster(1, () => true, 8).bytes(); // 72 rows
    assert.equal(est(img), Math.ceil(img.length * BYTE_MS + 72 * 30));
  });
  it("charges each raster row to the chunk holding its last byte", () => {
    const img = new EscPos().qrRaster(1, () => true, 8).bytes(); // 9 bytes a row from byte 8
    const t = new PrintTime(img, 19200);
    assert.equal(t.until(8 + 9 * 10 - 1), Math.ceil((8 + 89) * BYTE_MS + 9 * 30));
    assert.equal(t.until(8 + 9 * 10), Math.ceil(BYTE_MS + 30));
  });
  it("gives the same total wherever the job is cut into chunks", () => {
    const job = new EscPos().init().size(2, 2).line("PAID").size(1, 1).pair("A", "B").qr("X1", 4).qrRaster(3, () => true, 4).feed(2).bytes();
    const whole = est(job);
    for (const size of [1, 3, 7, 64, 256]) {
      const t = new PrintTime(job, 19200);
      let sum = 0;
      let chunks = 0;
      for (let at = size; ; at += size) {
        sum += t.until(Math.min(at, job.length));
        chunks++;
        if (at >= job.length) break;
      }
      assert.ok(sum >= whole && sum - whole <= chunks, `chunks of ${size}: ${sum} vs ${whole}`);
    }
  });
  it("estimates a GS ( k QR at least as tall as the symbol the printer draws (ECC M)", () => {
    for (let len = 1; len <= 600; len += 7) {
      const q = qrcode(0, "M");
      q.addData("A".repeat(len), "Byte");
      q.make();
      const job = new EscPos().qr("A".repeat(len), 4).bytes();
      const rows = (est(job) - job.length * BYTE_MS) / 30;
      assert.ok(rows >= q.getModuleCount() * 4, `${len} bytes: ${rows} rows < ${q.getModuleCount() * 4}`);
    }
  });
});
