/**
 * Grow GM65 / GM805 QR scanner module on a UART, 9600 8N1 (hardware-notes.md section 2; GM65 manual §8).
 *
 *   const s = new Gm65Scanner({ serial: uart({ port: 2, tx: "D4", rx: "D5" }), clock, mode: "command" });
 *   s.listen((err, code) => { if (!err) pay(code.text); });
 *   s.trigger();
 *
 * At start it sets what the terminal relies on (factory values are not documented reliably), one register at a
 * time: read it, change only the bits that matter, write it if it differs, read it back to check. Symbologies
 * (0x002C = 01: all off, 360-degree reading on), QR on (0x003F = 01), CR tail and nothing else around the code
 * (0x0060 = 01), serial output (0x000D bits 1..0 = 00), and last the scan mode (0x0000 bits 1..0), so a
 * continuous-mode module only starts sending codes once the tail is known. Nothing is saved to EEPROM.
 * Commands go out one at a time; each waits REPLY_MS for its reply and is sent up to TRIES times.
 *
 * Errors to the listener: "garbage" (bytes outside printable ASCII), "too-long" (over maxLength), "partial" (a
 * code cut off: no tail within PARTIAL_MS of the last byte), "config" (a setting was not acknowledged or did not
 * read back; scanning may still work with the module's own), "trigger" (the trigger was not acknowledged).
 */
import type { Clock } from "../clock.ts";
import type { Serial, SerialOpen } from "../io.ts";
import type { Scanner, ScanResult } from "../scanner.ts";
import { Gm65, parseReply, readFrame, ScanFramer, writeFrame } from "./gm65-frames.ts";

/** The module drops a frame still incomplete 400 ms after 7E 00; a reply later than this is taken as lost. */
const REPLY_MS = 500;
const TRIES = 3;
const PARTIAL_MS = 300;
/** Longest reply kept: ours are 7 bytes (one register). */
const REPLY_MAX = 16;

export interface Gm65Options {
  serial: SerialOpen;
  clock: Clock;
  /** Longest code accepted, bytes (default 512). */
  maxLength?: number;
  /** "command": scans only after trigger(); "continuous": scans whatever is shown (default). */
  mode?: "command" | "continuous";
}

interface Cmd {
  frame: Uint8Array;
  /** The reply's data, or null after TRIES tries without a valid reply. */
  done: (data: Uint8Array | null) => void;
}

export class Gm65Scanner implements Scanner {
  /** True once every setting read back as written. */
  configured = false;
  private serial: Serial;
  private clock: Clock;
  private framer: ScanFramer;
  private onCode: ((err: string | null, code?: ScanResult) => void) | null = null;
  private queue: Cmd[] = [];
  private cur: Cmd | null = null;
  private tries = 0;
  private replyTimer = 0;
  private reply = new Uint8Array(REPLY_MAX);
  private rn = 0;
  private partialTimer = 0;
  /** Settings as (register, mask of the bits we own, value) triples; all registers are below 0x100. */
  private settings: Uint8Array;
  private configOk = true;

  constructor(o: Gm65Options) {
    this.clock = o.clock;
    this.framer = new ScanFramer(o.maxLength || 512);
    this.serial = o.serial({ baud: 9600, onReadable: (d) => this.rx(d) });
    this.settings = new Uint8Array([
      Gm65.RegSymbologies, 0xff, 0x01,
      Gm65.RegQr, 0xff, 0x01,
      Gm65.RegTail, 0xff, 0x01,
      Gm65.RegOutput, 0x03, 0x00,
      Gm65.RegMode, 0x03, o.mode === "command" ? 1 : 2,
    ]);
    this.configure(0);
  }

  listen(onCode: (err: string | null, code?: ScanResult) => void): void {
    this.onCode = onCode;
  }

  /** Writes the trigger bit (0x0002 bit 0); the module ACKs, then scans once. Queued behind configuration. */
  trigger(): void {
    this.cmd(writeFrame(Gm65.RegTrigger, 1), (d) => {
      if (!d || d[0] !== 0) this.emit("trigger");
    });
  }

  /** Setting i: read, merge, write if different, read back. */
  private configure(i: number): void {
    const s = this.settings;
    if (i >= s.length) {
      this.configured = this.configOk;
      return;
    }
    const addr = s[i];
    const mask = s[i + 1];
    const fail = () => {
      this.configOk = false;
      this.emit("config");
      this.configure(i + 3);
    };
    this.cmd(readFrame(addr), (d) => {
      if (!d) return fail();
      const want = (d[0] & ~mask) | s[i + 2];
      if (d[0] === want) return this.configure(i + 3);
      this.cmd(writeFrame(addr, want), (ack) => {
        if (!ack || ack[0] !== 0) return fail();
        this.cmd(readFrame(addr), (back) => {
          if (!back || back[0] !== want) return fail();
          this.configure(i + 3);
        }, true);
      }, true);
    }, true);
  }

  /** Queue a command; `first` puts it ahead of the queue (the configuration's steps go before any trigger). */
  private cmd(frame: Uint8Array, done: (data: Uint8Array | null) => void, first?: boolean): void {
    if (first) this.queue.unshift({ frame, done });
    else this.queue.push({ frame, done });
    if (!this.cur) this.next();
  }

  private next(): void {
    const c = this.queue.shift();
    this.cur = c || null;
    if (!c) return;
    this.tries = 0;
    this.send();
  }

  private send(): void {
    this.tries++;
    this.rn = 0;
    this.serial.write((this.cur as Cmd).frame);
    this.replyTimer = this.clock.setTimeout(() => {
      this.replyTimer = 0;
      this.answer(null);
    }, REPLY_MS);
  }

  /** A reply (null: none, or a bad one) to the command in flight: retry, or finish it and start the next. */
  private answer(data: Uint8Array | null): void {
    if (this.replyTimer) this.clock.clear(this.replyTimer);
    this.replyTimer = 0;
    if (!data && this.tries < TRIES) return this.send();
    const c = this.cur as Cmd;
    this.cur = null;
    c.done(data);
    if (!this.cur) this.next();
  }

  private emit(err: string | null, text?: string): void {
    if (this.onCode) this.onCode(err, err ? undefined : { text: text as string });
  }

  private rx(d: Uint8Array): void {
    const out = (err: string | null, text?: string) => this.emit(err, text);
    for (let i = 0; i < d.length; i++) {
      const c = d[i];
      // A reply starts with 02 (STX), which never occurs in scan output (not printable) nor inside a code.
      if (this.rn || (c === 0x02 && this.cur && !this.framer.pending())) {
        this.reply[this.rn++] = c;
        const r = parseReply(this.reply.subarray(0, this.rn));
        if (r) {
          this.rn = 0;
          if (this.cur) this.answer("data" in r ? r.data : null);
        } else if (this.rn === REPLY_MAX) this.rn = 0;
      } else this.framer.byte(c, out);
    }
    if (this.partialTimer) this.clock.clear(this.partialTimer);
    this.partialTimer = 0;
    if (this.framer.pending()) {
      this.partialTimer = this.clock.setTimeout(() => {
        this.partialTimer = 0;
        const e = this.framer.flush();
        if (e) this.emit(e);
      }, PARTIAL_MS);
    }
  }
}
