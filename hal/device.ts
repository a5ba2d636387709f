import type { Ble } from "./ble.ts";
import type { Clock } from "./clock.ts";
import type { CryptoBackend } from "./crypto.ts";
import type { Display } from "./display.ts";
import type { ChipFlash, FlashPages } from "./flash-pages.ts";
import type { Keypad } from "./keypad.ts";
import type { Http, Wifi } from "./net.ts";
import type { Platform } from "./platform.ts";
import type { Printer } from "./printer.ts";
import type { Scanner } from "./scanner.ts";
import type { SecureElement } from "./secure-element.ts";
import type { FileStore } from "./storage.ts";

/** Figures a board promises, checked by the build and shown by diagnostics. */
export interface Budget {
  /** JsVars the interpreter has in all. */
  jsVars: number;
  /** JsVars the firmware may hold once booted and idle, leaving the rest for a payment. */
  idleJsVars: number;
  /** Largest bundle in bytes. */
  bundleBytes: number;
  /** Storage area in bytes. */
  storageBytes: number;
}

/** Everything the firmware may use, by role. A board builds one; the firmware gets it as its only argument. */
export interface Device {
  readonly board: string;
  readonly platform: Platform;
  readonly clock: Clock;
  readonly storage: FileStore;
  /** Raw flash pages reserved for the transaction journal (outside Storage). */
  readonly journal: FlashPages;
  /**
   * Raw flash pages reserved for the link orders kept until sync (outside Storage, beside the journal's), made when
   * called: a region's binding held for as long as the firmware runs costs about 40 JsVars.
   */
  readonly orders: () => FlashPages;
  /**
   * The chip's flash, read only, with where the journal, the kept orders and Storage are: the boot checks the
   * partition table.
   */
  readonly flash: ChipFlash;
  readonly crypto: CryptoBackend;
  readonly display: Display;
  readonly keypad: Keypad;
  readonly wifi: Wifi;
  readonly http: Http;
  readonly ble: Ble;
  readonly secure: SecureElement;
  readonly scanner: Scanner;
  readonly printer: Printer;
}
