/**
 * The request screen (firmware/ui/screens.ts drawRequest) on the 240x240 panel, drawn with the simulator's Espruino
 * Graphics and read back with jsQR as a phone camera would: an invoice's pay URL (byte mode, QR version 7 or 8)
 * fits between the amount and the lines under it, at 3 pixels a module or more, with its quiet zone clear.
 */
import assert from "node:assert/strict";
import jsQR from "jsqr";
import type { Display } from "../../hal/display.ts";
import { invoiceQrText } from "../../firmware/app/invoice.ts";
import { drawRequest } from "../../firmware/ui/screens.ts";
import { Screen } from "../../firmware/ui/screen.ts";
import { createGraphicsApi } from "../../sim/espruino/graphics.ts";

const { Graphics } = createGraphicsApi();
const SIZE = 240;

/** Draws the request screen for `qr`; returns the panel's pixels (palette index per pixel, 0 = background). */
function panel(qr: string): Uint8Array {
  const g = Graphics.createArrayBuffer(SIZE, SIZE, 2);
  // the whole panel as one band
  const d = { width: SIZE, height: SIZE, paint: (_y1: number, _y2: number, draw: (c: unknown, top: number) => void) => draw(g, 0), power() {} } as unknown as Display;
  const status = { online: true, pending: 0, unsettledMinor: 0, currency: "EUR", lastSyncMs: 0 };
  drawRequest(new Screen(d), status, 0, "EUR 49.99", qr, "Pay online, then show the code  C cancel", "INVOICE  order ORD-12345678");
  const px = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) px[y * SIZE + x] = g.getPixel(x, y);
  return px;
}

/** What a camera reads from the panel (any ink dark on the background), and where the QR is. */
function read(px: Uint8Array) {
  const rgba = new Uint8ClampedArray(SIZE * SIZE * 4).fill(255);
  for (let i = 0; i < px.length; i++) if (px[i]) rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = 0;
  return jsQR(rgba, SIZE, SIZE);
}

function invoice(): Uint8Array {
  const b = new Uint8Array(84);
  b[0] = 1;
  b[1] = 0x20;
  for (let i = 2; i < 84; i++) b[i] = (i * 37 + 11) & 255;
  return b;
}

describe("request screen: an invoice pay URL on the 240-pixel panel", () => {
  for (const [what, gateway, version] of [
    ["a typical gateway URL (version 7)", "http://gateway.sim:8080", 7],
    ["the longest gateway URL the terminal puts in the QR, 75 characters (version 8)", "https://g.example/" + "x".repeat(57), 8],
  ] as [string, string, number][]) {
    it(`reads back ${what}, at 3 pixels a module or more, quiet zone clear of the text lines`, () => {
      const url = invoiceQrText(gateway, invoice());
      assert.equal(url.indexOf(gateway + "/pay#"), 0, "the terminal shows the URL, not the I1 text");
      const px = panel(url);
      const r = read(px);
      assert.ok(r, "jsQR finds the QR on the panel");
      assert.equal(r.data, url);
      assert.equal(r.version, version);
      const modules = 17 + 4 * version;
      // the finder centres are 3.5 modules in from the symbol's edges
      const loc = r.location;
      const scale = (loc.topRightFinderPattern.x - loc.topLeftFinderPattern.x) / (modules - 7);
      assert.ok(scale >= 3 - 0.01, "module of " + scale.toFixed(2) + " pixels");
      const s = Math.round(scale);
      const x0 = Math.round(loc.topLeftFinderPattern.x - 3.5 * s);
      const y0 = Math.round(loc.topLeftFinderPattern.y - 3.5 * s);
      const x1 = x0 + modules * s;
      const y1 = y0 + modules * s;
      assert.ok(x0 - 2 * s >= 0 && x1 + 2 * s <= SIZE && y1 + 2 * s <= SIZE, `QR and its 2-module quiet zone on the panel: ${x0},${y0}..${x1},${y1}`);
      // the 2-module quiet zone drawn around the symbol holds no ink (no text line runs into it)
      for (let y = y0 - 2 * s; y < y1 + 2 * s; y++)
        for (let x = x0 - 2 * s; x < x1 + 2 * s; x++) {
          if (x >= x0 && x < x1 && y >= y0 && y < y1) continue;
          assert.equal(px[y * SIZE + x], 0, `ink in the quiet zone at ${x},${y}`);
        }
      // the amount above and the lines under it are drawn: ink above and below the quiet zone
      const inkIn = (ya: number, yb: number) => px.subarray(ya * SIZE, yb * SIZE).some((p) => p !== 0);
      assert.ok(inkIn(22, y0 - 2 * s), "the amount above the QR");
      assert.ok(inkIn(y1 + 2 * s, SIZE), "the lines under the QR");
    });
  }
});
