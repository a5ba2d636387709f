/**
 * Byte-level emulation of a Microchip ATECC608A/B secure element on I2C, for the simulator and driver tests.
 * Source of truth: /work/shared/hardware-notes.md §1 (CryptoAuthLib, Microchip datasheet pages, Linux atmel-i2c).
 *
 *   const se = new Atecc608Emulator({ now: () => clock.now });
 *   se.i2cWrite(0x00, Uint8Array.of(0));              // wake (SDA held low); false = nobody ACKs address 0
 *   // 1.5 ms later:
 *   se.i2cRead(0x60, 4);                              // 04 11 33 43
 *   se.i2cWrite(0x60, hex("03 07 30 00 00 00 03 5D")); // Info; reads NACK (null) for up to 5 ms, then 07 00 00 60 ..
 *
 * What is modelled: sleep / wake (tWHI 1.5 ms) / idle, the 1.3 s watchdog (13 s with ChipMode bit 2), the word
 * address byte, command CRC (checked first: FF), parse errors (03), execution errors (0F), the watchdog refusal (EE),
 * NACK while a command runs (CAL table of maximum execution times), a pointer into the output buffer (so a driver may
 * read a response in pieces), and the commands Info, Random, Nonce, GenKey, Sign, Verify, Counter, Read, Write, Lock,
 * SHA and ECDH (mode 00) as listed in the notes. ECDSA P-256 over the raw 32-byte digest (and ECDH) is done with
 * BigInt arithmetic below, because Node's crypto.sign(null, …) hashes the message with SHA-256 for EC keys (checked on Node 20).
 *
 * Emulator policy where the notes are silent or mark a detail UNVERIFIED (chosen to be strict but plausible):
 * - Random returns real random bytes even while the config zone is unlocked (the FF FF 00 00 pattern is unverified).
 * - Random-mode Nonce sets TempKey = SHA-256(RandOut || NumIn || 16 || mode || 00), as CAL's host-side atcah_nonce.
 * - GenKey, Sign and Verify need the config zone locked (0F otherwise). Slot use is gated by KeyConfig (bit 0
 *   Private, bits 4-2 KeyType = 4 for P-256, bit 5 Lockable) and by SlotConfig where the terminal relies on it:
 *   ReadKey bit 2 for ECDH, IsSecret (bit 7) refuses clear reads of a data slot, WriteConfig (bits 12-15) other than
 *   Always refuses clear writes once the data zone is locked, and its GenKey bit (13) is needed for GenKey mode 04
 *   once the data zone is locked. ReadKey bit 0 (external Sign) is not enforced.
 * - Data-zone reads need the data zone locked; private-key slots are never readable; encrypted Read/Write, internal
 *   Sign, Info modes other than 00, GenKey digest modes, ECDH from TempKey or into TempKey, SelfTest and the HMAC SHA
 *   modes answer 03.
 * - ECDH (source: the private key in slot P2) modes 00, 0C and 0E: see ecdh() below; a slot without a key, a non-ECC
 *   slot, a slot without ECDH permission, output the ChipOptions forbid, or a peer point that is not on the curve
 *   answer 0F. P2 over 15 is a parse error (03), as for the other slot commands.
 * - A command whose COUNT disagrees with the bytes received is a communication error (FF).
 * - Errors (FF/03/0F/EE) are readable at once; successful commands take the maximum execution time (M0/M1/M2 from
 *   ChipMode, sampled at wake).
 * - Counters are kept as numbers; the config bytes 52-67 are not updated with the chip's counter encoding.
 * - The data-zone Lock summary CRC is computed over slots 0..15 then OTP (UNVERIFIED layout; use 0x81 to skip).
 * - Reading past the end of the output buffer gives FF bytes. Reserved word addresses (04-FF) are ACKed and ignored.
 * - The factory config image (SlotConfig/KeyConfig values, serial) is an assumption; bytes 0-1 = 01 23 and byte 8
 *   = 01 follow MCHP.
 */
import { AteccOp, AteccStatus, AteccWord } from "../../hal/drivers/atecc608-frames.ts";
import { createHash, randomBytes } from "node:crypto";
import { toBytes } from "../espruino/bytes.ts";

// ---- CRC ------------------------------------------------------------------------------------------------

/**
 * CryptoAuthLib CRC-16: polynomial 0x8005, init 0, each byte fed LSB first, register not reflected.
 * Returns the register value; on the wire it goes low byte first.
 */
export function atcaCrc16(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const d = bytes[i] & 0xff;
    for (let bit = 0; bit < 8; bit++) {
      const dataBit = (d >> bit) & 1;
      const crcBit = crc >> 15;
      crc = (crc << 1) & 0xffff;
      if (dataBit !== crcBit) crc ^= 0x8005;
    }
  }
  return crc;
}

// ---- P-256 (BigInt) -------------------------------------------------------------------------------------

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

type Jac = readonly [bigint, bigint, bigint]; // Z = 0 is the point at infinity

const mod = (a: bigint, m: bigint) => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

const inv = (a: bigint, m: bigint) => modPow(a, m - 2n, m); // m is prime

function jDouble([x, y, z]: Jac): Jac {
  if (z === 0n || y === 0n) return [0n, 1n, 0n];
  const delta = (z * z) % P;
  const gamma = (y * y) % P;
  const beta = (x * gamma) % P;
  const alpha = (3n * mod(x - delta, P) * ((x + delta) % P)) % P;
  const x3 = mod(alpha * alpha - 8n * beta, P);
  const z3 = mod((y + z) * (y + z) - gamma - delta, P);
  const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, P);
  return [x3, y3, z3];
}

function jAdd(a: Jac, b: Jac): Jac {
  if (a[2] === 0n) return b;
  if (b[2] === 0n) return a;
  const z1z1 = (a[2] * a[2]) % P;
  const z2z2 = (b[2] * b[2]) % P;
  const u1 = (a[0] * z2z2) % P;
  const u2 = (b[0] * z1z1) % P;
  const s1 = (a[1] * b[2] * z2z2) % P;
  const s2 = (b[1] * a[2] * z1z1) % P;
  if (u1 === u2) return s1 === s2 ? jDouble(a) : [0n, 1n, 0n];
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const hh = (h * h) % P;
  const hhh = (hh * h) % P;
  const x3 = mod(r * r - hhh - 2n * u1 * hh, P);
  const y3 = mod(r * (u1 * hh - x3) - s1 * hhh, P);
  const z3 = (h * a[2] * b[2]) % P;
  return [x3, y3, z3];
}

function jMul(k: bigint, pt: Jac): Jac {
  let acc: Jac = [0n, 1n, 0n];
  for (let i = BigInt(k.toString(2).length - 1); i >= 0n; i--) {
    acc = jDouble(acc);
    if ((k >> i) & 1n) acc = jAdd(acc, pt);
  }
  return acc;
}

function toAffine([x, y, z]: Jac): [bigint, bigint] | null {
  if (z === 0n) return null;
  const zi = inv(z, P);
  const zi2 = (zi * zi) % P;
  return [(x * zi2) % P, (y * zi2 * zi) % P];
}

function onCurve(x: bigint, y: bigint): boolean {
  if (x >= P || y >= P) return false;
  return mod(y * y - (x * x * x - 3n * x + B), P) === 0n;
}

const G: Jac = [GX, GY, 1n];

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function bigToBytes(v: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Public key X||Y (64 bytes) for a 32-byte private scalar. */
export function p256PublicKey(priv: Uint8Array): Uint8Array {
  const pt = toAffine(jMul(bytesToBig(priv), G));
  if (!pt) throw new Error("invalid private key");
  return concat(bigToBytes(pt[0]), bigToBytes(pt[1]));
}

/** ECDSA P-256 signature R||S over a 32-byte digest used as-is (no hashing), random k. */
export function p256SignDigest(priv: Uint8Array, digest: Uint8Array): Uint8Array {
  const d = bytesToBig(priv);
  const e = mod(bytesToBig(digest.subarray(0, 32)), N);
  for (;;) {
    const k = randomScalar();
    const pt = toAffine(jMul(k, G));
    if (!pt) continue;
    const r = mod(pt[0], N);
    if (r === 0n) continue;
    const s = mod(inv(k, N) * (e + r * d), N);
    if (s === 0n) continue;
    return concat(bigToBytes(r), bigToBytes(s));
  }
}

/** Verifies an ECDSA P-256 R||S over a 32-byte digest used as-is; null when the public key is not on the curve. */
export function p256VerifyDigest(pub: Uint8Array, digest: Uint8Array, sig: Uint8Array): boolean | null {
  const qx = bytesToBig(pub.subarray(0, 32));
  const qy = bytesToBig(pub.subarray(32, 64));
  if (!onCurve(qx, qy)) return null;
  const r = bytesToBig(sig.subarray(0, 32));
  const s = bytesToBig(sig.subarray(32, 64));
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const e = mod(bytesToBig(digest.subarray(0, 32)), N);
  const w = inv(s, N);
  const sum = toAffine(jAdd(jMul(mod(e * w, N), G), jMul(mod(r * w, N), [qx, qy, 1n])));
  return sum !== null && mod(sum[0], N) === r;
}

function randomScalar(): bigint {
  for (;;) {
    const k = bytesToBig(randomBytes(32));
    if (k > 0n && k < N) return k;
  }
}

// ---- helpers --------------------------------------------------------------------------------------------

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}


const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

// ---- constants ------------------------------------------------------------------------------------------

// Opcodes, status bytes and word addresses are the driver's (hal/drivers/atecc608-frames.ts): one name for each
// datasheet constant, on both sides of the bus. Tests pin their values to the datasheet's bytes.

/** tWHI: wake high delay before the chip may be addressed (MCHP AC parameters). */
export const ATCA_T_WHI_MS = 1.5;

/** Maximum execution times in ms per clock divider M0/M1/M2 (CAL calib_execution.c, 608 tables). */
const EXEC_MS: Record<number, readonly [number, number, number]> = {
  [AteccOp.Info]: [5, 5, 5],
  [AteccOp.Random]: [23, 23, 23],
  [AteccOp.Nonce]: [20, 20, 20],
  [AteccOp.Read]: [5, 5, 5],
  [AteccOp.Write]: [45, 45, 45],
  [AteccOp.Lock]: [35, 35, 35],
  [AteccOp.Counter]: [25, 25, 25],
  [AteccOp.GenKey]: [115, 215, 653],
  [AteccOp.Sign]: [115, 220, 665],
  [AteccOp.Verify]: [105, 295, 1085],
  [AteccOp.SHA]: [36, 42, 75],
  [AteccOp.ECDH]: [75, 172, 531],
};

/** Config zone offsets (CAL atecc608_config_t). */
const enum Cfg {
  I2cAddress = 16,
  ChipMode = 19,
  SlotConfig = 20,
  LockValue = 86,
  LockConfig = 87,
  SlotLocked = 88,
  ChipOptions = 90,
  KeyConfig = 96,
}

const SLOT_SIZES = [36, 36, 36, 36, 36, 36, 36, 36, 416, 72, 72, 72, 72, 72, 72, 72];
const COUNTER_MAX = 2097151;

/** Command result: a status byte, or response data. `timed` = takes the execution time. */
type Result = { status: number } | { data: Uint8Array };

export interface Atecc608Options {
  /** Milliseconds, monotonic (fractions allowed: tWHI is 1.5 ms). */
  now(): number;
  /** 7-bit I2C address (default 0x60). */
  address?: number;
  revision?: "608A" | "608B";
  /** 9-byte serial number (config bytes 0-3 and 8-12). */
  serial?: Uint8Array;
}

/** Persistent (EEPROM) state of the chip, JSON-able. */
export interface Atecc608State {
  revision: "608A" | "608B";
  address: number;
  config: string; // hex, 128 bytes
  otp: string; // hex, 64 bytes
  slots: string[]; // hex per slot
  keys: (string | null)[]; // private scalars per slot, hex
  counters: [number, number];
}

type Power = "asleep" | "idle" | "awake";

export class Atecc608Emulator {
  private readonly now: () => number;
  private address: number;
  private revision: "608A" | "608B";
  private config: Uint8Array;
  private otp: Uint8Array = new Uint8Array(64);
  private slots: Uint8Array[] = SLOT_SIZES.map((n) => new Uint8Array(n));
  private keys: (Uint8Array | null)[] = SLOT_SIZES.map(() => null);
  private counters: [number, number] = [0, 0];

  // Volatile state.
  private power: Power = "asleep";
  private wokeAt = 0;
  private watchdogMs = 1300;
  private divider: 0 | 1 | 2 = 0;
  private busyUntil = 0;
  private output: Uint8Array = new Uint8Array(0);
  private outPtr = 0;
  private tempKey: Uint8Array | null = null;
  private msgDigBuf: Uint8Array | null = null;
  private altKeyBuf: Uint8Array | null = null;
  private shaCtx: Uint8Array[] | null = null;

  constructor(opts: Atecc608Options) {
    this.now = opts.now;
    this.address = opts.address ?? 0x60;
    this.revision = opts.revision ?? "608A";
    const serial = opts.serial ?? Uint8Array.of(0x01, 0x23, 0x6b, 0x1e, 0x01, 0x5a, 0x90, 0x3c, 0xd2) // config bytes 0-3, 8-12;
    if (serial.length !== 9) throw new Error("ATECC608 serial must be 9 bytes");
    this.config = factoryConfig(serial, this.revision, this.address);
  }

  /** True while the chip is awake (not asleep or idle); evaluates the watchdog first. */
  get awake(): boolean {
    this.update();
    return this.power === "awake";
  }

  /** Removes power: all volatile state is lost, the chip starts asleep. */
  powerCycle(): void {
    this.goToSleep();
  }

  /**
   * An I2C write. Address 0 is the wake pulse (SDA held low; nobody ACKs it, so it returns false).
   * Returns false (NACK) when the chip is asleep/idle, still in tWHI, busy, or the address is not its own.
   */
  i2cWrite(addr: number, data: ArrayLike<number> | ArrayBufferView): boolean {
    this.update();
    const now = this.now();
    if (addr === 0x00) {
      if (this.power !== "awake") this.wake(now);
      return false;
    }
    if (addr !== this.address || !this.ready(now)) return false;
    const bytes = toBytes(data);
    if (bytes.length === 0) return true;
    switch (bytes[0]) {
      case AteccWord.Reset:
        this.outPtr = 0;
        return true;
      case AteccWord.Sleep:
        this.goToSleep();
        return true;
      case AteccWord.Idle:
        this.power = "idle";
        return true;
      case AteccWord.Command:
        this.command(bytes.subarray(1), now);
        return true;
      default:
        return true; // reserved: ACKed and ignored (emulator policy)
    }
  }

  /** An I2C read of n bytes; null = NACK (asleep, idle, within tWHI, executing, or wrong address). */
  i2cRead(addr: number, n: number): Uint8Array | null {
    this.update();
    if (addr !== this.address || !this.ready(this.now())) return null;
    const out = new Uint8Array(n).fill(0xff);
    for (let i = 0; i < n && this.outPtr < this.output.length; i++) out[i] = this.output[this.outPtr++];
    return out;
  }

  /** Persistent state (config, OTP, slots, private keys, counters) as a JSON-able object. */
  exportState(): Atecc608State {
    return {
      revision: this.revision,
      address: this.address,
      config: toHex(this.config),
      otp: toHex(this.otp),
      slots: this.slots.map(toHex),
      keys: this.keys.map((k) => (k ? toHex(k) : null)),
      counters: [this.counters[0], this.counters[1]],
    };
  }

  /** Restores a state from `exportState()`; the chip is then asleep, as after power-up. */
  importState(s: Atecc608State): void {
    const config = fromHex(s.config);
    const otp = fromHex(s.otp);
    if (config.length !== 128 || otp.length !== 64 || s.slots.length !== 16 || s.keys.length !== 16) {
      throw new Error("ATECC608 state has the wrong shape");
    }
    this.revision = s.revision;
    this.address = s.address;
    this.config = config;
    this.otp = otp;
    this.slots = s.slots.map((h, i) => {
      const b = fromHex(h);
      if (b.length !== SLOT_SIZES[i]) throw new Error(`ATECC608 state: slot ${i} has the wrong size`);
      return b;
    });
    this.keys = s.keys.map((h) => (h ? fromHex(h) : null));
    this.counters = [s.counters[0], s.counters[1]];
    this.goToSleep();
  }

  /** Which volatile buffers currently hold a value (for the simulator's UI and tests). */
  volatileState(): { tempKey: boolean; msgDigBuf: boolean; altKeyBuf: boolean; shaContext: boolean } {
    this.update();
    return {
      tempKey: this.tempKey !== null,
      msgDigBuf: this.msgDigBuf !== null,
      altKeyBuf: this.altKeyBuf !== null,
      shaContext: this.shaCtx !== null,
    };
  }

  /** The public key X||Y of the private key in `slot`, or null (a test/simulator convenience, not a command). */
  publicKeyOf(slot: number): Uint8Array | null {
    const k = this.keys[slot];
    return k ? p256PublicKey(k) : null;
  }

  // ---- power ----------------------------------------------------------------------------------------------

  private update(): void {
    if (this.power === "awake" && this.now() >= this.wokeAt + this.watchdogMs) this.goToSleep();
  }

  private wake(now: number): void {
    this.power = "awake";
    this.wokeAt = now;
    this.busyUntil = now + ATCA_T_WHI_MS;
    const mode = this.config[Cfg.ChipMode];
    this.watchdogMs = mode & 0x04 ? 13000 : 1300;
    const div = mode & 0xf8;
    this.divider = div === 0x28 ? 1 : div === 0x68 ? 2 : 0;
    this.setOutput(statusPacket(AteccStatus.AfterWake));
  }

  private goToSleep(): void {
    this.power = "asleep";
    this.tempKey = null;
    this.msgDigBuf = null;
    this.altKeyBuf = null;
    this.shaCtx = null;
    this.output = new Uint8Array(0);
    this.outPtr = 0;
  }

  private ready(now: number): boolean {
    return this.power === "awake" && now >= this.busyUntil;
  }

  private setOutput(b: Uint8Array): void {
    this.output = b;
    this.outPtr = 0;
  }

  // ---- command packet -------------------------------------------------------------------------------------

  private command(pkt: Uint8Array, now: number): void {
    const count = pkt.length > 0 ? pkt[0] : 0;
    if (count < 4 || count !== pkt.length) return this.setOutput(statusPacket(AteccStatus.Crc));
    const crc = atcaCrc16(pkt, 0, count - 2);
    if (pkt[count - 2] !== (crc & 0xff) || pkt[count - 1] !== crc >> 8) {
      return this.setOutput(statusPacket(AteccStatus.Crc));
    }
    if (count < 7) return this.setOutput(statusPacket(AteccStatus.Parse));
    const op = pkt[1];
    const p1 = pkt[2];
    const p2 = pkt[3] | (pkt[4] << 8);
    const data = pkt.slice(5, count - 2);
    const times = EXEC_MS[op];
    if (!times) return this.setOutput(statusPacket(AteccStatus.Parse));
    const execMs = times[this.divider];
    if (now + execMs > this.wokeAt + this.watchdogMs) {
      return this.setOutput(statusPacket(AteccStatus.Watchdog));
    }
    const result = this.execute(op, p1, p2, data);
    if ("data" in result) {
      this.busyUntil = now + execMs;
      this.setOutput(responsePacket(result.data));
    } else {
      if (result.status === AteccStatus.Success || result.status === AteccStatus.Miscompare) {
        this.busyUntil = now + execMs;
      }
      this.setOutput(statusPacket(result.status));
    }
  }

  private execute(op: number, p1: number, p2: number, data: Uint8Array): Result {
    switch (op) {
      case AteccOp.Info:
        return this.info(p1, p2, data);
      case AteccOp.Random:
        return this.random(p1, p2, data);
      case AteccOp.Nonce:
        return this.nonce(p1, p2, data);
      case AteccOp.GenKey:
        return this.genKey(p1, p2, data);
      case AteccOp.Sign:
        return this.sign(p1, p2, data);
      case AteccOp.Verify:
        return this.verify(p1, p2, data);
      case AteccOp.Counter:
        return this.counter(p1, p2, data);
      case AteccOp.Read:
        return this.read(p1, p2, data);
      case AteccOp.Write:
        return this.write(p1, p2, data);
      case AteccOp.Lock:
        return this.lock(p1, p2, data);
      case AteccOp.SHA:
        return this.sha(p1, p2, data);
      case AteccOp.ECDH:
        return this.ecdh(p1, p2, data);
      default:
        return PARSE;
    }
  }

  // ---- zone state -----------------------------------------------------------------------------------------

  private get configLocked(): boolean {
    return this.config[Cfg.LockConfig] !== 0x55;
  }

  private get dataLocked(): boolean {
    return this.config[Cfg.LockValue] !== 0x55;
  }

  private keyConfig(slot: number): number {
    return this.config[Cfg.KeyConfig + slot * 2] | (this.config[Cfg.KeyConfig + slot * 2 + 1] << 8);
  }

  private slotConfig(slot: number): number {
    return this.config[Cfg.SlotConfig + slot * 2] | (this.config[Cfg.SlotConfig + slot * 2 + 1] << 8);
  }

  private isPrivateP256(slot: number): boolean {
    const kc = this.keyConfig(slot);
    return (kc & 1) === 1 && ((kc >> 2) & 7) === 4;
  }

  private slotLocked(slot: number): boolean {
    const bits = this.config[Cfg.SlotLocked] | (this.config[Cfg.SlotLocked + 1] << 8);
    return ((bits >> slot) & 1) === 0;
  }

  private message(fromMsgDigBuf: boolean): Uint8Array | null {
    const buf = fromMsgDigBuf ? this.msgDigBuf : this.tempKey;
    return buf ? buf.slice(0, 32) : null;
  }

  // ---- commands -------------------------------------------------------------------------------------------

  private info(p1: number, p2: number, data: Uint8Array): Result {
    if (p1 !== 0x00 || p2 !== 0 || data.length !== 0) return PARSE;
    return { data: Uint8Array.of(0x00, 0x00, 0x60, this.revision === "608B" ? 0x03 : 0x02) };
  }

  private random(p1: number, p2: number, data: Uint8Array): Result {
    if (p1 > 0x01 || p2 !== 0 || data.length !== 0) return PARSE;
    return { data: new Uint8Array(randomBytes(32)) };
  }

  private nonce(p1: number, p2: number, data: Uint8Array): Result {
    if (p2 !== 0) return PARSE;
    const mode = p1 & 0x03;
    const target = p1 & 0xc0;
    const long = (p1 & 0x20) !== 0;
    if (p1 & 0x1c) return PARSE;
    if (mode === 0x03) {
      if (data.length !== (long ? 64 : 32) || target === 0xc0) return PARSE;
      const value = data.slice();
      if (target === 0x00) this.tempKey = value;
      else if (target === 0x40) this.msgDigBuf = value;
      else this.altKeyBuf = value;
      return OK;
    }
    if (mode === 0x02 || long || target !== 0x00 || data.length !== 20) return PARSE;
    const rand = new Uint8Array(randomBytes(32));
    this.tempKey = sha256(concat(rand, data, Uint8Array.of(AteccOp.Nonce, p1, 0x00)));
    return { data: rand };
  }

  private genKey(p1: number, p2: number, data: Uint8Array): Result {
    if ((p1 !== 0x04 && p1 !== 0x00) || p2 > 15 || data.length !== 0) return PARSE;
    if (!this.configLocked || !this.isPrivateP256(p2)) return EXEC;
    if (p1 === 0x04) {
      // once the data zone is locked, only a slot whose WriteConfig has the GenKey bit (SlotConfig bit 13) takes a new key
      if (this.dataLocked && (this.slotLocked(p2) || !(this.slotConfig(p2) & 0x2000))) return EXEC;
      let d: bigint;
      do d = bytesToBig(randomBytes(32));
      while (d === 0n || d >= N);
      this.keys[p2] = bigToBytes(d);
    }
    const key = this.keys[p2];
    return key ? { data: p256PublicKey(key) } : EXEC;
  }

  private sign(p1: number, p2: number, data: Uint8Array): Result {
    if ((p1 !== 0x80 && p1 !== 0xa0) || p2 > 15 || data.length !== 0) return PARSE;
    if (!this.configLocked || !this.isPrivateP256(p2)) return EXEC;
    const key = this.keys[p2];
    const msg = this.message(p1 === 0xa0);
    if (!key || !msg) return EXEC;
    return { data: p256SignDigest(key, msg) };
  }

  private verify(p1: number, p2: number, data: Uint8Array): Result {
    const fromMdb = (p1 & 0x20) !== 0;
    const mode = p1 & ~0x20;
    let pub: Uint8Array;
    if (mode === 0x02) {
      if (p2 !== 0x0004) return PARSE;
      if (data.length !== 128) return PARSE;
      pub = data.slice(64, 128);
    } else if (mode === 0x00) {
      if (p2 > 15 || data.length !== 64) return PARSE;
      const kc = this.keyConfig(p2);
      if (kc & 1 || ((kc >> 2) & 7) !== 4) return EXEC;
      const s = this.slots[p2];
      if (s.length < 72) return EXEC;
      pub = concat(s.slice(4, 36), s.slice(40, 72)); // 4 pad bytes before X and before Y (CAL pubkey format)
    } else {
      return PARSE;
    }
    if (!this.configLocked) return EXEC;
    const msg = this.message(fromMdb);
    if (!msg) return EXEC;
    const ok = p256VerifyDigest(pub, msg, data.slice(0, 64));
    if (ok === null) return EXEC;
    return ok ? OK : { status: AteccStatus.Miscompare };
  }

  /**
   * ECDH with the private key in slot P2 and the peer point X||Y; the result's X coordinate. Modes (CryptoAuthLib
   * calib_command.h ECDH_MODE_*): 00 "compatible" (clear output, or into slot N|1 with ReadKey bit 3), 0C (output
   * buffer, clear), 0E (output buffer, encrypted). Encrypted output (ATECC608A datasheet, ChipOptions and ECDH;
   * CryptoAuthLib atcah_io_decrypt): the secret XORed with SHA-256(I/O protection key || output nonce[0..16]),
   * followed by the 32-byte output nonce. ChipOptions ECDHProt (bits 8-9) 1 refuses clear output, 2 any output;
   * encryption needs IOProtKeyEnable (bit 1), the key being the first 32 bytes of slot ChipOptions bits 12-15.
   */
  private ecdh(p1: number, p2: number, data: Uint8Array): Result {
    if ((p1 !== 0x00 && p1 !== 0x0c && p1 !== 0x0e) || p2 > 15 || data.length !== 64) return PARSE;
    if (!this.configLocked || !this.isPrivateP256(p2)) return EXEC;
    const readKey = this.config[Cfg.SlotConfig + p2 * 2] & 0x0f;
    if (!(readKey & 0x04)) return EXEC;
    const opts = this.config[Cfg.ChipOptions] | (this.config[Cfg.ChipOptions + 1] << 8);
    const prot = (opts >> 8) & 3;
    const toSlot = p1 === 0x00 && (readKey & 0x08) !== 0;
    if (!toSlot && (prot === 2 || prot === 3 || (prot === 1 && p1 !== 0x0e))) return EXEC;
    if (p1 === 0x0e && !(opts & 2)) return EXEC;
    const key = this.keys[p2];
    if (!key) return EXEC;
    const qx = bytesToBig(data.subarray(0, 32));
    const qy = bytesToBig(data.subarray(32, 64));
    if (!onCurve(qx, qy)) return EXEC;
    const pt = toAffine(jMul(bytesToBig(key), [qx, qy, 1n]));
    if (!pt) return EXEC;
    const secret = bigToBytes(pt[0]);
    if (toSlot) {
      this.slots[p2 | 1].set(secret, 0);
      return OK;
    }
    if (p1 !== 0x0e) return { data: secret };
    const nonce = new Uint8Array(randomBytes(32));
    const k = sha256(concat(this.slots[opts >> 12].slice(0, 32), nonce.subarray(0, 16)));
    for (let i = 0; i < 32; i++) secret[i] ^= k[i];
    return { data: concat(secret, nonce) };
  }

  private counter(p1: number, p2: number, data: Uint8Array): Result {
    if (p1 > 0x01 || p2 > 1 || data.length !== 0) return PARSE;
    if (p1 === 0x01) {
      if (this.counters[p2] >= COUNTER_MAX) return EXEC;
      this.counters[p2]++;
    }
    const v = this.counters[p2];
    return { data: Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff) };
  }

  /** Resolves a Read/Write address to [buffer, offset], or a status on failure. */
  private locate(p1: number, p2: number, forWrite: boolean): { buf: Uint8Array; off: number; len: number } | Result {
    const zone = p1 & 0x03;
    const len = p1 & 0x80 ? 32 : 4;
    if (p1 & 0x7c) return PARSE;
    if (zone === 0x00 || zone === 0x01) {
      const block = (p2 >> 3) & 0x1f;
      const word = p2 & 0x07;
      const buf = zone === 0 ? this.config : this.otp;
      const off = len === 32 ? block * 32 : block * 32 + word * 4;
      if (p2 > 0xff || off + len > buf.length) return PARSE;
      return { buf, off, len };
    }
    if (zone === 0x02) {
      const slot = (p2 >> 3) & 0x0f;
      const block = p2 >> 8;
      const word = p2 & 0x07;
      const buf = this.slots[slot];
      const off = len === 32 ? block * 32 : block * 32 + word * 4;
      if (off + len > buf.length) return PARSE;
      if (this.isPrivateP256(slot) && (!forWrite || this.dataLocked)) return EXEC;
      return { buf, off, len };
    }
    return PARSE;
  }

  private read(p1: number, p2: number, data: Uint8Array): Result {
    if (data.length !== 0) return PARSE;
    const loc = this.locate(p1, p2, false);
    if (!("buf" in loc)) return loc;
    if ((p1 & 0x03) === 0x02) {
      // data zone: readable once locked, and never in the clear from a slot whose SlotConfig says IsSecret (bit 7)
      if (!this.dataLocked || this.slotConfig((p2 >> 3) & 0x0f) & 0x80) return EXEC;
    }
    return { data: loc.buf.slice(loc.off, loc.off + loc.len) };
  }

  private write(p1: number, p2: number, data: Uint8Array): Result {
    if (p1 & 0x40) return PARSE; // encrypted writes are not emulated
    const loc = this.locate(p1, p2, true);
    if (!("buf" in loc)) return loc;
    if (data.length !== loc.len) return PARSE;
    const zone = p1 & 0x03;
    const end = loc.off + loc.len;
    if (zone === 0x00) {
      if (this.configLocked) return EXEC;
      if (loc.off < 16 || (loc.off < 88 && end > 84)) return EXEC; // serial/revision and UserExtra..LockConfig
    } else if (zone === 0x01) {
      if (this.dataLocked) return EXEC;
    } else {
      const slot = (p2 >> 3) & 0x0f;
      // once locked, clear writes only to a slot whose WriteConfig (bits 12-15) is Always (0000); encrypted writes are
      // not emulated
      if (this.dataLocked && (this.slotLocked(slot) || this.slotConfig(slot) & 0xf000)) return EXEC;
      if (this.isPrivateP256(slot)) this.keys[slot] = null; // clear-text key writes are not interpreted
    }
    loc.buf.set(data, loc.off);
    return OK;
  }

  private lock(p1: number, p2: number, data: Uint8Array): Result {
    if (data.length !== 0) return PARSE;
    const zone = p1 & 0x03;
    const skipCrc = (p1 & 0x80) !== 0;
    if (zone !== 0x02 && p1 & 0x7c) return PARSE;
    if (p1 & 0x40) return PARSE;
    if (zone === 0x00) {
      if (this.configLocked) return EXEC;
      if (!skipCrc && atcaCrc16(this.config) !== p2) return EXEC;
      this.config[Cfg.LockConfig] = 0x00;
      return OK;
    }
    if (zone === 0x01) {
      if (!this.configLocked || this.dataLocked) return EXEC;
      if (!skipCrc && atcaCrc16(concat(...this.slots, this.otp)) !== p2) return EXEC;
      this.config[Cfg.LockValue] = 0x00;
      return OK;
    }
    if (zone === 0x02) {
      const slot = (p1 >> 2) & 0x0f;
      if (!this.dataLocked || this.slotLocked(slot) || !(this.keyConfig(slot) & 0x20)) return EXEC;
      if (!skipCrc && atcaCrc16(this.slots[slot]) !== p2) return EXEC;
      const bits = (this.config[Cfg.SlotLocked] | (this.config[Cfg.SlotLocked + 1] << 8)) & ~(1 << slot);
      this.config[Cfg.SlotLocked] = bits & 0xff;
      this.config[Cfg.SlotLocked + 1] = bits >> 8;
      return OK;
    }
    return PARSE;
  }

  private sha(p1: number, p2: number, data: Uint8Array): Result {
    const mode = p1 & 0x07;
    const target = p1 & 0xc0;
    if (p1 & 0x38 || target === 0x80) return PARSE;
    if (mode === 0x00) {
      if (p2 !== 0 || data.length !== 0) return PARSE;
      this.shaCtx = [];
      return OK;
    }
    if (mode === 0x01) {
      if (data.length !== 64 || (p2 !== 64 && p2 !== 0)) return PARSE;
      if (!this.shaCtx) return EXEC;
      this.shaCtx.push(data.slice());
      return OK;
    }
    if (mode === 0x02) {
      if (data.length > 63 || p2 !== data.length) return PARSE;
      if (!this.shaCtx) return EXEC;
      const digest = sha256(concat(...this.shaCtx, data));
      this.shaCtx = null;
      if (target === 0x00) this.tempKey = digest.slice();
      else if (target === 0x40) this.msgDigBuf = digest.slice();
      return { data: digest };
    }
    return PARSE;
  }
}

const OK: Result = { status: AteccStatus.Success };
const PARSE: Result = { status: AteccStatus.Parse };
const EXEC: Result = { status: AteccStatus.Execution };

/** `COUNT DATA CRClo CRChi`. */
function responsePacket(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 3);
  out[0] = out.length;
  out.set(data, 1);
  const crc = atcaCrc16(out, 0, data.length + 1);
  out[data.length + 1] = crc & 0xff;
  out[data.length + 2] = crc >> 8;
  return out;
}

function statusPacket(status: number): Uint8Array {
  return responsePacket(Uint8Array.of(status));
}

function factoryConfig(serial: Uint8Array, revision: "608A" | "608B", address: number): Uint8Array {
  const c = new Uint8Array(128);
  c.set(serial.subarray(0, 4), 0);
  c.set([0x00, 0x00, 0x60, revision === "608B" ? 0x03 : 0x02], 4);
  c.set(serial.subarray(4, 9), 8);
  c[14] = 0x01; // I2C_Enable
  c[Cfg.I2cAddress] = (address << 1) & 0xff;
  c[Cfg.ChipMode] = 0x00; // short watchdog, clock divider M0
  for (let s = 0; s < 16; s++) {
    const slotCfg = s < 8 ? [0x87, 0x20] : [0x00, 0x00];
    const keyCfg = s < 8 ? [0x33, 0x00] : [0x3c, 0x00]; // 0-7: private P-256, lockable; 8-15: data, lockable
    c.set(slotCfg, Cfg.SlotConfig + s * 2);
    c.set(keyCfg, Cfg.KeyConfig + s * 2);
  }
  c[Cfg.LockValue] = 0x55;
  c[Cfg.LockConfig] = 0x55;
  c[Cfg.SlotLocked] = 0xff;
  c[Cfg.SlotLocked + 1] = 0xff;
  return c;
}
