import assert from "node:assert/strict";
import jsQR from "jsqr";
import { EscPosPrinterEmulator, type EscPosPrinterOptions } from "../../../sim/peripherals/escpos-printer.ts";

const ESC = 0x1b;
const GS = 0x1d;
const bytes = (...parts: (string | number | number[])[]) =>
  Uint8Array.from(
    parts.flatMap((p) => (typeof p === "string" ? Array.from(p, (c) => c.charCodeAt(0)) : typeof p === "number" ? [p] : p)),
  );

function rig(opts: Partial<EscPosPrinterOptions> = {}) {
  let t = 0;
  const replies: number[] = [];
  const p = new EscPosPrinterEmulator({
    now: () => t,
    onTransmit: (b) => replies.push(...b),
    baud: 0,
    bootMs: 0,
    ...opts,
  });
  return {
    p,
    replies,
    advance(ms: number) {
      t += ms;
      p.tick();
    },
    send(...parts: (string | number | number[])[]) {
      p.receive(bytes(...parts));
    },
  };
}

/** Sends and waits long enough for everything to print. */
function printAll(r: ReturnType<typeof rig>, ...parts: (string | number | number[])[]) {
  r.send(...parts);
  r.advance(60_000);
}

function qrStore(data: string): number[] {
  const k = data.length + 3;
  return [GS, 0x28, 0x6b, k & 0xff, k >> 8, 0x31, 0x50, 0x30, ...Array.from(data, (c) => c.charCodeAt(0))];
}
const QR_PRINT = [GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30];

describe("ESC/POS printer emulator", () => {
  describe("text", () => {
    it("prints a line on LF", () => {
      const r = rig();
      printAll(r, "Hello\n");
      assert.equal(r.p.text(), "Hello");
      assert.deepEqual(
        r.p.paper.map((i) => i.kind),
        ["text"],
      );
    });

    it("does not print a line without LF", () => {
      const r = rig();
      printAll(r, "Hello");
      assert.equal(r.p.paper.length, 0);
    });

    it("centres with ESC a 1 by padding to 32 columns", () => {
      const r = rig();
      printAll(r, [ESC, 0x61, 1], "Hi\n");
      assert.equal(r.p.text(), " ".repeat(15) + "Hi");
    });

    it("right-aligns with ESC a 50 (ASCII '2')", () => {
      const r = rig();
      printAll(r, [ESC, 0x61, 50], "Hi\n");
      assert.equal(r.p.text(), " ".repeat(30) + "Hi");
    });

    it("ignores ESC a in the middle of a line", () => {
      const r = rig();
      printAll(r, "A", [ESC, 0x61, 2], "B\n");
      assert.equal(r.p.text(), "AB");
    });

    it("ignores ESC a with an out-of-range n", () => {
      const r = rig();
      printAll(r, [ESC, 0x61, 3], "A\n");
      assert.equal(r.p.text(), "A");
    });

    it("pads font B lines to 42 columns", () => {
      const r = rig();
      printAll(r, [ESC, 0x21, 0x01], [ESC, 0x61, 2], "X\n");
      assert.equal(r.p.text(), " ".repeat(41) + "X");
    });

    it("wraps font A text at 32 characters", () => {
      const r = rig();
      printAll(r, "0123456789".repeat(4), "\n");
      assert.equal(r.p.text(), "0123456789".repeat(3) + "01\n" + "23456789");
    });

    it("wraps double-width text at 16 characters", () => {
      const r = rig();
      printAll(r, [GS, 0x21, 0x10], "A".repeat(17), "\n");
      assert.equal(r.p.text().split("\n")[0], "A".repeat(16));
    });

    it("records bold from ESC E n", () => {
      const r = rig();
      printAll(r, [ESC, 0x45, 1], "B\n", [ESC, 0x45, 0], "N\n");
      const [b, n] = r.p.paper;
      assert.ok(b.kind === "text" && b.bold);
      assert.ok(n.kind === "text" && !n.bold);
    });

    it("decodes ESC ! n bits: bold, double height, double width, font B", () => {
      const r = rig();
      printAll(r, [ESC, 0x21, 0x39], "Z\n");
      const [z] = r.p.paper;
      assert.ok(z.kind === "text");
      assert.deepEqual([z.bold, z.height, z.width, z.font], [true, 2, 2, "B"]);
    });

    it("sets the character size from GS ! n and ignores n beyond 8x", () => {
      const r = rig();
      printAll(r, [GS, 0x21, 0x12], "A\n", [GS, 0x21, 0x88], "B\n");
      const [a, b] = r.p.paper;
      assert.ok(a.kind === "text" && a.width === 2 && a.height === 3);
      assert.ok(b.kind === "text" && b.width === 2 && b.height === 3);
    });

    it("keeps per-run attributes when bold changes inside a line", () => {
      const r = rig();
      printAll(r, "Total ", [ESC, 0x45, 1], "9.99\n");
      const [l] = r.p.paper;
      assert.ok(l.kind === "text");
      assert.deepEqual(
        l.runs.map((x) => [x.text, x.bold]),
        [
          ["Total ", false],
          ["9.99", true],
        ],
      );
    });

    it("ESC @ resets alignment and emphasis", () => {
      const r = rig();
      printAll(r, [ESC, 0x61, 1], [ESC, 0x45, 1], [ESC, 0x40], "A\n");
      const [a] = r.p.paper;
      assert.ok(a.kind === "text" && a.align === "left" && !a.bold);
    });

    it("decodes CP437 by default and WPC1252 after ESC t 16", () => {
      const r = rig();
      printAll(r, [0x82, 0x0a], [ESC, 0x74, 16], [0x80, 0x0a]);
      assert.equal(r.p.text(), "é\n€");
    });

    it("records ESC t, ESC R and ESC 7 parameters", () => {
      const r = rig();
      printAll(r, [ESC, 0x74, 2], [ESC, 0x52, 3], [ESC, 0x37, 11, 120, 40]);
      assert.equal(r.p.codePage, 2);
      assert.equal(r.p.charset, 3);
      assert.deepEqual(r.p.heat, { maxDots: 11, time: 120, interval: 40 });
    });
  });

  describe("feeds", () => {
    it("ESC d n prints the line and feeds the remaining n-1 lines", () => {
      const r = rig();
      printAll(r, "A", [ESC, 0x64, 3]);
      assert.deepEqual(
        r.p.paper.map((i) => (i.kind === "feed" ? `feed ${i.dots}` : i.kind)),
        ["text", "feed 60"],
      );
    });

    it("ESC J n feeds n dots", () => {
      const r = rig();
      printAll(r, [ESC, 0x4a, 10]);
      assert.deepEqual(r.p.paper, [{ kind: "feed", dots: 10 }]);
    });

    it("an empty LF is a blank line", () => {
      const r = rig();
      printAll(r, "A\n\nB\n");
      assert.equal(r.p.text(), "A\n\nB");
    });
  });

  describe("images", () => {
    it("stores a GS v 0 raster (48 bytes per row at 384 dots)", () => {
      const r = rig();
      const data = Array.from({ length: 96 }, (_, i) => i);
      printAll(r, [GS, 0x76, 0x30, 0x00, 0x30, 0x00, 0x02, 0x00], data);
      const [img] = r.p.paper;
      assert.ok(img.kind === "raster");
      assert.deepEqual([img.width, img.height, img.scaleX, img.scaleY], [384, 2, 1, 1]);
      assert.deepEqual(Array.from(img.bits), data);
    });

    it("prints text after a raster in the same stream", () => {
      const r = rig();
      printAll(r, [GS, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0xff], "after\n");
      assert.equal(r.p.text(), "[image 8x1]\nafter");
    });

    it("ignores GS v 0 while text is pending in the line buffer, data included", () => {
      const r = rig();
      printAll(r, "x", [GS, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x41], "\n");
      assert.equal(r.p.text(), "x");
      assert.equal(r.p.unknown.length, 1);
    });

    it("stores a DC2 * legacy bitmap", () => {
      const r = rig();
      printAll(r, [0x12, 0x2a, 3, 2], [1, 2, 3, 4, 5, 6]);
      const [img] = r.p.paper;
      assert.ok(img.kind === "raster" && img.source === "DC2 *");
      assert.deepEqual([img.width, img.height, Array.from(img.bits)], [16, 3, [1, 2, 3, 4, 5, 6]]);
    });
  });

  describe("QR (GS ( k)", () => {
    it("prints the stored data with the module size and ECC set", () => {
      const r = rig();
      printAll(
        r,
        [GS, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00],
        [GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 0x04],
        [GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, 0x31],
        qrStore("HELLO"),
        QR_PRINT,
      );
      const [q] = r.p.paper;
      assert.ok(q.kind === "qr");
      assert.deepEqual([q.data, q.module, q.ecc, q.model, q.size], ["HELLO", 4, "M", 2, 21 * 4]);
    });

    it("uses pL pH = k + 3 for the store function (20 data bytes -> 17 00)", () => {
      assert.deepEqual(qrStore("x".repeat(20)).slice(3, 5), [0x17, 0x00]);
      const r = rig();
      printAll(r, qrStore("x".repeat(20)), QR_PRINT);
      const [q] = r.p.paper;
      assert.ok(q.kind === "qr" && q.data === "x".repeat(20));
    });

    it("prints nothing when no data was stored", () => {
      const r = rig();
      printAll(r, QR_PRINT);
      assert.equal(r.p.paper.length, 0);
    });

    it("ignores an out-of-range module size", () => {
      const r = rig();
      printAll(r, [GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 17], qrStore("A"), QR_PRINT);
      const [q] = r.p.paper;
      assert.ok(q.kind === "qr" && q.module === 3);
    });

    it("does not print a symbol wider than 384 dots", () => {
      const r = rig();
      printAll(r, [GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 16], qrStore("A".repeat(100)), QR_PRINT);
      assert.equal(r.p.paper.length, 0);
      assert.match(r.p.unknown[0].note, /wider/);
    });
  });

  describe("real-time status DLE EOT", () => {
    it("answers 12 for every n when all is clear", () => {
      const r = rig();
      printAll(r, [0x10, 0x04, 1], [0x10, 0x04, 2], [0x10, 0x04, 3], [0x10, 0x04, 4]);
      assert.deepEqual(r.replies, [0x12, 0x12, 0x12, 0x12]);
    });

    it("answers 1A / 32 / 7E for n = 1 / 2 / 4 when the paper is out", () => {
      const r = rig();
      r.p.paperOut = true;
      printAll(r, [0x10, 0x04, 1], [0x10, 0x04, 2], [0x10, 0x04, 4]);
      assert.deepEqual(r.replies, [0x1a, 0x32, 0x7e]);
    });

    it("reports cover open in n = 2 bit 2 and offline in n = 1", () => {
      const r = rig();
      r.p.coverOpen = true;
      printAll(r, [0x10, 0x04, 1], [0x10, 0x04, 2]);
      assert.deepEqual(r.replies, [0x1a, 0x16]);
    });

    it("answers at once even while earlier lines are still printing", () => {
      const r = rig();
      r.send("line 1\nline 2\n", [0x10, 0x04, 1]);
      assert.deepEqual(r.replies, [0x12]);
      assert.equal(r.p.paper.length, 1, "second line still waiting");
    });

    it("does not print the DLE EOT bytes", () => {
      const r = rig();
      printAll(r, "A", [0x10, 0x04, 4], "B\n");
      assert.equal(r.p.text(), "AB");
    });

    it("answers nothing for an invalid n", () => {
      const r = rig();
      printAll(r, [0x10, 0x04, 5]);
      assert.deepEqual(r.replies, []);
    });
  });

  describe("offline and other commands", () => {
    it("loses data while the paper is out and prints again when it is back", () => {
      const r = rig();
      r.p.paperOut = true;
      printAll(r, "gone\n");
      r.p.paperOut = false;
      printAll(r, "kept\n");
      assert.equal(r.p.text(), "kept");
      assert.ok(r.p.lost.length === 1 && r.p.lost[0].kind === "text" && r.p.lost[0].text === "gone");
    });

    it("answers ESC v with the paper-end bits (ADA hasPaper)", () => {
      const r = rig();
      printAll(r, [ESC, 0x76, 0]);
      r.p.paperOut = true;
      printAll(r, [ESC, 0x76, 0]);
      assert.deepEqual(r.replies, [0x00, 0x0f]);
    });

    it("records an unknown ESC command and prints its parameter as text", () => {
      const r = rig();
      printAll(r, [ESC, 0x7a], "A\n");
      assert.equal(r.p.text(), "A");
      assert.deepEqual(r.p.unknown, [{ offset: 0, bytes: [ESC, 0x7a], note: "unknown ESC command" }]);
    });

    it("records GS a n and raises BUSY while printing when bit 5 is set", () => {
      const r = rig();
      printAll(r, [GS, 0x61, 0x20]);
      assert.equal(r.p.asb, 0x20);
      assert.equal(r.p.busy, false);
      r.send("A\n");
      assert.equal(r.p.busy, true);
      r.advance(800);
      assert.equal(r.p.busy, false);
    });

    it("never raises BUSY without GS a bit 5", () => {
      const r = rig();
      r.send("A\n");
      assert.equal(r.p.busy, false);
    });
  });

  describe("timing and the receive buffer", () => {
    it("spends 24 x 30 ms printing and 6 x 2.1 ms feeding on a text line", () => {
      const r = rig();
      r.send("A\n");
      r.advance(732.5);
      assert.equal(r.p.printing, true);
      r.advance(0.2);
      assert.equal(r.p.printing, false);
    });

    it("counts overflow bytes when the host sends faster than the printer prints", () => {
      const r = rig({ baud: 19200 });
      r.send(("x".repeat(31) + "\n").repeat(20)); // 640 bytes at once
      r.advance(60_000);
      assert.ok(r.p.overflowBytes > 0, `overflow ${r.p.overflowBytes}`);
      assert.ok(r.p.paper.length < 20);
    });

    it("loses nothing when the host paces lines by the print time", () => {
      const r = rig({ baud: 19200 });
      for (let i = 0; i < 20; i++) {
        r.send("x".repeat(31) + "\n");
        r.advance(750);
      }
      assert.equal(r.p.overflowBytes, 0);
      assert.equal(r.p.paper.length, 20);
    });

    it("honours a smaller configured buffer", () => {
      const r = rig({ bufferSize: 8 });
      r.send("A\n", "0123456789");
      assert.equal(r.p.overflowBytes, 2);
    });

    it("delivers bytes at the line rate (10 bit times per byte)", () => {
      const r = rig({ baud: 9600 });
      r.send([0x10, 0x04, 1]);
      assert.deepEqual(r.replies, []);
      r.advance(3.2); // 3 bytes x 1.04 ms
      assert.deepEqual(r.replies, [0x12]);
    });

    it("ignores input during the 500 ms boot", () => {
      const r = rig({ bootMs: 500 });
      printAll(r, "early\n");
      printAll(r, "late\n");
      assert.equal(r.p.text(), "late");
      assert.equal(r.p.droppedBytes, 6);
    });

    it("after ESC 8 sleeps when idle; the waking byte and the next 50 ms are lost", () => {
      const r = rig();
      printAll(r, [ESC, 0x38, 1, 0]);
      r.advance(2000);
      r.send("X\n");
      r.advance(50);
      printAll(r, "Y\n");
      assert.equal(r.p.text(), "Y");
      assert.equal(r.p.droppedBytes, 2);
    });
  });

  describe("renderBitmap", () => {
    it("is 384 dots wide and as tall as the items", () => {
      const r = rig();
      printAll(r, "A\n", [ESC, 0x4a, 10]);
      const img = r.p.renderBitmap();
      assert.equal(img.width, 384);
      assert.equal(img.height, 30 + 10);
      assert.equal(img.bits.length, 48 * 40);
    });

    it("draws text in the first column for a left-aligned line", () => {
      const r = rig();
      printAll(r, "I\n");
      const img = r.p.renderBitmap();
      let lit = 0;
      for (let y = 0; y < 30; y++) for (let x = 0; x < 12; x++) lit += (img.bits[y * 48 + (x >> 3)] >> (7 - (x & 7))) & 1;
      let elsewhere = 0;
      for (let y = 0; y < 30; y++) for (let b = 2; b < 48; b++) elsewhere += img.bits[y * 48 + b];
      assert.ok(lit > 0);
      assert.equal(elsewhere, 0);
    });

    it("draws a QR code that decodes to the stored data", () => {
      const r = rig();
      printAll(r, [ESC, 0x61, 1], [ESC, 0x4a, 40], [GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 0x05], qrStore("pay:42"), QR_PRINT, [ESC, 0x4a, 40]);
      const img = r.p.renderBitmap();
      const rgba = new Uint8ClampedArray(img.width * img.height * 4);
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++) {
          const v = (img.bits[y * 48 + (x >> 3)] >> (7 - (x & 7))) & 1 ? 0 : 255;
          rgba.set([v, v, v, 255], (y * img.width + x) * 4);
        }
      assert.equal(jsQR(rgba, img.width, img.height)?.data, "pay:42");
    });
  });
});
