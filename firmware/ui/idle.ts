/**
 * The idle screen: who the terminal is, whether it can take payments, and the amount being typed.
 * Keys: digits type an amount in minor units, C (Clear) / B (Back) delete, * (Cancel) clears.
 */
import { Ink } from "../../hal/display.ts";
import { Key } from "../../hal/keypad.ts";
import { formatMoney } from "../money.ts";
import type { Settings } from "../settings.ts";
import type { TerminalStatus } from "../status.ts";
import type { Screen } from "./screen.ts";

export const MAX_AMOUNT_DIGITS = 9;

export interface IdleState {
  digits: string;
  /** The amount is for an invoice the merchant shows (menu A 3), not a request the customer pays. */
  invoice?: boolean;
}

/** Apply a key to the amount being typed; returns whether anything changed. */
export function idleKey(st: IdleState, key: string): boolean {
  if (key >= "0" && key <= "9") {
    if (st.digits.length >= MAX_AMOUNT_DIGITS || (key === "0" && st.digits === "")) return false;
    st.digits += key;
    return true;
  }
  if (key === Key.Back || key === Key.Clear) {
    if (!st.digits) return false;
    st.digits = key === Key.Clear ? "" : st.digits.slice(0, -1);
    return true;
  }
  if (key === Key.Cancel && st.digits) {
    st.digits = "";
    return true;
  }
  return false;
}

export function drawIdle(sc: Screen, st: IdleState, s: TerminalStatus, cfg: Settings, nowMs: number, version: string): void {
  sc.bar(s, nowMs);
  sc.body();
  if (cfg.terminalId) {
    sc.line(cfg.merchantName || "Merchant", 34, 2, Ink.Text);
    sc.line("Terminal " + cfg.terminalId, 54, 1, Ink.Text);
  } else {
    sc.line("NOT PROVISIONED", 34, 2, Ink.Alert);
    sc.line("Ask a technician to provision", 54, 1, Ink.Text);
  }
  sc.line(st.invoice ? "Invoice amount" : st.digits ? "Amount" : "Ready", 86, 2, Ink.Accent);
  sc.line(formatMoney(st.digits ? parseInt(st.digits, 10) : 0, cfg.currency), 112, 3, Ink.Text);
  sc.line(st.invoice ? "# show invoice QR  * cancel" : st.digits ? "# to continue  * to clear" : "Type an amount, or scan an order", 150, 1, Ink.Text);
  sc.line("A menu: invoice, refund, report", 166, 1, Ink.Text);
  sc.line("firmware " + version, 226, 1, Ink.Text);
  sc.flip();
}
