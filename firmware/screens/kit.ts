/**
 * What a screen of the terminal is, and what the terminal (firmware/app/terminal.ts) hands each one. A screen is
 * `{ show, key, code }` with its own state, made when it opens and dropped when another takes the panel, so its
 * closures cost JsVars only while it is open. The router is the terminal's `go(mode, screen)`: the current screen
 * gets the keypad and the scanner; `mode` says which it is (the status bar redraw and the timeouts read it).
 *
 *   const s = refundScreen(kit);   // PIN, then pick, then amount
 *   kit.go("pin", s);              // s.show(); keys -> s.key(k); scans -> s.code(text)
 */
import type { Device } from "../../hal/device.ts";
import type { Journal } from "../journal/journal.ts";
import type { Settings } from "../settings.ts";
import type { TerminalStatus } from "../status.ts";
import type { ActivityLog } from "../activity.ts";
import type { PinTries } from "../tech/pin-tries.ts";
import type { Vault } from "../vault.ts";
import type { IdleState } from "../ui/idle.ts";
import type { SyncHandle } from "../sync/sync.ts";

export type Mode = "boot" | "idle" | "menu" | "order" | "pay" | "invoice" | "pin" | "pick" | "refund" | "busy" | "result" | "update" | "tech" | "send";

export interface ScreenDef {
  /** Draw it (again: a status change redraws the current screen with the new bar). */
  show(): void;
  key(k: string): void;
  /** A code the scanner read as text; a screen without it ignores scans. */
  code?(text: string): void;
  /** A scan that could not be read (non-ASCII, cut off): said on this screen; without it, ignored. */
  notice?(r: { code: string; message: string }): void;
}

/** A receipt for the printer (payment, paid invoice, refund). */
export interface ReceiptLine {
  utr: string;
  txId: Uint8Array;
  amountMinor: number;
  method: string;
  time: number;
  settled: boolean;
  /** Approved online (docs/sync.md, authorize). */
  online?: boolean;
  orderRef: string;
  qr: string;
  title?: string;
}

export interface Kit {
  d: Device;
  cfg: Settings;
  status: TerminalStatus;
  terminalId: number;
  now(): number;
  /** The journal when the terminal may take a flow (provisioned, journal opened), else null. */
  ready(): Journal | null;
  idle: IdleState;
  sync(): SyncHandle | null;
  /** Open a payment (flows 1 and 3) or an invoice (flow 2) for an amount and an order ("" for none). */
  pay(amountMinor: number, orderRef: string): void;
  invoice(amountMinor: number, orderRef: string): void;
  /** Print the last receipt again, marked COPY. */
  reprint(): void;
  mode(): Mode;
  /** Make `s` the current screen in `mode` and show it. */
  go(mode: Mode, s: ScreenDef): void;
  /** A message that takes no key (signing, printing): mode "busy", no timeout. */
  busy(title: string, lines: string[]): void;
  /** A message on the current screen (its own keys stay). */
  message(title: string, ink: number, lines: string[]): void;
  /** A result: any key or RESULT_MS goes back to idle. */
  result(title: string, ink: number, lines: string[]): void;
  /** Back to idle; `invoice`: the amount typed next is an invoice's (menu 3 with no amount typed). */
  toIdle(invoice?: boolean): void;
  /** (Re)start the no-key timeout of a screen waiting for the merchant. */
  arm(): void;
  /** Why no flow can start (journal refused, or not provisioned), as a result. */
  noJournal(): void;
  printReceipt(r: ReceiptLine, done: (err: string | null) => void): void;
  activity: ActivityLog;
  tries: PinTries;
  withVault(fn: (err: string | null, v?: Vault) => void): void;
}
