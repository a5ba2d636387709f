/**
 * Byte-level emulation of a 58 mm ESC/POS thermal printer (CSN-A2 / Adafruit class, Epson command semantics) on
 * its UART, for the simulator and driver tests. Source of truth: /work/shared/hardware-notes.md §3 (ADA, EPS).
 *
 *   const printer = new EscPosPrinterEmulator({ now: () => clock.now, onTransmit: (b) => hostRx(b) });
 *   printer.receive(bytesFromHost);   // any chunking; bytes arrive at the line rate (`baud`)
 *   printer.tick();                   // let the clock run (printing, real-time replies) when nothing is sent
 *   printer.text();                   // the roll as plain text; printer.paper: the roll as items
 *   printer.receipts();               // each printed job: { text, png, items, qrs }, oldest first
 *
 * The model:
 * - Bytes reach the printer one per byte time (10 bit times at `baud`, default 19200; 0 = instantly), go into a
 *   finite receive buffer (`bufferSize`, default 256, ADA's assumption) and are interpreted from there by a print
 *   engine that is busy while it prints: 30 ms per printed dot row and 2.1 ms per fed dot row (ADA dotPrintTime /
 *   dotFeedTime). A text line is 24 printed rows (48 at double height) plus the rest of the line pitch fed (default
 *   pitch 30 dots: ADA's charHeight 24 + lineSpacing 6). Raster rows cost 30 ms each as their data arrives. Bytes
 *   arriving while the buffer is full are lost and counted in `overflowBytes` (no flow control by default).
 * - Time is driven by the injected clock and evaluated lazily on every call; the simulator calls `tick()`.
 * - DLE EOT n is answered in real time when its bytes arrive (even inside raster data, and when the buffer is full),
 *   and skipped when the interpreter later meets it in the buffer (Epson behaviour).
 * - While `paperOut` or `coverOpen` (offline), printable items go to `lost` instead of `paper`, at no print cost.
 * - Unknown commands are recorded in `unknown` (only the ESC/GS/DLE and the next byte are consumed, so any parameters
 *   print as garbage text, like the real thing); the emulator never throws on input.
 * - Jobs: the roll is split into printed jobs where the host sent ESC @ (every job the firmware builds starts
 *   with it) or cut the paper (GS V), once something was printed since the last split; `receipts()` gives each.
 * - The printer ignores data for `bootMs` (default 500, ADA begin()) after construction, and after `ESC 8` it falls
 *   asleep when idle; the next byte only wakes it (dropped) and bytes in the following 50 ms are dropped (ADA
 *   wake()). Dropped bytes are counted in `droppedBytes`.
 *
 * Emulator choices (UNVERIFIED on real CSN-A2 units): ESC 8 takes 2 parameter bytes (firmware >= 2.64; set
 * `sleepParamBytes: 1` for older); ESC v / GS r answer (paper near end ? 03 : 0) | (paper out ? 0C : 0) so ADA's
 * bit-2 test works; code pages: 0 = CP437 and 16 = WPC1252 are decoded for `text()`, others as Latin-1; ESC R only
 * recorded; GS V (cut; CSN-A2 units have no cutter) only splits jobs and is counted in `cuts`; QR is rendered with qrcode-generator in byte mode (model 2 always, so versions may differ from a real
 * printer); GS v 0 with text pending in the line buffer is consumed and ignored (Epson standard mode).
 */
import qrcode from "qrcode-generator";
import { glyphRows } from "../render/font6x8.ts";
import { toBytes } from "../espruino/bytes.ts";
import { bitmapPng } from "../render/paper.ts";

export type Align = "left" | "center" | "right";
export type QrEcc = "L" | "M" | "Q" | "H";

/** A run of characters printed with the same attributes. */
export interface TextRun {
  text: string;
  bold: boolean;
  underline: boolean;
  width: number;
  height: number;
  font: "A" | "B";
}

/** One printed text line. Top-level attributes are those of its first run; `runs` has the detail. */
export interface TextLineItem {
  kind: "text";
  text: string;
  bold: boolean;
  width: number;
  height: number;
  align: Align;
  font: "A" | "B";
  runs: TextRun[];
  /** Paper advance of this line in dot rows (line pitch, at least the character height). */
  feedDots: number;
}

/** A raster image: `bits` is `width/8` bytes per row, MSB = leftmost dot, 1 = black. */
export interface RasterItem {
  kind: "raster";
  width: number;
  height: number;
  bits: Uint8Array;
  scaleX: number;
  scaleY: number;
  source: "GS v 0" | "DC2 *";
}

export interface QrItem {
  kind: "qr";
  /** The stored data as a string, one char per byte (Latin-1). */
  data: string;
  module: number;
  ecc: QrEcc;
  model: 1 | 2;
  align: Align;
  /** Printed width = height in dots (module count x module size). */
  size: number;
}

export interface FeedItem {
  kind: "feed";
  dots: number;
}

export type PaperItem = TextLineItem | RasterItem | QrItem | FeedItem;

/** A 1-bit image: `width` dots wide, ceil(width / 8) bytes a row, MSB = leftmost dot, 1 = black. */
export interface PaperBitmap {
  width: number;
  height: number;
  bits: Uint8Array;
}

/** One printed job (see `receipts()`). */
export interface PrintedJob {
  /** 0 for the first job on the roll. */
  index: number;
  /** Its items, in print order (a slice of `paper`). */
  items: PaperItem[];
  /** As text, like `text()`. */
  text: string;
  /** The data of every GS ( k QR it printed (a raster QR is only pixels: decode `png`). */
  qrs: string[];
  /** As a 1-bit image, `dotsPerLine` wide (rendered on first use). */
  readonly bitmap: PaperBitmap;
  /** As a PNG, black on white, `dotsPerLine` wide (rendered on first use). */
  readonly png: Buffer;
}

export interface UnknownCommand {
  /** Index of the first byte in the interpreted byte stream. */
  offset: number;
  bytes: number[];
  note: string;
}

export interface EscPosPrinterOptions {
  /** Bytes the printer sends back to the host (status replies). */
  onTransmit(b: Uint8Array): void;
  /** Milliseconds, monotonic. */
  now(): number;
  /** Print width in dots (default 384 = 48 bytes). */
  dotsPerLine?: number;
  /** Receive buffer size in bytes (default 256). */
  bufferSize?: number;
  /** Line rate for byte arrival times (default 19200, 10 bit times per byte); 0 = bytes arrive instantly. */
  baud?: number;
  /** Boot time during which input is ignored (default 500 ms). */
  bootMs?: number;
  /** Parameter bytes of ESC 8 (default 2). */
  sleepParamBytes?: 1 | 2;
}

/** ADA timing, ms per printed / fed dot row. */
export const DOT_PRINT_MS = 30;
export const DOT_FEED_MS = 2.1;
const CHAR_ROWS = 24;
const DEFAULT_PITCH = 30;

const enum C {
  HT = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  DLE = 0x10,
  DC2 = 0x12,
  ESC = 0x1b,
  GS = 0x1d,
  EOT = 0x04,
}

const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";
/** WPC1252 0x80-0x9F (0xA0-0xFF equal Latin-1). Node 20's TextDecoder("windows-1252") decodes as Latin-1. */
const CP1252_80 =
  "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";

function decodeChar(b: number, codePage: number): string {
  if (b < 0x80) return String.fromCharCode(b);
  if (codePage === 0) return CP437_HIGH[b - 0x80];
  if (codePage === 16 && b < 0xa0) return CP1252_80[b - 0x80];
  return String.fromCharCode(b);
}


/** A command waiting for `need` more bytes; `done` returns the print cost in ms. */
interface Pending {
  need: number;
  buf: number[];
  start: number;
  done(b: number[], start: number): number;
}

interface RasterJob {
  bytesPerRow: number;
  keepBytes: number;
  rows: number;
  data: Uint8Array;
  pos: number;
  scaleX: number;
  scaleY: number;
  source: "GS v 0" | "DC2 *";
  discard: boolean;
}

export class EscPosPrinterEmulator {
  paperOut = false;
  coverOpen = false;
  /** Paper near end (DLE EOT 4 bits 2-3); paper out implies it. */
  paperNearEnd = false;
  /** Items that would have printed while the printer was offline (paper out / cover open). */
  readonly lost: PaperItem[] = [];
  readonly unknown: UnknownCommand[] = [];
  /** Bytes lost because the receive buffer was full. */
  overflowBytes = 0;
  /** Bytes ignored while booting or asleep / waking. */
  droppedBytes = 0;
  /** Last GS a n value (ASB / DTR handshake enable; bit 5 = BUSY on DTR per ADA). */
  asb = 0;
  /** Last ESC 7 heating parameters. */
  heat: { maxDots: number; time: number; interval: number } | null = null;
  codePage = 0;
  charset = 0;
  /** Seconds of idle before sleep set by ESC 8 (0 = never). */
  sleepAfterSec = 0;
  /** GS V commands received (paper cuts). */
  cuts = 0;

  readonly dotsPerLine: number;
  readonly bufferSize: number;
  private readonly opts: EscPosPrinterOptions;
  private readonly byteMs: number;
  private readonly bootUntil: number;
  private readonly sleepParamBytes: 1 | 2;
  private readonly items: PaperItem[] = [];
  /** Index in `items` of the first item of each job after the first. */
  private readonly jobStarts: number[] = [];

  // Timeline.
  private clock: number;
  private lineFreeAt: number;
  private arrivals: { t: number; b: number }[] = [];
  private rx: number[] = [];
  private engineFreeAt: number;
  private lastActivity: number;
  private wakingUntil = -Infinity;
  private rt: number[] = []; // last arrived bytes, for DLE EOT detection

  // Interpreter.
  private consumed = 0;
  private pending: Pending | null = null;
  private raster: RasterJob | null = null;
  private runs: TextRun[] = [];
  private lineDots = 0;
  private lineAlign: Align = "left";
  private align: Align = "left";
  private bold = false;
  private underline = false;
  private width = 1;
  private height = 1;
  private font: "A" | "B" = "A";
  private pitch = DEFAULT_PITCH;
  private charSpacing = 0;
  private qr: { model: 1 | 2; module: number; ecc: QrEcc; data: Uint8Array | null } = {
    model: 2,
    module: 3,
    ecc: "L",
    data: null,
  };

  constructor(opts: EscPosPrinterOptions) {
    this.opts = opts;
    this.dotsPerLine = opts.dotsPerLine ?? 384;
    this.bufferSize = opts.bufferSize ?? 256;
    const baud = opts.baud ?? 19200;
    this.byteMs = baud > 0 ? 10000 / baud : 0;
    this.sleepParamBytes = opts.sleepParamBytes ?? 2;
    const t = opts.now();
    this.clock = t;
    this.lineFreeAt = t;
    this.engineFreeAt = t;
    this.lastActivity = t;
    this.bootUntil = t + (opts.bootMs ?? 500);
  }

  /** The roll so far (advances the clock first). */
  get paper(): PaperItem[] {
    this.tick();
    return this.items;
  }

  /** Bytes waiting in the receive buffer. */
  get bufferedBytes(): number {
    this.tick();
    return this.rx.length;
  }

  /** True while the print engine is busy (printing or feeding). */
  get printing(): boolean {
    this.tick();
    return this.engineFreeAt > this.clock;
  }

  /** The DTR/BUSY pin: high when the handshake is enabled (GS a, bit 5) and the printer is busy or offline. */
  get busy(): boolean {
    this.tick();
    if (!(this.asb & 0x20)) return false;
    return this.offline || this.engineFreeAt > this.clock || this.rx.length >= this.bufferSize;
  }

  private get offline(): boolean {
    return this.paperOut || this.coverOpen;
  }

  /** Bytes from the host's UART TX, any chunking. */
  receive(b: ArrayLike<number> | ArrayBufferView | ArrayBuffer): void {
    const now = this.opts.now();
    this.advance(now);
    for (const byte of toBytes(b)) {
      const start = Math.max(now, this.lineFreeAt);
      this.lineFreeAt = start + this.byteMs;
      this.arrivals.push({ t: this.lineFreeAt, b: byte });
    }
    this.advance(now);
  }

  /** Lets the clock run: delivers bytes still on the line, prints, answers real-time requests. */
  tick(): void {
    this.advance(this.opts.now());
  }

  /** The roll as plain text: one line per text line, alignment by padding to 32 (font A) / 42 (font B) columns. */
  text(): string {
    return itemsText(this.paper, this.dotsPerLine);
  }

  /**
   * The roll as a 1-bit image, `dotsPerLine` wide, MSB = leftmost dot, 1 = black. Text uses the 6x8 font scaled x2
   * for font A (12x16 in a 12-dot column) and x1 for font B (9-dot column); QR codes are drawn with qrcode-generator.
   */
  renderBitmap(): PaperBitmap {
    return renderItems(this.paper, this.dotsPerLine);
  }

  /**
   * Every job printed so far, oldest first: the roll split where the host sent ESC @ or GS V after something had
   * printed. Each comes as items, text, the GS ( k QR data, and a bitmap and PNG rendered when first read.
   * Items printed while the printer was offline are not on the paper, so not here either (see `lost`).
   */
  receipts(): PrintedJob[] {
    const items = this.paper;
    const W = this.dotsPerLine;
    const bounds = [0].concat(this.jobStarts.filter((i) => i > 0 && i < items.length), [items.length]);
    const out: PrintedJob[] = [];
    for (let j = 0; j + 1 < bounds.length; j++) {
      const part = items.slice(bounds[j], bounds[j + 1]);
      if (!part.length) continue;
      let bmp: PaperBitmap | null = null;
      let png: Buffer | null = null;
      const bitmap = () => (bmp = bmp || renderItems(part, W));
      out.push({
        index: out.length,
        items: part,
        text: itemsText(part, W),
        qrs: part.flatMap((it) => (it.kind === "qr" ? [it.data] : [])),
        get bitmap() {
          return bitmap();
        },
        get png() {
          return (png = png || bitmapPng(bitmap()));
        },
      });
    }
    return out;
  }

  /** The last job printed, or null (see `receipts()`). */
  lastReceipt(): PrintedJob | null {
    const all = this.receipts();
    return all.length ? all[all.length - 1] : null;
  }

  // ---- timeline -------------------------------------------------------------------------------------------

  private advance(until: number): void {
    for (;;) {
      const ta = this.arrivals.length ? this.arrivals[0].t : Infinity;
      const tp = this.rx.length ? Math.max(this.engineFreeAt, this.clock) : Infinity;
      const t = Math.min(ta, tp);
      if (t > until || t === Infinity) break;
      this.clock = t;
      if (ta < tp) this.arrive(this.arrivals.shift()!.b, t); // at a tie the engine takes what it has first
      else {
        const b = this.rx.shift()!;
        const cost = this.interpret(b);
        this.engineFreeAt = t + cost;
        this.lastActivity = this.engineFreeAt;
      }
    }
    if (until > this.clock) this.clock = until;
  }

  private arrive(b: number, t: number): void {
    if (t < this.bootUntil) {
      this.droppedBytes++;
      return;
    }
    const idleSince = Math.max(this.lastActivity, this.engineFreeAt);
    if (this.sleepAfterSec > 0 && this.rx.length === 0 && t - idleSince >= this.sleepAfterSec * 1000) {
      this.wakingUntil = t + 50; // asleep: this byte wakes the printer and is lost
    }
    this.lastActivity = Math.max(this.lastActivity, t);
    if (t < this.wakingUntil) {
      this.droppedBytes++;
      return;
    }
    this.realTime(b);
    if (this.rx.length >= this.bufferSize) this.overflowBytes++;
    else this.rx.push(b);
  }

  /** DLE EOT n, answered as soon as its last byte arrives (Epson real-time command). */
  private realTime(b: number): void {
    const rt = this.rt;
    rt.push(b);
    if (rt.length > 3) rt.shift();
    if (rt.length === 3 && rt[0] === C.DLE && rt[1] === C.EOT && b >= 1 && b <= 4) {
      this.opts.onTransmit(Uint8Array.of(this.status(b)));
      this.rt = [];
    }
  }

  /** Status byte for DLE EOT n (bits 1 and 4 always set). */
  private status(n: number): number {
    let s = 0x12;
    if (n === 1) {
      if (this.offline) s |= 0x08;
    } else if (n === 2) {
      if (this.coverOpen) s |= 0x04;
      if (this.paperOut) s |= 0x20;
    } else if (n === 4) {
      if (this.paperNearEnd || this.paperOut) s |= 0x0c;
      if (this.paperOut) s |= 0x60;
    }
    return s;
  }

  // ---- interpreter ----------------------------------------------------------------------------------------

  private expect(need: number, done: (b: number[], start: number) => number, start: number): number {
    this.pending = { need, buf: [], start, done };
    return 0;
  }

  private unknownCmd(start: number, bytes: number[], note: string): number {
    this.unknown.push({ offset: start, bytes, note });
    return 0;
  }

  /** Interprets one byte from the receive buffer; returns the engine time it costs in ms. */
  private interpret(b: number): number {
    const offset = this.consumed++;
    if (this.raster) return this.rasterByte(b);
    const p = this.pending;
    if (p) {
      p.buf.push(b);
      if (p.buf.length < p.need) return 0;
      this.pending = null;
      return p.done(p.buf, p.start);
    }
    switch (b) {
      case C.LF:
        return this.printLine();
      case C.CR:
        return 0; // ignored (auto line feed off)
      case C.HT: {
        const col = Math.floor(this.lineDots / this.charDots());
        let cost = 0;
        for (let i = col; i < (Math.floor(col / 8) + 1) * 8; i++) cost += this.addChar(0x20);
        return cost;
      }
      case C.ESC:
        return this.expect(1, ([c], s) => this.esc(c, s), offset);
      case C.GS:
        return this.expect(1, ([c], s) => this.gs(c, s), offset);
      case C.DLE:
        return this.expect(
          1,
          ([c], s) =>
            c === C.EOT
              ? this.expect(1, () => 0, s) // answered in real time on arrival
              : this.unknownCmd(s, [C.DLE, c], "unsupported DLE command"),
          offset,
        );
      case C.DC2:
        return this.expect(
          1,
          ([c], s) =>
            c === 0x2a
              ? this.expect(2, ([rows, bpr]) => this.startRaster(bpr, rows, 0, "DC2 *"), s)
              : this.unknownCmd(s, [C.DC2, c], "unsupported DC2 command"),
          offset,
        );
      default:
        if (b < 0x20) return this.unknownCmd(offset, [b], "control character");
        return this.addChar(b);
    }
  }

  private esc(c: number, s: number): number {
    const one = (f: (n: number) => number) => this.expect(1, ([n]) => f(n), s);
    switch (c) {
      case 0x40: // ESC @
        this.reset();
        this.markJob();
        return 0;
      case 0x61: // ESC a n
        return one((n) => {
          const v = n >= 48 ? n - 48 : n;
          if (v <= 2 && (n <= 2 || (n >= 48 && n <= 50)) && this.runs.length === 0) {
            this.align = (["left", "center", "right"] as const)[v];
          }
          return 0;
        });
      case 0x45: // ESC E n
        return one((n) => {
          this.bold = (n & 1) === 1;
          return 0;
        });
      case 0x2d: // ESC - n
        return one((n) => {
          this.underline = (n & 3) !== 0 && n !== 48;
          return 0;
        });
      case 0x21: // ESC ! n
        return one((n) => {
          this.font = n & 0x01 ? "B" : "A";
          this.bold = (n & 0x08) !== 0;
          this.height = n & 0x10 ? 2 : 1;
          this.width = n & 0x20 ? 2 : 1;
          this.underline = (n & 0x80) !== 0;
          return 0;
        });
      case 0x74: // ESC t n
        return one((n) => {
          this.codePage = n;
          return 0;
        });
      case 0x52: // ESC R n
        return one((n) => {
          if (n <= 15) this.charset = n;
          return 0;
        });
      case 0x64: // ESC d n
        return one((n) => {
          let cost = 0;
          let lines = n;
          if (this.runs.length) {
            cost += this.printLine();
            lines = Math.max(0, n - 1);
          }
          return cost + this.feed(lines * this.pitch);
        });
      case 0x4a: // ESC J n
        return one((n) => (this.runs.length ? this.printLine() : 0) + this.feed(n));
      case 0x32: // ESC 2
        this.pitch = DEFAULT_PITCH;
        return 0;
      case 0x33: // ESC 3 n
        return one((n) => {
          this.pitch = n;
          return 0;
        });
      case 0x20: // ESC SP n
        return one((n) => {
          this.charSpacing = n;
          return 0;
        });
      case 0x7b: // ESC { n (upside down): accepted, not rendered
        return one(() => 0);
      case 0x37: // ESC 7 n1 n2 n3
        return this.expect(
          3,
          ([a, b, d]) => {
            this.heat = { maxDots: a, time: b, interval: d };
            return 0;
          },
          s,
        );
      case 0x38: // ESC 8 t / ESC 8 tL tH
        return this.expect(
          this.sleepParamBytes,
          (p) => {
            this.sleepAfterSec = p[0] | ((p[1] ?? 0) << 8);
            return 0;
          },
          s,
        );
      case 0x76: // ESC v n: paper status (ADA hasPaper, firmware >= 2.64)
        return one(() => {
          this.opts.onTransmit(Uint8Array.of(this.paperSensor()));
          return 0;
        });
      default:
        return this.unknownCmd(s, [C.ESC, c], "unknown ESC command");
    }
  }

  private gs(c: number, s: number): number {
    const one = (f: (n: number) => number) => this.expect(1, ([n]) => f(n), s);
    switch (c) {
      case 0x21: // GS ! n
        return one((n) => {
          if (n >> 4 <= 7 && (n & 15) <= 7) {
            this.width = (n >> 4) + 1;
            this.height = (n & 15) + 1;
          }
          return 0;
        });
      case 0x61: // GS a n
        return one((n) => {
          this.asb = n;
          return 0;
        });
      case 0x72: // GS r n (ADA hasPaper, old firmware)
        return one(() => {
          this.opts.onTransmit(Uint8Array.of(this.paperSensor()));
          return 0;
        });
      case 0x42: // GS B n (inverse): accepted, not rendered
      case 0x48: // GS H n (barcode HRI position)
      case 0x68: // GS h n (barcode height)
      case 0x77: // GS w n (barcode width)
        return one(() => 0);
      case 0x56: // GS V m (m = 0, 1, 48, 49) / GS V m n (m = 65, 66): cut; prints what is in the line buffer first
        return one((m) => {
          const cut = (feedDots: number): number => {
            const cost = (this.runs.length ? this.printLine() : 0) + this.feed(feedDots);
            this.cuts++;
            this.markJob();
            return cost;
          };
          if (m === 0 || m === 1 || m === 48 || m === 49) return cut(0);
          if (m === 65 || m === 66) return this.expect(1, ([n]) => cut(n), s);
          return this.unknownCmd(s, [C.GS, 0x56, m], "GS V with invalid m");
        });
      case 0x76: // GS v 0 m xL xH yL yH
        return one((z) =>
          z === 0x30
            ? this.expect(5, ([m, xL, xH, yL, yH]) => this.gsv0(m, xL | (xH << 8), yL | (yH << 8), s), s)
            : this.unknownCmd(s, [C.GS, 0x76, z], "GS v other than GS v 0"),
        );
      case 0x28: // GS ( fn
        return one((f) =>
          f === 0x6b
            ? this.expect(2, ([pL, pH]) => this.gsk(pL | (pH << 8), s), s)
            : this.unknownCmd(s, [C.GS, 0x28, f], "unsupported GS ( function"),
        );
      default:
        return this.unknownCmd(s, [C.GS, c], "unknown GS command");
    }
  }

  /** The next item printed starts a new job (unless nothing was printed since the last mark). */
  private markJob(): void {
    const n = this.items.length;
    const last = this.jobStarts.length ? this.jobStarts[this.jobStarts.length - 1] : 0;
    if (n > last) this.jobStarts.push(n);
  }

  private reset(): void {
    this.runs = [];
    this.lineDots = 0;
    this.align = "left";
    this.bold = false;
    this.underline = false;
    this.width = 1;
    this.height = 1;
    this.font = "A";
    this.pitch = DEFAULT_PITCH;
    this.charSpacing = 0;
    this.codePage = 0;
    this.charset = 0;
    this.qr = { model: 2, module: 3, ecc: "L", data: null };
  }

  private paperSensor(): number {
    return (this.paperNearEnd || this.paperOut ? 0x03 : 0) | (this.paperOut ? 0x0c : 0);
  }

  // ---- text -----------------------------------------------------------------------------------------------

  private charDots(): number {
    return (this.font === "A" ? 12 : 9) * this.width + this.charSpacing;
  }

  private addChar(b: number): number {
    let cost = 0;
    const w = this.charDots();
    if (this.runs.length && this.lineDots + w > this.dotsPerLine) cost += this.printLine(); // wrap
    if (this.runs.length === 0) this.lineAlign = this.align;
    const ch = decodeChar(b, this.codePage);
    const last = this.runs[this.runs.length - 1];
    if (
      last &&
      last.bold === this.bold &&
      last.underline === this.underline &&
      last.width === this.width &&
      last.height === this.height &&
      last.font === this.font
    ) {
      last.text += ch;
    } else {
      this.runs.push({
        text: ch,
        bold: this.bold,
        underline: this.underline,
        width: this.width,
        height: this.height,
        font: this.font,
      });
    }
    this.lineDots += w;
    return cost;
  }

  /** Prints the line buffer (an empty one feeds one line) and returns the cost. */
  private printLine(): number {
    const runs = this.runs;
    this.runs = [];
    this.lineDots = 0;
    if (runs.length === 0) {
      const item: TextLineItem = {
        kind: "text",
        text: "",
        bold: this.bold,
        width: this.width,
        height: this.height,
        align: this.align,
        font: this.font,
        runs: [],
        feedDots: this.pitch,
      };
      return this.emit(item, 0, this.pitch);
    }
    const rows = CHAR_ROWS * Math.max(...runs.map((r) => r.height));
    const feedDots = Math.max(this.pitch, rows);
    const first = runs[0];
    const item: TextLineItem = {
      kind: "text",
      text: runs.map((r) => r.text).join(""),
      bold: first.bold,
      width: first.width,
      height: first.height,
      align: this.lineAlign,
      font: first.font,
      runs,
      feedDots,
    };
    return this.emit(item, rows, feedDots - rows);
  }

  private feed(dots: number): number {
    if (dots <= 0) return 0;
    return this.emit({ kind: "feed", dots }, 0, dots);
  }

  /** Puts an item on the paper (or in `lost` when offline) and returns its print cost. */
  private emit(item: PaperItem, printedRows: number, fedRows: number): number {
    if (this.offline) {
      this.lost.push(item);
      return 0;
    }
    this.items.push(item);
    return printedRows * DOT_PRINT_MS + fedRows * DOT_FEED_MS;
  }

  // ---- raster ---------------------------------------------------------------------------------------------

  private gsv0(m: number, xBytes: number, rows: number, s: number): number {
    const mode = m >= 48 && m <= 51 ? m - 48 : m;
    if (mode > 3) return this.unknownCmd(s, [C.GS, 0x76, 0x30, m], "GS v 0 with invalid m");
    const job = this.startRaster(xBytes, rows, mode, "GS v 0");
    if (this.raster && this.runs.length) {
      this.raster.discard = true; // standard mode: only with an empty print buffer
      this.unknown.push({ offset: s, bytes: [C.GS, 0x76, 0x30, m], note: "GS v 0 ignored: print buffer not empty" });
    }
    return job;
  }

  private startRaster(bytesPerRow: number, rows: number, mode: number, source: "GS v 0" | "DC2 *"): number {
    if (bytesPerRow === 0 || rows === 0) return 0;
    const keepBytes = Math.min(bytesPerRow, Math.floor(this.dotsPerLine / 8 / (mode & 1 ? 2 : 1)));
    this.raster = {
      bytesPerRow,
      keepBytes,
      rows,
      data: new Uint8Array(keepBytes * rows),
      pos: 0,
      scaleX: mode & 1 ? 2 : 1,
      scaleY: mode & 2 ? 2 : 1,
      source,
      discard: false,
    };
    return 0;
  }

  private rasterByte(b: number): number {
    const r = this.raster!;
    const row = Math.floor(r.pos / r.bytesPerRow);
    const col = r.pos % r.bytesPerRow;
    if (col < r.keepBytes) r.data[row * r.keepBytes + col] = b;
    r.pos++;
    const rowDone = r.pos % r.bytesPerRow === 0;
    let cost = rowDone && !r.discard && !this.offline ? DOT_PRINT_MS * r.scaleY : 0;
    if (r.pos === r.bytesPerRow * r.rows) {
      this.raster = null;
      if (!r.discard) {
        const item: RasterItem = {
          kind: "raster",
          width: r.keepBytes * 8,
          height: r.rows,
          bits: r.data,
          scaleX: r.scaleX,
          scaleY: r.scaleY,
          source: r.source,
        };
        cost += this.emit(item, 0, 0);
      }
    }
    return cost;
  }

  // ---- QR (GS ( k, cn = 49) -------------------------------------------------------------------------------

  private gsk(k: number, s: number): number {
    if (k < 2) return this.unknownCmd(s, [C.GS, 0x28, 0x6b], "GS ( k with pL+256pH < 2");
    return this.expect(k, (p) => this.qrFunction(p, s), s);
  }

  private qrFunction(p: number[], s: number): number {
    const [cn, fn] = p;
    const bad = (note: string) => this.unknownCmd(s, [C.GS, 0x28, 0x6b, ...p.slice(0, 3)], note);
    if (cn !== 0x31) return bad("GS ( k for a symbol other than QR");
    switch (fn) {
      case 0x41: // 165: model
        if (p.length !== 4) return bad("QR model: wrong length");
        if (p[2] === 0x31 || p[2] === 0x32) this.qr.model = p[2] === 0x31 ? 1 : 2;
        return 0;
      case 0x43: // 167: module size
        if (p.length !== 3) return bad("QR module size: wrong length");
        if (p[2] >= 1 && p[2] <= 16) this.qr.module = p[2];
        return 0;
      case 0x45: // 169: error correction
        if (p.length !== 3) return bad("QR ECC: wrong length");
        if (p[2] >= 0x30 && p[2] <= 0x33) this.qr.ecc = (["L", "M", "Q", "H"] as const)[p[2] - 0x30];
        return 0;
      case 0x50: // 180: store
        if (p.length < 4 || p[2] !== 0x30) return bad("QR store: bad parameters");
        this.qr.data = Uint8Array.from(p.slice(3));
        return 0;
      case 0x51: {
        // 181: print
        if (p.length !== 3 || p[2] !== 0x30) return bad("QR print: bad parameters");
        if (!this.qr.data) return 0;
        const data = String.fromCharCode(...this.qr.data);
        const q = makeQr(data, this.qr.ecc);
        if (!q) return bad("QR print: data does not fit a symbol");
        const size = q.getModuleCount() * this.qr.module;
        if (size > this.dotsPerLine) return bad("QR print: symbol wider than the print area");
        const item: QrItem = {
          kind: "qr",
          data,
          module: this.qr.module,
          ecc: this.qr.ecc,
          model: this.qr.model,
          align: this.align,
          size,
        };
        return this.emit(item, size, 0);
      }
      default:
        return bad("unsupported QR function");
    }
  }
}

// ---- rendering helpers ------------------------------------------------------------------------------------

function makeQr(data: string, ecc: QrEcc): ReturnType<typeof qrcode> | null {
  try {
    const q = qrcode(0, ecc);
    q.addData(data, "Byte");
    q.make();
    return q;
  } catch {
    return null;
  }
}

function itemsText(items: PaperItem[], W: number): string {
  const out: string[] = [];
  for (const it of items) {
    if (it.kind === "text") {
      const cols = Math.floor(W / ((it.font === "A" ? 12 : 9) * it.width));
      const pad = Math.max(0, cols - it.text.length);
      const left = it.align === "center" ? Math.floor(pad / 2) : it.align === "right" ? pad : 0;
      out.push(" ".repeat(left) + it.text);
    } else if (it.kind === "feed") {
      for (let i = 0; i < Math.round(it.dots / DEFAULT_PITCH); i++) out.push("");
    } else if (it.kind === "raster") {
      out.push(`[image ${it.width * it.scaleX}x${it.height * it.scaleY}]`);
    } else {
      out.push(`[QR ${it.ecc} x${it.module}: ${it.data}]`);
    }
  }
  return out.join("\n");
}

function renderItems(items: PaperItem[], W: number): PaperBitmap {
  const stride = Math.ceil(W / 8);
  const heights = items.map((it) => itemHeight(it));
  const height = heights.reduce((a, b) => a + b, 0);
  const bits = new Uint8Array(stride * height);
  const set = (x: number, y: number) => {
    if (x >= 0 && x < W && y >= 0 && y < height) bits[y * stride + (x >> 3)] |= 0x80 >> (x & 7);
  };
  let y0 = 0;
  items.forEach((it, i) => {
    if (it.kind === "text") drawText(it, y0, W, set);
    else if (it.kind === "raster") {
      const rowBytes = it.width / 8;
      for (let y = 0; y < it.height; y++)
        for (let x = 0; x < it.width; x++)
          if (it.bits[y * rowBytes + (x >> 3)] & (0x80 >> (x & 7)))
            for (let dy = 0; dy < it.scaleY; dy++)
              for (let dx = 0; dx < it.scaleX; dx++) set(x * it.scaleX + dx, y0 + y * it.scaleY + dy);
    } else if (it.kind === "qr") {
      const q = makeQr(it.data, it.ecc);
      if (q) {
        const x0 = alignOffset(it.align, W, it.size);
        const n = q.getModuleCount();
        for (let r = 0; r < n; r++)
          for (let c = 0; c < n; c++)
            if (q.isDark(r, c))
              for (let dy = 0; dy < it.module; dy++)
                for (let dx = 0; dx < it.module; dx++) set(x0 + c * it.module + dx, y0 + r * it.module + dy);
      }
    }
    y0 += heights[i];
  });
  return { width: W, height, bits };
}

function itemHeight(it: PaperItem): number {
  if (it.kind === "text") return it.feedDots;
  if (it.kind === "feed") return it.dots;
  if (it.kind === "raster") return it.height * it.scaleY;
  return it.size;
}

function alignOffset(align: Align, W: number, w: number): number {
  if (align === "center") return Math.max(0, Math.floor((W - w) / 2));
  if (align === "right") return Math.max(0, W - w);
  return 0;
}

function drawText(it: TextLineItem, y0: number, W: number, set: (x: number, y: number) => void): void {
  const pitchOf = (r: TextRun) => (r.font === "A" ? 12 : 9) * r.width;
  const total = it.runs.reduce((n, r) => n + pitchOf(r) * r.text.length, 0);
  let x = alignOffset(it.align, W, total);
  const lineRows = CHAR_ROWS * Math.max(1, ...it.runs.map((r) => r.height));
  for (const r of it.runs) {
    const sx = (r.font === "A" ? 2 : 1) * r.width;
    const sy = (r.font === "A" ? 2 : 1) * r.height;
    const top = y0 + lineRows - 8 * sy - (r.font === "A" ? 4 : 2) * r.height; // baseline-aligned in the cell
    for (const ch of r.text) {
      const code = ch.charCodeAt(0);
      if (code !== 0x20 && code !== 0xa0) {
        const rows = glyphRows(code);
        for (let gy = 0; gy < 8; gy++)
          for (let gx = 0; gx < 6; gx++) {
            if (!((rows[gy] >> (5 - gx)) & 1)) continue;
            for (let dy = 0; dy < sy; dy++)
              for (let dx = 0; dx < sx + (r.bold ? 1 : 0); dx++) set(x + gx * sx + dx, top + gy * sy + dy);
          }
      }
      if (r.underline) for (let dx = 0; dx < pitchOf(r); dx++) set(x + dx, y0 + lineRows - 1);
      x += pitchOf(r);
    }
  }
}
