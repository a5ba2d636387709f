/**
 * The espruino engine: the very bundle that is flashed, booted from Storage by the real Espruino interpreter (the
 * Linux build named by ESPRUINO) in a child process, with its buses bridged to the same wire-level emulators the V8
 * engine (sim/host.ts) uses: GM65 scanner, ESC/POS printer, ATECC608, ST7789 panel, keypad contacts, a Bluetooth
 * central, Wi-Fi and the gateway over http. The bridge's interpreter half is sim/engine/bridge-prelude.js, stored
 * as `.boot0` beside the bundle's `.bootcde` (Espruino runs `.boot0` first at every start).
 *
 *   const host = new EspruinoHost({ board, bundle, bin: process.env.ESPRUINO });
 *   host.boot();                        // spawns the interpreter in its own folder
 *   host.pressKey("5"); await host.runFor(500);
 *   host.display.toPng(); await host.memory(); await host.close();
 *
 * Time is the interpreter's own, real time: nothing can pause it. Calls that stand for time passing in the V8
 * engine (advance, pressKey) move a script cursor instead, and what a script does (a key, a code held to the
 * scanner) happens when real time reaches the cursor; `runFor(ms)` waits for it. So a script written against the
 * V8 engine (keys, then run) runs unchanged here, in real time.
 *
 * Instance facts (README of the interpreter build): one folder per instance (its Storage is `espruino.flash` there),
 * standard input kept open, and a hard timeout (`timeout -s KILL`); close() kills the whole process group.
 */
import { spawn, execFileSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BoardData } from "../host.ts";
import { Flash } from "../espruino/flash.ts";
import { rawFlashBytes } from "../espruino/flash-module.ts";
import { createHttpModule, WifiModule } from "../espruino/net.ts";
import type { HttpHandler, WifiWorld } from "../espruino/net.ts";
import type { Scheduler } from "../espruino/scheduler.ts";
import { EspruinoStorage } from "../espruino/storage.ts";
import { SYSTEM_AREA_BYTES, systemAreaOf } from "../espruino/partitions.ts";
import { Atecc608Emulator } from "../peripherals/atecc608.ts";
import { EscPosPrinterEmulator } from "../peripherals/escpos-printer.ts";
import { Gm65Emulator } from "../peripherals/gm65.ts";
import { KeypadMatrixEmulator } from "../peripherals/keypad.ts";
import { St7789Emulator } from "../peripherals/st7789.ts";
import { screenLines } from "./screen-text.ts";
import type { ScreenText } from "./screen-text.ts";

export interface EspruinoHostOptions {
  board: BoardData;
  bundle: string;
  /** The interpreter binary (absolute path). */
  bin: string;
  flash?: Flash;
  journalFlash?: Flash;
  secure?: Atecc608Emulator;
  wallClockMs?: number;
  onPrint?: (line: string) => void;
  /** The interpreter is killed after this many seconds whatever happens (default 900). */
  maxLifetimeS?: number;
}

/** Record types the prelude writes (device → simulator); see bridge-prelude.js. */
const enum Out {
  Console = 0x63,
  PinMode = 0x4d,
  Pin = 0x50,
  SerialSetup = 0x58,
  Serial = 0x55,
  SpiSetup = 0x59,
  Spi = 0x53,
  I2cSetup = 0x5a,
  I2cWrite = 0x49,
  I2cRead = 0x52,
  Nrf = 0x42,
  Wifi = 0x57,
  Http = 0x48,
  Covered = 0x43,
  Clear = 0x4b,
  Text = 0x54,
  Memory = 0x6d,
  Eval = 0x65,
  Connected = 0x4f,
  Time = 0x74,
  Reboot = 0x62,
  Typed = 0x79,
  Journal = 0x4a,
  /** The interpreter's clock (its own getTime, seconds) as it starts a synchronous I2C transfer. */
  BusTime = 0x71,
}

/** Frame types the simulator sends (simulator → device). */
const enum In {
  Contacts = 0x6b,
  Type = 0x70,
  Nrf = 0x6e,
  Wifi = 0x77,
  Http = 0x68,
  Memory = 0x6d,
  Eval = 0x65,
}

/** Bytes a UART 'data' event carries at most when a part sends at its baud rate (as sim/host.ts). */
const UART_CHUNK = 16;
const PART_TICK_MS = 5;
/** How long an I2C reply waits for the interpreter to open its end of the reply pipe. */
const REPLY_WAIT_MS = 30000;

const PRELUDE = join(dirname(fileURLToPath(import.meta.url)), "bridge-prelude.js");

function pinNo(name: string): number {
  return parseInt(name.slice(1), 10);
}

export interface JsVars {
  usage: number;
  total: number;
  /** Highest usage seen at any bridged transfer since the last reset, garbage not yet collected included. */
  peak: number;
  /** Highest usage after a garbage collection at any bridged transfer since the last reset (within 16 JsVars under
   * the truth: the bridge collects only when usage passes it by more; sim/engine/bridge-prelude.js), once a
   * `memory({ resetPeak: true, live: true })` asked for it. */
  live: number;
}

/** When things happened, in device time (ms): what the bench times flows with. */
export interface Marks {
  /** The scanner's last byte of each code handed to the bundle. */
  scanEnds: number[];
  /** Each Bluetooth write from the phone delivered. */
  bleWrites: number[];
  /** Each typed key sent. */
  keys: number[];
  /** Each journal write. */
  journal: number[];
  /** Each write to the printer's UART. */
  printer: number[];
  /** Each notification to the phone. */
  notify: number[];
  /** Each string drawn, with its time. */
  texts: { t: number; text: string }[];
}

function noMarks(): Marks {
  return { scanEnds: [], bleWrites: [], keys: [], journal: [], printer: [], notify: [], texts: [] };
}

export class EspruinoHost {
  /** What happened when, since the last clearMarks(). */
  marks: Marks = noMarks();
  readonly engine = "espruino" as const;
  readonly board: BoardData;
  readonly bin: string;
  readonly flash: Flash;
  readonly journalFlash: Flash;
  readonly secure: Atecc608Emulator;
  readonly scanner: Gm65Emulator;
  readonly printer: EscPosPrinterEmulator;
  readonly display: St7789Emulator;
  readonly keypad: KeypadMatrixEmulator;
  readonly wifiWorld: WifiWorld = { networks: {}, enabled: true, connectMs: 1500 };
  httpHandler: HttpHandler | null = null;
  readonly output: string[] = [];
  readonly errors: string[] = [];
  readonly consoles = { telnet: "on", bleUart: true, serial: "Serial1" as string | null, locked: false, password: false };
  readonly ble = { services: {} as Record<string, Record<string, Record<string, unknown>>>, advertising: null as unknown, awake: true, connected: null as string | null };
  readonly bleNotifyListeners: ((service: string, char: string, bytes: Uint8Array) => void)[] = [];
  poweredOn = false;
  /** Device time as the simulator sees it: real milliseconds since power-on. */
  readonly sched: { readonly now: number };
  /** JsVars in use as last reported (the page shows it live). */
  lastMemory: JsVars | null = null;

  private readonly onPrint?: (line: string) => void;
  private readonly maxLifetimeS: number;
  private bundle: string;
  /** Device RTC minus the host's clock, ms. */
  private skew: number;
  private t0 = 0;
  private cursor = 0;
  private dir = "";
  private child: ChildProcess | null = null;
  private server: net.Server | null = null;
  private sock: net.Socket | null = null;
  private outFd = -1;
  private outStream: net.Socket | null = null;
  /** Per UART port, the write end of the pipe its receive side reads (see bridge-prelude.js). */
  private uartIn = new Map<number, number>();
  private pending: Buffer[] = [];
  private connected!: Promise<void>;
  private connectedResolve: () => void = () => {};
  private exited!: Promise<void>;
  private ticker: NodeJS.Timeout | null = null;
  private inBuf: Buffer = Buffer.alloc(0);
  private stdoutRest = "";
  private serial = new Map<number, { baud: number; tx: number; rx: number }>();
  private spiPins: { sck: number; mosi: number } | null = null;
  private i2cOk = false;
  private levels = new Map<number, number>();
  private texts: ScreenText[] = [];
  private scannerLineFreeAt = 0;
  private waiters: { type: number; resolve: (s: string) => void }[] = [];
  private printListeners: ((line: string) => void)[] = [];
  private partListeners: ((port: number, bytes: Uint8Array) => void)[] = [];
  private typedWaiters: { seq: number; fn: () => void }[] = [];
  private keySeq = 0;
  private typedSeq = 0;
  private timers = new Set<NodeJS.Timeout>();
  /**
   * Device time of the I2C transfer being answered (the interpreter's stamp), null otherwise: the secure element
   * is clocked by when the interpreter started each transfer, on the device's clock without the time transfers
   * waited for the simulator (bridge-prelude.js, call), not by when the simulator got to it. The interpreter waits
   * for every I2C reply, so a busy simulator stretched the bus: the part's 1.3 s watchdog ran out between a wake
   * and its read (a signature refused as "wake") although the interpreter issued them 2 ms apart.
   */
  private busNow: number | null = null;
  private busStamp: number | null = null;
  private busLast = 0;
  /** Device time minus the interpreter's stamps, as small as seen since this boot. */
  private busOffset = Infinity;

  constructor(o: EspruinoHostOptions) {
    this.board = o.board;
    this.bin = o.bin;
    this.bundle = o.bundle;
    this.onPrint = o.onPrint;
    this.maxLifetimeS = o.maxLifetimeS ?? 900;
    this.skew = o.wallClockMs === undefined ? 0 : o.wallClockMs - Date.now();
    // before the parts are made: their clocks (boot times, byte times) start at power-on, as device time does
    this.t0 = performance.now();
    const now = () => this.elapsed();
    const partNow = () => (this.busNow !== null ? this.busNow : this.elapsed());
    const st = o.board.platform.storage;
    this.flash = o.flash ?? new Flash({ size: st.pageSize * st.pages, pageSize: st.pageSize });
    const jr = o.board.platform.journal;
    this.journalFlash = o.journalFlash ?? new Flash({ size: rawFlashBytes(o.board.platform), pageSize: jr.pageSize });
    this.secure = o.secure ?? new Atecc608Emulator({ now: partNow, address: o.board.wiring.secure.address });
    const w = o.board.wiring;
    this.scanner = new Gm65Emulator({ now, onTransmit: (b) => this.fromPart(w.scanner.port, b) });
    this.printer = new EscPosPrinterEmulator({ now, baud: w.printer.baud, onTransmit: (b) => this.fromPart(w.printer.port, b) });
    this.display = new St7789Emulator({ width: w.display.width, height: w.display.height, uprightMadctl: w.display.madctl === 0 ? 0x00 : 0xc0 });
    this.keypad = new KeypadMatrixEmulator(w.keypad.keys, w.keypad.rows, w.keypad.cols);
    const self = this;
    this.sched = {
      get now() {
        return self.busNow !== null ? self.busNow : self.elapsed();
      },
    };
  }

  /** Device time runs on across power cycles, as the V8 engine's does. */
  private elapsed(): number {
    return performance.now() - this.t0;
  }

  // ------------------------------------------------------------------ power

  /** Wall-clock time as the device's RTC reads it (the bridge's RTC: the host's clock plus an offset). */
  wallClock(): number {
    return Date.now() + this.skew;
  }

  /** Set the device's RTC (ms since the epoch): taken at the next boot, or now through the bridge while running. */
  setWallClock(ms: number): void {
    this.skew = ms - Date.now();
    if (this.poweredOn) void this.evalInDevice(`setTime(${ms / 1000})`);
  }

  /** Move the device's RTC forward (days pass): through the bridge, as the firmware's own `setTime` would. */
  skewWallClock(ms: number): void {
    this.skew += ms;
    if (this.poweredOn) void this.evalInDevice(`setTime(${this.wallClock() / 1000})`);
  }

  /** Power on: the bundle and the bridge go into Storage, and the interpreter starts from it as the device does. */
  boot(): void {
    if (this.child) this.powerOff();
    this.poweredOn = true;
    this.texts = [];
    this.serial.clear();
    this.levels.clear();
    this.spiPins = null;
    this.i2cOk = false;
    this.scannerLineFreeAt = 0;
    this.busOffset = Infinity;
    this.busStamp = null;
    // what the last interpreter wrote before its power went: half a record or line, never the start of this one's
    this.inBuf = Buffer.alloc(0);
    this.stdoutRest = "";
    this.consoles.serial = "Serial1";
    this.ble.services = {};
    this.ble.advertising = null;
    this.ble.connected = null;
    this.dir = mkdtempSync(join(tmpdir(), "espruino-engine-"));
    this.connected = new Promise((r) => (this.connectedResolve = r));
    this.server = net.createServer((s) => {
      if (this.sock) return s.destroy();
      this.sock = s;
      s.setNoDelay(true);
      s.on("error", () => {});
    });
    const server = this.server;
    server.listen(0, "127.0.0.1", () => {
      if (this.server !== server || !this.poweredOn) return;
      this.start((server.address() as net.AddressInfo).port);
    });
    const sched = this.realScheduler();
    const wifi = new WifiModule(this.wifiWorld, sched);
    for (const ev of ["associated", "connected", "disconnected"]) wifi.on(ev, (d) => this.sendJson(In.Wifi, { ev, arg: d }));
    this.wifi = wifi;
    this.http = createHttpModule(wifi, sched, () => this.httpHandler);
    this.ticker = setInterval(() => {
      this.printer.tick();
      this.scanner.tick();
    }, PART_TICK_MS);
  }

  /** Storage gets the bridge and the bundle; the interpreter starts from it, bridged through `port`. */
  private start(port: number): void {
    const out = join(this.dir, "bridge.out");
    const reply = join(this.dir, "bridge.reply");
    execFileSync("mkfifo", [out, reply]);
    // a UART's receive side: held open read-write here too, so the interpreter's open never waits and a byte
    // written before it reads is kept, as in a UART's receive FIFO
    for (const port of [2, 3]) {
      const f = join(this.dir, "uart" + port);
      execFileSync("mkfifo", [f]);
      this.uartIn.set(port, openSync(f, constants.O_RDWR | constants.O_NONBLOCK));
    }
    // Read end held open read-write, so the interpreter's appends never block and the stream never ends.
    this.outFd = openSync(out, constants.O_RDWR | constants.O_NONBLOCK);
    this.outStream = new net.Socket({ fd: this.outFd, readable: true, writable: false });
    this.outStream.on("data", (d: Buffer) => this.onOut(d));
    this.outStream.on("error", () => {});
    const jr = this.board.platform.journal;
    const w = this.board.wiring;
    const report = [w.display.dc, w.display.rst].map((p) => pinNo(p) + ":1").join(",");
    const prelude = readFileSync(PRELUDE, "utf8")
      .replace("@OUT@", out)
      .replace("@REPLY@", reply)
      .replace("@UART_IN@", join(this.dir, "uart"))
      .replace("@PORT@", String(port))
      .replace("@JOURNAL@", join(this.dir, "journal.bin"))
      .replace("@JBASE@", String(jr.address))
      .replace("@JSIZE@", String(this.journalFlash.size))
      .replace("@JEND@", String(jr.address + jr.pageSize * jr.pageCount))
      .replace("@REPORT@", report)
      .replace("@SKEW@", String(this.skew / 1000))
      .replace("@SYSTEM@", join(this.dir, "system.bin"))
      .replace("@SYSSIZE@", String(SYSTEM_AREA_BYTES));
    const storage = new EspruinoStorage(this.flash);
    storage.boot();
    if (storage.read(".boot0") !== prelude) storage.write(".boot0", prelude);
    // as the V8 engine boots: `.bootcde` from Storage when it is there (flashed, or an update's stub), else the bundle
    if (this.bundle && storage.read(".bootcde") === undefined) storage.write(".bootcde", this.bundle);
    writeFileSync(join(this.dir, "espruino.flash"), this.flash.bytes);
    writeFileSync(join(this.dir, "journal.bin"), this.journalFlash.bytes);
    writeFileSync(join(this.dir, "system.bin"), systemAreaOf(this.journalFlash).bytes);
    // its own process group, so close() kills `timeout` and the interpreter together
    const child = spawn("timeout", ["-s", "KILL", String(this.maxLifetimeS), this.bin], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.child = child;
    this.exited = new Promise((r) => child.on("exit", () => r()));
    child.stdout!.on("data", (d: Buffer) => this.onStdout(d.toString("latin1")));
    child.stderr!.on("data", () => {});
    child.stdin!.on("error", () => {});
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.poweredOn) {
        this.poweredOn = false;
        const why = "the interpreter stopped (" + (signal ?? "exit " + code) + ")";
        this.errors.push(why);
        this.print(why);
      }
    });
    this.server!.once("connection", () => {
      // the prelude's socket is up: what the simulator sent meanwhile goes out now
      for (const b of this.pending) this.sock!.write(b);
      this.pending = [];
    });
  }

  /** Cut power: the interpreter is killed; Storage and the journal keep what was written. */
  powerOff(): void {
    if (!this.poweredOn && !this.child) return;
    this.poweredOn = false;
    const child = this.child;
    this.child = null;
    if (child && child.pid) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.stopIo();
    this.syncFlash();
    this.secure.powerCycle();
    this.scanner.powerCycle();
  }

  reboot(): void {
    this.powerOff();
    this.boot();
  }

  /** Power off, wait until the process is gone, and remove its folder. Tests must call it. */
  async close(): Promise<void> {
    const exited = this.exited;
    this.powerOff();
    if (exited) await exited;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = "";
  }

  private stopIo(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.sock) this.sock.destroy();
    this.sock = null;
    if (this.server) this.server.close();
    this.server = null;
    if (this.outStream) this.outStream.destroy();
    this.outStream = null;
    this.outFd = -1;
    for (const fd of this.uartIn.values()) closeSync(fd);
    this.uartIn.clear();
    this.pending = [];
    for (const w of this.waiters) w.resolve("");
    this.waiters = [];
  }

  /** The interpreter's flash files back into the simulator's images (persistence, provisioning on the V8 engine). */
  syncFlash(): void {
    if (!this.dir) return;
    try {
      this.flash.bytes.set(readFileSync(join(this.dir, "espruino.flash")).subarray(0, this.flash.size));
      this.journalFlash.bytes.set(readFileSync(join(this.dir, "journal.bin")).subarray(0, this.journalFlash.size));
      const sys = systemAreaOf(this.journalFlash);
      sys.bytes.set(readFileSync(join(this.dir, "system.bin")).subarray(0, sys.size));
    } catch {
      // never started
    }
  }

  // ------------------------------------------------------------------ time: the script cursor

  /** Let `ms` pass in the script: later actions happen that much later in real time. */
  advance(ms: number): void {
    this.cursor = Math.max(this.cursor, this.elapsed()) + ms;
  }

  /** Run `fn` when real time reaches the script cursor (at once if it has). */
  act(fn: () => void): void {
    const run = () => {
      try {
        fn();
      } catch (e) {
        this.errors.push("simulator: " + (e instanceof Error ? e.message : String(e)));
      }
    };
    const wait = this.cursor - this.elapsed();
    if (wait <= 0) return run();
    const t = setTimeout(() => {
      this.timers.delete(t);
      run();
    }, wait);
    this.timers.add(t);
  }

  /** Wait (in real time) until the script cursor, then `ms` more. */
  async runFor(ms: number): Promise<void> {
    this.advance(ms);
    const wait = this.cursor - this.elapsed();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Until the bridge's socket is up (the prelude connects at boot). */
  async ready(timeoutMs = 20000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.connected,
      new Promise<void>((_r, rej) => {
        timer = setTimeout(() => rej(new Error("the interpreter's bridge did not connect in " + timeoutMs + " ms (" + this.bridgeState() + "); it printed: " + this.output.slice(-10).join(" | "))), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Where a bridge that never came up stopped: no server, no interpreter, no socket, or no greeting on it. */
  private bridgeState(): string {
    if (!this.poweredOn) return "powered off";
    if (!this.server) return "no server";
    if (!this.child) return "the interpreter was not started";
    if (this.child.exitCode !== null || this.child.signalCode !== null) return "the interpreter exited";
    return this.sock ? "its socket is open, its greeting never came" : "the interpreter runs, its socket never opened";
  }

  // ------------------------------------------------------------------ the merchant's side

  keyDown(key: string): void {
    this.keypad.press(key);
    this.sendContacts();
  }

  keyUp(key: string): void {
    this.keypad.release(key);
    this.sendContacts();
  }

  /**
   * Press and release a key: held `holdMs` of the interpreter's own time, the next key typed 40 ms after the release
   * (the prelude types keys one after another), so a frame that arrives late never shortens a press.
   */
  pressKey(key: string, holdMs = 60): void {
    const k = this.keypad;
    const i = k.keys.indexOf(key);
    if (i < 0 || key.length !== 1) throw new Error(`keypad: no key "${key}"`);
    const pair = pinNo(k.rows[Math.floor(i / k.cols.length)]) + "," + pinNo(k.cols[i % k.cols.length]);
    const seq = ++this.keySeq;
    this.act(() => {
      this.sendIn(In.Type, 0, Buffer.from(holdMs + ",40;" + pair + ";" + seq, "latin1"));
      this.marks.keys.push(this.elapsed());
    });
    this.advance(holdMs + 40);
  }

  /**
   * Resolves once the interpreter has typed every key sent so far (the last release seen by the keypad driver), or
   * after `timeoutMs`, failing.
   */
  async typed(timeoutMs = 20000): Promise<void> {
    const seq = this.keySeq;
    if (this.typedSeq >= seq) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => this.typedWaiters.push({ seq, fn: r })),
      new Promise<void>((_r, rej) => {
        timer = setTimeout(() => rej(new Error("the interpreter did not take the typed keys in " + timeoutMs + " ms")), timeoutMs + Math.max(0, this.cursor - this.elapsed()));
      }),
    ]);
    clearTimeout(timer);
  }

  /** Closed key contacts as pin pairs: a held key ties its row wire to its column wire. */
  private sendContacts(): void {
    const k = this.keypad;
    const pairs: number[] = [];
    for (const key of k.heldKeys()) {
      const i = k.keys.indexOf(key);
      pairs.push(pinNo(k.rows[Math.floor(i / k.cols.length)]), pinNo(k.cols[i % k.cols.length]));
    }
    this.sendIn(In.Contacts, 0, Buffer.from(pairs.join(","), "latin1"));
  }

  setWifi(enabled: boolean, networks?: Record<string, string>): void {
    this.wifiWorld.enabled = enabled;
    if (networks) this.wifiWorld.networks = networks;
    if (this.wifi) this.wifi.worldChanged();
  }

  screenText(): string[] {
    return screenLines(this.texts);
  }

  // ------------------------------------------------------------------ Bluetooth central (sim/peripherals/ble-phone.ts)

  bleConnect(address: string): void {
    this.ble.connected = address;
    this.sendJson(In.Nrf, { ev: "connect", arg: address });
  }

  bleDisconnect(reason = 19): void {
    if (!this.ble.connected) return;
    this.ble.connected = null;
    this.sendJson(In.Nrf, { ev: "disconnect", arg: reason });
  }

  bleWrite(service: string, char: string, bytes: Uint8Array): void {
    const ch = this.ble.services[service] && this.ble.services[service][char];
    if (!ch || !ch.writable || !ch.onWrite) throw new Error("BLE: characteristic " + service + "/" + char + " is not writable");
    this.sendJson(In.Nrf, { ev: "write", service, char, data: Buffer.from(bytes).toString("hex") });
    this.marks.bleWrites.push(this.elapsed());
  }

  clearMarks(): void {
    this.marks = noMarks();
  }

  // ------------------------------------------------------------------ console and memory

  addPrintListener(fn: (line: string) => void): () => void {
    this.printListeners.push(fn);
    return () => {
      this.printListeners = this.printListeners.filter((x) => x !== fn);
    };
  }

  /**
   * JsVars in use (`process.memory()`; `gc` runs Espruino's garbage collection first, as process.memory() does by
   * default) and the peak seen at any bridged transfer since the last `resetPeak`; `live` with `resetPeak` turns on
   * the peak after garbage collection from then on (JsVars.live; 0 until then).
   */
  async memory(o: { gc?: boolean; resetPeak?: boolean; live?: boolean } = {}): Promise<JsVars> {
    await this.ready();
    const r = await this.request(Out.Memory, In.Memory, o.resetPeak ? (o.live ? 3 : 2) : o.gc === false ? 0 : 1, Buffer.alloc(0));
    const [usage, total, peak, live] = r.split(",").map(Number);
    this.lastMemory = { usage, total, peak, live };
    return this.lastMemory;
  }

  /** Evaluate JavaScript in the interpreter's global scope (Espruino's REPL), through the bridge. */
  async evalInDevice(code: string): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
    await this.ready();
    const r = await this.request(Out.Eval, In.Eval, 0, Buffer.from(code, "latin1"));
    if (r[0] === "=") return { ok: true, value: r.length > 1 && r !== "=undefined" ? JSON.parse(r.slice(1)) : undefined };
    return { ok: false, error: r.slice(1) };
  }

  private request(reply: number, type: number, arg: number, payload: Buffer): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.push({ type: reply, resolve });
      this.sendIn(type, arg, payload);
    });
  }

  // ------------------------------------------------------------------ the bridge: simulator → device

  private sendIn(type: number, arg: number, payload: Buffer): void {
    if (payload.length > 0xffff) throw new Error("bridge: a frame of " + payload.length + " bytes is over 65,535");
    const b = Buffer.alloc(4 + payload.length);
    b[0] = type;
    b[1] = arg;
    b.writeUInt16LE(payload.length, 2);
    payload.copy(b, 4);
    if (this.sock) this.sock.write(b);
    else this.pending.push(b);
  }

  private sendJson(type: number, o: unknown): void {
    this.sendIn(type, 0, Buffer.from(JSON.stringify(o), "latin1"));
  }

  /** Also send `fn` every byte an emulated part (scanner, printer) puts on its TX line towards the bundle. */
  addPartListener(fn: (port: number, bytes: Uint8Array) => void): () => void {
    this.partListeners.push(fn);
    return () => {
      this.partListeners = this.partListeners.filter((x) => x !== fn);
    };
  }

  /**
   * Storage as the interpreter has written it (read from its flash file now). Reading only: a write here would not
   * reach the running interpreter.
   */
  get storage(): EspruinoStorage {
    if (this.child) this.syncFlash();
    return new EspruinoStorage(this.flash);
  }

  private fromPart(port: number, b: Uint8Array): void {
    for (const fn of this.partListeners) fn(port, b);
    if (!this.poweredOn) return;
    const s = this.serial.get(port);
    if (!s) return; // nobody listening: bytes are lost, as on a UART
    const baud = this.scanner.baud;
    if (port === this.board.wiring.scanner.port && baud > 0) {
      // the GM65 sends at its baud rate: a long code reaches the bundle in several 'data' events over time
      const byteMs = 10000 / baud;
      let t = Math.max(this.elapsed(), this.scannerLineFreeAt);
      for (let i = 0; i < b.length; i += UART_CHUNK) {
        const part = Buffer.from(b.subarray(i, Math.min(b.length, i + UART_CHUNK)));
        t += part.length * byteMs;
        const last = i + UART_CHUNK >= b.length;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.toUart(port, part);
          if (last) this.marks.scanEnds.push(this.elapsed());
        }, Math.max(0, t - this.elapsed()));
        this.timers.add(timer);
      }
      this.scannerLineFreeAt = t;
      return;
    }
    this.toUart(port, Buffer.from(b));
  }

  /** Bytes onto the receive line of the interpreter's UART `port` (its pipe; see bridge-prelude.js). */
  private toUart(port: number, b: Buffer): void {
    const fd = this.uartIn.get(port);
    if (fd === undefined || !this.poweredOn) return;
    try {
      writeSync(fd, b);
    } catch (e) {
      // EAGAIN: 64 KB unread in the pipe, far beyond any UART's receive buffer; the bytes are lost, loudly
      this.errors.push("bridge: Serial" + port + " overran its receive pipe (" + String(e) + ")");
    }
  }

  // ------------------------------------------------------------------ the bridge: device → simulator

  private onOut(d: Buffer): void {
    this.inBuf = this.inBuf.length ? Buffer.concat([this.inBuf, d]) : d;
    let off = 0;
    while (this.inBuf.length - off >= 5) {
      const n = this.inBuf[off + 2] | (this.inBuf[off + 3] << 8) | (this.inBuf[off + 4] << 16);
      if (this.inBuf.length - off < 5 + n) break;
      const t = this.inBuf[off];
      const a = this.inBuf[off + 1];
      const p = this.inBuf.subarray(off + 5, off + 5 + n);
      off += 5 + n;
      try {
        this.record(t, a, p);
      } catch (e) {
        this.errors.push("bridge: " + (e instanceof Error ? e.message : String(e)));
      }
    }
    this.inBuf = off < this.inBuf.length ? Buffer.from(this.inBuf.subarray(off)) : Buffer.alloc(0);
  }

  private wifi: WifiModule | null = null;
  private http: ReturnType<typeof createHttpModule> | null = null;

  /** The Scheduler shape sim/espruino/net.ts runs on, in real time (its timers die with the interpreter). */
  private realScheduler(): Scheduler {
    let id = 1;
    const live = new Map<number, NodeJS.Timeout>();
    const at = (ms: number, fn: () => void): number => {
      const n = id++;
      const t = setTimeout(() => {
        live.delete(n);
        this.timers.delete(t);
        if (this.poweredOn) fn();
      }, ms);
      live.set(n, t);
      this.timers.add(t);
      return n;
    };
    return {
      at,
      post: (fn: () => void) => void at(0, fn),
      cancel: (n: number) => {
        const t = live.get(n);
        if (t) clearTimeout(t);
        live.delete(n);
      },
    } as unknown as Scheduler;
  }

  private record(t: number, a: number, p: Buffer): void {
    const w = this.board.wiring;
    switch (t) {
      case Out.Connected:
        this.connectedResolve();
        return;
      case Out.Journal:
        this.marks.journal.push(this.elapsed());
        return;
      case Out.Typed: {
        this.typedSeq = Math.max(this.typedSeq, Number(p.toString("latin1")));
        const ready = this.typedWaiters.filter((x) => x.seq <= this.typedSeq);
        this.typedWaiters = this.typedWaiters.filter((x) => x.seq > this.typedSeq);
        for (const x of ready) x.fn();
        return;
      }
      case Out.Reboot:
        // E.reboot(): the Linux build only exits; the device restarts from Storage, so the engine powers it up again
        setImmediate(() => {
          if (this.poweredOn) this.reboot();
        });
        return;
      case Out.Time:
        this.skew = Number(p.toString("latin1")) * 1000 - Date.now();
        return;
      case Out.Console:
        this.consoles.serial = p.length ? p.toString("latin1") : null;
        return;
      case Out.PinMode:
        return;
      case Out.Pin: {
        const level = p[0] === 0x31 ? 1 : 0;
        const was = this.levels.get(a) ?? 0;
        if (a === pinNo(w.display.rst) && was === 1 && level === 0) this.display.hardwareReset();
        this.levels.set(a, level);
        return;
      }
      case Out.SerialSetup: {
        const [baud, tx, rx] = p.toString("latin1").split(",").map(Number);
        this.serial.set(a, { baud, tx, rx });
        return;
      }
      case Out.Serial: {
        const s = this.serial.get(a);
        if (!s) throw new Error("Serial" + a + " written before setup");
        // bytes reach a part only on its pins and at its speed; anything else is noise on a floating line
        const part = a === w.scanner.port ? w.scanner : a === w.printer.port ? w.printer : null;
        if (!part) return;
        const baud = a === w.scanner.port ? this.scanner.baud : part.baud;
        if (s.tx !== pinNo(part.tx) || s.rx !== pinNo(part.rx) || s.baud !== baud) return;
        const bytes = new Uint8Array(p);
        if (a === w.scanner.port) this.scanner.receive(bytes);
        else {
          this.marks.printer.push(this.elapsed());
          this.printer.receive(bytes);
        }
        return;
      }
      case Out.SpiSetup: {
        const [sck, mosi] = p.toString("latin1").split(",").map(Number);
        this.spiPins = { sck, mosi };
        return;
      }
      case Out.Spi: {
        const d = w.display;
        if (!this.spiPins || this.spiPins.sck !== pinNo(d.sck) || this.spiPins.mosi !== pinNo(d.mosi) || a !== pinNo(d.cs)) return;
        this.display.write(new Uint8Array(p), (this.levels.get(pinNo(d.dc)) ?? 0) === 1);
        return;
      }
      case Out.I2cSetup: {
        const [scl, sda] = p.toString("latin1").split(",").map(Number);
        this.i2cOk = scl === pinNo(w.secure.scl) && sda === pinNo(w.secure.sda);
        return;
      }
      case Out.BusTime: {
        // ms since the bridge started, in device time: the offset is the smallest seen (the least delayed record)
        const ms = Number(p.toString("latin1"));
        this.busOffset = Math.min(this.busOffset, this.elapsed() - ms);
        this.busStamp = ms + this.busOffset;
        return;
      }
      case Out.I2cWrite:
      case Out.I2cRead: {
        this.busNow = Math.min(this.elapsed(), Math.max(this.busLast, this.busStamp ?? this.elapsed()));
        this.busLast = this.busNow;
        this.busStamp = null;
        let r: Uint8Array | null;
        try {
          if (t === Out.I2cWrite) r = this.i2cOk && this.secure.i2cWrite(a, new Uint8Array(p)) ? Uint8Array.of(0x41) : null;
          else r = this.i2cOk ? this.secure.i2cRead(a, p[0] | (p[1] << 8)) : null;
        } finally {
          this.busNow = null;
        }
        this.reply(r ? Buffer.from(r) : Buffer.alloc(0));
        return;
      }
      case Out.Nrf:
        this.nrf(JSON.parse(p.toString("latin1")));
        return;
      case Out.Wifi:
        this.wifiRecord(JSON.parse(p.toString("latin1")));
        return;
      case Out.Http:
        this.httpRecord(JSON.parse(p.toString("latin1")));
        return;
      case Out.Covered: {
        const [x1, y1, x2, y2] = p.toString("latin1").split(",").map(Number);
        this.texts = this.texts.filter((q) => q.x2 < x1 || q.x1 > x2 || q.y2 < y1 || q.y1 > y2);
        return;
      }
      case Out.Clear:
        this.texts = [];
        return;
      case Out.Text: {
        const s = p.toString("latin1");
        const parts = s.split(",");
        const [x1, y1, x2, y2] = parts.slice(0, 4).map(Number);
        const text = parts.slice(4).join(",");
        this.texts = this.texts.filter((q) => q.x2 < x1 || q.x1 > x2 || q.y2 < y1 || q.y1 > y2);
        this.texts.push({ text, x1, y1, x2, y2 });
        this.marks.texts.push({ t: this.elapsed(), text });
        return;
      }
      case Out.Memory:
      case Out.Eval: {
        const i = this.waiters.findIndex((x) => x.type === t);
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(p.toString("latin1"));
        return;
      }
      default:
        throw new Error("unknown record 0x" + t.toString(16));
    }
  }

  /** Answer the synchronous I2C transfer the interpreter is blocked on (it reads the reply pipe to its end). */
  private reply(b: Buffer, since = performance.now()): void {
    if (!this.dir || !this.poweredOn) return;
    let fd: number;
    try {
      fd = openSync(join(this.dir, "bridge.reply"), constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      // ENXIO: the interpreter has not opened its end yet (on a loaded machine it may not run for a while after
      // writing its record: the wait is bounded by time, not by a count of tries, which a fast loop spends at once)
      if ((e as NodeJS.ErrnoException).code === "ENXIO" && performance.now() - since < REPLY_WAIT_MS) {
        // at once for the first few ms (the usual case), then every ms, so a stalled interpreter costs no CPU
        if (performance.now() - since < 5) setImmediate(() => this.reply(b, since));
        else setTimeout(() => this.reply(b, since), 1);
        return;
      }
      this.errors.push("bridge: the interpreter did not wait for its I2C reply (" + String(e) + ")");
      return;
    }
    try {
      if (b.length) writeSync(fd, b);
    } finally {
      closeSync(fd);
    }
  }

  private nrf(m: { op: string; services?: Record<string, Record<string, Record<string, unknown>>>; uart?: boolean; data?: unknown; opts?: unknown }): void {
    const val = (ch: Record<string, unknown>) => {
      if (typeof ch.value === "string") ch.value = new Uint8Array(Buffer.from(ch.value, "hex"));
    };
    switch (m.op) {
      case "setServices":
        if (this.ble.connected) return; // ESP32 Espruino skips setServices while connected
        this.ble.services = m.services || {};
        for (const s in this.ble.services) for (const c in this.ble.services[s]) val(this.ble.services[s][c]);
        this.consoles.bleUart = m.uart !== false;
        return;
      case "updateServices": {
        const upd = m.services || {};
        for (const s in upd)
          for (const c in upd[s]) {
            val(upd[s][c]);
            const ch = this.ble.services[s] && this.ble.services[s][c];
            if (!ch) continue;
            Object.assign(ch, upd[s][c]);
            if (upd[s][c].notify && this.ble.connected) this.marks.notify.push(this.elapsed());
            if (upd[s][c].notify && this.ble.connected && upd[s][c].value instanceof Uint8Array) for (const fn of this.bleNotifyListeners) fn(s, c, new Uint8Array(upd[s][c].value as Uint8Array));
          }
        return;
      }
      case "setAdvertising":
        this.ble.advertising = { data: m.data, opts: m.opts };
        return;
      case "disconnect":
        if (!this.ble.connected) return;
        this.ble.connected = null;
        this.sendJson(In.Nrf, { ev: "disconnect", arg: 22 });
        return;
      case "sleep":
        this.ble.awake = false;
        return;
      case "wake":
        this.ble.awake = true;
        return;
    }
  }

  /** The radio and the network are the V8 engine's own (sim/espruino/net.ts), run on real time. */
  private wifiRecord(m: { op: string; ssid?: string; password?: string }): void {
    const wifi = this.wifi!;
    if (m.op === "disconnect") return wifi.disconnect();
    wifi.connect(String(m.ssid), { password: m.password }, (err) => this.sendJson(In.Wifi, { ev: "connect-result", err }));
  }

  private httpRecord(m: { id: number; method: string; host: string; port: number; path: string; protocol?: string; headers: Record<string, string>; body: string }): void {
    const send = (o: Record<string, unknown>) => {
      if (this.poweredOn) this.sendJson(In.Http, { id: m.id, ...o });
    };
    const req = this.http!.request(m as unknown as Record<string, unknown>, (res) => {
      send({ ev: "response", status: res.statusCode });
      res.on("data", (d) => send({ ev: "data", data: String(d) }));
      res.on("close", () => send({ ev: "close" }));
    });
    req.on("error", (e) => send({ ev: "error", message: (e as { message?: string }).message ?? String(e) }));
    req.end(m.body);
  }

  // ------------------------------------------------------------------ what the interpreter prints

  private onStdout(s: string): void {
    const all = this.stdoutRest + s.replace(/\r/g, "");
    const lines = all.split("\n");
    this.stdoutRest = lines.pop() ?? "";
    for (let l of lines) {
      l = l.replace(/^>?\x1b\[J/, "").replace(/^>+/, "");
      if (!l.trim()) continue;
      if (l.indexOf("Uncaught") >= 0 || l.indexOf("OUT OF MEMORY") >= 0 || l.indexOf("New interpreter error") >= 0) this.errors.push(l.trim());
      this.print(l);
    }
  }

  private print(line: string): void {
    this.output.push(line);
    if (this.onPrint) this.onPrint(line);
    for (const fn of this.printListeners) fn(line);
  }
}
