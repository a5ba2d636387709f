/**
 * Protocol messages over Bluetooth LE writes of at most 20 bytes (ESP32's Espruino: MTU 23, no reassembly of
 * prepared writes). Each write is a frame:
 *   byte 0: bit 7 = first frame, bit 6 = last frame, bits 5..0 = sequence number (0 on the first, +1 mod 64)
 *   first frame only: bytes 1..2 = total message length (u16, big-endian, 1..MAX_MESSAGE)
 *   then up to 17 (first) / 19 (others) bytes of the message.
 * The reassembler rejects a frame out of sequence, a length over its limit (MAX_MESSAGE at the terminal,
 * MAX_TO_WALLET at the wallet) or different from what arrived, and a
 * message whose frames stop for more than FRAME_TIMEOUT_MS; each error leaves it ready for a new message.
 */
export const FRAME = 20;
export const MAX_MESSAGE = 512;
/** The wallet's limit for messages from the terminal: a relay bundle of 4 records is 1,447 bytes (protocol/relay.ts). */
export const MAX_TO_WALLET = 2048;
export const FRAME_TIMEOUT_MS = 2000;

export function toFrames(msg: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  let seq = 0;
  while (pos < msg.length || !out.length) {
    const first = !out.length;
    const room = first ? FRAME - 3 : FRAME - 1;
    const n = Math.min(room, msg.length - pos);
    const last = pos + n >= msg.length;
    const f = new Uint8Array((first ? 3 : 1) + n);
    f[0] = (first ? 0x80 : 0) | (last ? 0x40 : 0) | (seq & 63);
    if (first) {
      f[1] = msg.length >> 8;
      f[2] = msg.length & 255;
    }
    f.set(msg.subarray(pos, pos + n), first ? 3 : 1);
    out.push(f);
    pos += n;
    seq++;
  }
  return out;
}

export type FrameResult = { msg: Uint8Array } | { err: string } | null;

export class Reassembler {
  private buf: Uint8Array | null = null;
  private got = 0;
  private seq = 0;
  private lastAt = 0;
  /** The longest message taken: MAX_MESSAGE at the terminal; the wallet sets MAX_TO_WALLET. */
  max = MAX_MESSAGE;

  /** Feed one write; returns a whole message, an error, or null while more frames are due. */
  push(frame: Uint8Array, nowMs: number): FrameResult {
    if (this.buf && nowMs - this.lastAt > FRAME_TIMEOUT_MS) {
      this.buf = null;
      if (!(frame.length && frame[0] & 0x80)) return { err: "timeout" };
    }
    this.lastAt = nowMs;
    if (!frame.length || frame.length > FRAME) return this.fail("frame");
    const h = frame[0];
    const first = (h & 0x80) !== 0;
    const last = (h & 0x40) !== 0;
    let data: Uint8Array;
    if (first) {
      if (frame.length < 3 || (h & 63) !== 0) return this.fail("frame");
      const total = frame[1] * 256 + frame[2];
      if (total < 1 || total > this.max) return this.fail("length");
      this.buf = new Uint8Array(total);
      this.got = 0;
      this.seq = 0;
      data = frame.subarray(3);
    } else {
      if (!this.buf) return this.fail("sequence");
      if ((h & 63) !== ((this.seq + 1) & 63)) return this.fail("sequence");
      this.seq = h & 63;
      data = frame.subarray(1);
    }
    const buf = this.buf as Uint8Array;
    if (this.got + data.length > buf.length) return this.fail("length");
    buf.set(data, this.got);
    this.got += data.length;
    if (!last) return null;
    if (this.got !== buf.length) return this.fail("length");
    this.buf = null;
    return { msg: buf };
  }

  /** Drop any partial message. */
  reset(): void {
    this.buf = null;
  }

  private fail(err: string): FrameResult {
    this.buf = null;
    return { err };
  }
}
