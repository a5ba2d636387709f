/** The platform itself: its consoles, memory and identity. */
export interface MemoryInfo {
  /** Variables in use / total (Espruino JsVars on the device). */
  used: number;
  total: number;
}
export interface Platform {
  /**
   * Shut the platform's open doors: the Telnet console, the Bluetooth UART console, and the serial console
   * (locked). Called first at boot, before anything else runs.
   */
  lockDown(): void;
  /**
   * Re-attach the serial console for a technician (after the technician unlock) and answer the tools' requests:
   * `tech(<json>)` typed on the console reaches `onRequest`, whose lines go back on the console.
   */
  openConsole(onRequest: (request: string, out: (line: string) => void) => void): void;
  /** Detach the serial console again and forget the request handler. */
  closeConsole(): void;
  memory(): MemoryInfo;
  /** Firmware build identifier. */
  readonly version: string;
  reboot(): void;
}
