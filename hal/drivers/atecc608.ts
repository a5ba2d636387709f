/**
 * Microchip ATECC608A/B secure element on I2C: ECDSA P-256 sign/verify, RNG, monotonic counters.
 * Datasheet facts in hardware-notes.md section 1 (cryptoauthlib calib_*.c, Microchip ATECC608 datasheet);
 * frames in atecc608-frames.ts.
 *
 *   const se = new Atecc608({ i2c: device.i2c.secure, clock });
 *   se.sign(se.keySlot, digest, (err, rs) => { ... });       // rs = R||S, 64 bytes
 *   se.counter(0, true, (err, n) => { ... });
 *
 * Calls queue up and run one at a time. Each is a sequence of commands; every command gets its own wake
 * (write to address 0, wait, expect 04 11 33 43), is polled until the part answers, and is followed by idle (02,
 * which keeps TempKey and the message-digest buffer for the next command) or, after the last one, sleep (01).
 * So the part is never awake longer than one command, far inside the 1.3 s watchdog (0.7 s at worst).
 */
import type { Clock } from "../clock.ts";
import type { I2C, I2COpen } from "../io.ts";
import type { Done, SecureElement, SetupOptions } from "../secure-element.ts";
import { AteccCfg, checkConfig, IO_KEY_SLOT, KEY_SLOTS, terminalConfig } from "./atecc608-config.ts";
import { AteccOp, AteccWord, command, crc16, maxExecMs, parseResponse } from "./atecc608-frames.ts";

export interface Atecc608Options {
  i2c: I2COpen;
  clock: Clock;
  /** 7-bit I2C address: 0x60 on an unprogrammed part (TNGTLS parts use 0x35, TFLXTLS 0x36). */
  address?: number;
  /** Slot holding the terminal's signing key, for callers to pass to sign/publicKey (default 0). */
  keySlot?: number;
}

/** Wait after the wake pulse: tWHI is at least 1.5 ms; 2 keeps a margin and suits whole-millisecond clocks. */
const WAKE_MS = 2;
/** Added to the execution-time table before a command is given up as timed out. */
const POLL_MARGIN_MS = 50;
/** Largest response (COUNT byte included). */
const RSP_MAX = 75;

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a, 0);
  r.set(b, a.length);
  return r;
}

interface Job {
  c: Uint8Array[];
  d: Done<Uint8Array>;
}

export class Atecc608 implements SecureElement {
  readonly keySlot: number;
  private i2c: I2C;
  private clock: Clock;
  private addr: number;
  private q: Job[] = [];
  private busy = false;
  /** The I/O protection key and a host SHA-256, once protect() was called: ECDH results come encrypted. */
  private io: Uint8Array | null = null;
  private sha: ((b: Uint8Array) => Uint8Array) | null = null;

  constructor(o: Atecc608Options) {
    // 100 kHz throughout: the wake pulse is a write to address 0, whose low address bits hold SDA down for
    // 80 us at this speed, enough for tWLO (60 us); at 400 kHz they would not be.
    this.i2c = o.i2c({ hz: 100000 });
    this.clock = o.clock;
    this.addr = o.address || 0x60;
    this.keySlot = o.keySlot || 0;
  }

  info(done: Done<Uint8Array>): void {
    this.run([command(AteccOp.Info, 0, 0)], done);
  }

  random(done: Done<Uint8Array>): void {
    this.run([command(AteccOp.Random, 0, 0)], done);
  }

  /** Nonce pass-through of the digest into the message-digest buffer (P1 43), then Sign from it (P1 A0). */
  sign(slot: number, digest: Uint8Array, done: Done<Uint8Array>): void {
    this.run([command(AteccOp.Nonce, 0x43, 0, digest), command(AteccOp.Sign, 0xa0, slot)], done);
  }

  /** Nonce 43 with the digest, then external Verify (P1 22, key type 0004 = P-256) of R||S against X||Y. */
  verify(digest: Uint8Array, signature: Uint8Array, publicKey: Uint8Array, done: Done<boolean>): void {
    this.run(
      [command(AteccOp.Nonce, 0x43, 0, digest), command(AteccOp.Verify, 0x22, 4, signature, publicKey)],
      (err) => (err && err !== "miscompare" ? done(err) : done(null, !err)),
    );
  }

  counter(id: number, increment: boolean, done: Done<number>): void {
    this.run([command(AteccOp.Counter, increment ? 1 : 0, id)], (err, d) =>
      err ? done(err) : done(null, (d![0] | (d![1] << 8) | (d![2] << 16) | (d![3] << 24)) >>> 0),
    );
  }

  /** GenKey mode 00: the public key of the private key already in `slot`. */
  publicKey(slot: number, done: Done<Uint8Array>): void {
    this.run([command(AteccOp.GenKey, 0, slot)], done);
  }

  /**
   * ECDH of the private key in `slot` with the peer's X||Y; the 32-byte shared secret's X coordinate. Without an
   * I/O key: mode 00, the secret in the clear. With one (protect()): mode 0E (source slot, output encrypted, copy to
   * the output buffer: CryptoAuthLib calib_ecdh_ioenc), the part answers the secret XORed with SHA-256(I/O key ||
   * the first 16 bytes of its output nonce), then that 32-byte nonce; decrypted here as CryptoAuthLib's
   * atcah_io_decrypt does. A part whose ChipOptions demand encryption refuses mode 00.
   */
  ecdh(slot: number, peerPublicKey: Uint8Array, done: Done<Uint8Array>): void {
    const io = this.io;
    const sha = this.sha;
    this.run([command(AteccOp.ECDH, io ? 0x0e : 0, slot, peerPublicKey)], (err, d) => {
      if (err || !io) return done(err, d);
      if (d!.length !== 64) return done("rx-count");
      const k = sha!(concatBytes(io, d!.subarray(32, 48)));
      const z = new Uint8Array(32);
      for (let i = 0; i < 32; i++) z[i] = d![i] ^ k[i];
      done(null, z);
    });
  }

  check(ioKey: Uint8Array | null, sha256: (b: Uint8Array) => Uint8Array, done: (code: string) => void): void {
    // `self`, not `this`, in the callbacks: Espruino loses an arrow function's `this` two callbacks deep
    const self = this;
    self.readConfig((err, c) => {
      let code = err ? "SE_READ" : checkConfig(c!);
      if (!code && !(ioKey && ioKey.length === 32)) code = "SE_IO_KEY";
      if (!code) {
        self.io = ioKey;
        self.sha = sha256;
      }
      done(code);
    });
  }

  /**
   * Provisioning (ATECC608A datasheet DS40001977, "Personalization"): while the configuration zone is unlocked,
   * writes terminalConfig from byte 20 on, 4 bytes at a time (Write, zone 00; bytes 84-87 are not writable), reads
   * the zone back and locks it with the CRC of what the part holds (Lock mode 00, P2 = CRC-16 of the 128 bytes): a
   * write changed on the bus is locked as it is, and the check below then refuses the part. While the data zone is unlocked, makes a new key
   * in each key slot (GenKey mode 04), writes the I/O protection key (`o.ioKey`, or 32 bytes from Random, which
   * gives real random numbers only once the configuration is locked, handed to `o.keep` first) into its slot
   * (Write, 32 bytes) and locks the data zone (mode 81, CRC skipped, as CryptoAuthLib's atcab_lock_data_zone). Then
   * check(). Either lock is for ever.
   */
  setup(o: SetupOptions, done: (code: string) => void): void {
    const self = this;
    self.readConfig((err, c) => {
      if (err) return done("SE_READ");
      const again = (e: string | null) => (e ? done("SE_SETUP " + e) : self.setup(o, done));
      const cmds: Uint8Array[] = [];
      if (c![AteccCfg.LockConfig]) {
        const want = terminalConfig(c!);
        for (let o = 20; o < 128; o += 4) if (o !== 84) cmds.push(command(AteccOp.Write, 0, o >> 2, want.subarray(o, o + 4)));
        return self.run(cmds, (werr) => (werr ? again(werr) : self.readConfig((rerr, b) => (rerr ? again(rerr) : self.run([command(AteccOp.Lock, 0, crc16(b!, 0, 128))], again)))));
      }
      // a part locked with another configuration is refused before its data zone is locked for nothing
      if (checkConfig(c!) !== "SE_UNLOCKED") return self.check(o.ioKey, o.sha256, done);
      const write = (k: Uint8Array) => {
        if (!o.keep(k)) return done("SE_IO_KEY");
        o.ioKey = k;
        for (let i = 0; i < KEY_SLOTS.length; i++) cmds.push(command(AteccOp.GenKey, 4, KEY_SLOTS[i]));
        cmds.push(command(AteccOp.Write, 0x82, IO_KEY_SLOT << 3, k), command(AteccOp.Lock, 0x81, 0));
        self.run(cmds, again);
      };
      if (o.ioKey && o.ioKey.length === 32) write(o.ioKey);
      else self.random((rerr, r) => (rerr ? again(rerr) : write(r!)));
    });
  }

  /** The 128-byte configuration zone, read as four 32-byte blocks. */
  readConfig(done: Done<Uint8Array>): void {
    const self = this;
    const out = new Uint8Array(128);
    const block = (b: number) =>
      self.run([command(AteccOp.Read, 0x80, b << 3)], (err, d) => {
        if (err) return done(err);
        out.set(d!, b * 32);
        if (b < 3) block(b + 1);
        else done(null, out);
      });
    block(0);
  }

  /** Provisioning: GenKey mode 04 makes a new private key in `slot`; the result is its public key X||Y. */
  provisionKey(slot: number, done: Done<Uint8Array>): void {
    this.run([command(AteccOp.GenKey, 4, slot)], done);
  }

  private run(c: Uint8Array[], d: Done<Uint8Array>): void {
    this.q.push({ c: c, d: d });
    if (!this.busy) this.next();
  }

  private word(w: number): void {
    this.i2c.write(this.addr, new Uint8Array([w]));
  }

  /** Runs the next queued sequence; every step is a timer callback, nothing waits in a loop. */
  private next(): void {
    const job = this.q.shift();
    this.busy = !!job;
    if (!job) return;
    const i2c = this.i2c;
    const clock = this.clock;
    const a = this.addr;
    const cmds = job.c;
    let i = 0;
    let retried = false;
    let t0 = 0;
    const end = (err: string | null, data?: Uint8Array) => {
      this.word(AteccWord.Sleep); // NACKed if the part is asleep or still busy: harmless either way
      this.next();
      job.d(err, data);
    };
    const wake = () => {
      i2c.write(0, new Uint8Array(1)); // no part answers at address 0: the NACK is expected
      clock.setTimeout(() => {
        const r = i2c.read(a, 4);
        const e = r ? parseResponse(r) : "wake";
        if (e !== "awake") end(e === "self-test" ? e : "wake");
        else send();
      }, WAKE_MS);
    };
    const send = () => {
      if (!i2c.write(a, cmds[i])) return end("nack");
      t0 = clock.uptime();
      clock.setTimeout(poll, 1);
    };
    const poll = () => {
      // The part NACKs reads while it executes. Read COUNT first, then the rest, as cryptoauthlib does.
      const h = i2c.read(a, 1);
      if (!h) {
        if (clock.uptime() - t0 > maxExecMs(cmds[i][2]) + POLL_MARGIN_MS) end("timeout");
        else clock.setTimeout(poll, 2);
        return;
      }
      const n = h[0];
      if (n < 4 || n > RSP_MAX) return end("rx-count");
      const rest = i2c.read(a, n - 1);
      if (!rest) return end("nack");
      const r = new Uint8Array(n);
      r[0] = n;
      r.set(rest, 1);
      const res = parseResponse(r);
      if (res === "crc" && !retried) {
        // The part saw a garbled command and did not run it: sending it again is safe.
        retried = true;
        return send();
      }
      if (typeof res === "string") return end(res);
      if (++i < cmds.length) {
        this.word(AteccWord.Idle);
        retried = false;
        wake();
      } else end(null, res);
    };
    wake();
  }
}
