/**
 * GM65-class QR scanner module on a UART (Grow GM65 / GM805).
 *
 *   const s = new Gm65Scanner({ serial: uart({ port: 2, tx: "D4", rx: "D5" }), clock, mode: "continuous" });
 *   s.listen((err, code) => { if (!err) pay(code.text); });
 *
 * At start it writes the settings the terminal relies on (the factory values are not documented reliably),
 * each write checked against the module's ACK, retried once: scan mode, QR only, serial output, CR tail.
 * Errors reported to the listener: "garbage", "too-long", "partial" (a code cut off: no tail within PARTIAL_MS),
 * "config" (the module did not acknowledge its settings; scanning may still work with its own).
 */
import type { Clock } from "../clock.ts";
import type { Serial, SerialOpen } from "../io.ts";
import type { Scanner, ScanResult } from "../scanner.ts";
import { commandFrame, Gm65, parseReply, ScanFramer } from "./gm65-frames.ts";

const REPLY_MS = 500;
const PARTIAL_MS = 300;

export interface Gm65Options {
  serial: SerialOpen;
  clock: Clock;
  /** Longest code accepted, bytes (default 512). */
  maxLength?: number;
  /** "command": scans only after trigger(); "continuous": scans whatever is shown (default). */
  mode?: "command" | "continuous";
}

export class Gm65Scanner implements Scanner {
  private serial: Serial;
  private clock: Clock;
  private framer: ScanFramer;
  private onCode: ((err: string | null, code?: ScanResult) => void) | null = null;
  private queue: Uint8Array[] = [];
  private waiting: Uint8Array | null = null;
  private tries = 0;
  private reply = new Uint8Array(0);
  private replyTimer = 0;
  private partialTimer = 0;

  constructor(o: Gm65Options) {
    this.clock = o.clock;
    this.framer = new ScanFramer(o.maxLength || 512);
    this.serial = o.serial({ baud: 9600, onReadable: (d) => this.rx(d) });
    // LED + sound + standard aim and light, and the scan mode in bits 1..0 (01 command, 10 continuous).
    const mode = 0xd4 | (o.mode === "command" ? 1 : 2);
    this.write(Gm65.RegMode, mode);
    this.write(Gm65.RegSymbologies, 0x01); // all off (QR is switched on next), 360-degree reading on
    this.write(Gm65.RegQr, 0x01);
    this.write(Gm65.RegOutput, 0x00); // serial output
    this.write(Gm65.RegTail, 0x01); // CR tail
  }

  listen(onCode: (err: string | null, code?: ScanResult) => void): void {
    this.onCode = onCode;
  }

  trigger(): void {
    this.write(Gm65.RegTrigger, 0x01);
  }

  private write(addr: number, value: number): void {
    this.queue.push(commandFrame(Gm65.TypeWrite, addr, new Uint8Array([value])));
    if (!this.waiting) this.next();
  }

  private next(): void {
    const f = this.queue.shift();
    this.waiting = f || null;
    if (!f) return;
    this.tries = 0;
    this.send();
  }

  private send(): void {
    this.tries++;
    this.reply = new Uint8Array(0);
    this.serial.write(this.waiting as Uint8Array);
    this.replyTimer = this.clock.setTimeout(() => {
      this.replyTimer = 0;
      if (this.tries < 2) return this.send();
      this.emit("config");
      this.next();
    }, REPLY_MS);
  }

  private emit(err: string | null, text?: string): void {
    if (this.onCode) this.onCode(err, err ? undefined : { text: text as string });
  }

  private rx(d: Uint8Array): void {
    let data = d;
    if (this.waiting && (this.reply.length || data[0] === 0x02)) {
      // a reply to our command: collect until it is whole
      const all = new Uint8Array(this.reply.length + data.length);
      all.set(this.reply);
      all.set(data, this.reply.length);
      const r = parseReply(all);
      if (!r) {
        this.reply = all;
        return;
      }
      this.clock.clear(this.replyTimer);
      this.replyTimer = 0;
      this.reply = new Uint8Array(0);
      if ("err" in r && this.tries < 2) this.send();
      else {
        if ("err" in r) this.emit("config");
        this.next();
      }
      data = all.subarray(r.used);
      if (!data.length) return;
    }
    this.framer.push(data, (err, text) => this.emit(err, text));
    if (this.partialTimer) this.clock.clear(this.partialTimer);
    this.partialTimer = 0;
    if (this.framer.pending()) {
      this.partialTimer = this.clock.setTimeout(() => {
        this.partialTimer = 0;
        this.framer.reset();
        this.emit("partial");
      }, PARTIAL_MS);
    }
  }
}
