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
  memory(): MemoryInfo;
  /** Firmware build identifier. */
  readonly version: string;
  reboot(): void;
}
