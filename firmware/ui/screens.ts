/**
 * The flows' screens (idle is ./idle.ts): a payment request with its QR, and one message screen for everything
 * else (processing, paid, rejected, refused, menus). Each screen has the status bar on top.
 */
import { Ink } from "../../hal/display.ts";
import type { TerminalStatus } from "../status.ts";
import { qrEncode } from "./qr-encode.ts";
import type { Screen } from "./screen.ts";
import { wrap } from "./screen.ts";

/**
 * Title in a colour (2x up to 20 characters, else 1x), then the lines in small text (40 columns), each wrapped at
 * spaces onto as many rows as it needs; rows close up when there are more than 10.
 */
export function drawMessage(sc: Screen, s: TerminalStatus, nowMs: number, title: string, ink: number, lines: string[]): void {
  sc.bar(s, nowMs);
  sc.body();
  // Screen.line takes a title over 20 characters at 1x
  sc.line(title, 40, 2, ink);
  const rows: string[] = [];
  for (let i = 0; i < lines.length; i++) wrap(lines[i], 40, rows);
  // rows of 8 pixels: 16 apart while 10 fit, 10 apart for up to 17
  const step = rows.length > 10 ? 10 : 16;
  for (let i = 0; i < rows.length && 70 + i * step < 232; i++) sc.line(rows[i], 70 + i * step, 1, Ink.Text);
  sc.flip();
}

/**
 * Whether drawRequest shows `text` as a QR of 3 pixels a module or more above its lines: byte mode up to version
 * 8 at level L, 192 characters (ISO/IEC 18004:2015 Table 7), printable ASCII (what qr-encode.ts takes).
 */
export function fitsPanelQr(text: string): boolean {
  if (text.length > 192) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 32 || text.charCodeAt(i) > 126) return false;
  return true;
}

/**
 * A QR for the customer's phone (payment request, invoice): amount on top, the QR, an optional line under it (what
 * the QR is, the order), a key hint at the bottom.
 */
export function drawRequest(sc: Screen, s: TerminalStatus, nowMs: number, amountText: string, qrText: string, hint: string, sub?: string): void {
  sc.bar(s, nowMs);
  sc.body();
  sc.line(amountText, 26, 2, Ink.Accent);
  const q = qrEncode(qrText);
  if (q) {
    // 5 pixels a module up to version 4, 4 for version 5, 3 (the least a phone camera reads well) for versions
    // 6-8; version 8 (49 modules, 147 pixels) from row 52 ends above the line under it (row 212)
    const scale = q.size * 5 <= 180 ? 5 : q.size * 4 <= 150 ? 4 : 3;
    sc.qr(q, (240 - q.size * scale) >> 1, 52, scale);
  } else sc.line("(no QR)", 120, 2, Ink.Alert);
  if (sub) sc.line(sub, 212, 1, Ink.Accent);
  sc.line(hint, 230, 1, Ink.Text);
  sc.flip();
}
