/**
 * Microchip ATECC608A/B command and response frames: the pure codec under the I2C driver (atecc608.ts).
 * Facts from hardware-notes.md section 1 (cryptoauthlib calib_command.h / calib_execution.c, Microchip datasheet).
 *
 *   const p = command(AteccOp.Info, 0, 0);   // 03 07 30 00 00 00 03 5D: word address, then the packet
 *   i2c.write(0x60, p); ...                   // later, once the part answers:
 *   const r = parseResponse(bytes);           // Uint8Array of data, or an error string such as "parse"
 *
 * Packet: 03 | COUNT | OPCODE | P1 | P2lo P2hi | DATA | CRClo CRChi, COUNT = 7 + data length.
 * Response: COUNT | DATA(COUNT-3) | CRClo CRChi; a 4-byte response carries one status byte.
 */

/** Opcodes. */
export const enum AteccOp {
  Read = 0x02,
  Write = 0x12,
  Nonce = 0x16,
  Lock = 0x17,
  Random = 0x1b,
  Counter = 0x24,
  Info = 0x30,
  GenKey = 0x40,
  Sign = 0x41,
  ECDH = 0x43,
  Verify = 0x45,
  SHA = 0x47,
}

/** Word-address byte, the first byte of every write. */
export const enum AteccWord {
  Reset = 0x00,
  Sleep = 0x01,
  Idle = 0x02,
  Command = 0x03,
}

/** Status byte of a 4-byte response. */
export const enum AteccStatus {
  Success = 0x00,
  Miscompare = 0x01,
  Parse = 0x03,
  EccFault = 0x05,
  SelfTest = 0x07,
  Health = 0x08,
  Execution = 0x0f,
  AfterWake = 0x11,
  Watchdog = 0xee,
  Crc = 0xff,
}

/**
 * CRC-16 of d[start..end) as the part computes it: polynomial 0x8005, initial 0, each byte fed
 * least-significant bit first, no final reflection or XOR. Goes on the wire low byte first.
 */
export function crc16(d: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    for (let b = 0; b < 8; b++) {
      const x = ((d[i] >> b) & 1) ^ (crc >> 15);
      crc = (crc << 1) & 0xffff;
      if (x) crc ^= 0x8005;
    }
  }
  return crc;
}

/**
 * Word address 03 plus a complete command packet, ready for one I2C write. The data is `a` followed by `b`
 * (Verify sends the signature then the public key without the caller joining them).
 */
export function command(op: number, p1: number, p2: number, a?: Uint8Array, b?: Uint8Array): Uint8Array {
  const na = a ? a.length : 0;
  const n = na + (b ? b.length : 0);
  const p = new Uint8Array(n + 8);
  p[0] = AteccWord.Command;
  p[1] = n + 7;
  p[2] = op;
  p[3] = p1;
  p[4] = p2 & 0xff;
  p[5] = p2 >> 8;
  if (a) p.set(a, 6);
  if (b) p.set(b, 6 + na);
  const c = crc16(p, 1, n + 6);
  p[n + 6] = c & 0xff;
  p[n + 7] = c >> 8;
  return p;
}

/** Short name of a status byte; "status" for codes the datasheet does not list. */
export function statusText(s: number): string {
  return s === AteccStatus.Miscompare ? "miscompare"
    : s === AteccStatus.Parse ? "parse"
    : s === AteccStatus.EccFault ? "ecc-fault"
    : s === AteccStatus.SelfTest ? "self-test"
    : s === AteccStatus.Health ? "health"
    : s === AteccStatus.Execution ? "execution"
    : s === AteccStatus.AfterWake ? "awake"
    : s === AteccStatus.Watchdog ? "watchdog"
    : s === AteccStatus.Crc ? "crc"
    : "status";
}

/**
 * Checks a response's COUNT and CRC. Returns its data (for a status response with status 00, the single 00
 * byte), or an error: "rx-count" (COUNT below 4 or beyond the bytes given), "rx-crc" (checksum mismatch, the
 * reply was garbled on the bus), or the status name from statusText ("crc" means the part got a garbled
 * command and asks for it again). Bytes after COUNT are ignored.
 */
export function parseResponse(r: Uint8Array): Uint8Array | string {
  const n = r[0];
  if (!(n >= 4 && n <= r.length)) return "rx-count";
  if (crc16(r, 0, n - 2) !== (r[n - 2] | (r[n - 1] << 8))) return "rx-crc";
  if (n === 4 && r[1]) return statusText(r[1]);
  return r.subarray(1, n - 2);
}

/**
 * Longest execution time in ms at the default clock divider (cryptoauthlib's 608 table, M0): the polling
 * deadline. Other opcodes (SelfTest and the like) get SelfTest's 250.
 */
export function maxExecMs(op: number): number {
  return op === AteccOp.Read || op === AteccOp.Info ? 5
    : op === AteccOp.Random ? 23
    : op === AteccOp.Nonce ? 20
    : op === AteccOp.Counter ? 25
    : op === AteccOp.Lock ? 35
    : op === AteccOp.SHA ? 36
    : op === AteccOp.Write ? 45
    : op === AteccOp.ECDH ? 75
    : op === AteccOp.Verify ? 105
    : op === AteccOp.GenKey || op === AteccOp.Sign ? 115
    : 250;
}
