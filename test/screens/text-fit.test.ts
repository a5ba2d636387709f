/**
 * Text on the 240-pixel panel (firmware/ui/screen.ts, screens.ts, idle.ts), drawn with the simulator's Espruino
 * Graphics: every string drawn lies inside the panel, a 9-digit amount fits (a smaller scale where needed), and a
 * reason wraps onto as many rows as it needs, every word on screen.
 */
import assert from "node:assert/strict";
import type { Display } from "../../hal/display.ts";
import { drawMessage, drawRequest } from "../../firmware/ui/screens.ts";
import { drawIdle } from "../../firmware/ui/idle.ts";
import { Screen } from "../../firmware/ui/screen.ts";
import { loadSettings } from "../../firmware/settings.ts";
import { createGraphicsApi } from "../../sim/espruino/graphics.ts";

const { Graphics } = createGraphicsApi();
const SIZE = 240;

interface Drawn {
  text: string;
  x1: number;
  x2: number;
  y1: number;
  y2: number;
}

/** A panel whose Graphics records each string with its box, as the simulator's host does. */
function panel(): { screen: Screen; drawn: Drawn[] } {
  const g = Graphics.createArrayBuffer(SIZE, SIZE, 2) as unknown as Record<string, (...a: unknown[]) => unknown> & { fontAlignX: number; fontAlignY: number };
  const drawn: Drawn[] = [];
  const draw = g.drawString.bind(g);
  g.drawString = (...a: unknown[]) => {
    const text = String(a[0]);
    const w = g.stringWidth(text) as number;
    const h = g.getFontHeight() as number;
    const x1 = Math.round(Number(a[1]) - (w * (g.fontAlignX + 1)) / 2);
    const y1 = Math.round(Number(a[2]) - (h * (g.fontAlignY + 1)) / 2);
    drawn.push({ text, x1, x2: x1 + w - 1, y1, y2: y1 + h - 1 });
    return draw(...a);
  };
  // the whole panel as one band
  const d = { width: SIZE, height: SIZE, paint: (_y1: number, _y2: number, draw: (c: unknown, top: number) => void) => draw(g, 0), power() {} } as unknown as Display;
  return { screen: new Screen(d), drawn };
}

const status = { online: false, pending: 300, unsettledMinor: 99999999999, currency: "EUR", lastSyncMs: 0 };

function allInside(drawn: Drawn[]): void {
  for (const t of drawn) assert.ok(t.x1 >= 0 && t.x2 < SIZE && t.y1 >= 0 && t.y2 < SIZE, `"${t.text}" runs off the panel: x ${t.x1}..${t.x2}, y ${t.y1}..${t.y2}`);
}

/** The words on screen, in drawing order, joined by single spaces. */
const words = (drawn: Drawn[]) => drawn.map((t) => t.text).join(" ");

describe("screens: text never runs off the 240-pixel panel", () => {
  it("wraps a reason onto two rows: 'Payment signature is not valid for this request' keeps 'request'", () => {
    const p = panel();
    drawMessage(p.screen, status, 0, "Refused", 2, ["R11", "Payment signature is not valid for this request", "Any key: back"]);
    allInside(p.drawn);
    assert.match(words(p.drawn), /Payment signature is not valid for this request Any key: back/);
  });

  it("wraps a long title at the small scale, and every row of many long lines stays on the panel", () => {
    const p = panel();
    const long = "word ".repeat(30).trim();
    drawMessage(p.screen, status, 0, "Refund: which payment?", 1, [long, long, "last line"]);
    allInside(p.drawn);
    assert.match(words(p.drawn), /Refund: which payment\?/);
    assert.match(words(p.drawn), /last line/);
    assert.equal((words(p.drawn).match(/word/g) || []).length, 60);
    const ys = p.drawn.map((t) => t.y1).slice(5);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i] >= ys[i - 1] + 8, "rows do not overlap");
  });

  it("shows a 9-digit amount at idle whole (EUR 9,999,999.99), on the panel", () => {
    const p = panel();
    const cfg = loadSettings({ read: () => undefined } as never);
    cfg.terminalId = "42";
    cfg.merchantName = "Cafe Blue";
    drawIdle(p.screen, { digits: "999999999" }, status, cfg, 0, "1.0.0");
    allInside(p.drawn);
    assert.ok(p.drawn.some((t) => t.text === "EUR 9,999,999.99"), words(p.drawn));
  });

  it("shows a 9-digit amount above the request QR, on the panel", () => {
    const p = panel();
    drawRequest(p.screen, status, 0, "-EUR 9,999,999.99", "P1ABCDEF", "Scan, then show your code  C cancel", "INVOICE  order ORD-12345678");
    allInside(p.drawn);
  });
});
