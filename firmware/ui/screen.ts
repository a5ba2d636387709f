/**
 * Screens on a 240x240 panel, drawn with the 6x8 font scaled: 1x (40 columns) for the status bar, 2x (20) for
 * text, 3x (13) for amounts. Every screen has the status bar on top.
 */
import type { Display } from "../../hal/display.ts";
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

export class Screen {
  private d: Display;

  constructor(display: Display) {
    this.d = display;
  }

  /**
   * Status bar: online state, pending count and amount, time since sync (or the sync's progress or failure, the
   * bar then in the alert colour: SyncNote), clock.
   */
  bar(s: TerminalStatus, nowMs: number): void {
    const g = this.d.canvas;
    const w = this.d.width;
    const n = s.sync && s.sync.bar ? s.sync : null;
    g.setColor(n && n.end === 2 ? Ink.Alert : s.online ? Ink.Accent : Ink.Text).fillRect(0, 0, w - 1, BAR_H - 1);
    g.setColor(Ink.Background).setFont("6x8", 1).setFontAlign(-1, -1, 0);
    g.drawString((s.online ? "ONLINE" : "OFFLINE") + "  pending " + s.pending, 3, 2);
    const money = formatMoney(s.unsettledMinor, s.currency);
    // 40 columns of 6 pixels less the margins, the amount and a space
    g.drawString((n ? n.text : "sync " + ago(nowMs, s.lastSyncMs)).slice(0, 38 - money.length), 3, 12);
    g.setFontAlign(1, -1, 0);
    g.drawString(clockText(nowMs), w - 3, 2);
    g.drawString(money, w - 3, 12);
  }

  /** Clear below the bar. */
  body(): void {
    this.d.canvas.setColor(Ink.Background).fillRect(0, BAR_H, this.d.width - 1, this.d.height - 1);
  }

  /**
   * A line of text, centred, at row y, in a colour and scale: a smaller scale when it would not fit the panel's
   * width (a 9-digit amount at 3x), cut at 1x (callers that may pass more wrap first: `wrap`).
   */
  line(text: string, y: number, scale: number, ink: number): void {
    const cols = Math.floor(this.d.width / 6);
    while (scale > 1 && text.length * scale > cols) scale--;
    this.d.canvas.setColor(ink).setFont("6x8", scale).setFontAlign(0, -1, 0).drawString(text.slice(0, cols), this.d.width >> 1, y);
  }

  /** A QR code, dark modules in the text colour on the background, each module `scale` pixels, top-left at x, y. */
  qr(q: QrMatrix, x: number, y: number, scale: number): void {
    const g = this.d.canvas;
    g.setColor(Ink.Background).fillRect(x - 2 * scale, y - 2 * scale, x + (q.size + 2) * scale - 1, y + (q.size + 2) * scale - 1);
    g.setColor(Ink.Text);
    for (let r = 0; r < q.size; r++)
      for (let c = 0; c < q.size; c++) if (q.modules[r * q.size + c]) g.fillRect(x + c * scale, y + r * scale, x + c * scale + scale - 1, y + r * scale + scale - 1);
  }

  flip(): void {
    this.d.flip();
  }
}
