/**
 * The panel drawn band by band (hal/drivers/st7789.ts with the Espruino surface, hal/espruino/graphics.ts, on the
 * simulator's Graphics and ST7789): what reaches the glass is, pixel for pixel, what the same screen drawn on one
 * frame of the whole panel shows, for every screen kind, for a flip of a few rows (the bar, a line added after a
 * flip), and for what was painted before the panel was ready.
 */
import assert from "node:assert/strict";
import type { Clock } from "../../../hal/clock.ts";
import type { Canvas, Display, Painter, SurfaceOpen } from "../../../hal/display.ts";
import { ST7789 } from "../../../hal/drivers/st7789.ts";
import { Screen } from "../../../firmware/ui/screen.ts";
import { drawMessage, drawRequest } from "../../../firmware/ui/screens.ts";
import { drawIdle } from "../../../firmware/ui/idle.ts";
import { loadSettings } from "../../../firmware/settings.ts";
import { createGraphicsApi, mapInPlace } from "../../../sim/espruino/graphics.ts";
import { St7789Emulator } from "../../../sim/peripherals/st7789.ts";

const { Graphics } = createGraphicsApi();
/**
 * The device's binding, hal/espruino/graphics.ts, on the simulator's Graphics and E.mapInPlace (set as globals, as
 * the interpreter has them). Imported by a path tsc does not follow: the binding is typed against the device's
 * declarations (tsconfig.device.json), which the Node side does not load.
 */
let surface: SurfaceOpen;
const g = globalThis as unknown as Record<string, unknown>;
const before0 = { Graphics: g.Graphics, E: g.E };

const PALETTE = [0xffff, 0x0000, 0x0339, 0xc800];
const SIZE = 240;

interface Rig {
  display: ST7789;
  lcd: St7789Emulator;
  /** Run the driver's timers (its reset and init sequence). */
  run(): void;
  /** Row windows (first, last) of the RAM writes since the last call. */
  windows(): number[][];
}

function rig(): Rig {
  const lcd = new St7789Emulator();
  let dc = 0;
  let timers: (() => void)[] = [];
  let rows: number[] = [];
  const wins: number[][] = [];
  let last = -1;
  const clock = {
    setTimeout(fn: () => void) {
      timers.push(fn);
      return timers.length;
    },
  } as unknown as Clock;
  const display = new ST7789({
    spi: () => ({
      write(d: Uint8Array) {
        if (!dc && d[0] === 0x2b) last = 0x2b;
        else if (dc && last === 0x2b) {
          rows = [((d[0] << 8) | d[1]) - 80, ((d[2] << 8) | d[3]) - 80];
          wins.push(rows);
          last = -1;
        }
        lcd.write(d, dc === 1);
      },
    }),
    dc: () => ({ read: () => dc, write: (l: number) => void (dc = l), close() {} }),
    rst: () => ({ read: () => 1, write() {}, close() {} }),
    surface,
    clock,
    width: SIZE,
    height: SIZE,
    bpp: 2,
    madctl: 0xc0,
    rowOffset: 80,
    palette: PALETTE,
  });
  return {
    display,
    lcd,
    run() {
      while (timers.length) {
        const t = timers;
        timers = [];
        for (const f of t) f();
      }
    },
    windows: () => wins.splice(0),
  };
}

/** The same drawing on one frame of the whole panel, as the panel's colours. */
function whole(draw: (sc: Screen) => void): Uint16Array {
  const g = Graphics.createArrayBuffer(SIZE, SIZE, 2);
  const d = { width: SIZE, height: SIZE, paint: (_a: number, _b: number, p: Painter) => p(g.clear() as unknown as Canvas, 0), power() {} } as unknown as Display;
  draw(new Screen(d));
  const px = new Uint16Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) px[y * SIZE + x] = PALETTE[g.getPixel(x, y)];
  return px;
}

function same(panel: Uint16Array, want: Uint16Array, what: string): void {
  let diff = 0;
  let first = "";
  for (let i = 0; i < want.length; i++)
    if (panel[i] !== want[i]) {
      if (!diff) first = `(${i % SIZE}, ${Math.floor(i / SIZE)}): ${panel[i].toString(16)} on the panel, ${want[i].toString(16)} drawn whole`;
      diff++;
    }
  assert.equal(diff, 0, `${what}: ${diff} pixels differ, the first at ${first}`);
}

const status = { online: false, pending: 3, unsettledMinor: 12345, currency: "EUR", lastSyncMs: 0 };
const online = { ...status, online: true };
const cfg = () => ({ ...loadSettings({ read: () => undefined } as never), terminalId: "T-1", merchantName: "Corner shop" });

const screens: [string, (sc: Screen) => void][] = [
  ["idle", (sc) => drawIdle(sc, { digits: "999999999" }, status, cfg(), 60000, "0.1.0")],
  ["request with its QR", (sc) => drawRequest(sc, online, 0, "EUR 49.99", "https://pay.example/i/" + "Q".repeat(60), "Pay online, then show the code  C cancel", "INVOICE  order ORD-12345678")],
  // version 8, 3 pixels a module: module rows start on a band's last row (52 + 3 x 9 = 79)
  ["request with the longest QR", (sc) => drawRequest(sc, online, 0, "EUR 1.00", "P".repeat(192), "hint")],
  // text that starts on a band's last row (111, 127) and ends on a band's first (at 3x, 24 rows: 136..159, 160)
  ["lines across bands", (sc) => {
    sc.bar(status, 0);
    sc.body();
    sc.line("|'^\"`|", 111, 1, 1);
    sc.line("|'^\"`|", 127, 2, 2);
    sc.line("|_|", 137, 3, 3);
    sc.flip();
  }],
  ["message of many rows", (sc) => drawMessage(sc, status, 0, "Refused", 3, ["R11", "Payment signature is not valid for this request", "x ".repeat(100), "Any key: back"])],
];

describe("display: the panel drawn in bands", () => {
  before(async () => {
    g.Graphics = Graphics;
    g.E = { mapInPlace };
    surface = ((await import("../../../hal/espruino/" + "graphics.ts")) as { surface: SurfaceOpen }).surface;
  });
  // the rest of the run is Node's, with no Espruino globals
  after(() => {
    g.Graphics = before0.Graphics;
    g.E = before0.E;
    if (before0.Graphics === undefined) delete g.Graphics;
    if (before0.E === undefined) delete g.E;
  });

  for (const [name, draw] of screens)
    it(`shows the ${name} screen as it is drawn on a whole frame`, () => {
      const r = rig();
      r.run();
      draw(new Screen(r.display));
      same(r.lcd.frame(), whole(draw), name);
    });

  it("sends only the rows a flip changed: the status bar, then a line added after the flip", () => {
    const r = rig();
    r.run();
    // the background, once the panel is ready
    assert.deepEqual(r.windows(), [[0, 239]]);
    const sc = new Screen(r.display);
    drawIdle(sc, { digits: "" }, status, cfg(), 0, "0.1.0");
    assert.deepEqual(r.windows(), [[0, 239]]);
    sc.bar(online, 120000);
    sc.flip();
    sc.line("Journal off: full - technician", 196, 1, 3);
    sc.flip();
    assert.deepEqual(r.windows(), [[0, 21], [196, 203]]);
    same(r.lcd.frame(), whole((s) => {
      drawIdle(s, { digits: "" }, status, cfg(), 0, "0.1.0");
      s.bar(online, 120000);
      s.line("Journal off: full - technician", 196, 1, 3);
      s.flip();
    }), "after the partial flips");
  });

  it("holds no band and no row buffer between paints: each paint opens its own and lets it go (idle JsVars)", () => {
    const r = rig();
    r.run();
    const sc = new Screen(r.display);
    drawIdle(sc, { digits: "" }, status, cfg(), 0, "0.1.0");
    // every buffer the driver keeps for good: only the palette's few bytes (on the device a kept band and rows'
    // buffer were some 220 JsVars of a terminal at idle)
    const kept = (o: object, depth: number): number => {
      let n = 0;
      for (const v of Object.values(o)) {
        if (ArrayBuffer.isView(v)) n += v.byteLength;
        else if (v && typeof v === "object" && depth > 0) n += kept(v, depth - 1);
      }
      return n;
    };
    assert.ok(kept(r.display, 2) <= 16, `the driver keeps ${kept(r.display, 2)} bytes of buffers between paints`);
    sc.bar(online, 120000);
    sc.flip();
    same(r.lcd.frame(), whole((s) => {
      drawIdle(s, { digits: "" }, status, cfg(), 0, "0.1.0");
      s.bar(online, 120000);
      s.flip();
    }), "after a paint with buffers of its own");
  });

  it("paints what was drawn before the panel was ready once it is, whole", () => {
    const r = rig();
    const draw = screens[1][1];
    draw(new Screen(r.display));
    assert.deepEqual(r.windows(), []);
    r.run();
    assert.deepEqual(r.windows(), [[0, 239]]);
    same(r.lcd.frame(), whole(draw), "after init");
  });
});
