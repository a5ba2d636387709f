import assert from "node:assert/strict";
import vm from "node:vm";
import { createGraphicsApi, mapInPlace } from "../../../sim/espruino/graphics.ts";
import type { Realm } from "../../../sim/espruino/graphics.ts";

const { Graphics } = createGraphicsApi();
type G = ReturnType<typeof Graphics.createArrayBuffer>;

/** Coordinates of every pixel whose value is not 0, as "x,y". */
function litPixels(g: G): string[] {
  const out: string[] = [];
  for (let y = 0; y < g.getHeight(); y++) for (let x = 0; x < g.getWidth(); x++) if (g.getPixel(x, y)) out.push(`${x},${y}`);
  return out;
}

function rect(x1: number, y1: number, x2: number, y2: number): string[] {
  const out: string[] = [];
  for (let y = y1; y <= y2; y++) for (let x = x1; x <= x2; x++) out.push(`${x},${y}`);
  return out;
}

function bytes(g: G): number[] {
  return Array.from(new Uint8Array(g.buffer));
}

describe("sim Graphics", () => {
  describe("createArrayBuffer", () => {
    it("allocates ceil(w*h*bpp/8) bytes in the given realm", () => {
      const realm = vm.runInNewContext("({ Uint8Array, Uint16Array, ArrayBuffer })") as Realm;
      const api = createGraphicsApi(realm);
      const g = api.Graphics.createArrayBuffer(10, 3, 2);
      assert.equal(g.buffer.byteLength, 8);
      assert.ok(g.buffer instanceof realm.ArrayBuffer);
      assert.ok(!(g.buffer instanceof ArrayBuffer));
    });

    it("rejects a depth Espruino does not support", () => {
      assert.throws(() => Graphics.createArrayBuffer(8, 8, 3), /Invalid BPP/);
    });

    it("gives each API instance its own prototype", () => {
      const a = createGraphicsApi().Graphics;
      const b = createGraphicsApi().Graphics;
      assert.notEqual(a.prototype, b.prototype);
    });
  });

  describe("pixel packing", () => {
    it("packs 1 bpp most significant bit first by default", () => {
      const g = Graphics.createArrayBuffer(8, 1, 1);
      g.setPixel(0, 0).setPixel(6, 0);
      assert.deepEqual(bytes(g), [0b10000010]);
    });

    it("packs 1 bpp least significant bit first with msb:false", () => {
      const g = Graphics.createArrayBuffer(8, 1, 1, { msb: false });
      g.setPixel(0, 0).setPixel(6, 0);
      assert.deepEqual(bytes(g), [0b01000001]);
    });

    it("packs 2 bpp with the first pixel in the top bits when msb:true", () => {
      const g = Graphics.createArrayBuffer(4, 2, 2, { msb: true });
      g.setPixel(0, 0, 3).setPixel(1, 0, 1).setPixel(3, 1, 2);
      assert.deepEqual(bytes(g), [0b11010000, 0b00000010]);
    });

    it("packs 2 bpp with the first pixel in the low bits when msb:false", () => {
      const g = Graphics.createArrayBuffer(4, 2, 2, { msb: false });
      g.setPixel(0, 0, 3).setPixel(1, 0, 1).setPixel(3, 1, 2);
      assert.deepEqual(bytes(g), [0b00000111, 0b10000000]);
    });

    it("stores 16 bpp high byte first with msb and low byte first without", () => {
      const hi = Graphics.createArrayBuffer(2, 1, 16).setPixel(1, 0, 0x1234);
      const lo = Graphics.createArrayBuffer(2, 1, 16, { msb: false }).setPixel(1, 0, 0x1234);
      assert.deepEqual(bytes(hi), [0, 0, 0x12, 0x34]);
      assert.deepEqual(bytes(lo), [0, 0, 0x34, 0x12]);
      assert.equal(hi.getPixel(1, 0), 0x1234);
      assert.equal(lo.getPixel(1, 0), 0x1234);
    });

    it("masks a colour to the depth when setting a pixel", () => {
      const g = Graphics.createArrayBuffer(4, 1, 2);
      g.setPixel(0, 0, 7);
      assert.equal(g.getPixel(0, 0), 3);
      assert.deepEqual(bytes(g), [0b11000000]);
    });

    it("reverses odd rows with zigzag", () => {
      const g = Graphics.createArrayBuffer(4, 2, 8, { zigzag: true });
      g.setPixel(0, 1, 9);
      assert.deepEqual(bytes(g), [0, 0, 0, 0, 0, 0, 0, 9]);
      assert.equal(g.getPixel(0, 1), 9);
    });
  });

  describe("colours", () => {
    it("maps r,g,b floats to RGB565 at 16 bpp", () => {
      const g = Graphics.createArrayBuffer(1, 1, 16);
      assert.equal(g.setColor(1, 0, 0).getColor(), 0xf800);
      assert.equal(g.setColor(0, 1, 0).getColor(), 0x07e0);
      assert.equal(g.setColor(0, 0, 1).getColor(), 0x001f);
      assert.equal(g.setColor(0.5, 0.5, 0.5).getColor(), 0x8410);
    });

    it("maps r,g,b floats to all-ones or zero below 16 bpp by brightness", () => {
      const g = Graphics.createArrayBuffer(1, 1, 2);
      assert.equal(g.setColor(1, 1, 1).getColor(), 3);
      assert.equal(g.setColor(1, 0, 0).getColor(), 0);
      assert.equal(g.setColor(0.5, 0.5, 0.5).getColor(), 3);
    });

    it("masks a single integer colour to the depth", () => {
      const g = Graphics.createArrayBuffer(1, 1, 2);
      assert.equal(g.setColor(-1).getColor(), 3);
      assert.equal(g.setBgColor(6).getBgColor(), 2);
    });

    it("accepts '#rgb' and '#rrggbb' strings", () => {
      const g = Graphics.createArrayBuffer(1, 1, 16);
      assert.equal(g.setColor("#f00").getColor(), 0xf800);
      assert.equal(g.setColor("#0000ff").getColor(), 0x001f);
      assert.throws(() => g.setColor("#12"), /must be of the form/);
    });

    it("starts with white foreground and black background", () => {
      const g = Graphics.createArrayBuffer(1, 1, 4);
      assert.equal(g.getColor(), 15);
      assert.equal(g.getBgColor(), 0);
    });
  });

  describe("rectangles and lines", () => {
    it("fillRect fills both corners inclusively", () => {
      const g = Graphics.createArrayBuffer(10, 10, 8);
      g.fillRect(2, 3, 4, 5);
      assert.deepEqual(litPixels(g), rect(2, 3, 4, 5));
    });

    it("fillRect accepts its corners in either order", () => {
      const g = Graphics.createArrayBuffer(10, 10, 8);
      g.fillRect(4, 5, 2, 3);
      assert.deepEqual(litPixels(g), rect(2, 3, 4, 5));
    });

    it("fillRect's {x,y,w,h} form ends at x+w and y+h inclusive, as Espruino does", () => {
      const g = Graphics.createArrayBuffer(10, 10, 8);
      g.fillRect({ x: 1, y: 1, w: 2, h: 1 });
      assert.deepEqual(litPixels(g), rect(1, 1, 3, 2));
    });

    it("clips fills at every edge", () => {
      const g = Graphics.createArrayBuffer(6, 4, 1);
      g.fillRect(-5, -5, 1, 1).fillRect(4, 2, 50, 50);
      assert.deepEqual(litPixels(g), [...rect(0, 0, 1, 1), ...rect(4, 2, 5, 3)]);
    });

    it("clearRect fills with the background colour", () => {
      const g = Graphics.createArrayBuffer(4, 4, 8);
      g.setColor(5).fillRect(0, 0, 3, 3).setBgColor(0).clearRect(1, 1, 2, 2);
      assert.deepEqual(litPixels(g).length, 12);
      assert.equal(g.getPixel(1, 1), 0);
    });

    it("drawRect outlines the rectangle through both corners", () => {
      const g = Graphics.createArrayBuffer(5, 5, 1);
      g.drawRect(0, 0, 4, 3);
      const inside = rect(1, 1, 3, 2);
      assert.deepEqual(litPixels(g).sort(), rect(0, 0, 4, 3).filter((p) => !inside.includes(p)).sort());
    });

    it("drawLine draws both end points and clips off-screen parts", () => {
      const g = Graphics.createArrayBuffer(5, 5, 1);
      g.drawLine(-3, 2, 9, 2).drawLine(0, 0, 4, 4);
      assert.deepEqual(litPixels(g).sort(), [...rect(0, 2, 4, 2), "0,0", "1,1", "3,3", "4,4"].sort());
    });

    it("clear fills with the background colour and clear(true) resets colours first", () => {
      const g = Graphics.createArrayBuffer(2, 1, 8);
      g.setBgColor(7).clear();
      assert.deepEqual(bytes(g), [7, 7]);
      g.setColor(1).clear(true);
      assert.deepEqual(bytes(g), [0, 0]);
      assert.equal(g.getColor(), 255);
    });

    it("returns the instance from drawing calls for chaining", () => {
      const g = Graphics.createArrayBuffer(4, 4, 1);
      for (const r of [g.clear(), g.setColor(1), g.setBgColor(0), g.setPixel(0, 0), g.fillRect(0, 0, 1, 1),
        g.clearRect(0, 0, 1, 1), g.drawRect(0, 0, 1, 1), g.drawLine(0, 0, 1, 1), g.setFont("6x8"),
        g.setFontAlign(0, 0), g.drawString("", 0, 0)]) {
        assert.equal(r, g);
      }
    });
  });

  describe("text", () => {
    it("measures 6*scale pixels per character", () => {
      const g = Graphics.createArrayBuffer(8, 8, 1);
      g.setFont("6x8", 2);
      assert.equal(g.stringWidth("HELLO"), 60);
      g.setFont("6x8:3");
      assert.equal(g.stringWidth("AB"), 36);
      assert.equal(g.getFontHeight(), 24);
    });

    it("measures the widest line of a multi-line string", () => {
      const g = Graphics.createArrayBuffer(8, 8, 1).setFont("6x8")!;
      assert.equal(g.stringWidth("AB\nCDEF\nG"), 24);
    });

    it("reports the font with its scale like Espruino", () => {
      const g = Graphics.createArrayBuffer(8, 8, 1);
      assert.equal(g.getFont(), "4x6");
      assert.equal(g.setFont("6x8")!.getFont(), "6x8");
      assert.equal(g.setFont("6x8", 2)!.getFont(), "6x8:2");
      assert.equal(g.setFont("6x8:2x3")!.getFont(), "6x8:2x3");
    });

    it("rejects an unknown font", () => {
      const g = Graphics.createArrayBuffer(8, 8, 1);
      assert.throws(() => g.setFont("Comic"), /Unknown font/);
    });

    it("draws a string inside a box 6*scale*len wide and 8*scale high", () => {
      const g = Graphics.createArrayBuffer(100, 40, 1).setFont("6x8", 2)!;
      g.drawString("MW", 10, 5);
      const m = g.getModified()!;
      assert.ok(m.x1 >= 10 && m.x2 <= 10 + 24 - 1, JSON.stringify(m));
      assert.ok(m.y1 >= 5 && m.y2 <= 5 + 16 - 1, JSON.stringify(m));
      assert.ok(m.x2 >= 10 + 12, "second character drawn");
    });

    it("scales each glyph pixel to a scale x scale block", () => {
      const one = Graphics.createArrayBuffer(12, 16, 1).setFont("6x8")!;
      const two = Graphics.createArrayBuffer(12, 16, 1).setFont("6x8", 2)!;
      one.drawString("A", 0, 0);
      two.drawString("A", 0, 0);
      for (let y = 0; y < 16; y++) for (let x = 0; x < 12; x++) {
        assert.equal(two.getPixel(x, y), one.getPixel(x >> 1, y >> 1), `${x},${y}`);
      }
    });

    it("centres on the point with setFontAlign(0,0)", () => {
      const centred = Graphics.createArrayBuffer(60, 30, 1).setFont("6x8")!.setFontAlign(0, 0);
      const plain = Graphics.createArrayBuffer(60, 30, 1).setFont("6x8")!;
      centred.drawString("AB", 30, 15);
      plain.drawString("AB", 30 - 6, 15 - 4);
      assert.deepEqual(litPixels(centred), litPixels(plain));
      assert.ok(litPixels(plain).length > 0);
    });

    it("puts the bottom-right corner on the point with setFontAlign(1,1)", () => {
      const aligned = Graphics.createArrayBuffer(60, 30, 1).setFont("6x8", 2)!.setFontAlign(1, 1);
      const plain = Graphics.createArrayBuffer(60, 30, 1).setFont("6x8", 2)!;
      aligned.drawString("AB", 40, 20);
      plain.drawString("AB", 40 - 24, 20 - 16);
      assert.deepEqual(litPixels(aligned), litPixels(plain));
    });

    it("paints the cell background with solid text", () => {
      const g = Graphics.createArrayBuffer(12, 8, 8).setFont("6x8")!;
      g.setColor(1).setBgColor(2).drawString("I", 0, 0, true);
      const cell = rect(0, 0, 5, 7).map((p) => p.split(",").map(Number));
      assert.ok(cell.every(([x, y]) => g.getPixel(x, y) !== 0));
      assert.equal(g.getPixel(6, 0), 0);
    });

    it("refuses to draw with the 4x6 font, which is not emulated", () => {
      const g = Graphics.createArrayBuffer(8, 8, 1);
      assert.throws(() => g.drawString("A", 0, 0), /4x6/);
    });

    it("clips text running off the right edge", () => {
      const g = Graphics.createArrayBuffer(10, 8, 1).setFont("6x8")!;
      g.drawString("MMMM", 4, 0);
      assert.ok(litPixels(g).length > 0);
      assert.deepEqual(g.getModified()!.x2 <= 9, true);
    });
  });

  describe("getModified", () => {
    it("is undefined before anything is drawn", () => {
      assert.equal(Graphics.createArrayBuffer(8, 8, 1).getModified(), undefined);
    });

    it("grows to cover every drawing, clipped to the buffer", () => {
      const g = Graphics.createArrayBuffer(20, 20, 1);
      g.setPixel(3, 4);
      assert.deepEqual(g.getModified(), { x1: 3, y1: 4, x2: 3, y2: 4 });
      g.fillRect(10, 1, 30, 2);
      assert.deepEqual(g.getModified(), { x1: 3, y1: 1, x2: 19, y2: 4 });
    });

    it("resets when asked, after reporting", () => {
      const g = Graphics.createArrayBuffer(20, 20, 1);
      g.fillRect(1, 1, 2, 2);
      assert.deepEqual(g.getModified(true), { x1: 1, y1: 1, x2: 2, y2: 2 });
      assert.equal(g.getModified(), undefined);
      g.setPixel(5, 5);
      assert.deepEqual(g.getModified(), { x1: 5, y1: 5, x2: 5, y2: 5 });
    });

    it("ignores pixels set outside the buffer", () => {
      const g = Graphics.createArrayBuffer(4, 4, 1);
      g.setPixel(-1, 0).setPixel(4, 4);
      assert.equal(g.getModified(), undefined);
    });
  });

  describe("drawImage", () => {
    // 2x2, 1 bpp, pixels (0,0) and (1,1) set, packed without row padding: 1 0 0 1 → 0b1001_0000
    const checker = { width: 2, height: 2, buffer: new Uint8Array([0b10010000]).buffer };

    it("draws a 1 bpp image in the foreground and background colours", () => {
      const g = Graphics.createArrayBuffer(4, 4, 8);
      g.setColor(9).setBgColor(4).drawImage(checker, 1, 1);
      assert.deepEqual([g.getPixel(1, 1), g.getPixel(2, 1), g.getPixel(1, 2), g.getPixel(2, 2)], [9, 4, 4, 9]);
      assert.equal(g.getPixel(0, 0), 0);
    });

    it("scales each image pixel to a scale x scale block", () => {
      const g = Graphics.createArrayBuffer(6, 6, 1);
      g.setBgColor(0).drawImage(checker, 1, 1, { scale: 2 });
      assert.deepEqual(litPixels(g).sort(), [...rect(1, 1, 2, 2), ...rect(3, 3, 4, 4)].sort());
      assert.deepEqual(g.getModified(), { x1: 1, y1: 1, x2: 4, y2: 4 });
    });

    it("looks colours up in a palette and skips the transparent index", () => {
      const img = {
        width: 4, height: 1, bpp: 2, transparent: 0,
        buffer: new Uint8Array([0b00011011]).buffer,
        palette: new Uint16Array([0x1111, 0xf800, 0x07e0, 0x001f]),
      };
      const g = Graphics.createArrayBuffer(4, 1, 16).setBgColor(0x5555).clear();
      g.drawImage(img, 0, 0);
      assert.deepEqual([0, 1, 2, 3].map((x) => g.getPixel(x, 0)), [0x5555, 0xf800, 0x07e0, 0x001f]);
    });

    it("clips an image hanging off the top-left corner", () => {
      const g = Graphics.createArrayBuffer(3, 3, 1);
      g.drawImage(checker, -1, -1);
      assert.deepEqual(litPixels(g), ["0,0"]);
    });

    it("reads an image string with a width, height, bpp header", () => {
      const g = Graphics.createArrayBuffer(3, 3, 1);
      g.drawImage(String.fromCharCode(2, 2, 1, 0b10010000), 0, 0);
      assert.deepEqual(litPixels(g), ["0,0", "1,1"]);
    });
  });

  describe("mapInPlace", () => {
    it("unpacks 2-bit pixels MSB first through a Uint16Array palette", () => {
      const from = new Uint8Array([0b00011011, 0b11100100]);
      const to = new Uint16Array(8);
      mapInPlace(from, to, new Uint16Array([0x0000, 0xf800, 0x07e0, 0xffff]), 2);
      assert.deepEqual(Array.from(to), [0, 0xf800, 0x07e0, 0xffff, 0xffff, 0x07e0, 0xf800, 0]);
    });

    it("stops at the end of the shorter array", () => {
      const to = new Uint16Array([7, 7, 7, 7, 7, 7]);
      mapInPlace(new Uint8Array([0b01010101]), to, [10, 11, 12, 13], 2);
      assert.deepEqual(Array.from(to), [11, 11, 11, 11, 7, 7]);
    });

    it("matches Espruino's documented examples", () => {
      const a = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
      let b = new Uint8Array(8);
      mapInPlace(a, b, undefined);
      assert.deepEqual(Array.from(b), [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]);
      mapInPlace(a, b, undefined, 4);
      assert.deepEqual(Array.from(b), [1, 2, 3, 4, 5, 6, 7, 8]);
      mapInPlace(a, b, undefined, -4);
      assert.deepEqual(Array.from(b), [2, 1, 4, 3, 6, 5, 8, 7]);
      mapInPlace(a, b, (v: number) => v + 2, 4);
      assert.deepEqual(Array.from(b), [3, 4, 5, 6, 7, 8, 9, 10]);
      const c = new Uint16Array(4);
      mapInPlace(a, c, undefined, 12);
      assert.deepEqual(Array.from(c), [0x123, 0x456, 0x780, 0]);
      const d = new Uint16Array(4);
      mapInPlace(a, d, undefined, -12);
      assert.deepEqual(Array.from(d), [0x412, 0x563, 0x078, 0]);
      b = new Uint8Array([1, 2, 3, 1, 2, 3]);
      mapInPlace(b, b, new Uint8Array([128, 129, 130, 131]));
      assert.deepEqual(Array.from(b), [129, 130, 131, 129, 130, 131]);
    });

    it("passes the reader's source index to a map function", () => {
      const seen: number[] = [];
      mapInPlace(new Uint8Array([0xff, 0x00]), new Uint8Array(4), (v: number, i: number) => (seen.push(i), v), 4);
      assert.deepEqual(seen, [0, 1, 1, 2]);
    });

    it("accepts typed arrays from another realm", () => {
      const realm = vm.runInNewContext("({ Uint8Array, Uint16Array, ArrayBuffer })") as Realm;
      const to = new realm.Uint16Array(4);
      mapInPlace(new realm.Uint8Array([0b11000000]), to, [0, 1, 2, 0xabcd], 2);
      assert.deepEqual(Array.from(to), [0xabcd, 0, 0, 0]);
    });

    it("rejects a source that is not an array buffer", () => {
      assert.throws(() => mapInPlace([1, 2], new Uint8Array(2), undefined), /array buffers/);
    });
  });
});
