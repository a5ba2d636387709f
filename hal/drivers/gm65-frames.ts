/**
 * Grow GM65 / GM805 QR scanner module, UART protocol (hardware-notes.md section 2; GM65 manual §8).
 * Pure codecs: command frames, replies, and the scan-output framer. No IO.
 *
 *   command: 7E 00 | type | len | addr_hi addr_lo | data | crc_hi crc_lo     (CRC-16/XMODEM over type..data)
 *   reply:   02 00 | 00 (ok) | len | data | crc_hi crc_lo                    (CRC over 00..data)
 *   scan:    [data][tail], tail CR as we configure it
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

export function crc16Xmodem(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= b[i] << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function commandFrame(type: number, addr: number, data: Uint8Array): Uint8Array {
  const f = new Uint8Array(8 + data.length);
  f[0] = 0x7e;
  f[1] = 0;
  f[2] = type;
  f[3] = data.length;
  f[4] = addr >> 8;
  f[5] = addr & 255;
  f.set(data, 6);
  const crc = crc16Xmodem(f, 2, 6 + data.length);
  f[6 + data.length] = crc >> 8;
  f[7 + data.length] = crc & 255;
  return f;
}

/** A complete reply at the start of `b`: its data, "crc" / "status" errors, or null if more bytes are needed. */
export function parseReply(b: Uint8Array): { data: Uint8Array; used: number } | { err: string; used: number } | null {
  if (b.length < 4) return null;
  if (b[0] !== 0x02 || b[1] !== 0) return { err: "frame", used: 1 };
  const len = b[3];
  const total = 6 + len;
  if (b.length < total) return null;
  const crc = crc16Xmodem(b, 2, 4 + len);
  if (b[4 + len] !== crc >> 8 || b[5 + len] !== (crc & 255)) return { err: "crc", used: total };
  if (b[2] !== 0) return { err: "status", used: total };
  return { data: new Uint8Array(b.subarray(4, 4 + len)), used: total };
}

/**
 * Splits the module's scan output into codes. A code ends at CR (an LF after it is skipped); bytes outside
 * printable ASCII make it "garbage"; more than `maxLength` bytes make it "too-long" (the rest up to the tail is
 * dropped). The caller reports a code cut off mid-way ("partial") when no tail follows in time: see pending().
 */
export class ScanFramer {
  private buf: Uint8Array;
  private n = 0;
  private bad = "";

  constructor(readonly maxLength: number) {
    this.buf = new Uint8Array(maxLength);
  }

  /** Feed bytes; calls `out` once per finished code. */
  push(b: Uint8Array, out: (err: string | null, text?: string) => void): void {
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === 13) {
        if (this.bad) out(this.bad);
        else if (this.n) {
          let s = "";
          for (let k = 0; k < this.n; k++) s += String.fromCharCode(this.buf[k]);
          out(null, s);
        }
        this.n = 0;
        this.bad = "";
      } else if (c === 10 && !this.n && !this.bad) {
        // LF of a CRLF tail
      } else if (this.bad) {
        // dropping the rest of a bad code
      } else if (c < 32 || c > 126) {
        this.bad = "garbage";
      } else if (this.n >= this.maxLength) {
        this.bad = "too-long";
      } else this.buf[this.n++] = c;
    }
  }

  /** Bytes held of an unfinished code. */
  pending(): boolean {
    return this.n > 0 || this.bad !== "";
  }

  reset(): void {
    this.n = 0;
    this.bad = "";
  }
}
