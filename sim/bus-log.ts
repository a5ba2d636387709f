/**
 * The bus log: what crosses each wire between the ESP32 and its parts, as a logic analyser with protocol decoders
 * would show it. Each entry has the device time, the channel (the scanner's and the printer's UART, the secure
 * element's I2C, the panel's SPI, Bluetooth, HTTP), the direction (`out` from the ESP32, `in` towards it), the bytes
 * (hex, the first 64) and a one-line summary decoded from the part's datasheet.
 *
 *   const log = new BusLog();
 *   log.attach(world.host, world.board.wiring);      // either engine: it taps the parts the host wires
 *   log.http(req, reply);                             // the world's HTTP peer reports its exchanges
 *   log.entries({ since: 0, channels: ["i2c"] });     // oldest first, at most `capacity` kept
 *
 * It taps the parts at their entry points (the emulators' `receive`, `write`, `i2cWrite`/`i2cRead`, the host's
 * Bluetooth central calls and its part listener), so it sees exactly what the bundle put on a wire that reaches a
 * part, whichever engine runs the bundle, without changing any emulator.
 */
import type { TerminalHost } from "./engine/engine.ts";
import type { HttpExchange } from "./espruino/net.ts";

export type BusChannel = "scanner" | "printer" | "i2c" | "spi" | "ble" | "http";
export const BUS_CHANNELS: BusChannel[] = ["scanner", "printer", "i2c", "spi", "ble", "http"];

export interface BusEntry {
  id: number;
  /** Device time (ms since the engine started). */
  t: number;
  ch: BusChannel;
  /** `out`: from the ESP32 to the part (or the phone, the gateway); `in`: towards the ESP32. */
  dir: "out" | "in";
  /** How many bytes the entry covers (a coalesced run: all of them). */
  bytes: number;
  /** The first 64 bytes, hex, space-separated. */
  hex: string;
  /** Decoded: the command's name, its parameters, printable text. */
  text: string;
  /** The same entry seen this many times in a row (an I2C poll the part NACKs while it computes). */
  repeat: number;
}

const HEX_MAX = 64;
/** UART bytes within this many ms of the entry's last byte, same direction, join it (one code, one receipt line). */
const UART_JOIN_MS = 3;

/**
 * ST7789 command names, Sitronix ST7789V datasheet v1.6, section 9.1 "System function command table 1" and 9.2
 * "System function command table 2".
 */
const ST7789: Record<number, string> = {
  0x00: "NOP", 0x01: "SWRESET", 0x04: "RDDID", 0x09: "RDDST", 0x10: "SLPIN", 0x11: "SLPOUT", 0x12: "PTLON", 0x13: "NORON",
  0x20: "INVOFF", 0x21: "INVON", 0x26: "GAMSET", 0x28: "DISPOFF", 0x29: "DISPON", 0x2a: "CASET", 0x2b: "RASET", 0x2c: "RAMWR",
  0x30: "PTLAR", 0x33: "VSCRDEF", 0x34: "TEOFF", 0x35: "TEON", 0x36: "MADCTL", 0x37: "VSCSAD", 0x38: "IDMOFF", 0x39: "IDMON",
  0x3a: "COLMOD", 0x3c: "RAMWRC", 0x44: "TESCAN", 0x51: "WRDISBV", 0x53: "WRCTRLD", 0x55: "WRCACE", 0x5e: "WRCABCMB",
  0xb0: "RAMCTRL", 0xb1: "RGBCTRL", 0xb2: "PORCTRL", 0xb3: "FRCTRL1", 0xb7: "GCTRL", 0xba: "DGMEN", 0xbb: "VCOMS", 0xc0: "LCMCTRL",
  0xc1: "IDSET", 0xc2: "VDVVRHEN", 0xc3: "VRHS", 0xc4: "VDVS", 0xc5: "VCMOFSET", 0xc6: "FRCTRL2", 0xca: "REGSEL1", 0xcb: "REGSEL2",
  0xcc: "PWMFRSEL", 0xd0: "PWCTRL1", 0xd2: "VAPVANEN", 0xdf: "CMD2EN", 0xe0: "PVGAMCTRL", 0xe1: "NVGAMCTRL", 0xe4: "GATECTRL",
  0xe7: "SPI2EN", 0xe8: "PWCTRL2", 0xe9: "EQCTRL", 0xec: "PROMCTRL", 0xfa: "PROMEN", 0xfc: "NVMSET", 0xfe: "PROMACT",
};

/**
 * ATECC608 opcodes, Microchip "ATECC608A CryptoAuthentication Device Summary Data Sheet" (DS40001977), table
 * "Command Opcodes" (and the same values in Microchip's public cryptoauthlib, calib_command.h).
 */
const ATECC_OP: Record<number, string> = {
  0x01: "Pause", 0x02: "Read", 0x05: "MAC", 0x08: "HMAC", 0x0d: "CheckMac", 0x0e: "DeriveKey", 0x11: "SelfTest", 0x12: "Write",
  0x13: "GenDig", 0x15: "GenDivKey", 0x16: "Nonce", 0x17: "Lock", 0x1b: "Random", 0x1c: "KDF", 0x20: "UpdateExtra", 0x24: "Counter",
  0x28: "AES", 0x30: "Info", 0x40: "GenKey", 0x41: "Sign", 0x43: "ECDH", 0x45: "Verify", 0x46: "SecureBoot", 0x47: "SHA",
};
/** The word address, the first byte of every I2C write (same data sheet, "I/O Transmission Flags"). */
const ATECC_WORD: Record<number, string> = { 0x00: "reset", 0x01: "sleep", 0x02: "idle", 0x03: "command" };
/** Status codes of a 4-byte response (same data sheet, "Status/Error Codes"). */
const ATECC_STATUS: Record<number, string> = { 0x00: "success", 0x01: "checkmac/verify miscompare", 0x03: "parse error", 0x05: "ECC fault", 0x07: "self-test error", 0x08: "health test error", 0x0f: "execution error", 0x11: "after wake", 0xee: "watchdog about to expire", 0xff: "CRC or other communication error" };

const h2 = (n: number) => n.toString(16).padStart(2, "0");
const hexOf = (b: Uint8Array) => Array.from(b.subarray(0, HEX_MAX), h2).join(" ") + (b.length > HEX_MAX ? " …" : "");

/** Printable ASCII as is, the rest as escapes (\r, \n, \x1b), at most 80 characters. */
export function printable(b: Uint8Array, max = 80): string {
  let s = "";
  for (let i = 0; i < b.length && s.length < max; i++) {
    const c = b[i];
    s += c === 13 ? "\\r" : c === 10 ? "\\n" : c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "\\x" + h2(c);
  }
  return s.length >= max ? s + "…" : s;
}

/** An I2C write to the ATECC608, decoded: wake, reset/sleep/idle, or a command with its opcode and parameters. */
export function decodeAteccWrite(addr: number, b: Uint8Array): string {
  if (addr === 0) return "wake pulse (SDA low)";
  const word = ATECC_WORD[b[0]] ?? "word 0x" + h2(b[0]);
  if (b[0] !== 0x03 || b.length < 7) return `@0x${h2(addr)} ${word}`;
  // count | opcode | param1 | param2 (LE, 2) | data | CRC (2): count covers all of it
  const op = b[2];
  const p2 = b[4] | (b[5] << 8);
  const data = Math.max(0, b[1] - 7);
  return `@0x${h2(addr)} ${ATECC_OP[op] ?? "opcode 0x" + h2(op)} p1=0x${h2(b[3])} p2=0x${p2.toString(16).padStart(4, "0")}` + (data ? ` +${data} data bytes` : "");
}

/** An I2C read from the ATECC608: a status packet (4 bytes) by name, or a response's length. */
export function decodeAteccRead(addr: number, n: number, r: Uint8Array | null): string {
  if (!r) return `@0x${h2(addr)} read ${n}: NACK (asleep or busy)`;
  if (r[0] === 4 && n >= 4) return `@0x${h2(addr)} status 0x${h2(r[1])} ${ATECC_STATUS[r[1]] ?? ""}`.trimEnd();
  return `@0x${h2(addr)} response ${Math.max(0, r[0] - 3)} bytes`;
}

export class BusLog {
  private readonly list: BusEntry[] = [];
  private nextId = 1;
  private readonly capacity: number;
  /** Parts already tapped (the secure element outlives a change of engine: tap it once). */
  private readonly tapped = new WeakSet<object>();
  private host: TerminalHost | null = null;
  /** The SPI command being written (its data bytes join it until the next command). */
  private spiOpen: { e: BusEntry; cmd: number; data: number[] } | null = null;

  constructor(o: { capacity?: number } = {}) {
    this.capacity = o.capacity ?? 5000;
  }

  private now(): number {
    return this.host ? this.host.sched.now : 0;
  }

  /** Entries with an id at or above `since` (the newest may have grown since it was read), oldest first. */
  entries(o: { since?: number; channels?: BusChannel[]; text?: string; max?: number } = {}): BusEntry[] {
    const since = o.since ?? 0;
    const text = (o.text ?? "").toLowerCase();
    const out: BusEntry[] = [];
    for (const e of this.list) {
      if (e.id < since) continue;
      if (o.channels && o.channels.indexOf(e.ch) < 0) continue;
      if (text && (e.text + " " + e.hex).toLowerCase().indexOf(text) < 0) continue;
      out.push({ ...e });
    }
    return o.max !== undefined && out.length > o.max ? out.slice(out.length - o.max) : out;
  }

  /** The id the next entry gets (a page asks for entries from here on). */
  get next(): number {
    return this.nextId;
  }

  clear(): void {
    this.list.length = 0;
    this.spiOpen = null;
  }

  private add(ch: BusChannel, dir: "out" | "in", b: Uint8Array, text: string): BusEntry {
    const last = this.list[this.list.length - 1];
    const t = this.now();
    const hex = hexOf(b);
    if (last && last.ch === ch && last.dir === dir && last.hex === hex && last.text === text && t - last.t < 1000) {
      last.repeat++;
      return last;
    }
    const e: BusEntry = { id: this.nextId++, t, ch, dir, bytes: b.length, hex, text, repeat: 1 };
    this.list.push(e);
    if (this.list.length > this.capacity) this.list.splice(0, this.list.length - this.capacity);
    return e;
  }

  /** Bytes on a UART; a burst (a scanned code, a receipt's lines) joins the entry before it while bytes keep coming. */
  private uart(ch: "scanner" | "printer", dir: "out" | "in", b: Uint8Array): void {
    const last = this.list[this.list.length - 1];
    const t = this.now();
    if (last && last.ch === ch && last.dir === dir && t - last.t <= UART_JOIN_MS + last.bytes * 0.02 && last.bytes < 4096) {
      const raw = (last as BusEntry & { raw?: Uint8Array }).raw ?? new Uint8Array(0);
      const all = new Uint8Array(raw.length + b.length);
      all.set(raw);
      all.set(b, raw.length);
      Object.defineProperty(last, "raw", { value: all, enumerable: false, writable: true });
      last.bytes = all.length;
      last.hex = hexOf(all);
      last.text = printable(all);
      return;
    }
    const e = this.add(ch, dir, b, printable(b));
    Object.defineProperty(e, "raw", { value: new Uint8Array(b), enumerable: false, writable: true });
  }

  private spi(b: Uint8Array, isData: boolean): void {
    if (!isData) {
      for (const cmd of b) {
        const e = this.add("spi", "out", Uint8Array.of(cmd), ST7789[cmd] ?? "command 0x" + h2(cmd));
        this.spiOpen = { e, cmd, data: [] };
      }
      return;
    }
    const o = this.spiOpen;
    if (!o) {
      this.add("spi", "out", b, `data ${b.length} bytes (no command)`);
      return;
    }
    for (let i = 0; i < b.length && o.data.length < HEX_MAX; i++) o.data.push(b[i]);
    o.e.bytes += b.length;
    o.e.hex = h2(o.cmd) + (o.data.length ? " | " + o.data.map(h2).join(" ") : "") + (o.e.bytes - 1 > o.data.length ? " …" : "");
    const name = ST7789[o.cmd] ?? "command 0x" + h2(o.cmd);
    const d = o.data;
    const u16 = (i: number) => (d[i] << 8) | d[i + 1];
    if ((o.cmd === 0x2a || o.cmd === 0x2b) && d.length >= 4) o.e.text = `${name} ${o.cmd === 0x2a ? "columns" : "rows"} ${u16(0)}..${u16(2)}`;
    else if (o.cmd === 0x2c) o.e.text = `${name} ${o.e.bytes - 1} bytes (${Math.floor((o.e.bytes - 1) / 2)} pixels, RGB565)`;
    else o.e.text = `${name} ${d.slice(0, 8).map(h2).join(" ")}${d.length > 8 ? " …" : ""}`;
  }

  /** The terminal's HTTP request to its peer, and the reply (or the refusal) when it comes. */
  http(req: HttpExchange, reply: Promise<{ status: number; body: string }>): void {
    const body = Buffer.from(req.body || "", "utf8");
    this.add("http", "out", body, `${req.method} ${req.protocol || "http:"}//${req.host}${req.port ? ":" + req.port : ""}${req.path} (${body.length} bytes)`);
    reply.then(
      (r) => {
        const b = Buffer.from(r.body || "", "utf8");
        this.add("http", "in", b, `${r.status} for ${req.method} ${req.path} (${b.length} bytes)`);
      },
      (e) => this.add("http", "in", new Uint8Array(0), `${req.method} ${req.path} failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** A line of its own (power, boot): marks where things happened. */
  note(ch: BusChannel, text: string): void {
    this.add(ch, "in", new Uint8Array(0), text);
  }

  /** Tap the parts `host` wires (call again after a change of engine; parts already tapped are left as they are). */
  attach(host: TerminalHost, wiring: { scanner: { port: number }; printer: { port: number } }): void {
    this.host = host;
    const once = (o: object) => {
      if (this.tapped.has(o)) return false;
      this.tapped.add(o);
      return true;
    };
    const log = this;
    if (once(host.scanner)) {
      const rx = host.scanner.receive.bind(host.scanner);
      host.scanner.receive = (b: Uint8Array) => {
        log.uart("scanner", "out", new Uint8Array(b));
        return rx(b);
      };
    }
    if (once(host.printer)) {
      const rx = host.printer.receive.bind(host.printer);
      host.printer.receive = (b: Uint8Array) => {
        log.uart("printer", "out", new Uint8Array(b));
        return rx(b);
      };
    }
    if (once(host.display)) {
      const w = host.display.write.bind(host.display);
      host.display.write = (b: Uint8Array, dc: boolean) => {
        log.spi(new Uint8Array(b), dc);
        return w(b, dc);
      };
    }
    const se = host.secure;
    if (once(se)) {
      const wr = se.i2cWrite.bind(se);
      const rd = se.i2cRead.bind(se);
      se.i2cWrite = (addr: number, data: ArrayLike<number> | ArrayBufferView) => {
        const ack = wr(addr, data);
        const b = data instanceof Uint8Array ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Uint8Array.from(data as ArrayLike<number>);
        log.add("i2c", "out", b, decodeAteccWrite(addr, b) + (addr !== 0 && !ack ? ": NACK" : ""));
        return ack;
      };
      se.i2cRead = (addr: number, n: number) => {
        const r = rd(addr, n);
        log.add("i2c", "in", r ?? new Uint8Array(0), decodeAteccRead(addr, n, r));
        return r;
      };
    }
    if (once(host)) {
      host.addPartListener((port, b) => {
        if (port === wiring.scanner.port) log.uart("scanner", "in", b);
        else if (port === wiring.printer.port) log.uart("printer", "in", b);
      });
      host.bleNotifyListeners.push((_service, char, b) => log.add("ble", "out", b, `notify ${short(char)} (${b.length} bytes)`));
      const write = host.bleWrite.bind(host);
      host.bleWrite = (service: string, char: string, b: Uint8Array) => {
        log.add("ble", "in", b, `write ${short(char)} (${b.length} bytes)`);
        return write(service, char, b);
      };
      const connect = host.bleConnect.bind(host);
      host.bleConnect = (address: string) => {
        log.add("ble", "in", new Uint8Array(0), `connect from ${address}`);
        return connect(address);
      };
      const disconnect = host.bleDisconnect.bind(host);
      host.bleDisconnect = (reason?: number) => {
        log.add("ble", "in", new Uint8Array(0), `disconnect (reason ${reason ?? 19})`);
        return disconnect(reason);
      };
    }
  }
}

/** A 128-bit UUID's distinguishing part (the first group), a 16-bit one as is. */
function short(uuid: string): string {
  const s = String(uuid);
  return s.length > 8 ? s.split("-")[0] : s;
}
