/**
 * Grow GM65 / GM805 QR scanner module, UART protocol (hardware-notes.md section 2; GM65 manual §8).
 * Pure codecs: command frames, replies, and the scan-output framer. No IO.
 *
 *   command: 7E 00 | type | len | addr_hi addr_lo | data | crc_hi crc_lo     (CRC-16/XMODEM over type..data)
 *   reply:   02 00 | 00 (ok) | len | data | crc_hi crc_lo                    (CRC over 00..data)
 *   scan:    [data][tail], tail CR as the driver configures it (a CRLF tail is accepted too)
 *
 *   const f = new ScanFramer(512);
 *   f.push(chunk, (err, text) => ...);   // err: "garbage" | "too-long"
 *   if (f.pending()) later: report f.flush() // "partial" (or the bad code's reason)
 */
export const enum Gm65 {
  TypeRead = 0x07,
  TypeWrite = 0x08,
  TypeSave = 0x09,
  RegMode = 0x0000,
  RegTrigger = 0x0002,
  RegOutput = 0x000d,
  RegSymbologies = 0x002c,
  RegQr = 0x003f,
  RegTail = 0x0060,
}

/** CRC-16/XMODEM (poly 0x1021, init 0, MSB first, no final XOR) over b[start..end). */
export function crc16Xmodem(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= b[i] << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** `7E 00 type len addr data crc`. For a read, data is one byte: how many registers. */
export function commandFrame(type: number, addr: number, data: Uint8Array): Uint8Array {
  const n = data.length;
  const f = new Uint8Array(8 + n);
  f[0] = 0x7e;
  f[2] = type;
  f[3] = n;
  f[4] = addr >> 8;
  f[5] = addr & 255;
  f.set(data, 6);
  const crc = crc16Xmodem(f, 2, 6 + n);
  f[6 + n] = crc >> 8;
  f[7 + n] = crc & 255;
  return f;
}

/** Write one register. */
export function writeFrame(addr: number, value: number): Uint8Array {
  return commandFrame(Gm65.TypeWrite, addr, new Uint8Array([value]));
}

/** Read one register. */
export function readFrame(addr: number): Uint8Array {
  return commandFrame(Gm65.TypeRead, addr, new Uint8Array([1]));
}

export type Gm65Reply = { data: Uint8Array; used: number } | { err: string; used: number };

/**
 * A complete reply at the start of `b`: its data (a copy), or an error ("frame": not `02 00`; "crc"; "status":
 * the module's status byte was not 00), with the bytes it used; null if more bytes are needed.
 */
export function parseReply(b: Uint8Array): Gm65Reply | null {
  if (b.length < 2) return null;
  if (b[0] !== 0x02 || b[1] !== 0) return { err: "frame", used: 1 };
  if (b.length < 4) return null;
  const len = b[3];
  const total = 6 + len;
  if (b.length < total) return null;
  const crc = crc16Xmodem(b, 2, 4 + len);
  if (b[4 + len] !== crc >> 8 || b[5 + len] !== (crc & 255)) return { err: "crc", used: total };
  if (b[2] !== 0) return { err: "status", used: total };
  return { data: new Uint8Array(b.subarray(4, 4 + len)), used: total };
}

/**
 * Splits the module's scan output into codes. A code ends at CR (an LF right after it is skipped); a byte outside
 * printable ASCII makes the code "garbage"; more than `maxLength` bytes make it "too-long". A bad code is dropped
 * up to its tail and reported once. A code cut off (no tail ever comes) is the caller's to time out: see flush().
 * The code's buffer exists only while a code is coming in: a terminal at idle holds none (512 bytes, some 45 JsVars
 * on Espruino).
 */
export class ScanFramer {
  private buf?: Uint8Array;
  private n = 0;
  private bad = "";
  private afterCr = false;

  constructor(readonly maxLength: number) {}

  /** Feed bytes; calls `out` once per finished code, in order. */
  push(b: Uint8Array, out: (err: string | null, text?: string) => void): void {
    for (let i = 0; i < b.length; i++) this.byte(b[i], out);
  }

  /** Feed one byte. */
  byte(c: number, out: (err: string | null, text?: string) => void): void {
    const lf = this.afterCr && c === 10;
    this.afterCr = c === 13;
    if (lf) return; // LF of a CRLF tail
    if (c === 13) {
      const bad = this.bad;
      const text = bad ? "" : this.text();
      this.reset();
      if (bad) out(bad);
      else if (text) out(null, text);
    } else if (this.bad) {
      // dropping the rest of a bad code
    } else if (c < 32 || c > 126) this.bad = "garbage";
    else if (this.n >= this.maxLength) this.bad = "too-long";
    else (this.buf || (this.buf = new Uint8Array(this.maxLength)))[this.n++] = c;
  }

  /** True while part of a code is held (no tail yet). */
  pending(): boolean {
    return this.n > 0 || this.bad !== "";
  }

  /** Drops an unfinished code and names it: "partial", or "garbage" / "too-long" if it was already bad. */
  flush(): string | null {
    if (!this.pending()) return null;
    const e = this.bad || "partial";
    this.reset();
    return e;
  }

  reset(): void {
    this.n = 0;
    this.bad = "";
    this.buf = undefined;
  }

  private text(): string {
    let s = "";
    for (let k = 0; k < this.n; k++) s += String.fromCharCode(this.buf![k]);
    return s;
  }
}
