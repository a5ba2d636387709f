/**
 * A small value that changes often (the kept link orders) as records on two raw flash pages of its own
 * (hal/flash-pages.ts), outside Espruino's Storage: the records of firmware/record-log.ts, appended in place into
 * the current page; when it cannot take the next one, the other page is erased and the whole value written as its
 * first record. Unlike a record log in Storage files, whose turnover leaves a file's size for a compaction, a page
 * is erased and used again without end: nothing ever waits for a compaction.
 *
 *   const log = pageLog(device.orders());
 *   log.load((type, gen, data) => { ... });   // each valid record of the current page, oldest first
 *   log.append(T_ADD, log.gen + 1, add, { type: T_ALL, data: whole });   // PageLogResult: Written, Full, Fault
 *
 * A power cut may tear any write or erase:
 * - a torn record fails its checksum and is skipped: the record before it is still the newest;
 * - the current page is the one holding the highest valid gen. The other holds only older records (a turnover's
 *   first record has a gen above all of them), so erasing it for a turnover loses nothing, and a torn erase leaves
 *   there at most older records and garbage;
 * - a turnover makes the other page current only once its first record (the whole value) is whole: torn, the full
 *   page stays current and the next append turns over again.
 * NOR rules: a record is written only over bytes read back erased (0xFF), at a 4-byte aligned offset, padded with
 * 0xFF to a multiple of 4 (encodeRecord), and read back; a page is erased before it is written from its start.
 * Reads are one record at a time, never a whole page (a page read into RAM is about 300 JsVars on the device).
 */
import type { FlashPages } from "../hal/flash-pages.ts";
import { adler32, encodeRecord, getU32, RECORD_OVERHEAD } from "./record-log.ts";

/** What append did (a const enum: inlined, no variable on the device). */
export const enum PageLogResult {
  Written = 0,
  /** The whole value does not fit one page: nothing written. */
  Full = 1,
  /** A record read back wrong (worn or failing flash): the value on flash is still the previous one. */
  Fault = 2,
}

export interface PageLog {
  /** The current page (0 or 1), -1 when neither holds a valid record. */
  page: number;
  /** Where the next record goes in the current page, -1 when it cannot take one. */
  end: number;
  /** Highest valid gen (0: none). */
  gen: number;
  /** Finds the current page; `each` gets its valid records, oldest first. */
  load(each?: (type: number, gen: number, data: Uint8Array) => void): void;
  /**
   * Appends one record (gen must be above this.gen) in place; when the current page cannot take it, erases the
   * other page and writes `whole` (the complete value after this change, default: this record) as its first
   * record. Full when that does not fit a page (or the region has fewer than two pages), Fault when a write reads
   * back wrong; in both the value on flash is still the previous one.
   */
  append(type: number, gen: number, data: Uint8Array, whole?: { type: number; data: Uint8Array }): PageLogResult;
}

/**
 * The log on the first two pages of `pages`. One function at the top level, its parts made when called: the
 * firmware's global scope holds one name for all of this (JsVars at idle).
 */
export function pageLog(pages: FlashPages): PageLog {
  const size = pages.pageSize;
  /**
   * Walks the records of page `p`, `each` getting every valid one in order. Returns the highest valid gen (0 if
   * none) and where the next record goes (-1 when the tail cannot be read: the next append turns over).
   */
  const scan = (p: number, each?: (type: number, gen: number, data: Uint8Array) => void): { gen: number; end: number } => {
    let o = 0;
    let top = 0;
    while (o + RECORD_OVERHEAD <= size) {
      const h = pages.read(p, o, 8);
      const t = h[0];
      if (t === 255 && h[1] === 255) {
        // erased from here on when the header is blank; a torn header reads as garbage
        let blank = true;
        for (let i = 2; i < 8; i++) if (h[i] !== 255) blank = false;
        return { gen: top, end: blank ? o : -1 };
      }
      if (h[1] !== (~t & 255)) return { gen: top, end: -1 };
      const n = 8 + h[2] * 256 + h[3];
      if (o + n + 4 > size) return { gen: top, end: -1 };
      const b = pages.read(p, o, n + 4);
      if (getU32(b, n) === adler32(b, 0, n)) {
        const g = getU32(b, 4);
        if (g > top) top = g;
        if (each) each(t, g, b.subarray(8, n));
      }
      o += (n + 4 + 3) & ~3;
    }
    return { gen: top, end: o <= size ? o : -1 };
  };
  /** Writes `rec` at `at` of page `p` and reads it back. */
  const put = (p: number, at: number, rec: Uint8Array): boolean => {
    pages.write(p, at, rec);
    const back = pages.read(p, at, rec.length);
    for (let i = 0; i < rec.length; i++) if (back[i] !== rec[i]) return false;
    return true;
  };
  const log: PageLog = {
    page: -1,
    end: -1,
    gen: 0,
    load(each) {
      log.page = -1;
      log.end = -1;
      log.gen = 0;
      for (let p = 0; p < 2 && p < pages.pageCount; p++) {
        const s = scan(p);
        if (s.gen > log.gen) {
          log.gen = s.gen;
          log.page = p;
          log.end = s.end;
        }
      }
      if (each && log.page >= 0) scan(log.page, each);
    },
    append(type, gen, data, whole) {
      const rec = encodeRecord(type, gen, data);
      const at = log.end;
      if (log.page >= 0 && at > 0 && at + rec.length <= size) {
        const was = pages.read(log.page, at, rec.length);
        let blank = true;
        for (let i = 0; blank && i < rec.length; i++) if (was[i] !== 255) blank = false;
        if (blank) {
          if (!put(log.page, at, rec)) return PageLogResult.Fault;
          log.end = at + rec.length;
          log.gen = gen;
          return PageLogResult.Written;
        }
      }
      const first = whole ? encodeRecord(whole.type, gen, whole.data) : rec;
      if (first.length > size || pages.pageCount < 2) return PageLogResult.Full;
      const next = log.page === 0 ? 1 : 0;
      pages.erase(next);
      if (!put(next, 0, first)) return PageLogResult.Fault;
      log.page = next;
      log.end = first.length;
      log.gen = gen;
      return PageLogResult.Written;
    },
  };
  return log;
}
