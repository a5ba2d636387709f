/**
 * One journal record in flash, encrypted then authenticated (all offsets multiples of 4):
 *
 *   0  marker (4)   A5 01 nb fl          nb = number of 16-byte ciphertext blocks (1..MAX_BLOCKS = 20);
 *                   fl = flags, FF for none: FE = approved online (the gateway settled the payment before the
 *                   record was written: firmware/app/pay.ts). Written with the record in one go and covered by the
 *                   tag, so a power cut leaves the record with its flag or no record (a torn tail), and a flag
 *                   cleared afterwards on flash fails the tag like any other change; every other value is no record
 *   4  status (4)   [uploaded, acked, FF, FF]  a flag is set when its byte is 00 (cleared in place, no erase);
 *                   the only bytes outside the MAC, so a flip there can at worst cause a re-upload
 *   8  seq (4)      big-endian, consecutive from 1
 *  12  floor (4)    lowest seq still in flash when this record was written (records below it were erased)
 *  16  prev (16)    chain hash of the record with seq - 1 (zeros for seq 1)
 *  32  ciphertext   AES-128-CBC(enc, iv(seq), payload + PKCS#7 padding)
 *  end-16 tag (16)  HMAC-SHA256(mac, marker | seq | floor | prev | ciphertext)[0..16]
 *
 *   iv(seq)    = AES-128-CBC(ivKey, zero IV, "JIV\0" | seq | 0*8)   (one block: unique per seq, unpredictable)
 *   chain hash = SHA-256(bytes 8 .. end, i.e. seq | floor | prev | ciphertext | tag)[0..16], with fl before them
 *                when a flag is set (FE | bytes 8 .. end: chainHash)
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import { concat, equalConstantTime } from "../../protocol/codec/hex.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";

export const MARK = 0xa5;
export const REC_VERSION = 1;
/** Bytes around the ciphertext: marker, status, seq, floor, prev and tag. */
export const OVERHEAD = 48;
export const TAG = 16;
export const HASH = 16;
/** Largest payload: 319 bytes pad to 20 blocks (a journal entry is at most 316 bytes, protocol/entry.ts). */
export const MAX_PAYLOAD = 319;
export const MAX_BLOCKS = 20;
export const MAX_RECORD = OVERHEAD + MAX_BLOCKS * 16;

export interface JournalKeys {
  /** AES-128 key of the payloads. */
  enc: Uint8Array;
  /** HMAC-SHA256 key of the records. */
  mac: Uint8Array;
  /** AES-128 key that turns a seq into its IV. */
  iv: Uint8Array;
}

export function recordSize(payloadLength: number): number {
  return OVERHEAD + ((payloadLength >> 4) + 1) * 16;
}

export function getU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

export function deriveIv(c: CryptoBackend, keys: JournalKeys, seq: number): Uint8Array {
  const block = new Uint8Array(16);
  block[0] = 0x4a;
  block[1] = 0x49;
  block[2] = 0x56;
  putU32(block, 4, seq);
  return c.aesCbcEncrypt(keys.iv, new Uint8Array(16), block);
}

function tagOf(c: CryptoBackend, keys: JournalKeys, rec: Uint8Array, size: number): Uint8Array {
  return hmacSha256(c, keys.mac, concat([rec.subarray(0, 4), rec.subarray(8, size - TAG)])).subarray(0, TAG);
}

/** A complete record (status bytes erased, i.e. pending); `online`: its marker's flag "approved online" (FE). */
export function encodeRecord(
  c: CryptoBackend,
  keys: JournalKeys,
  seq: number,
  floor: number,
  prev: Uint8Array,
  payload: Uint8Array,
  online?: boolean,
): Uint8Array {
  const size = recordSize(payload.length);
  const ctLen = size - OVERHEAD;
  const padded = new Uint8Array(ctLen);
  padded.set(payload);
  const pad = ctLen - payload.length;
  for (let i = payload.length; i < ctLen; i++) padded[i] = pad;
  const rec = new Uint8Array(size);
  rec[0] = MARK;
  rec[1] = REC_VERSION;
  rec[2] = ctLen >> 4;
  rec[3] = online ? 0xfe : 0xff;
  rec[4] = 0xff;
  rec[5] = 0xff;
  rec[6] = 0xff;
  rec[7] = 0xff;
  putU32(rec, 8, seq);
  putU32(rec, 12, floor);
  rec.set(prev.subarray(0, HASH), 16);
  rec.set(c.aesCbcEncrypt(keys.enc, deriveIv(c, keys, seq), padded), 32);
  rec.set(tagOf(c, keys, rec, size), size - TAG);
  return rec;
}

/** Size of the record whose header starts at `off`, or 0 if the header is not a record's (or runs past `end`). */
export function headerSize(buf: Uint8Array, off: number, end: number): number {
  if (off + OVERHEAD + 16 > end) return 0;
  // the flags byte: FF, or FE (approved online)
  if (buf[off] !== MARK || buf[off + 1] !== REC_VERSION || (buf[off + 3] | 1) !== 0xff) return 0;
  const nb = buf[off + 2];
  if (nb < 1 || nb > MAX_BLOCKS) return 0;
  const size = OVERHEAD + nb * 16;
  return off + size > end ? 0 : size;
}

/** True when the tag of the record at `off` (of `size` bytes) is right. */
export function verifyRecord(c: CryptoBackend, keys: JournalKeys, buf: Uint8Array, off: number, size: number): boolean {
  const rec = buf.subarray(off, off + size);
  return equalConstantTime(tagOf(c, keys, rec, size), rec.subarray(size - TAG));
}

/** The payload of a verified record, or null if its padding is wrong. Call verifyRecord first. */
export function decryptRecord(c: CryptoBackend, keys: JournalKeys, buf: Uint8Array, off: number, size: number): Uint8Array | null {
  const seq = getU32(buf, off + 8);
  const pt = c.aesCbcDecrypt(keys.enc, deriveIv(c, keys, seq), buf.subarray(off + 32, off + size - TAG));
  const pad = pt[pt.length - 1];
  if (pad < 1 || pad > 16) return null;
  for (let i = pt.length - pad; i < pt.length; i++) if (pt[i] !== pad) return null;
  return new Uint8Array(pt.subarray(0, pt.length - pad)); // Espruino: typed slice() gives an Array
}

/**
 * The chain hash of the record at `off`. A record with its flag set (FE) hashes that byte too, before the rest: the
 * boot's fast path authenticates a page by its links, not each record's tag, so a flag set or cleared on flash
 * afterwards breaks the next record's link (or the page's last tag) like any other change. A record without flags
 * (all records before the flag existed) hashes as it always did.
 */
export function chainHash(c: CryptoBackend, buf: Uint8Array, off: number, size: number): Uint8Array {
  const m = buf.subarray(off + 8, off + size);
  return c.sha256(buf[off + 3] === 0xff ? m : concat([buf.subarray(off + 3, off + 4), m])).subarray(0, HASH);
}
