/**
 * IO interfaces in the manner of ECMA-419 (Ecma's embedded-systems API): one options object per open, callbacks
 * inside it as `onXxx`, bytes as Uint8Array. A driver is handed one of these; it never creates a bus or names a pin.
 * Deviation from ECMA-419: `onReadable` hands over the received chunk itself instead of a byte count, because
 * Espruino delivers serial data as chunks and a second `read()` copy would cost JsVars.
 */

export interface SerialOptions {
  /** Baud rate, e.g. 9600. Format is always 8N1. */
  baud: number;
  /** Called with each chunk as it arrives. Never blocks. */
  onReadable(data: Uint8Array): void;
}
export interface Serial {
  /** Queue bytes for transmission; returns at once. */
  write(data: Uint8Array): void;
  /** Stop receiving. */
  close(): void;
}
/** Opens a UART that the board has already wired to a part. */
export type SerialOpen = (options: SerialOptions) => Serial;

export interface I2COptions {
  /** Bus clock in Hz (e.g. 100000). */
  hz: number;
}
export interface I2C {
  /** Write bytes to a 7-bit address; false when the part did not acknowledge. */
  write(address: number, data: Uint8Array): boolean;
  /** Read n bytes; null when the part did not acknowledge (busy or asleep). */
  read(address: number, count: number): Uint8Array | null;
}
export type I2COpen = (options: I2COptions) => I2C;

export interface SPIOptions {
  /** Clock in Hz. */
  hz: number;
  /** SPI mode 0..3. */
  mode: number;
}
export interface SPI {
  /** One transfer with chip-select held low for its duration; `count` repeats `data` that many times. */
  write(data: Uint8Array, count?: number): void;
}
export type SPIOpen = (options: SPIOptions) => SPI;

export const enum PinMode {
  Output = 0,
  Input = 1,
  InputPullUp = 2,
  InputPullDown = 3,
}
export interface DigitalOptions {
  mode: PinMode;
  /** For inputs: called on each edge with the new level, debounced by `debounceMs`. */
  onChange?(level: number): void;
  debounceMs?: number;
}
export interface Digital {
  read(): number;
  write(level: number): void;
  close(): void;
}
export type DigitalOpen = (options: DigitalOptions) => Digital;
