/**
 * A 58 mm ESC/POS thermal printer (CSN-A2 class) on a UART, with no flow control: writes are paced by the
 * estimated print time of what was sent (Adafruit's figures: 30 ms per printed dot row, 2.1 ms per fed dot row,
 * 24 dot rows per text line), never faster than the printer's buffer can take.
 *
 *   const p = new EscPosPrinter({ serial: uart({ port: 3, tx: "D17", rx: "D16" }), clock });
 *   p.print(new EscPos().init().line("Hello").feed(3).bytes(), (err) => ...);
 *
 * Status is the real-time DLE EOT n (n = 1 printer, 2 offline cause, 4 paper sensor); a printer that does not
 * answer is "offline". A job is refused when the paper is out or the cover open; paper running out during a job is
 * reported when the job ends.
 */
import type { Clock } from "../clock.ts";
import type { Serial, SerialOpen } from "../io.ts";
import type { Printer, PrinterStatus } from "../printer.ts";

const BOOT_MS = 500;
const STATUS_MS = 300;
const PRINT_ROW_MS = 30;
const FEED_ROW_MS = 2.1;
const TEXT_ROWS = 24;
/** Paper advance per text line in dots (character height 24 + line spacing 6, the printers' default). */
const LINE_PITCH = 30;
/** A QR printed by GS ( k: rows are estimated for a version-10 symbol at module size 6. */
const QR_ROWS = 6 * 65;

export interface EscPosPrinterOptions {
  serial: SerialOpen;
  clock: Clock;
  baud?: number;
  /** The printer's receive buffer in bytes (unverified for the CSN-A2; 256 as Adafruit assumes). */
  bufferBytes?: number;
}

/**
 * Milliseconds the printer needs for bytes [from, to) of job `b`: the bytes on the wire, plus the printing and
 * feeding they complete. The job is always parsed from its start, so a chunk that begins inside a raster image
 * is not misread; each printed row is charged to the chunk that holds its last byte.
 */
export function printTimeMs(b: Uint8Array, from: number, to: number, baud: number): number {
  let ms = ((to - from) * 10 * 1000) / baud;
  const at = (pos: number, cost: number) => {
    if (pos >= from && pos < to) ms += cost;
  };
  let height = 1; // character height multiplier (GS ! / ESC !)
  let i = 0;
  while (i < to && i < b.length) {
    const c = b[i];
    if (c === 0x0a) {
      const rows = TEXT_ROWS * height;
      at(i, rows * PRINT_ROW_MS + Math.max(0, LINE_PITCH - rows) * FEED_ROW_MS);
      i++;
    } else if (c === 0x1b && i + 1 < b.length) {
      const cmd = b[i + 1];
      if (cmd === 0x40) height = 1;
      if (cmd === 0x21) height = b[i + 2] & 0x10 ? 2 : 1;
      if (cmd === 0x64) at(i + 2, LINE_PITCH * (b[i + 2] || 0) * FEED_ROW_MS);
      if (cmd === 0x4a) at(i + 2, (b[i + 2] || 0) * FEED_ROW_MS);
      i += cmd === 0x40 ? 2 : cmd === 0x37 ? 5 : 3;
    } else if (c === 0x1d && i + 7 < b.length && b[i + 1] === 0x76) {
      const w = b[i + 4] + 256 * b[i + 5];
      const h = b[i + 6] + 256 * b[i + 7];
      for (let r = 0; r < h; r++) at(i + 7 + (r + 1) * w, PRINT_ROW_MS);
      i += 8 + w * h;
    } else if (c === 0x1d && i + 6 < b.length && b[i + 1] === 0x28) {
      const len = b[i + 3] + 256 * b[i + 4];
      if (b[i + 6] === 0x51) at(i + 4 + len, QR_ROWS * PRINT_ROW_MS);
      i += 5 + len;
    } else if (c === 0x1d) {
      if (b[i + 1] === 0x21) height = (b[i + 2] & 15) + 1;
      i += 3;
    }
    else i++;
  }
  return Math.ceil(ms);
}

interface Job {
  data: Uint8Array;
  done: (err: string | null) => void;
}

export class EscPosPrinter implements Printer {
  private serial: Serial;
  private clock: Clock;
  private baud: number;
  private chunk: number;
  private jobs: Job[] = [];
  private busy = false;
  private readyAt: number;
  private reply: ((b: number) => void) | null = null;

  constructor(o: EscPosPrinterOptions) {
    this.clock = o.clock;
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

  print(job: Uint8Array, done: (err: string | null) => void): void {
    this.jobs.push({ data: job, done });
    if (!this.busy) this.next();
  }

  status(done: (status: PrinterStatus) => void): void {
    this.ask(1, (s1) => {
      if (s1 < 0) return done("offline");
      this.ask(2, (s2) => {
        this.ask(4, (s4) => {
          if (s2 < 0 || s4 < 0) return done("offline");
          if (s2 & 0x04) return done("cover-open");
          if (s2 & 0x20 || (s4 & 0x60) === 0x60) return done("paper-out");
          if (s2 & 0x40) return done("error");
          done(s1 & 0x08 ? "offline" : "ready");
        });
      });
    });
  }

  /** DLE EOT n; the callback gets the reply byte, or -1 on no answer or a reply without the fixed bits. */
  private ask(n: number, cb: (b: number) => void): void {
    const wait = Math.max(0, this.readyAt - this.clock.uptime());
    this.clock.setTimeout(() => {
      let answered = false;
      const timer = this.clock.setTimeout(() => {
        this.reply = null;
        if (!answered) cb(-1);
      }, STATUS_MS);
      this.reply = (b) => {
        answered = true;
        this.reply = null;
        this.clock.clear(timer);
        cb((b & 0x93) === 0x12 ? b : -1);
      };
      this.serial.write(new Uint8Array([0x10, 0x04, n]));
    }, wait);
  }

  private next(): void {
    const job = this.jobs.shift();
    if (!job) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.status((s) => {
      if (s !== "ready") {
        job.done(s);
        return this.next();
      }
      this.send(job, 0);
    });
  }

  private send(job: Job, pos: number): void {
    if (pos >= job.data.length) {
      // Paper may have run out while printing: say so rather than claim the receipt came out whole.
      this.status((s) => {
        job.done(s === "ready" ? null : s);
        this.next();
      });
      return;
    }
    const part = job.data.subarray(pos, Math.min(job.data.length, pos + this.chunk));
    this.serial.write(part);
    const end = pos + part.length;
    this.clock.setTimeout(() => this.send(job, end), printTimeMs(job.data, pos, end, this.baud));
  }
}
