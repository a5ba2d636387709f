/**
 * The Espruino globals that hal/espruino binds (Espruino 2v2x on ESP32). Only the device type-check
 * (tsconfig.device.json) sees these; the Node type-check of firmware/ and hal/ drivers does not, so code outside
 * hal/espruino that names one of them fails to compile.
 */
type EspruinoData = string | number[] | Uint8Array | ArrayBuffer;

interface EspruinoPin {
  read(): boolean;
  write(v: boolean | number): void;
  mode(m: string): void;
}
interface EspruinoSerial {
  setup(baud: number, options?: { tx?: EspruinoPin; rx?: EspruinoPin }): void;
  write(data: EspruinoData): void;
  on(event: "data", fn: (data: string) => void): void;
  removeAllListeners(event?: string): void;
}
interface EspruinoI2C {
  setup(options: { scl?: EspruinoPin; sda?: EspruinoPin; bitrate?: number }): void;
  writeTo(address: number, data: EspruinoData): void;
  readFrom(address: number, count: number): Uint8Array;
}
interface EspruinoSPI {
  setup(options: { sck?: EspruinoPin; mosi?: EspruinoPin; miso?: EspruinoPin; baud?: number; mode?: number }): void;
  write(data: EspruinoData | { data: EspruinoData; count: number }, cs?: EspruinoPin): void;
}
interface EspruinoGraphics {
  buffer: ArrayBuffer;
  getWidth(): number;
  getHeight(): number;
  setBgColor(c: number): EspruinoGraphics;
  clearRect(x1: number, y1: number, x2: number, y2: number): EspruinoGraphics;
}
interface EspruinoGraphicsStatic {
  createArrayBuffer(w: number, h: number, bpp: number, options?: { msb?: boolean }): EspruinoGraphics;
}
interface EspruinoE {
  toUint8Array(data: EspruinoData): Uint8Array;
  toString(data: EspruinoData): string;
  mapInPlace(from: Uint8Array, to: Uint16Array | Uint8Array, map: Uint16Array | Uint8Array, bits: number): void;
  setConsole(device: string | null, options?: { force?: boolean }): void;
  lockConsole(): void;
  setPassword(password: string | undefined): void;
  reboot(): void;
  getSizeOf(v: unknown): number;
}
interface EspruinoProcess {
  memory(gc?: boolean): { free: number; usage: number; total: number };
  version: string;
}
interface EspruinoNRF {
  setServices(services: object, options?: { uart?: boolean; advertise?: string[] }): void;
  updateServices(services: object): void;
  setAdvertising(data: object, options?: object): void;
  sleep(): void;
  wake(): void;
  disconnect(): void;
  on(event: "connect", fn: (address: string) => void): void;
  on(event: "disconnect", fn: (reason: number) => void): void;
}

declare const E: EspruinoE;
declare const process: EspruinoProcess;
declare const NRF: EspruinoNRF;
declare const Graphics: EspruinoGraphicsStatic;
declare const Serial1: EspruinoSerial;
declare const Serial2: EspruinoSerial;
declare const Serial3: EspruinoSerial;
declare const I2C1: EspruinoI2C;
declare const SPI1: EspruinoSPI;
declare const SPI2: EspruinoSPI;
declare function getTime(): number;
declare function setTime(seconds: number): void;
declare function pinMode(pin: EspruinoPin, mode: string): void;
declare function digitalWrite(pin: EspruinoPin, value: number | boolean): void;
declare function digitalRead(pin: EspruinoPin): number;
declare function setWatch(
  fn: (e: { state: boolean; time: number }) => void,
  pin: EspruinoPin,
  options: { repeat?: boolean; edge?: "rising" | "falling" | "both"; debounce?: number },
): number;
declare function clearWatch(id: number): void;
declare function setTimeout(fn: () => void, ms: number): number;
declare function setInterval(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare function clearInterval(id: number): void;
declare function require(name: string): any;
declare function print(...args: unknown[]): void;
declare const console: { log(...args: unknown[]): void };
declare const global: { [name: string]: any };
declare const Pin: { new (name: string | number): EspruinoPin };
