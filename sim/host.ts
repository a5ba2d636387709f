/**
 * The simulator host: runs the very `dist/<board>.js` that is flashed, in a `vm` context whose globals are an
 * emulated Espruino on an ESP32, with the board's parts attached at the wire level as its board file wires them.
 * No Node global is visible to the bundle: one that uses `Buffer` or `process.env` fails here as on the device.
 *
 *   const host = new SimHost({ board: readBoard("devkit"), bundle: readFileSync("dist/devkit.js", "utf8") });
 *   host.boot(); host.advance(1000); host.pressKey("5"); host.display.toPng();
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import type { Wiring } from "../boards/board.ts";
import { espruinoBytes } from "./espruino/bytes.ts";
import { createCryptoModule } from "./espruino/crypto.ts";
import { Flash, isPowerCut } from "./espruino/flash.ts";
import { createFlashModule, rawFlashBytes } from "./espruino/flash-module.ts";
import { createGraphicsApi, mapInPlace } from "./espruino/graphics.ts";
import type { HttpHandler, WifiWorld } from "./espruino/net.ts";
import { createHttpModule, WifiModule } from "./espruino/net.ts";
import { Scheduler } from "./espruino/scheduler.ts";
import { EspruinoStorage } from "./espruino/storage.ts";
import { Atecc608Emulator } from "./peripherals/atecc608.ts";
import { EscPosPrinterEmulator } from "./peripherals/escpos-printer.ts";
import { Gm65Emulator } from "./peripherals/gm65.ts";
import { KeypadMatrixEmulator } from "./peripherals/keypad.ts";
import { St7789Emulator } from "./peripherals/st7789.ts";
import { screenLines } from "./engine/screen-text.ts";

/** What the build writes to dist/<board>.board.json. */
export interface BoardData {
  name: string;
  description: string;
  version: string;
  wiring: Wiring;
  platform: {
    id: string;
    builtinModules: string[];
    storage: { address: number; pageSize: number; pages: number };
    journal: { address: number; pageSize: number; pageCount: number };
    orders: { address: number; pageSize: number; pageCount: number };
  };
  budget: { jsVars: number; idleJsVars: number; bundleBytes: number; storageBytes: number };
}

export function readBoard(name: string, dist = join(process.cwd(), "dist")): { board: BoardData; bundle: string } {
  return {
    board: JSON.parse(readFileSync(join(dist, name + ".board.json"), "utf8")),
    bundle: readFileSync(join(dist, name + ".js"), "utf8"),
  };
}

/** How finely the parts' own clocks are stepped while time advances. */
const PART_TICK_MS = 5;

/** Globals a Node `vm` context has that Espruino on ESP32 does not; removed so a bundle using one fails. */
const NOT_ON_ESPRUINO = ["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Symbol", "Proxy", "Reflect", "BigInt", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "RangeError", "AggregateError"];

export interface SimHostOptions {
  board: BoardData;
  bundle: string;
  /** Flash image to boot from (persisted across runs by the caller); a blank one otherwise. */
  flash?: Flash;
  /**
   * The raw flash from the journal's address: the journal's region and the kept orders' pages after it (raw pages
   * reached by `require("Flash")`, rawFlashBytes); blank otherwise.
   */
  journalFlash?: Flash;
  /** Secure element to keep across reboots; a fresh, unprovisioned one otherwise. */
  secure?: Atecc608Emulator;
  /** Wall-clock time at power-on, ms since the epoch. */
  wallClockMs?: number;
  /** Where the bundle's print()/console.log lines go (also kept in `output`). */
  onPrint?: (line: string) => void;
  /**
   * Boot as Espruino does: run `.bootcde` from Storage when it is there, the given bundle otherwise (an empty
   * bundle = a device with nothing flashed). Used by the TCP console (sim/tcp-console.ts), where a flash changes
   * what boots.
   */
  bootFromStorage?: boolean;
  /** Entries of `process.env` to set or replace (e.g. VERSION as a real board reports it). */
  env?: Record<string, string>;
  /** Called with the bundle's global object each time a fresh interpreter context is made (console globals). */
  onContext?: (g: Record<string, unknown>) => void;
}

interface Watch {
  id: number;
  pin: string;
  fn: (e: { state: boolean; time: number; lastTime: number }) => void;
  repeat: boolean;
  edge: string;
  debounce: number;
  last: number;
  lastTime: number;
  timer: number;
}

/** Bytes a 'data' event carries at most when a part sends at its baud rate (Espruino's UART hands over chunks). */
const UART_CHUNK = 16;

export class SimHost {
  readonly board: BoardData;
  readonly sched = new Scheduler();
  readonly flash: Flash;
  readonly journalFlash: Flash;
  readonly secure: Atecc608Emulator;
  readonly scanner: Gm65Emulator;
  readonly printer: EscPosPrinterEmulator;
  readonly display: St7789Emulator;
  readonly keypad: KeypadMatrixEmulator;
  readonly wifiWorld: WifiWorld = { networks: {}, enabled: true, connectMs: 1500 };
  /** Where the bundle's HTTP requests go; null = nothing answers (connection refused). */
  httpHandler: HttpHandler | null = null;
  /** Every line the bundle printed, and every uncaught error as Espruino would print it. */
  readonly output: string[] = [];
  readonly errors: string[] = [];
  /** What the firmware did to the platform's consoles, for the lock-down check. */
  readonly consoles = { telnet: "on", bleUart: true, serial: "Serial1" as string | null, locked: false, password: false };
  /** Bluetooth state as the firmware configured it. */
  readonly ble = { services: {} as Record<string, Record<string, Record<string, unknown>>>, advertising: null as unknown, awake: true, connected: null as string | null };
  poweredOn = false;
  storage!: EspruinoStorage;
  private ctx!: vm.Context;
  private bundle: string;
  private wallAtBoot: number;
  private pins = new Map<string, { mode: string; level: number }>();
  private watches: Watch[] = [];
  private watchId = 1;
  private serial = new Map<number, { baud: number; tx: string; rx: string; listeners: ((s: string) => void)[] }>();
  private nrfListeners: Record<string, ((a: unknown) => void)[]> = {};
  private onPrint?: (line: string) => void;
  private wifi!: WifiModule;
  private bootFromStorage: boolean;
  /** The code booted last (the given bundle, or `.bootcde` read from Storage). */
  private running = "";
  private envOverride: Record<string, string>;
  private onContext?: (g: Record<string, unknown>) => void;
  private printListeners: ((line: string) => void)[] = [];
  private serialWriteListeners: ((port: number, bytes: Uint8Array) => void)[] = [];
  private partListeners: ((port: number, bytes: Uint8Array) => void)[] = [];
  /** Device time when the scanner's TX line is free again: its bytes go out one after another at its baud rate. */
  private scannerLineFreeAt = 0;

  constructor(o: SimHostOptions) {
    this.board = o.board;
    this.bundle = o.bundle;
    this.onPrint = o.onPrint;
    this.bootFromStorage = !!o.bootFromStorage;
    this.envOverride = o.env ?? {};
    this.onContext = o.onContext;
    this.wallAtBoot = o.wallClockMs ?? Date.UTC(2026, 10, 23, 9, 0, 0);
    const now = () => this.sched.now;
    const st = o.board.platform.storage;
    this.flash = o.flash ?? new Flash({ size: st.pageSize * st.pages, pageSize: st.pageSize });
    const jr = o.board.platform.journal;
    this.journalFlash = o.journalFlash ?? new Flash({ size: rawFlashBytes(o.board.platform), pageSize: jr.pageSize });
    this.secure = o.secure ?? new Atecc608Emulator({ now, address: o.board.wiring.secure.address });
    this.scanner = new Gm65Emulator({ now, onTransmit: (b) => this.fromPart(o.board.wiring.scanner.port, b) });
    this.printer = new EscPosPrinterEmulator({ now, baud: o.board.wiring.printer.baud, onTransmit: (b) => this.fromPart(o.board.wiring.printer.port, b) });
    const d = o.board.wiring.display;
    this.display = new St7789Emulator({ width: d.width, height: d.height, uprightMadctl: d.madctl === 0 ? 0x00 : 0xc0 });
    const k = o.board.wiring.keypad;
    this.keypad = new KeypadMatrixEmulator(k.keys, k.rows, k.cols);
    this.sched.isFatal = (e) => isPowerCut(e);
    this.sched.onUncaught = (e) => this.uncaught(e);
  }

  // ------------------------------------------------------------------ power

  /** Wall-clock time as the device's RTC reads it, ms since the epoch. */
  wallClock(): number {
    return this.wallAtBoot + this.sched.now;
  }

  /**
   * Set the device's RTC (ms since the epoch), as a power loss does on an ESP32: its RTC restarts near 1970 unless
   * something sets it again. Tests of the firmware's time floor set it before `boot()`.
   */
  setWallClock(ms: number): void {
    this.wallAtBoot = ms - this.sched.now;
  }

  /** Move the device's RTC forward (a clock fast-forward: days pass while the event loop does not). */
  skewWallClock(ms: number): void {
    this.wallAtBoot += ms;
  }

  /** Power on: Storage's boot check, then the bundle runs as Espruino runs its boot code. */
  boot(): void {
    this.poweredOn = true;
    this.sched.clearAll();
    this.scannerLineFreeAt = 0;
    this.pins.clear();
    this.texts = [];
    this.watches = [];
    this.serial.clear();
    this.nrfListeners = {};
    // A power cycle gives Espruino its default console back; the firmware's lock-down takes it again.
    this.consoles.serial = "Serial1";
    this.ctx = this.makeContext();
    this.storage.boot();
    let code = this.bundle;
    let filename = this.board.name + ".js";
    if (this.bootFromStorage) {
      const saved = this.storage.read(".bootcde");
      if (saved !== undefined) {
        code = saved;
        filename = ".bootcde";
      }
    }
    this.running = code;
    if (code) this.guard(() => vm.runInContext(code, this.ctx, { filename }));
  }

  // ------------------------------------------------------------------ console hooks (sim/tcp-console.ts)

  /**
   * Espruino's `reset()` / `load()`: a fresh interpreter (timers, watches, listeners and globals gone, flash and
   * parts kept), then `code` runs if given. No power cycle: the secure element keeps its volatile state.
   */
  resetInterpreter(code: string | null, filename = "load"): void {
    this.poweredOn = true;
    this.sched.clearAll();
    this.scannerLineFreeAt = 0;
    this.texts = [];
    this.watches = [];
    this.serial.clear();
    this.nrfListeners = {};
    this.consoles.serial = "Serial1";
    this.ctx = this.makeContext();
    if (code) this.guard(() => vm.runInContext(code, this.ctx, { filename }));
  }

  /** Evaluate console input in the bundle's global scope, as Espruino's REPL does. */
  evalInDevice(code: string): { ok: true; value: unknown } | { ok: false; error: string } {
    try {
      return { ok: true, value: vm.runInContext(code, this.ctx, { filename: "REPL" }) };
    } catch (e) {
      if (isPowerCut(e)) {
        this.powerOff();
        return { ok: false, error: "power cut" };
      }
      const name = e && typeof e === "object" && "name" in e && (e as Error).name !== "Error" ? String((e as Error).name) + ": " : "Error: ";
      return { ok: false, error: e && typeof e === "object" && "message" in e ? name + String((e as Error).message) : String(e) };
    }
  }

  /** Also send every printed line to `fn` (besides `output` and onPrint). */
  addPrintListener(fn: (line: string) => void): () => void {
    this.printListeners.push(fn);
    return () => {
      this.printListeners = this.printListeners.filter((x) => x !== fn);
    };
  }

  /** Bytes arriving on a UART's RX from outside (e.g. the USB console when the console is detached from it). */
  serialInput(port: number, bytes: Uint8Array): void {
    this.fromPart(port, bytes);
  }

  /** Bytes the bundle writes to a UART no emulated part sits on (Serial1 = the USB console wire). */
  addSerialWriteListener(fn: (port: number, bytes: Uint8Array) => void): () => void {
    this.serialWriteListeners.push(fn);
    return () => {
      this.serialWriteListeners = this.serialWriteListeners.filter((x) => x !== fn);
    };
  }

  /**
   * Also send `fn` every byte an emulated part (scanner, printer) puts on its TX line towards the bundle, as sent,
   * before the UART delivers it (tests: what the GM65 sent for a scan).
   */
  addPartListener(fn: (port: number, bytes: Uint8Array) => void): () => void {
    this.partListeners.push(fn);
    return () => {
      this.partListeners = this.partListeners.filter((x) => x !== fn);
    };
  }

  /** Cut power now: every timer and event is gone, volatile state is lost; flash keeps what it had. */
  powerOff(): void {
    this.poweredOn = false;
    this.scannerLineFreeAt = 0;
    this.sched.clearAll();
    this.secure.powerCycle();
    this.scanner.powerCycle();
  }

  /** Power off and on again, as a technician pulling the plug. */
  reboot(): void {
    this.powerOff();
    this.boot();
  }

  /** Let `ms` of device time pass, running whatever falls due. */
  advance(ms: number): void {
    if (!this.poweredOn) {
      this.sched.now += ms;
      return;
    }
    // Parts that keep time of their own (the printer draining its buffer, the scanner's frame timeout) are
    // ticked every millisecond-scale step, so their replies reach the bundle when they would on the wire.
    this.guard(() => {
      let left = ms;
      do {
        const step = Math.min(PART_TICK_MS, left);
        this.sched.advance(step);
        this.printer.tick();
        this.scanner.tick();
        left -= step;
      } while (left > 0 && this.poweredOn);
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (isPowerCut(e)) {
        this.powerOff();
        return;
      }
      this.uncaught(e);
    }
  }

  private uncaught(e: unknown): void {
    const msg = "Uncaught " + (e && typeof e === "object" && "message" in e ? String((e as Error).message) : String(e));
    this.errors.push(msg);
    this.print(msg);
  }

  private print(line: string): void {
    this.output.push(line);
    if (this.onPrint) this.onPrint(line);
    for (const fn of this.printListeners) fn(line);
  }

  // ------------------------------------------------------------------ the merchant's side

  /** Hold a key down (real-time use: the page's keypad). */
  keyDown(key: string): void {
    this.keypad.press(key);
    this.guard(() => this.pinsChanged());
  }

  keyUp(key: string): void {
    this.keypad.release(key);
    this.guard(() => this.pinsChanged());
  }

  /** Press and release a key, holding it long enough for the driver's debounce. */
  /**
   * Storage as the bundle sees it. On the device the bundle always runs from `.bootcde` and reads its parts from
   * there (build.ts PARTS); a bundle this host was handed and that is not in Storage (tests booting a given bundle)
   * reads them from itself, as if flashed, without a write to the flash that a power-cut test would count.
   */
  private bundleStorage(): EspruinoStorage {
    const host = this;
    const s = Object.create(this.storage) as EspruinoStorage;
    s.read = (name: string, offset?: number, length?: number) => {
      const r = host.storage.read(name, offset, length);
      if (r !== undefined || name !== ".bootcde" || !host.running) return r;
      const off = offset ?? 0;
      return host.running.substr(off, length ?? host.running.length - off);
    };
    return s;
  }

  pressKey(key: string, holdMs = 60): void {
    this.keypad.press(key);
    this.pinsChanged();
    this.advance(holdMs);
    this.keypad.release(key);
    this.pinsChanged();
    this.advance(40);
  }

  /** Switch the Wi-Fi world (radio in range of `networks`, or not). */
  setWifi(enabled: boolean, networks?: Record<string, string>): void {
    this.wifiWorld.enabled = enabled;
    if (networks) this.wifiWorld.networks = networks;
    if (this.wifi) this.guard(() => this.wifi.worldChanged());
  }

  // ------------------------------------------------------------------ what the screen says

  /** Strings drawn on the frame buffer and not yet painted over, with their boxes (for tests and the UI). */
  private texts: { text: string; x1: number; y1: number; x2: number; y2: number }[] = [];

  /** Follow what a Graphics instance draws, so `screenText()` can say what the merchant sees. */
  private track<T extends object>(c: T): T {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const gr = c as any;
    // the panel row of the canvas's first row: a band's, set by the firmware's surface (hal/espruino/graphics.ts)
    const top = () => Number(gr.top) || 0;
    const covered = (x1: number, y1: number, x2: number, y2: number) => {
      const t0 = top();
      this.texts = this.texts.filter((t) => t.x2 < x1 || t.x1 > x2 || t.y2 < y1 + t0 || t.y1 > y2 + t0);
    };
    const fill = gr.fillRect.bind(c);
    const clearRect = gr.clearRect.bind(c);
    const clear = gr.clear.bind(c);
    const draw = gr.drawString.bind(c);
    gr.fillRect = (...a: unknown[]) => {
      covered(Math.min(Number(a[0]), Number(a[2])), Math.min(Number(a[1]), Number(a[3])), Math.max(Number(a[0]), Number(a[2])), Math.max(Number(a[1]), Number(a[3])));
      return fill(...a);
    };
    gr.clearRect = (...a: unknown[]) => {
      covered(Math.min(Number(a[0]), Number(a[2])), Math.min(Number(a[1]), Number(a[3])), Math.max(Number(a[0]), Number(a[2])), Math.max(Number(a[1]), Number(a[3])));
      return clearRect(...a);
    };
    gr.clear = (...a: unknown[]) => {
      this.texts = [];
      return clear(...a);
    };
    gr.drawString = (...a: unknown[]) => {
      const text = String(a[0]);
      const w = gr.stringWidth(text) as unknown as number;
      const h = gr.getFontHeight() as unknown as number;
      const ax = gr.fontAlignX as number;
      const ay = gr.fontAlignY as number;
      const x1 = Math.round(Number(a[1]) - (w * (ax + 1)) / 2);
      const y1 = Math.round(Number(a[2]) - (h * (ay + 1)) / 2);
      covered(x1, y1, x1 + w - 1, y1 + h - 1);
      const t0 = top();
      this.texts.push({ text, x1, y1: y1 + t0, x2: x1 + w - 1, y2: y1 + t0 + h - 1 });
      return draw(...a);
    };
    return c;
  }

  /** The text on screen, top to bottom, left to right, one line per row of text. */
  screenText(): string[] {
    return screenLines(this.texts);
  }

  // ------------------------------------------------------------------ simulated Bluetooth central (ble-phone.ts)

  /** Listeners for notifications the firmware sends to a connected central: service, characteristic, bytes. */
  readonly bleNotifyListeners: ((service: string, char: string, bytes: Uint8Array) => void)[] = [];

  private bleNotified(service: string, char: string, value: unknown): void {
    const b = espruinoBytes(value);
    if (!b) return;
    for (const fn of this.bleNotifyListeners) fn(service, char, new Uint8Array(b));
  }

  /** A central connects: `NRF.on("connect", address)` fires from the event loop, as on ESP32. */
  bleConnect(address: string): void {
    this.ble.connected = address;
    for (const fn of this.nrfListeners.connect || []) this.sched.post(() => fn(address));
  }

  /** The central drops the link (reason 19 = remote user terminated). */
  bleDisconnect(reason = 19): void {
    if (!this.ble.connected) return;
    this.ble.connected = null;
    for (const fn of this.nrfListeners.disconnect || []) this.sched.post(() => fn(reason));
  }

  /** The central writes a characteristic: its onWrite gets `{ data: ArrayBuffer }` (the bundle's realm). */
  bleWrite(service: string, char: string, bytes: Uint8Array): void {
    const ch = this.ble.services[service] && this.ble.services[service][char];
    if (!ch || !ch.writable || typeof ch.onWrite !== "function") throw new Error("BLE: characteristic " + service + "/" + char + " is not writable");
    const realm = this.realm();
    const ab = new realm.ArrayBuffer(bytes.length);
    new realm.Uint8Array(ab).set(bytes);
    const fn = ch.onWrite as (e: { data: ArrayBuffer }) => void;
    this.sched.post(() => fn({ data: ab }));
  }

  // ------------------------------------------------------------------ context

  private realm(): { Uint8Array: Uint8ArrayConstructor; Uint16Array: Uint16ArrayConstructor; ArrayBuffer: ArrayBufferConstructor } {
    return vm.runInContext("({ Uint8Array: Uint8Array, Uint16Array: Uint16Array, ArrayBuffer: ArrayBuffer })", this.ctx);
  }

  /** Bytes of anything Espruino accepts as data; an Error of the bundle's own realm otherwise. */
  private bytes(d: unknown): Uint8Array {
    const b = espruinoBytes(d);
    if (!b) throw this.err("Expecting data, got " + typeof d);
    return b;
  }

  private err(message: string): Error {
    const E = vm.runInContext("Error", this.ctx) as ErrorConstructor;
    return new E(message);
  }

  private binaryString(b: Uint8Array): string {
    let s = "";
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }

  private pinName(p: unknown): string {
    if (p && typeof p === "object" && "__pin" in p) return String((p as { __pin: string }).__pin);
    throw this.err("Expecting a pin, got " + String(p));
  }

  private level(pin: string): number {
    const col = this.keypad.columnLevel(pin, (r) => this.pins.get(r)?.level ?? 0);
    if (col !== undefined) return col;
    return this.pins.get(pin)?.level ?? 0;
  }

  /** Re-read every watched pin and queue the edges, after Espruino's debounce. */
  private pinsChanged(): void {
    for (const w of this.watches) {
      const v = this.level(w.pin);
      if (w.timer) this.sched.cancel(w.timer);
      w.timer = 0;
      if (v === w.last) continue;
      const fire = () => {
        w.timer = 0;
        const now = this.level(w.pin);
        if (now === w.last) return;
        w.last = now;
        const edge = now ? "rising" : "falling";
        if (w.edge !== "both" && w.edge !== edge) return;
        const t = (this.wallAtBoot + this.sched.now) / 1000;
        const lastTime = w.lastTime;
        w.lastTime = t;
        if (!w.repeat) this.watches = this.watches.filter((x) => x !== w);
        w.fn({ state: !!now, time: t, lastTime });
      };
      w.timer = w.debounce > 0 ? this.sched.at(w.debounce, fire) : (this.sched.post(fire), 0);
    }
  }

  private fromPart(port: number, b: Uint8Array): void {
    for (const fn of this.partListeners) fn(port, b);
    const p = this.serial.get(port);
    if (!p || !p.listeners.length) return; // nobody listening: bytes are lost, as on a UART
    const baud = this.scanner.baud;
    if (port === this.board.wiring.scanner.port && baud > 0) {
      // The GM65 sends at its baud rate (8N1: 10 bits a byte, about 1 ms a byte at 9600): a long code reaches the
      // bundle in several 'data' events over time, as Espruino hands over what its UART buffer holds.
      const byteMs = 10000 / baud;
      let t = Math.max(this.sched.now, this.scannerLineFreeAt);
      for (let i = 0; i < b.length; i += UART_CHUNK) {
        const part = this.binaryString(b.subarray(i, Math.min(b.length, i + UART_CHUNK)));
        t += part.length * byteMs;
        this.sched.at(Math.ceil(t - this.sched.now), () => {
          for (const fn of p.listeners) fn(part);
        });
      }
      this.scannerLineFreeAt = t;
      return;
    }
    const s = this.binaryString(b);
    this.sched.post(() => {
      for (const fn of p.listeners) fn(s);
    });
  }

  private makeSerial(port: number) {
    const w = this.board.wiring;
    const part = w.scanner.port === port ? { wiring: w.scanner, rx: (b: Uint8Array) => this.scanner.receive(b) } : w.printer.port === port ? { wiring: w.printer, rx: (b: Uint8Array) => this.printer.receive(b) } : null;
    return {
      setup: (baud: number, opts?: { tx?: unknown; rx?: unknown }) => {
        const tx = opts && opts.tx ? this.pinName(opts.tx) : "";
        const rx = opts && opts.rx ? this.pinName(opts.rx) : "";
        this.serial.set(port, { baud, tx, rx, listeners: this.serial.get(port)?.listeners ?? [] });
      },
      write: (...data: unknown[]) => {
        const p = this.serial.get(port);
        if (!p) throw this.err("Serial" + port + " not set up");
        const bytes = this.bytes(data.length === 1 ? data[0] : data);
        // Bytes reach the part only on its pins and at its speed; anything else is noise on a floating line.
        const expectedBaud = port === w.scanner.port ? this.scanner.baud : part ? part.wiring.baud : 0;
        if (part && p.tx === part.wiring.tx && p.rx === part.wiring.rx && p.baud === expectedBaud) part.rx(bytes);
        if (!part) for (const fn of this.serialWriteListeners) fn(port, bytes);
      },
      on: (ev: string, fn: (s: string) => void) => {
        if (ev !== "data") return;
        const p = this.serial.get(port) ?? { baud: 9600, tx: "", rx: "", listeners: [] };
        p.listeners.push(fn);
        this.serial.set(port, p);
      },
      removeAllListeners: () => {
        const p = this.serial.get(port);
        if (p) p.listeners = [];
      },
    };
  }

  private makeContext(): vm.Context {
    const ctx = vm.createContext({});
    for (const name of NOT_ON_ESPRUINO) vm.runInContext(`delete globalThis.${name};`, ctx);
    // Espruino's typed-array slice() returns a plain Array (measured on 2v29); so does the simulator's.
    vm.runInContext(
      "[Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, Uint8ClampedArray].forEach(function (C) {" +
        " Object.defineProperty(C.prototype, 'slice', { value: function (a, b) { return Array.prototype.slice.call(this, a, b); }, writable: true, configurable: true }); });",
      ctx,
    );
    this.ctx = ctx;
    const realm = this.realm();
    this.storage = new EspruinoStorage(this.flash, realm);
    const g = ctx as Record<string, unknown>;
    const host = this;
    const sched = this.sched;
    const w = this.board.wiring;

    // Pins: `new Pin("D4")`, and D0..D39 as globals.
    const PinCtor = function (this: { __pin: string }, name: string | number) {
      this.__pin = typeof name === "number" ? "D" + name : String(name);
    } as unknown as { new (n: string | number): { __pin: string } };
    g.Pin = PinCtor;
    for (let i = 0; i < 40; i++) g["D" + i] = new PinCtor("D" + i);
    g.pinMode = (p: unknown, mode: string) => {
      const n = host.pinName(p);
      const s = host.pins.get(n) ?? { mode, level: 0 };
      s.mode = mode;
      host.pins.set(n, s);
      host.pinsChanged();
    };
    g.digitalWrite = (p: unknown, v: unknown) => {
      const n = host.pinName(p);
      const s = host.pins.get(n) ?? { mode: "output", level: 0 };
      const level = v ? 1 : 0;
      if (n === w.display.rst && s.level === 1 && level === 0) host.display.hardwareReset();
      s.level = level;
      host.pins.set(n, s);
      host.pinsChanged();
    };
    g.digitalRead = (p: unknown) => host.level(host.pinName(p));
    g.setWatch = (fn: Watch["fn"], p: unknown, opts?: { repeat?: boolean; edge?: string; debounce?: number }) => {
      const pin = host.pinName(p);
      const watch: Watch = { id: host.watchId++, pin, fn, repeat: !!(opts && opts.repeat), edge: (opts && opts.edge) || "both", debounce: (opts && opts.debounce) || 0, last: host.level(pin), lastTime: 0, timer: 0 };
      host.watches.push(watch);
      return watch.id;
    };
    g.clearWatch = (id?: number) => {
      host.watches = id === undefined ? [] : host.watches.filter((x) => x.id !== id);
    };

    // Time.
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => sched.at(ms || 0, () => fn(...args));
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => sched.at(ms || 0, () => fn(...args), Math.max(1, ms || 0));
    g.clearTimeout = g.clearInterval = (id?: number) => {
      if (id === undefined) sched.clearAll();
      else sched.cancel(id);
    };
    g.getTime = () => (host.wallAtBoot + sched.now) / 1000;
    g.setTime = (s: number) => {
      host.wallAtBoot = s * 1000 - sched.now;
    };
    // Date.now() in the bundle follows the device clock, not the PC's.
    vm.runInContext(
      "(function(getTime){ var D = Date; var now = function(){ return Math.floor(getTime()*1000); };" +
        " Date = function(a,b,c,d,e,f,g){ if (!(this instanceof Date)) return new D(now()).toString();" +
        " return arguments.length === 0 ? new D(now()) : arguments.length === 1 ? new D(a) : new D(a,b,c||1,d||0,e||0,f||0,g||0); };" +
        " Date.prototype = D.prototype; Date.now = now; Date.parse = D.parse; })",
      ctx,
    )(g.getTime);

    // Output.
    const printer = (...a: unknown[]) => host.print(a.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(" "));
    g.print = printer;
    g.console = { log: printer };
    g.global = ctx;
    g.globalThis = ctx;

    // Buses.
    g.Serial1 = this.makeSerial(1);
    g.Serial2 = this.makeSerial(2);
    g.Serial3 = this.makeSerial(3);
    let i2cBitrate = 0;
    g.I2C1 = {
      setup: (o: { scl?: unknown; sda?: unknown; bitrate?: number }) => {
        if (!o || host.pinName(o.scl) !== w.secure.scl || host.pinName(o.sda) !== w.secure.sda) throw host.err("I2C1 pins do not reach the secure element");
        i2cBitrate = o.bitrate || 100000;
      },
      writeTo: (addr: number, ...data: unknown[]) => {
        if (!i2cBitrate) throw host.err("I2C1 not set up");
        if (!host.secure.i2cWrite(addr, host.bytes(data.length === 1 ? data[0] : data))) throw host.err("I2C Error: No ACK");
      },
      readFrom: (addr: number, n: number) => {
        if (!i2cBitrate) throw host.err("I2C1 not set up");
        const r = host.secure.i2cRead(addr, n);
        if (!r) throw host.err("I2C Error: No ACK");
        const out = new realm.Uint8Array(r.length);
        out.set(r);
        return out;
      },
    };
    let spiReady = false;
    const spi = {
      setup: (o: { sck?: unknown; mosi?: unknown }) => {
        spiReady = !!o && host.pinName(o.sck) === w.display.sck && host.pinName(o.mosi) === w.display.mosi;
      },
      write: (data: unknown, cs?: unknown) => {
        if (!spiReady || cs === undefined || host.pinName(cs) !== w.display.cs) return; // not wired to the panel
        host.display.write(host.bytes(data), host.level(w.display.dc) === 1);
      },
    };
    g.SPI1 = spi;
    g.SPI2 = { setup() {}, write() {} };

    // Graphics and E.
    const G = createGraphicsApi(realm).Graphics;
    g.Graphics = {
      createArrayBuffer: (width: number, height: number, bpp: number, o?: object) => host.track(G.createArrayBuffer(width, height, bpp, o)),
    };
    g.E = {
      toUint8Array: (...d: unknown[]) => {
        const b = host.bytes(d.length === 1 ? d[0] : d);
        const out = new realm.Uint8Array(b.length);
        out.set(b);
        return out;
      },
      toString: (...d: unknown[]) => host.binaryString(host.bytes(d.length === 1 ? d[0] : d)),
      mapInPlace,
      setConsole: (dev: string | null) => {
        host.consoles.serial = dev;
      },
      lockConsole: () => {
        if (host.consoles.password) host.consoles.locked = true;
      },
      setPassword: (pw?: string) => {
        host.consoles.password = !!pw;
      },
      reboot: () => sched.post(() => host.reboot()),
      getSizeOf: () => 0,
      hwRand: () => 0x12345678, // predictable, as the notes measured: never a source of secrets
    };
    g.process = {
      version: "2v29-sim",
      env: Object.assign({ BOARD: "ESP32", VERSION: "2v29-sim", MODULES: this.board.platform.builtinModules.join(",") }, this.envOverride),
      // The simulator does not count JsVars; figures come from a real interpreter (ESPRUINO=...).
      memory: () => ({ free: this.board.budget.jsVars, usage: 0, total: this.board.budget.jsVars }),
    };

    // Bluetooth.
    g.NRF = {
      setServices: (services: Record<string, Record<string, Record<string, unknown>>>, opts?: { uart?: boolean }) => {
        if (host.ble.connected) return; // ESP32 Espruino skips setServices while connected
        host.ble.services = services || {};
        host.consoles.bleUart = !opts || opts.uart !== false;
      },
      updateServices: (upd: Record<string, Record<string, Record<string, unknown>>>) => {
        for (const s in upd) for (const c in upd[s]) if (host.ble.services[s] && host.ble.services[s][c]) Object.assign(host.ble.services[s][c], upd[s][c]);
        // a simulated central (sim/peripherals/ble-phone.ts) receives what is notified
        for (const s in upd) for (const c in upd[s]) if (host.ble.services[s] && host.ble.services[s][c] && upd[s][c].notify && host.ble.connected) host.bleNotified(s, c, upd[s][c].value);
      },
      setAdvertising: (data: unknown, opts: unknown) => {
        host.ble.advertising = { data, opts };
      },
      on: (ev: string, fn: (a: unknown) => void) => {
        (host.nrfListeners[ev] ||= []).push(fn);
      },
      disconnect: () => {
        if (!host.ble.connected) return;
        host.ble.connected = null;
        for (const fn of host.nrfListeners.disconnect || []) sched.post(() => fn(22));
      },
      sleep: () => {
        host.ble.awake = false;
      },
      wake: () => {
        host.ble.awake = true;
      },
    };

    // Modules.
    this.wifi = new WifiModule(this.wifiWorld, sched);
    const modules: Record<string, unknown> = {
      Storage: this.bundleStorage(),
      Flash: createFlashModule(this.journalFlash, this.board.platform.journal.address, realm),
      crypto: createCryptoModule(realm, (d) => host.bytes(d), (s) => host.print(s)),
      Wifi: this.wifi,
      http: createHttpModule(this.wifi, sched, () => host.httpHandler),
      TelnetServer: {
        setOptions: (o: { mode?: string }) => {
          host.consoles.telnet = (o && o.mode) || "on";
        },
      },
    };
    g.require = (name: string) => {
      if (name in modules && this.board.platform.builtinModules.indexOf(name) >= 0) return modules[name];
      throw host.err(`Module "${name}" not found`);
    };
    if (this.onContext) this.onContext(g);
    return ctx;
  }
}
