import assert from "node:assert/strict";
import { createGraphicsApi, mapInPlace } from "../../../sim/espruino/graphics.ts";
import { St7789Emulator } from "../../../sim/peripherals/st7789.ts";

/** RGB565 with its bytes swapped, so a little-endian Uint16Array sends the high byte first. */
const swap = (c: number): number => ((c & 0xff) << 8) | (c >> 8);

describe("display pipeline", () => {
  it("shows a 2 bpp Graphics buffer flipped to the panel row by row with mapInPlace", () => {
    const { Graphics } = createGraphicsApi();
    const g = Graphics.createArrayBuffer(240, 240, 2, { msb: true });
    g.setColor(3).setFont("6x8", 3)!.setFontAlign(0, 0).drawString("PAY 12.50", 120, 120);
    g.setColor(1).fillRect(0, 0, 239, 9);
    const colours = [0x0000, 0xf800, 0x07e0, 0xffff];
    const palette = new Uint16Array(colours.map(swap));

    const lcd = new St7789Emulator();
    const send = (bytes: number[] | Uint8Array, dc: boolean) => lcd.write(Uint8Array.from(bytes), dc);
    send([0x01], false);
    send([0x11], false);
    send([0x3a], false);
    send([0x55], true);
    send([0x36], false);
    send([0xc0], true);
    send([0x21], false);
    send([0x29], false);
    send([0x2a], false);
    send([0, 0, 0, 239], true);
    send([0x2b], false);
    send([0, 80, 319 >> 8, 319 & 0xff], true);
    send([0x2c], false);
    const row = new Uint16Array(240);
    for (let y = 0; y < 240; y++) {
      mapInPlace(new Uint8Array(g.buffer, y * 60, 60), row, palette, 2);
      send(new Uint8Array(row.buffer), true);
    }

    const frame = lcd.frame();
    let lit = 0;
    for (let y = 0; y < 240; y++) for (let x = 0; x < 240; x++) {
      assert.equal(frame[y * 240 + x], colours[g.getPixel(x, y)], `${x},${y}`);
      if (g.getPixel(x, y) === 3) lit++;
    }
    assert.ok(lit > 100, "the text was drawn");
  });
});
