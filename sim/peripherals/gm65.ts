import { toBytes } from "../espruino/bytes.ts";
/**
 * Byte-level emulation of a Grow GM65 / GM805 barcode module on its TTL UART, for the simulator and driver tests.
 * Source of truth: /work/shared/hardware-notes.md §2 (Grow GM65 manual §3, §6, §8; AMP; IDF; SBRT).
 *
 *   const scanner = new Gm65Emulator({ now: () => clock.now, onTransmit: (b) => hostRx(b) });
 *   scanner.receive(hostTxBytes);   // 7E 00 frames from the driver, any chunking
 *   scanner.present("PAY:1234");    // a QR code held in front of the camera
 *
 * Strictness: a frame with a bad CRC, an unknown TYPE or a bad length gets no answer at all; an incomplete frame is
 * dropped 400 ms after its 7E 00. Time-driven state (single-read timeout, incomplete-frame timeout) is evaluated
 * lazily from the injected clock on every call; call `tick()` to advance it when nothing else happens.
 *
 * Factory defaults chosen here (the notes mark the real factory values as UNVERIFIED):
 * - 0x0000 = D6: LED + sound on, standard aim and light, CONTINUOUS mode (GMM §1.2; §3.3 says manual: unverified).
 * - 0x0002 = 00 (no trigger); 0x0004 = 04 (0.4 s stabilisation); 0x0005 = 0A (1 s read interval, not modelled);
 *   0x0006 = 32 (single-read time 5 s); 0x000D = 00 (serial output, GBK); 0x0013 = 85 (same-code delay on; bit 7 enables,
 *   low bits in 0.1 s units as the notes state, so 0.5 s. The notes also quote AMP as "85 = 5 s", which contradicts
 *   the 0.1 s unit: UNVERIFIED either way); 0x002A-0x002B = 39 01 (9600 baud); 0x002C = 01 (360° on); 0x003F = 01 (QR on);
 *   0x0060 = 01 (add tail, tail = CR: UNVERIFIED); 0x00E0 = 05 (GM65), 0x00E1 = 01 (HW), 0x00E2 = 69 (SW).
 * - Prefix and suffix contents are not register-mapped in the notes; they are the `prefix`/`suffix` fields here
 *   (empty by default, at most 15 bytes each, GMM §6). CodeID for QR is emitted as "Q" (UNVERIFIED).
 * - Non-ASCII string codes are sent as their UTF-8 bytes (the real default is GBK); pass a Uint8Array for exact bytes.
 */

/** Frame TYPE bytes (GMM §8.2–8.4). */
export const enum Gm65Type {
  Read = 0x07,
  Write = 0x08,
  Save = 0x09,
}

/** Register addresses used by the emulation (GMM §8.5). */
export const enum Gm65Reg {
  Mode = 0x0000,
  Trigger = 0x0002,
  Stabilise = 0x0004,
  ReadInterval = 0x0005,
  SingleReadTime = 0x0006,
  OutputInterface = 0x000d,
  SameCodeDelay = 0x0013,
  BaudLo = 0x002a,
  BaudHi = 0x002b,
  Symbologies = 0x002c,
  QrEnable = 0x003f,
  Tail = 0x0060,
  Sleep = 0x00d9,
  Model = 0x00e0,
  HwVersion = 0x00e1,
  SwVersion = 0x00e2,
}

const REG_COUNT = 0x10000;
/** An incomplete frame is discarded this long after its 7E 00 (GMM §8.2/8.3). */
export const GM65_FRAME_TIMEOUT_MS = 400;

/** Baud code table (13-bit code, register 0x002A low byte first). 9600 and 115200 are from GMM §8.5; the others
 * follow the same rule, code = round(3 000 000 / baud), which reproduces both documented values. */
export const GM65_BAUD_CODES: ReadonlyArray<readonly [number, number]> = [
  [1200, 0x09c4],
  [4800, 0x0271],
  [9600, 0x0139],
  [14400, 0x00d0],
  [19200, 0x009c],
  [38400, 0x004e],
  [57600, 0x0034],
  [115200, 0x001a],
];

/** CRC-16/XMODEM: poly 0x1021, init 0, MSB first, no final XOR. The GM65 sends it high byte first. */
export function crc16Xmodem(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= (bytes[i] & 0xff) << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Factory register image (see the header comment for the reasoning behind each value). */
function factoryRegisters(): Uint8Array {
  const r = new Uint8Array(REG_COUNT);
  r[Gm65Reg.Mode] = 0xd6;
  r[Gm65Reg.Stabilise] = 0x04;
  r[Gm65Reg.ReadInterval] = 0x0a;
  r[Gm65Reg.SingleReadTime] = 0x32;
  r[Gm65Reg.OutputInterface] = 0x00;
  r[Gm65Reg.SameCodeDelay] = 0x85;
  r[Gm65Reg.BaudLo] = 0x39;
  r[Gm65Reg.BaudHi] = 0x01;
  r[Gm65Reg.Symbologies] = 0x01;
  r[Gm65Reg.QrEnable] = 0x01;
  r[Gm65Reg.Tail] = 0x01;
  r[Gm65Reg.Model] = 0x05;
  r[Gm65Reg.HwVersion] = 0x01;
  r[Gm65Reg.SwVersion] = 0x69;
  return r;
}

/** Registers the host cannot change (model and version bytes 0x00E0–0x00E5). */
function isReadOnly(addr: number): boolean {
  return addr >= 0x00e0 && addr <= 0x00e5;
}

/** Converts host bytes (possibly from another realm, or a plain array) to a local Uint8Array. */

function encodeCode(code: string | Uint8Array): Uint8Array {
  if (typeof code === "string") return new TextEncoder().encode(code);
  return toBytes(code);
}

export interface Gm65Options {
  /** Bytes the module sends to the host (its UART TX). */
  onTransmit(b: Uint8Array): void;
  /** Milliseconds, monotonic. */
  now(): number;
}

export class Gm65Emulator {
  /** The 64 K "zone bit" register space. Writable by tests; the host changes it with 08 frames. */
  registers: Uint8Array;
  /** Prefix bytes sent when 0x0060 bit 3 is set (at most 15). */
  prefix: Uint8Array = new Uint8Array(0);
  /** Suffix bytes sent when 0x0060 bit 1 is set (at most 15). */
  suffix: Uint8Array = new Uint8Array(0);
  /** Register image kept over `powerCycle()`; updated by the 09 (save) frame. */
  private eeprom: Uint8Array;
  private readonly opts: Gm65Options;

  // Frame parser state.
  private rx: number[] = [];
  private frameStart = 0;

  // Scan state.
  private sessionUntil: number | null = null; // active trigger/button session end (Infinity = no limit)
  private buttonHeld = false;
  private inView: Uint8Array | null = null; // code held in front of the camera in command mode
  private lastCode: Uint8Array | null = null;
  private lastCodeAt = -Infinity;

  constructor(opts: Gm65Options) {
    this.opts = opts;
    this.registers = factoryRegisters();
    this.eeprom = this.registers.slice();
  }

  /** Current baud rate from registers 0x002A–0x002B (NaN for a code not in the table). */
  get baud(): number {
    const code = this.registers[Gm65Reg.BaudLo] | ((this.registers[Gm65Reg.BaudHi] & 0x1f) << 8);
    const hit = GM65_BAUD_CODES.find(([, c]) => c === code);
    return hit ? hit[0] : NaN;
  }

  /** Mode bits 1-0 of register 0x0000: 0 manual, 1 command-triggered, 2 continuous, 3 sensor. */
  get mode(): 0 | 1 | 2 | 3 {
    return (this.registers[Gm65Reg.Mode] & 3) as 0 | 1 | 2 | 3;
  }

  /** True while register 0x00D9 holds a sleep code (A0 light / A5 deep). */
  get asleep(): boolean {
    const v = this.registers[Gm65Reg.Sleep];
    return v === 0xa0 || v === 0xa5;
  }

  /** Bytes from the host's UART TX, any chunking. */
  receive(b: ArrayLike<number> | ArrayBufferView | ArrayBuffer): void {
    const bytes = toBytes(b);
    const now = this.opts.now();
    this.tick();
    for (const byte of bytes) this.rxByte(byte, now);
  }

  /** Advances time-driven state: drops a stale partial frame, ends an expired scan session. */
  tick(): void {
    const now = this.opts.now();
    if (this.rx.length >= 2 && now - this.frameStart > GM65_FRAME_TIMEOUT_MS) this.rx = [];
    if (this.sessionUntil !== null && now > this.sessionUntil) this.endSession();
  }

  /**
   * A code is held in front of the camera. Manual mode: read only while the button is held (`pressTrigger`),
   * otherwise ignored. Command mode: read at once during a triggered session, otherwise kept in view and read at the
   * next trigger. Continuous / sensor: read at once, unless it repeats the last code within the same-code delay.
   */
  present(code: string | Uint8Array): void {
    this.tick();
    const data = encodeCode(code);
    if (this.asleep || !(this.registers[Gm65Reg.QrEnable] & 1)) return;
    const mode = this.mode;
    if (mode === 0) {
      if (this.sessionUntil !== null) this.decode(data, true);
    } else if (mode === 1) {
      if (this.sessionUntil !== null) this.decode(data, true);
      else this.inView = data;
    } else {
      this.decode(data, false);
    }
  }

  /** Takes the code away from the camera (a command-mode code waiting for a trigger is forgotten). */
  removeCode(): void {
    this.inView = null;
  }

  /** Presses the module's trigger button (manual mode): scans for up to the single-read time, or until released. */
  pressTrigger(): void {
    this.tick();
    if (this.asleep) return;
    this.buttonHeld = true;
    this.startSession();
  }

  /** Releases the trigger button (ends a manual-mode scan session). */
  releaseTrigger(): void {
    this.tick();
    if (this.buttonHeld && this.mode === 0) this.endSession();
    this.buttonHeld = false;
  }

  /** Sends raw bytes on the module's TX line, e.g. line noise at power-up. */
  injectNoise(bytes: ArrayLike<number>): void {
    this.opts.onTransmit(toBytes(bytes));
  }

  /** Sends only the first `nBytes` of what a full read of `code` would send (a half-read); no mode checks. */
  presentPartial(code: string | Uint8Array, nBytes: number): void {
    const out = this.frameOutput(encodeCode(code));
    this.opts.onTransmit(out.slice(0, Math.max(0, Math.min(nBytes, out.length))));
  }

  /** Power cycle: registers come back from the last EEPROM save; all transient state is lost. */
  powerCycle(): void {
    this.registers = this.eeprom.slice();
    this.rx = [];
    this.sessionUntil = null;
    this.buttonHeld = false;
    this.inView = null;
    this.lastCode = null;
    this.lastCodeAt = -Infinity;
  }

  // ---- frames -------------------------------------------------------------------------------------------

  private rxByte(byte: number, now: number): void {
    const rx = this.rx;
    if (rx.length === 0) {
      if (byte === 0x7e) rx.push(byte);
      return;
    }
    if (rx.length === 1) {
      if (byte === 0x00) {
        rx.push(byte);
        this.frameStart = now;
      } else if (byte !== 0x7e) {
        this.rx = [];
      }
      return;
    }
    rx.push(byte);
    if (rx.length < 4) return;
    const total = 2 + 4 + rx[3] + 2; // 7E 00 TYPE LEN ADDRhi ADDRlo DATA(LEN) CRChi CRClo
    if (rx.length < total) return;
    const frame = rx.slice(0, total);
    this.rx = [];
    this.handleFrame(frame);
  }

  private handleFrame(f: number[]): void {
    const len = f[3];
    const crcAt = 6 + len;
    const bypass = f[crcAt] === 0xab && f[crcAt + 1] === 0xcd;
    const crc = crc16Xmodem(f, 2, crcAt);
    if (!bypass && (f[crcAt] !== crc >> 8 || f[crcAt + 1] !== (crc & 0xff))) return; // silence on CRC error
    const type = f[2];
    const addr = (f[4] << 8) | f[5];
    const data = f.slice(6, crcAt);
    if (type === Gm65Type.Read) {
      if (len !== 1) return;
      const count = data[0] === 0 ? 256 : data[0];
      if (addr + count > REG_COUNT) return;
      this.reply(this.registers.slice(addr, addr + count));
    } else if (type === Gm65Type.Write) {
      if (len === 0 || addr + len > REG_COUNT) return;
      for (let i = 0; i < len; i++) if (!isReadOnly(addr + i)) this.registers[addr + i] = data[i];
      this.reply(Uint8Array.of(0x00));
      this.afterWrite(addr, len);
    } else if (type === Gm65Type.Save) {
      if (len !== 1) return;
      this.eeprom = this.registers.slice();
      this.reply(Uint8Array.of(0x00));
    }
    // Any other TYPE: silence.
  }

  /** `02 00 00 LEN DATA CRC`; LEN 00 stands for 256 bytes; the CRC covers 00 LEN DATA. */
  private reply(data: Uint8Array): void {
    const out = new Uint8Array(4 + data.length + 2);
    out[0] = 0x02;
    out[1] = 0x00;
    out[2] = 0x00;
    out[3] = data.length & 0xff;
    out.set(data, 4);
    const crc = crc16Xmodem(out, 2, 4 + data.length);
    out[4 + data.length] = crc >> 8;
    out[5 + data.length] = crc & 0xff;
    this.opts.onTransmit(out);
  }

  private afterWrite(addr: number, len: number): void {
    const touches = (reg: number) => reg >= addr && reg < addr + len;
    if (touches(Gm65Reg.Sleep) && this.registers[Gm65Reg.Sleep] === 0x55) {
      // Factory reset (GMM §8.5): registers back to factory values, also in EEPROM.
      this.registers = factoryRegisters();
      this.eeprom = this.registers.slice();
      this.sessionUntil = null;
      this.inView = null;
      return;
    }
    if (touches(Gm65Reg.Mode) && this.mode !== 1 && !this.buttonHeld) this.endSession();
    if (touches(Gm65Reg.Trigger) && this.registers[Gm65Reg.Trigger] & 1) {
      if (this.mode === 1 && !this.asleep) this.startSession();
      else this.registers[Gm65Reg.Trigger] &= ~1; // no scan outside command mode: nothing to wait for
    }
  }

  // ---- scanning -----------------------------------------------------------------------------------------

  private startSession(): void {
    const t = this.registers[Gm65Reg.SingleReadTime];
    this.sessionUntil = t === 0 ? Infinity : this.opts.now() + t * 100;
    if (this.inView) {
      const code = this.inView;
      this.decode(code, true);
    }
  }

  private endSession(): void {
    this.sessionUntil = null;
    this.registers[Gm65Reg.Trigger] &= ~1; // the trigger bit clears itself (SBRT)
  }

  /** A successful decode: output the code; a triggered/button session ends after one read. */
  private decode(data: Uint8Array, single: boolean): void {
    const now = this.opts.now();
    if (!single) {
      const delay = this.registers[Gm65Reg.SameCodeDelay];
      const same = this.lastCode !== null && sameBytes(this.lastCode, data);
      if (same && delay & 0x80 && now - this.lastCodeAt < (delay & 0x7f) * 100) return;
    }
    this.lastCode = data;
    this.lastCodeAt = now;
    if (single) {
      this.inView = null;
      this.endSession();
    }
    if ((this.registers[Gm65Reg.OutputInterface] & 3) !== 0) return; // USB output: nothing on the UART
    this.opts.onTransmit(this.frameOutput(data));
  }

  /** `[prefix][CodeID][data][suffix][tail]` per register 0x0060 (GMM §6, §8.5). */
  private frameOutput(data: Uint8Array): Uint8Array {
    const t = this.registers[Gm65Reg.Tail];
    const parts: number[] = [];
    if (t & 0x08) parts.push(...this.prefix.slice(0, 15));
    if (t & 0x04) parts.push(0x51); // CodeID "Q" for QR: UNVERIFIED
    parts.push(...data);
    if (t & 0x02) parts.push(...this.suffix.slice(0, 15));
    if (t & 0x01) {
      const kind = (t >> 5) & 3;
      if (kind === 0) parts.push(0x0d);
      else if (kind === 1) parts.push(0x0d, 0x0a);
      else if (kind === 2) parts.push(0x09);
    }
    return Uint8Array.from(parts);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
