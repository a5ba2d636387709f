/**
 * A 58 mm ESC/POS thermal printer (CSN-A2 class) on a UART with no flow control (hardware-notes.md section 3).
 *
 *   const p = new EscPosPrinter({ serial: uart({ port: 3, tx: "D17", rx: "D16" }), clock });
 *   p.print(new EscPos().init().line("Hello").feed(3).bytes(), (err) => ...);
 *
 * Writes are paced, never busy-waited: a chunk of at most `bufferBytes` goes out, then the next waits for the
 * estimated time the printer needs for it (Adafruit's figures: 30 ms per printed dot row, 24 rows per font-A text
 * line, 2.1 ms per fed dot row; raster rows counted from GS v 0 headers; a GS ( k QR estimated from its module
 * size and data length), so the printer's buffer never overflows. Nothing is sent before the printer has had
 * BOOT_MS to start.
 *
 * With the printer's BUSY (DTR) pin wired (`busy`), each job is preceded by GS a 0x20 (handshake on) and the next
 * chunk goes out as soon as the pin is low after the chunk's wire time, instead of after the estimate; a pin still
 * high after twice the estimate (+ 2 s) makes the driver ask the status, and a printer that is not ready ends the job.
 *
 * Status is the real-time DLE EOT n (1 printer, 2 offline cause, 4 paper sensor); a printer that does not answer
 * within STATUS_MS, or answers without the fixed bits, is "offline". Jobs and status requests are served one at a
 * time in order, so a status asked during a job is answered when it ends. A job is refused unless the printer is
 * "ready". During a job, between chunks that end on a command boundary (never inside GS v 0 or GS ( k data, and
 * not at all once the job holds a command this parser does not know), the driver asks DLE EOT 2 and stops sending
 * when the paper ran out, the cover opened or the printer stopped answering, reporting why; otherwise paper
 * running out is reported when the job ends.
 */
import type { Clock } from "../clock.ts";
import type { Digital, DigitalOpen, Serial, SerialOpen } from "../io.ts";
import { PinMode } from "../io.ts";
import type { Printer, PrinterStatus } from "../printer.ts";

export const enum EscPosStatus {
  DLE = 0x10,
  EOT = 0x04,
  /** Bits 1 and 4 are always 1, bits 0 and 7 always 0: 0x12 is all clear. */
  FixedMask = 0x93,
  Fixed = 0x12,
  /** n = 1: offline. */
  Offline = 0x08,
  /** n = 2: cover open. */
  CoverOpen = 0x04,
  /** n = 2: stopped by paper end. */
  PaperEndStop = 0x20,
  /** n = 2: error. */
  Error = 0x40,
  /** n = 4: paper out (bits 5 and 6). */
  PaperOut = 0x60,
}

const BOOT_MS = 500;
const STATUS_MS = 300;
const PRINT_ROW_MS = 30;
const FEED_ROW_MS = 2.1;
const TEXT_ROWS = 24;
/** Dot rows a text line advances (24 + the default line spacing 6). */
const LINE_PITCH = 30;
/** How often a BUSY pin is read while high. */
const BUSY_POLL_MS = 20;

export interface EscPosPrinterOptions {
  serial: SerialOpen;
  clock: Clock;
  /** Baud rate (default 19200; some units use 9600). */
  baud?: number;
  /** The printer's receive buffer in bytes (default 256, Adafruit's assumption; unverified for the CSN-A2). */
  bufferBytes?: number;
  /** The printer's BUSY (DTR) pin, high while busy: paces writes by the pin instead of the estimate. */
  busy?: DigitalOpen;
}

/** DLE EOT 2 (offline cause) as a status; "ready" when it names no cause. */
function causeOf(s2: number): PrinterStatus {
  if (s2 < 0) return "offline";
  if (s2 & EscPosStatus.CoverOpen) return "cover-open";
  if (s2 & EscPosStatus.PaperEndStop) return "paper-out";
  if (s2 & EscPosStatus.Error) return "error";
  return "ready";
}

/**
 * Estimated milliseconds the printer needs for one job, chunk by chunk: `until(to)` gives the time for the bytes
 * from the previous `to` up to `to` (wire time at `baud`, plus the printing and feeding those bytes complete).
 * A command is charged to the chunk holding its last byte, a raster row to the chunk holding the row's last byte.
 * Errs on the slow side. Parses each byte once over the whole job.
 */
/** ESC and GS commands whose length PrintTime knows (ESC @ and ESC 2: 2 bytes, ESC 7: 5, the rest 3). */
const ESC_KNOWN = "@2a!EdJ-3tR M7";
const GS_KNOWN = "!avB(";

export class PrintTime {
  private i = 0;
  private from = 0;
  private w = 1;
  private h = 1;
  private col = 0;
  private lineH = 1;
  private qrModule = 3;
  private qrLen = 0;
  /** A command this parser does not know was met: from there on its idea of command boundaries may be wrong. */
  private unsure = false;

  constructor(
    private b: Uint8Array,
    private baud: number,
  ) {}

  until(to: number): number {
    const b = this.b;
    const from = this.from;
    let ms = ((to - from) * 10000) / this.baud;
    let i = this.i;
    while (i < to) {
      const c = b[i];
      const c1 = b[i + 1];
      const p = b[i + 2];
      let n = 1;
      if (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x1b && c !== 0x1d && c !== 0x10) this.unsure = true;
      if (c === 0x1b) {
        n = c1 === 0x40 || c1 === 0x32 ? 2 : c1 === 0x37 ? 5 : 3;
        if (ESC_KNOWN.indexOf(String.fromCharCode(c1)) < 0) this.unsure = true;
      } else if (c === 0x1d && GS_KNOWN.indexOf(String.fromCharCode(c1)) < 0) this.unsure = true;
      else if (c === 0x10 && c1 !== 0x04) this.unsure = true;
      else if (c === 0x1d && c1 === 0x76) {
        // GS v 0 m xL xH yL yH: rows done by byte position q, charged as they complete
        const w = b[i + 4] + 256 * b[i + 5] || 1;
        const rows = b[i + 6] + 256 * b[i + 7];
        const d = i + 8;
        const done = (q: number) => Math.min(rows, Math.max(0, Math.floor((q - d) / w)));
        ms += (done(to) - done(Math.max(from, i))) * PRINT_ROW_MS * (p & 2 ? 2 : 1);
        n = 8 + w * rows;
      } else if (c === 0x1d && c1 === 0x28) n = 5 + b[i + 3] + 256 * b[i + 4];
      else if (c === 0x1d || c === 0x10) n = 3;
      if (i + n > to) break; // finish it with the next chunk
      if (c === 0x0a) ms += this.line();
      else if (c === 0x1b) {
        if (c1 === 0x40) this.w = this.h = 1;
        if (c1 === 0x21) {
          this.w = p & 0x20 ? 2 : 1;
          this.h = p & 0x10 ? 2 : 1;
        }
        if (c1 === 0x64) ms += (this.col ? this.line() : 0) + LINE_PITCH * p * FEED_ROW_MS;
        if (c1 === 0x4a) ms += (this.col ? this.line() : 0) + p * FEED_ROW_MS;
      } else if (c === 0x1d && c1 === 0x21 && p >> 4 < 8 && (p & 15) < 8) {
        this.w = (p >> 4) + 1;
        this.h = (p & 15) + 1;
      } else if (c === 0x1d && c1 === 0x28 && b[i + 5] === 0x31) {
        const fn = b[i + 6];
        if (fn === 0x43) this.qrModule = b[i + 7];
        if (fn === 0x50) this.qrLen = n - 8;
        if (fn === 0x51) {
          // a version that surely holds the data in ECC M byte mode: capacity(1 + ceil(len / 20)) >= len
          const v = Math.min(40, 1 + Math.ceil(this.qrLen / 20));
          ms += this.qrModule * (17 + 4 * v) * PRINT_ROW_MS;
        }
      } else if (c >= 0x20 && c < 0x7f) {
        // a character; the printer wraps a full line by itself
        if (this.col && this.col + this.w > 32) ms += this.line();
        this.col += this.w;
        if (this.h > this.lineH) this.lineH = this.h;
      }
      i += n;
    }
    this.i = i;
    this.from = to;
    return Math.ceil(ms);
  }

  /**
   * True when the bytes parsed so far end exactly on a command boundary the parser is sure of: a DLE EOT sent
   * there cannot land inside a command's parameters or image data.
   */
  atBoundary(): boolean {
    return !this.unsure && this.i === this.from;
  }

  /** A line printed: its rows, then the rest of the line pitch fed (an empty line only feeds). */
  private line(): number {
    const rows = this.col ? TEXT_ROWS * this.lineH : 0;
    this.col = 0;
    this.lineH = 1;
    return rows * PRINT_ROW_MS + Math.max(0, LINE_PITCH - rows) * FEED_ROW_MS;
  }
}

interface Task {
  /** A job to print, or null for a status request. */
  job: Uint8Array | null;
  done: (s: PrinterStatus) => void;
}

export class EscPosPrinter implements Printer {
  private serial: Serial;
  private clock: Clock;
  private baud: number;
  private chunk: number;
  private tasks: Task[] = [];
  private busy = false;
  private readyAt: number;
  private reply: ((b: number) => void) | null = null;
  private busyPin: Digital | null;

  constructor(o: EscPosPrinterOptions) {
    this.clock = o.clock;
    this.busyPin = o.busy ? o.busy({ mode: PinMode.Input }) : null;
    this.baud = o.baud || 19200;
    this.chunk = o.bufferBytes || 256;
    this.readyAt = o.clock.uptime() + BOOT_MS;
    this.serial = o.serial({
      baud: this.baud,
      onReadable: (d) => {
        for (let i = 0; i < d.length; i++) if (this.reply) this.reply(d[i]);
      },
    });
  }

  /** Queue a job; `done(null)` once it has printed, or the reason it was refused or went wrong. */
  print(job: Uint8Array, done: (err: string | null) => void): void {
    this.add(job, (s) => done(s === "ready" ? null : s));
  }

  /** Ask the printer (after any job in progress). */
  status(done: (status: PrinterStatus) => void): void {
    this.add(null, done);
  }

  private add(job: Uint8Array | null, done: (s: PrinterStatus) => void): void {
    this.tasks.push({ job, done });
    if (!this.busy) this.next();
  }

  private next(): void {
    const t = this.tasks.shift();
    this.busy = !!t;
    if (!t) return;
    this.query((s) => {
      if (t.job && s === "ready") return this.send(t, new PrintTime(t.job, this.baud), 0);
      t.done(s);
      this.next();
    });
  }

  /**
   * Sends the chunk at `pos`, then waits its print time (or the BUSY pin) before the next, checking the paper
   * between chunks where that is safe; checks the status at the end.
   */
  private send(t: Task, est: PrintTime, pos: number): void {
    const job = t.job as Uint8Array;
    if (pos >= job.length) {
      return this.query((s) => {
        t.done(s);
        this.next();
      });
    }
    const end = Math.min(job.length, pos + this.chunk);
    if (pos === 0 && this.busyPin) this.serial.write(new Uint8Array([0x1d, 0x61, 0x20]));
    this.serial.write(job.subarray(pos, end));
    const ms = est.until(end);
    const stop = (s: PrinterStatus) => {
      t.done(s);
      this.next();
    };
    const go = () => {
      if (end >= job.length || !est.atBoundary()) return this.send(t, est, end);
      this.ask(2, (s2) => {
        const s = causeOf(s2);
        if (s !== "ready") return stop(s);
        this.send(t, est, end);
      });
    };
    if (!this.busyPin) {
      this.clock.setTimeout(go, ms);
      return;
    }
    const pin = this.busyPin;
    const wire = Math.ceil(((end - pos + (pos === 0 ? 3 : 0)) * 10000) / this.baud);
    const giveUp = this.clock.uptime() + wire + 2 * ms + 2000;
    const poll = () => {
      if (!pin.read()) return go();
      if (this.clock.uptime() < giveUp) {
        this.clock.setTimeout(poll, BUSY_POLL_MS);
        return;
      }
      this.query((s) => (s === "ready" ? go() : stop(s)));
    };
    this.clock.setTimeout(poll, wire);
  }

  /** DLE EOT 1, 2, 4, decoded. */
  private query(done: (s: PrinterStatus) => void): void {
    this.ask(1, (s1) => {
      if (s1 < 0) return done("offline");
      this.ask(2, (s2) => {
        this.ask(4, (s4) => {
          if (s2 < 0 || s4 < 0) return done("offline");
          if (s2 & EscPosStatus.CoverOpen) return done("cover-open");
          if (s2 & EscPosStatus.PaperEndStop || (s4 & EscPosStatus.PaperOut) === EscPosStatus.PaperOut) return done("paper-out");
          if (s2 & EscPosStatus.Error) return done("error");
          done(s1 & EscPosStatus.Offline ? "offline" : "ready");
        });
      });
    });
  }

  /** DLE EOT n; the callback gets the reply byte, or -1 on no answer or a reply without the fixed bits. */
  private ask(n: number, cb: (b: number) => void): void {
    this.clock.setTimeout(() => {
      const timer = this.clock.setTimeout(() => {
        this.reply = null;
        cb(-1);
      }, STATUS_MS);
      this.reply = (b) => {
        this.reply = null;
        this.clock.clear(timer);
        cb((b & EscPosStatus.FixedMask) === EscPosStatus.Fixed ? b : -1);
      };
      this.serial.write(new Uint8Array([EscPosStatus.DLE, EscPosStatus.EOT, n]));
    }, Math.max(0, this.readyAt - this.clock.uptime()));
  }
}
