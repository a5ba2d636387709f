/**
 * Screens on a 240x240 panel, drawn with the 6x8 font scaled: 1x (40 columns) for the status bar, 2x (20) for
 * text, 3x (13) for amounts. Every screen has the status bar on top.
 */
import type { Canvas, Display } from "../../hal/display.ts";
import { Ink } from "../../hal/display.ts";
import { formatMoney } from "../money.ts";
import type { TerminalStatus } from "../status.ts";
import { ago, clockText } from "../status.ts";
import type { QrMatrix } from "./qr-encode.ts";

export const BAR_H = 22;

/** `text` broken at spaces into lines of at most `cols` characters (a word longer than that is cut), added to `out`. */
export function wrap(text: string, cols: number, out: string[]): string[] {
  let s = text;
  while (s.length > cols) {
    let cut = s.lastIndexOf(" ", cols);
    if (cut <= 0) cut = cols;
    out.push(s.slice(0, cut));
    s = s.slice(s.charAt(cut) === " " ? cut + 1 : cut);
  }
  out.push(s);
  return out;
}

/**
 * What the panel shows, kept as the few things the screens draw (the status bar, lines of text, a QR) and drawn
 * again band by band at each flip (hal/drivers/st7789.ts keeps no frame of the whole panel): the rows changed since
 * the last flip go out.
 */
export class Screen {
  private d: Display;
  /** The status bar: its ink, then its texts at the left (top, bottom) and at the right (top, bottom). */
  private b: (string | number)[] = [];
  /**
   * Below the bar, in drawing order, two entries each: a line's text and `y | scale << 8 | ink << 12`, or a QR's
   * modules, 8 to a byte row after row, and `x | y << 8 | scale << 16 | size << 20`.
   */
  private items: (string | number | Uint8Array)[] = [];
  /** Rows changed since the last flip. */
  private y1 = 0;
  private y2 = 0;

  constructor(display: Display) {
    this.d = display;
    this.y2 = display.height - 1;
  }

  private changed(y1: number, y2: number): void {
    if (y1 < this.y1) this.y1 = y1;
    if (y2 > this.y2) this.y2 = y2;
  }

  /**
   * Status bar: online state, pending count and amount, time since sync (or the sync's progress or failure, the
   * bar then in the alert colour: SyncNote), clock.
   */
  bar(s: TerminalStatus, nowMs: number): void {
    const n = s.sync && s.sync.bar ? s.sync : null;
    const money = formatMoney(s.unsettledMinor, s.currency);
    this.b = [
      n && n.end === 2 ? Ink.Alert : s.online ? Ink.Accent : Ink.Text,
      (s.online ? "ONLINE" : "OFFLINE") + "  pending " + s.pending,
      // 40 columns of 6 pixels less the margins, the amount and a space
      (n ? n.text : "sync " + ago(nowMs, s.lastSyncMs)).slice(0, 38 - money.length),
      clockText(nowMs),
      money,
    ];
    this.changed(0, BAR_H - 1);
  }

  /** Clear below the bar. */
  body(): void {
    this.items = [];
    this.changed(BAR_H, this.d.height - 1);
  }

  /**
   * A line of text, centred, at row y, in a colour and scale: a smaller scale when it would not fit the panel's
   * width (a 9-digit amount at 3x), cut at 1x (callers that may pass more wrap first: `wrap`).
   */
  line(text: string, y: number, scale: number, ink: number): void {
    const cols = Math.floor(this.d.width / 6);
    while (scale > 1 && text.length * scale > cols) scale--;
    this.items.push(text.slice(0, cols), y | (scale << 8) | (ink << 12));
    this.changed(y, y + 8 * scale - 1);
  }

  /** A QR code, dark modules in the text colour on the background, each module `scale` pixels, top-left at x, y. */
  qr(q: QrMatrix, x: number, y: number, scale: number): void {
    const n = q.size * q.size;
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (q.modules[i]) bits[i >> 3] |= 0x80 >> (i & 7);
    this.items.push(bits, x | (y << 8) | (scale << 16) | (q.size << 20));
    // with its quiet zone of 2 modules, which a band starts with (cleared to the background)
    this.changed(y - 2 * scale, y + (q.size + 2) * scale - 1);
  }

  /** Put the rows changed since the last flip on the panel. */
  flip(): void {
    const y1 = this.y1;
    const y2 = this.y2;
    this.y1 = this.d.height;
    this.y2 = -1;
    if (y1 <= y2) this.d.paint(y1, y2, (g, top) => this.draw(g, top));
  }

  /** Draw what the panel shows in the band that starts at row `top`. */
  private draw(g: Canvas, top: number): void {
    const end = top + g.getHeight();
    const w = this.d.width;
    const b = this.b;
    if (b.length && top < BAR_H) {
      g.setColor(b[0] as number).fillRect(0, -top, w - 1, BAR_H - 1 - top);
      g.setColor(Ink.Background).setFont("6x8", 1).setFontAlign(-1, -1, 0);
      g.drawString(b[1] as string, 3, 2 - top);
      g.drawString(b[2] as string, 3, 12 - top);
      g.setFontAlign(1, -1, 0);
      g.drawString(b[3] as string, w - 3, 2 - top);
      g.drawString(b[4] as string, w - 3, 12 - top);
    }
    const it = this.items;
    for (let i = 0; i < it.length; i += 2) {
      const v = it[i + 1] as number;
      const x = it[i];
      if (typeof x === "string") {
        const y = v & 255;
        const scale = (v >> 8) & 15;
        if (y < end && y + 8 * scale > top) g.setColor(v >> 12).setFont("6x8", scale).setFontAlign(0, -1, 0).drawString(x, w >> 1, y - top);
        continue;
      }
      const bits = x as Uint8Array;
      const qx = v & 255;
      const qy = (v >> 8) & 255;
      const s = (v >> 16) & 15;
      const size = v >> 20;
      // the module rows in this band, each as runs of dark modules
      const r2 = Math.min(size - 1, Math.floor((end - 1 - qy) / s));
      g.setColor(Ink.Text);
      for (let r = Math.max(0, Math.floor((top - qy) / s)); r <= r2; r++) {
        const y = qy + r * s - top;
        for (let c = 0; c < size; c++) {
          let i0 = r * size + c;
          if (!((bits[i0 >> 3] << (i0 & 7)) & 0x80)) continue;
          const c0 = c;
          while (c + 1 < size && (bits[++i0 >> 3] << (i0 & 7)) & 0x80) c++;
          g.fillRect(qx + c0 * s, y, qx + c * s + s - 1, y + s - 1);
        }
      }
    }
  }
}
