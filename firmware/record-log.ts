/**
 * A value that changes now and then (the deny list, the issuer keys, the vault) kept as records appended INTO a
 * pre-sized Storage file at offsets, so that a change creates no file and leaves no space for a compaction.
 *
 *   const log = new RecordLog(store, ["deny.a", "deny.b"], 32768);
 *   log.load((type, gen, data, at) => { ... });    // each valid record of the current file, oldest first
 *   log.append(T_DELTA, log.gen + 1, delta, { type: T_FULL, data: whole });
 *
 * Why not a new file per change: Espruino's Storage never reuses the space of an erased or replaced file until
 * `Storage.compact()` (Espruino reference, https://www.espruino.com/Reference#Storage: "compact" moves the live
 * files down over the erased ones), and a power cut during a compaction can erase all of Storage. Writing at an
 * offset into a file created with a size (`Storage.write(name, data, offset, size)`, same reference) only
 * programs bytes that are still erased (0xFF), never moves a file and never compacts.
 *
 * Why two names: bits only go 1 -> 0 without a page erase, and Storage gives no way to erase a file's bytes in
 * place, so a pre-sized file can take only so many records. When the current file is full, the whole value is
 * written as the first record of the other name (a new pre-sized file), checked, and only then the full one is
 * erased. That turnover is the one step that leaves space a compaction returns (one file's size). Each user sizes
 * its file so that the turnover comes once in years under its expected load (docs/architecture.md, "Storage that
 * never needs a compaction"), and a turnover Storage has no room for is refused (false), never a compaction.
 *
 * Record, at a 4-byte aligned offset (big-endian):
 *   type u8 | ~type u8 | len u16 | gen u32 | data (len bytes) | adler32 u32 of everything before it
 * `gen` grows by one per record across both files; the current file is the one holding the highest valid gen.
 * A power cut in the middle of a record leaves a record whose checksum fails: it is skipped, and the record
 * before it (the old value) is still the newest valid one. A header torn so that it cannot be read makes the rest
 * of that file unusable (`end` -1): the next append turns over to the other name.
 */
import type { FileStore } from "../hal/storage.ts";

/** Record header (type, ~type, len, gen) and checksum. */
export const RECORD_OVERHEAD = 12;

/**
 * Adler-32 (RFC 1950 section 8.2), integer-only, of b[from..to). The sums are reduced every 5,552 bytes (zlib's
 * NMAX: the largest run whose sums stay exact), not every byte, which halves its time on Espruino.
 */
export function adler32(b: Uint8Array, from: number, to: number): number {
  let a = 1;
  let s = 0;
  let i = from;
  while (i < to) {
    const stop = Math.min(to, i + 5552);
    for (; i < stop; i++) {
      a += b[i];
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return s * 65536 + a;
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = Math.floor(v / 16777216) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

export function getU32(b: Uint8Array, o: number): number {
  return ((b[o] * 256 + b[o + 1]) * 256 + b[o + 2]) * 256 + b[o + 3];
}

/** One record's bytes, padded to a multiple of 4 with 0xFF (padding is never written over). */
export function encodeRecord(type: number, gen: number, data: Uint8Array): Uint8Array {
  const n = 8 + data.length;
  const out = new Uint8Array((n + 4 + 3) & ~3);
  out.fill(255);
  out[0] = type;
  out[1] = ~type & 255;
  out[2] = (data.length >> 8) & 255;
  out[3] = data.length & 255;
  putU32(out, 4, gen);
  out.set(data, 8);
  putU32(out, n, adler32(out, 0, n));
  return out;
}

/** Bytes a record of `len` data bytes takes in the file. */
export function recordBytes(len: number): number {
  return (RECORD_OVERHEAD + len + 3) & ~3;
}

/**
 * Walks the records of one file image. `each` gets every valid record in order (data is a view into `b`).
 * Returns the highest valid gen (0 if none) and the append offset (-1 when the tail cannot be read).
 */
function scan(b: Uint8Array, each: ((type: number, gen: number, data: Uint8Array, at: number) => void) | null): { gen: number; end: number } {
  let o = 0;
  let top = 0;
  while (o + RECORD_OVERHEAD <= b.length) {
    const t = b[o];
    if (t === 255 && b[o + 1] === 255) {
      // erased from here on if the header is blank; a torn header reads as garbage below
      let blank = true;
      for (let i = o; i < o + 8; i++) if (b[i] !== 255) blank = false;
      return { gen: top, end: blank ? o : -1 };
    }
    if (b[o + 1] !== (~t & 255)) return { gen: top, end: -1 };
    const len = b[o + 2] * 256 + b[o + 3];
    const n = 8 + len;
    if (o + n + 4 > b.length) return { gen: top, end: -1 };
    if (getU32(b, o + n) === adler32(b, o, o + n)) {
      const g = getU32(b, o + 4);
      if (g > top) top = g;
      if (each) each(t, g, b.subarray(o + 8, o + n), o);
    }
    o += (n + 4 + 3) & ~3;
  }
  return { gen: top, end: o <= b.length ? o : -1 };
}

export class RecordLog {
  /** Index in `names` of the current file, -1 when neither holds a valid record. */
  file = -1;
  /** Where the next record goes in the current file, -1 when it cannot take one. */
  end = -1;
  /** Highest valid gen (0: none). */
  gen = 0;
  /** Size of the current file. */
  size = 0;

  /** `minBytes`: the least a file is created with (a turnover makes it bigger for a big first record). */
  constructor(private readonly store: FileStore, private readonly names: string[], private readonly minBytes: number) {}

  /** Finds the current file; `each` gets its valid records, oldest first. */
  load(each?: (type: number, gen: number, data: Uint8Array, at: number) => void): void {
    this.file = -1;
    this.end = -1;
    this.gen = 0;
    this.size = 0;
    let files = 0;
    for (let i = 0; i < this.names.length; i++) if (this.store.read(this.names[i], 0, 1)) files++;
    for (let i = 0; i < this.names.length; i++) {
      const b = this.store.read(this.names[i]);
      if (!b) continue;
      // one file (the usual case): one pass; two (a turnover cut short) need the newest first
      const one = files === 1 && each;
      const s = scan(b, one ? each || null : null);
      if (one) each = undefined;
      if (s.gen > this.gen) {
        this.gen = s.gen;
        this.file = i;
        this.end = s.end;
        this.size = b.length;
      }
    }
    if (each && this.file >= 0) scan(this.store.read(this.names[this.file]) as Uint8Array, each);
  }

  /** The current file's bytes (a view into flash on the device), or undefined. */
  bytes(): Uint8Array | undefined {
    return this.file >= 0 ? this.store.read(this.names[this.file]) : undefined;
  }

  /**
   * Appends one record (gen must be above this.gen) in place; when the current file cannot take it, writes
   * `whole` (the complete value, default: this record) as the first record of the other name and erases the
   * current file. False when Storage has no room for that turnover or a write reads back wrong; the value on
   * flash is then still the previous one.
   */
  append(type: number, gen: number, data: Uint8Array, whole?: { type: number; data: Uint8Array }): boolean {
    const rec = encodeRecord(type, gen, data);
    if (this.file >= 0 && this.end > 0 && this.end + rec.length <= this.size) {
      const name = this.names[this.file];
      const at = this.end;
      const was = this.store.read(name, at, rec.length);
      let blank = !!was;
      for (let i = 0; blank && i < rec.length; i++) if ((was as Uint8Array)[i] !== 255) blank = false;
      if (blank) {
        // padding bytes are 0xFF: Storage takes them as written, which they already are
        if (!this.store.write(name, rec, at)) return false;
        if (!same(this.store.read(name, at, rec.length), rec)) return false;
        this.end = at + rec.length;
        this.gen = gen;
        return true;
      }
    }
    return this.turnover(whole ? encodeRecord(whole.type, gen, whole.data) : rec, gen);
  }

  private turnover(rec: Uint8Array, gen: number): boolean {
    const cur = this.file;
    const next = cur === 0 ? 1 : 0;
    const name = this.names[next];
    let size = this.minBytes;
    while (size < 2 * rec.length) size += 4096;
    // the other name holds only older records (or a torn turnover): erasing it loses nothing
    if (this.store.read(name, 0, 1)) this.store.erase(name);
    if (!this.store.write(name, rec, 0, size)) return false;
    if (!same(this.store.read(name, 0, rec.length), rec)) return false;
    if (cur >= 0) this.store.erase(this.names[cur]);
    this.file = next;
    this.end = rec.length;
    this.size = size;
    this.gen = gen;
    return true;
  }
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
