/**
 * The transaction journal: encrypted, append-only records on raw flash pages, safe at any power cut.
 *
 * Flash rules it keeps (hal/flash-pages.ts):
 * - writes only fill erased space, or clear bits of a record's status word (pending -> uploaded -> acked);
 * - a page is erased only when every record in it is acknowledged (durably, in its status word), pages are erased
 *   oldest first, and never the page that holds the newest record (its hash and seq carry the chain on);
 * - before a used page is erased its header is marked "retiring", so a torn erase reads as a free page.
 *
 * Page layout: "PJN1" (4) | retire word (4: FFFFFFFF in use, anything else retiring) | records (record.ts) | FF...
 * Inside a page a record header whose first byte is neither A5 nor FF closes the page (torn tails are closed by
 * clearing their first word). Records are ordered by seq, not by page position, so pages are used as a ring but
 * any erased page can take the next record.
 *
 * Recovery reads every page and authenticates every record (a clean page by the hash chain and one link or one
 * tag, see recover(); any page in doubt by every record's tag), drops one torn tail (a record whose tag was never
 * written, with nothing after it, at the write frontier) and reports everything else that is wrong as an anomaly: a bad tag
 * ("mac"), a missing seq ("gap"), a prev hash that does not match ("chain"), records out of order in a page
 * ("order"), a seq seen twice or one below the newest record's floor ("replay"), a page with a bad header ("page").
 * Anomalous pages are quarantined (never erased) until releaseQuarantine(), after the report reached the gateway.
 * Genuine records (good tag) stay live and are uploaded whatever else is wrong around them.
 *
 *   const j = new Journal({ pages, crypto, keys });
 *   const report = j.recover();            // once at boot, before anything else
 *   const r = j.append(payload);           // { seq } or a refusal { code, message } to show the merchant
 *   j.canAccept();                         // null, or the refusal append would give (JOURNAL_FULL, ...)
 *   j.spaceLeft();                         // largest entries append still takes before JOURNAL_FULL
 *   j.warning();                           // JOURNAL_NEARLY_FULL once spaceLeft() <= warnSlots, else null
 *
 * Space: append refuses with JOURNAL_FULL while at most `reserveSlots` (default 8) largest records still fit
 * (erased room, plus fully acknowledged pages reclaim would free), so a payment is never left without room
 * half-way; warning() turns on a tenth of the capacity before that (option `warnSlots`).
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import type { FlashPages } from "../../hal/flash-pages.ts";
import { equalConstantTime } from "../../protocol/codec/hex.ts";
import type { JournalKeys } from "./record.ts";
import {
  chainHash,
  decryptRecord,
  encodeRecord,
  getU32,
  HASH,
  headerSize,
  MARK,
  MAX_BLOCKS,
  MAX_PAYLOAD,
  MAX_RECORD,
  OVERHEAD,
  REC_VERSION,
  recordSize,
  TAG,
  verifyRecord,
} from "./record.ts";

export interface Refusal {
  code: string;
  message: string;
}

// The refusals are made when given (functions, not constants: their text stays in flash instead of ~50 JsVars).
export const JOURNAL_FULL = (): Refusal => ({ code: "JOURNAL_FULL", message: "Journal full: sync to free space" });
export const JOURNAL_NOT_READY = (): Refusal => ({ code: "JOURNAL_NOT_READY", message: "Journal not ready: restart" });
export const JOURNAL_FAULT = (): Refusal => ({ code: "JOURNAL_FAULT", message: "Journal flash fault: service terminal" });
export const JOURNAL_TOO_LARGE = (): Refusal => ({ code: "JOURNAL_TOO_LARGE", message: "Payment record too large" });
/** Not a refusal: a warning to show while payments are still accepted (warning()). */
export const JOURNAL_NEARLY_FULL = (): Refusal => ({ code: "JOURNAL_NEARLY_FULL", message: "Journal nearly full: sync soon" });

export interface Anomaly {
  /** "mac" | "gap" | "chain" | "order" | "replay" | "page" */
  kind: string;
  page: number;
  /** Byte offset in the page (0 for page-wide findings). */
  offset: number;
  /** The seq concerned (for "mac", as read, unauthenticated), or 0. */
  seq: number;
}

export interface RecoveryReport {
  /** Live records (good tag, in the chain's range). */
  records: number;
  /** Not yet acknowledged. */
  pending: number;
  /** Uploaded, not yet acknowledged. */
  uploaded: number;
  acked: number;
  /** Seq of the newest record, 0 when empty. */
  headSeq: number;
  /** Seq of the oldest live record, 0 when empty. */
  firstSeq: number;
  /** A record torn by a power cut was found at the write frontier and dropped. */
  tornTail: boolean;
  /** What looks like tampering (or flash damage): show it, report it at the next sync. */
  anomalies: Anomaly[];
  /** Pages with no live record. */
  freePages: number;
}

export interface JournalStats {
  pageSize: number;
  pageCount: number;
  records: number;
  pending: number;
  uploaded: number;
  acked: number;
  headSeq: number;
  firstSeq: number;
  /** Records of the largest size that still fit (erased space plus what reclaim() could free now). */
  slotsLeft: number;
  /** append refuses when slotsLeft would fall to this. */
  reserveSlots: number;
  /** Largest-size records append still accepts before JOURNAL_FULL (slotsLeft - reserveSlots, at least 0). */
  spaceLeft: number;
  /** warning() says JOURNAL_NEARLY_FULL once spaceLeft is at most this. */
  warnSlots: number;
  /** Largest-size records the region holds in all (pageCount x records a page). */
  capacity: number;
  quarantined: number;
}

export interface JournalOptions {
  pages: FlashPages;
  crypto: CryptoBackend;
  keys: JournalKeys;
  /** Refuse new records while at most this many largest-size slots are left (default 8). */
  reserveSlots?: number;
  /** Warn "nearly full" once at most this many records can still be accepted (default a tenth of the capacity). */
  warnSlots?: number;
}

export interface PendingRecord {
  seq: number;
  payload: Uint8Array;
  uploaded: boolean;
  acked: boolean;
  /** Approved online: the gateway settled it before it was journaled (the record's flag, record.ts). */
  online: boolean;
}

const MAGIC0 = 0x50; // "PJN1"
const MAGIC1 = 0x4a;
const MAGIC2 = 0x4e;
const MAGIC3 = 0x31;
const PAGE_HEAD = 8;
const MAX_ANOMALIES = 32;

const FREE = 0;
const USED = 1;
const RETIRED = 2;
const GARBLED = 3;

// A page's state, quarantine and whether it is known erased share its byte of `st`: bits 0-1 the state (FREE ...),
// QUAR, CLEAN: one table of 200 bytes where there were three, some 40 JsVars fewer on Espruino.
const ST_MASK = 3;
/** Quarantined: evidence (a page that failed a check, or a replay's records, not live), never erased until released. */
const QUAR = 4;
/**
 * A FREE page read all FF: no erase needed before it is written. Set on FREE pages only, and every other state is
 * written as a whole byte, so CLEAN alone means FREE and clean.
 */
const CLEAN = 8;

const FAST_UNSURE = 0;
const FAST_EMPTY = 1;
const FAST_LINKED = 2;

/** Scratch of one recovery (typed arrays, dropped when it ends). */
interface Scan {
  tSeq: Uint32Array;
  tOff: Uint16Array;
  tSize: Uint16Array;
  idx: Uint16Array;
  /** Per page: prev hash of its first record, chain hash of its last. */
  firstPrev: Uint8Array;
  lastHash: Uint8Array;
  /** Per page: offset of a record that looks torn, or -1. */
  tornPage: Int32Array;
  /** Per page: highest floor of its (authenticated) records. */
  floor: Uint32Array;
  /** Per fast-read page: where its last record is (its tag authenticates the page when no link does). */
  lastOff: Uint16Array;
  lastSize: Uint16Array;
  /** 1 while a page read the fast way waits for authentication. */
  fast: Uint8Array;
  /** Per page: its first free byte (pages are at most 64 KB). */
  free: Uint16Array;
  /** The chain hash of the record before, and the same bytes as words. */
  h: Uint8Array;
  hw: Uint32Array;
}

function allFF(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0xff) return false;
  return true;
}

export class Journal {
  private pages: FlashPages;
  private c: CryptoBackend;
  private keys: JournalKeys;
  private reserve: number;
  private warnAt: number;
  private n: number;
  private size: number;
  /** Largest records per page. */
  private perPage: number;

  /** Per page: state, quarantine and CLEAN in one byte (ST_MASK, QUAR, CLEAN). */
  private st: Uint8Array;
  private pmin: Uint32Array;
  private pmax: Uint32Array;
  /** Records, acknowledged and uploaded records of each page: bytes while a page holds at most 255 records (a 4 KB
   * page holds at most 63, of 64 bytes each: 45 JsVars fewer on 200 pages than 16 bits). */
  private pcnt: Uint8Array | Uint16Array;
  private pack: Uint8Array | Uint16Array;
  private pup: Uint8Array | Uint16Array;
  /** First free byte of the head page, the one appends go to (the other pages' are only the mount's, in Scan: 400
   * bytes of 200 pages a terminal no longer holds, some 35 JsVars). */
  private headFree = 0;
  /** Live pages in seq order; the last one holds the newest record and takes appends (bytes up to 256 pages). */
  private ord: Uint8Array | Uint16Array;
  private ordLen = 0;

  private ready = false;
  private fault: Refusal | null = null;
  private headSeq = 0;
  private headHash: Uint8Array = new Uint8Array(HASH);
  private nLive = 0;
  private nAcked = 0;
  private nUp = 0;
  private found: Anomaly[] = [];
  private tornTail = false;

  constructor(o: JournalOptions) {
    this.pages = o.pages;
    this.c = o.crypto;
    this.keys = o.keys;
    this.reserve = o.reserveSlots === undefined ? 8 : o.reserveSlots;
    const n = o.pages.pageCount;
    this.n = n;
    this.size = o.pages.pageSize;
    this.perPage = Math.floor((this.size - PAGE_HEAD) / MAX_RECORD);
    this.warnAt = o.warnSlots === undefined ? Math.max(this.reserve, Math.floor((n * this.perPage) / 10)) : o.warnSlots;
    this.st = new Uint8Array(n);
    this.pmin = new Uint32Array(n);
    this.pmax = new Uint32Array(n);
    // the most records a page can hold: all of the smallest size (one cipher block)
    const counts = (this.size - PAGE_HEAD) / (OVERHEAD + 16) < 256 ? Uint8Array : Uint16Array;
    this.pcnt = new counts(n);
    this.pack = new counts(n);
    this.pup = new counts(n);
    if (this.size > 0xffff) throw new Error("journal pages over 64 KB");
    this.ord = n <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  }

  private note(kind: string, page: number, offset: number, seq: number): void {
    if (this.found.length < MAX_ANOMALIES) this.found.push({ kind: kind, page: page, offset: offset, seq: seq });
  }

  /**
   * Read the whole journal, drop a torn tail, find anomalies, and get ready to append. Call once at boot.
   *
   * Fast path (a clean journal): a page whose records parse, have consecutive seqs and link by their prev hashes
   * (each record's prev = chain hash of the one before) is authenticated by ONE check: its last record's chain hash
   * is the prev of the first record of an authenticated page holding the next seq, or else (the newest page, or a
   * page before a hole) its last record's tag verifies. The chain hash covers every byte a tag covers (seq, floor,
   * prev, ciphertext, the tag itself; the marker's block count fixes the size), so by induction from one verified
   * tag every record of such a page is as authentic as if its own tag had been checked: each costs one SHA-256
   * instead of an HMAC. Any page that fails any of this (a bad header, a seq out of line, a broken link, a last tag
   * that does not verify) is read again the slow way, every tag checked, which finds and places the anomalies
   * exactly as before: tamper detection still happens here, at boot.
   */
  recover(): RecoveryReport {
    const P = this.size;
    const n = this.n;
    const maxIn = Math.floor((P - PAGE_HEAD) / 64) + 1;
    const h = new Uint8Array(HASH);
    const s: Scan = {
      tSeq: new Uint32Array(maxIn),
      tOff: new Uint16Array(maxIn),
      tSize: new Uint16Array(maxIn),
      idx: new Uint16Array(maxIn),
      firstPrev: new Uint8Array(n * HASH),
      lastHash: new Uint8Array(n * HASH),
      tornPage: new Int32Array(n),
      floor: new Uint32Array(n),
      lastOff: new Uint16Array(n),
      lastSize: new Uint16Array(n),
      fast: new Uint8Array(n),
      free: new Uint16Array(n),
      h: h,
      hw: new Uint32Array(h.buffer),
    };
    this.found = [];
    this.tornTail = false;
    this.fault = null;
    this.ready = false;

    for (let p = 0; p < n; p++) {
      this.resetPage(p, s);
      const b = this.pages.read(p, 0, P);
      if (b[0] === 0xff && b[1] === 0xff && b[2] === 0xff && b[3] === 0xff) {
        this.st[p] = FREE;
        continue;
      }
      if (b[0] !== MAGIC0 || b[1] !== MAGIC1 || b[2] !== MAGIC2 || b[3] !== MAGIC3) {
        this.st[p] = GARBLED | QUAR;
        this.note("page", p, 0, 0);
        continue;
      }
      if (!(b[4] === 0xff && b[5] === 0xff && b[6] === 0xff && b[7] === 0xff)) {
        this.st[p] = RETIRED;
        continue;
      }
      this.st[p] = USED;
      const f = this.scanFast(p, b, s);
      if (f === FAST_UNSURE) {
        this.resetPage(p, s);
        this.scanSlow(p, b, s);
      } else if (f === FAST_LINKED) s.fast[p] = 1;
    }
    this.authenticate(s);
    let maxFloor = 0;
    for (let p = 0; p < n; p++) if (s.floor[p] > maxFloor) maxFloor = s.floor[p];
    const firstPrev = s.firstPrev;
    const lastHash = s.lastHash;
    const tornPage = s.tornPage;

    // Records below the newest floor had been erased: a page of them is a replay.
    for (let p = 0; p < n; p++) {
      if (this.pcnt[p] && this.pmin[p] < maxFloor) this.exclude(p);
    }
    // Live pages in seq order; overlaps are replays, holes are gaps, prev hashes must link.
    this.sortLive();
    let i = 1;
    while (i < this.ordLen) {
      const a = this.ord[i - 1];
      const p = this.ord[i];
      if (this.pmin[p] <= this.pmax[a]) {
        this.exclude(p);
        this.removeOrd(i);
        continue;
      }
      if (this.pmin[p] !== this.pmax[a] + 1) {
        this.st[p] |= QUAR;
        this.note("gap", p, PAGE_HEAD, this.pmin[p]);
      } else if (!equalConstantTime(firstPrev.subarray(p * HASH, p * HASH + HASH), lastHash.subarray(a * HASH, a * HASH + HASH))) {
        this.st[p] |= QUAR;
        this.note("chain", p, PAGE_HEAD, this.pmin[p]);
      }
      i++;
    }
    const head = this.ordLen ? this.ord[this.ordLen - 1] : -1;
    this.headSeq = head >= 0 ? this.pmax[head] : 0;
    this.headFree = head >= 0 ? s.free[head] : this.size;
    this.headHash = head >= 0 ? new Uint8Array(lastHash.subarray(head * HASH, head * HASH + HASH)) : new Uint8Array(HASH);

    // At most one torn tail, at the write frontier: on the head page, or a page opened for the next record.
    for (let p = 0; p < n; p++) {
      const off = tornPage[p];
      if (off < 0) continue;
      if (!this.tornTail && !(this.st[p] & QUAR) && (p === head || this.pcnt[p] === 0)) {
        this.pages.write(p, off, new Uint8Array(4)); // clear its first word: the page is closed from here
        this.tornTail = true;
      } else {
        this.st[p] |= QUAR;
        this.note("mac", p, off, 0);
      }
    }

    this.nLive = 0;
    this.nAcked = 0;
    this.nUp = 0;
    for (let k2 = 0; k2 < this.ordLen; k2++) {
      const p = this.ord[k2];
      this.nLive += this.pcnt[p];
      this.nAcked += this.pack[p];
      this.nUp += this.pup[p];
    }
    this.ready = true;
    let free = 0;
    for (let p = 0; p < n; p++) if (!this.pcnt[p]) free++;
    return {
      records: this.nLive,
      pending: this.nLive - this.nAcked,
      uploaded: this.nUp,
      acked: this.nAcked,
      headSeq: this.headSeq,
      firstSeq: this.ordLen ? this.pmin[this.ord[0]] : 0,
      tornTail: this.tornTail,
      anomalies: this.found.slice(),
      freePages: free,
    };
  }

  private resetPage(p: number, s: Scan): void {
    this.pcnt[p] = 0;
    this.pack[p] = 0;
    this.pup[p] = 0;
    this.pmin[p] = 0;
    this.pmax[p] = 0;
    s.free[p] = this.size;
    s.tornPage[p] = -1;
    s.floor[p] = 0;
    s.fast[p] = 0;
  }

  /**
   * The fast reading of a page in use (see recover()): FAST_LINKED when its records parse, run in consecutive seqs
   * and link by prev hashes (then only its last record remains to be authenticated), FAST_EMPTY when it holds no
   * record, FAST_UNSURE for anything else (read it the slow way). No tag is checked here.
   */
  private scanFast(p: number, b: Uint8Array, s: Scan): number {
    const P = this.size;
    if (b.byteOffset & 3) b = new Uint8Array(b);
    const w = new Uint32Array(b.buffer, b.byteOffset, P >> 2);
    const hw = s.hw;
    let off = PAGE_HEAD;
    let k = 0;
    let seq0 = 0;
    let ack = 0;
    let up = 0;
    let fl = 0;
    let last = 0;
    let size = 0;
    while (off + 4 <= P) {
      const m = b[off];
      if (m === 0xff) {
        if (b[off + 1] === 0xff && b[off + 2] === 0xff && b[off + 3] === 0xff) s.free[p] = off;
        break;
      }
      if (m !== MARK) break; // closed from here
      // headerSize() inlined: this loop is most of a boot
      const nb = b[off + 2];
      if (b[off + 1] !== REC_VERSION || (b[off + 3] | 1) !== 0xff || nb < 1 || nb > MAX_BLOCKS) return FAST_UNSURE;
      size = OVERHEAD + nb * 16;
      if (off + size > P) return FAST_UNSURE;
      const seq = ((b[off + 8] << 24) >>> 0) + (b[off + 9] << 16) + (b[off + 10] << 8) + b[off + 11];
      if (!k) {
        seq0 = seq;
        s.firstPrev.set(b.subarray(off + 16, off + 32), p * HASH);
      } else {
        // its prev must be the chain hash of the record before (word compares: these hashes are public)
        const q = (off + 16) >> 2;
        if (seq !== seq0 + k || w[q] !== hw[0] || w[q + 1] !== hw[1] || w[q + 2] !== hw[2] || w[q + 3] !== hw[3]) return FAST_UNSURE;
      }
      s.h.set(chainHash(this.c, b, off, size)); // it hashes the flags byte of a flagged record too
      if (b[off + 5] === 0) ack++;
      else if (b[off + 4] === 0) up++;
      last = off;
      k++;
      off += size;
    }
    if (!k) return FAST_EMPTY;
    // Floors never go down along an authentic chain: the last record's is the page's highest.
    fl = getU32(b, last + 12);
    this.pcnt[p] = k;
    this.pmin[p] = seq0;
    this.pmax[p] = seq0 + k - 1;
    this.pack[p] = ack;
    this.pup[p] = up;
    s.lastHash.set(s.h, p * HASH);
    s.floor[p] = fl;
    s.lastOff[p] = last;
    s.lastSize[p] = size;
    return FAST_LINKED;
  }

  /**
   * Authenticate the fast-read pages, newest first: by the link to an authenticated page holding the next seq, or
   * by their last record's tag; a page that passes neither is read again the slow way (every tag checked).
   */
  private authenticate(s: Scan): void {
    this.sortLive();
    for (let i = this.ordLen - 1; i >= 0; i--) {
      const p = this.ord[i];
      if (!s.fast[p]) continue;
      const next = this.pmax[p] + 1;
      let ok = false;
      for (let j = i + 1; j < this.ordLen && !ok; j++) {
        const q = this.ord[j];
        if (this.pmin[q] === next && this.pcnt[q] && !s.fast[q]) {
          ok = equalConstantTime(s.firstPrev.subarray(q * HASH, q * HASH + HASH), s.lastHash.subarray(p * HASH, p * HASH + HASH));
        }
      }
      if (!ok) ok = verifyRecord(this.c, this.keys, this.pages.read(p, s.lastOff[p], s.lastSize[p]), 0, s.lastSize[p]);
      if (!ok) {
        this.resetPage(p, s);
        this.scanSlow(p, this.pages.read(p, 0, this.size), s);
      }
      s.fast[p] = 0;
    }
  }

  /** Read page p record by record, every tag checked, noting each anomaly where it is. */
  private scanSlow(p: number, b: Uint8Array, s: Scan): void {
    const P = this.size;
    const tSeq = s.tSeq;
    const tOff = s.tOff;
    const tSize = s.tSize;
    const idx = s.idx;
    const maxIn = tSeq.length;
    let k = 0;
    let off = PAGE_HEAD;
    while (off + 4 <= P) {
      if (b[off] === 0xff) {
        if (allFF(b, off, off + 4)) s.free[p] = off;
        break;
      }
      if (b[off] !== MARK) break; // closed from here
      const size = headerSize(b, off, P);
      if (!size) {
        this.st[p] |= QUAR;
        this.note("mac", p, off, 0);
        break;
      }
      if (verifyRecord(this.c, this.keys, b, off, size)) {
        if (k < maxIn) {
          tSeq[k] = getU32(b, off + 8);
          tOff[k] = off;
          tSize[k] = size;
          k++;
        }
        const fl = getU32(b, off + 12);
        if (fl > s.floor[p]) s.floor[p] = fl;
      } else if (allFF(b, off + size - TAG, P)) {
        // Its tag was never written and nothing follows: a write torn by a power cut, or so it seems.
        s.tornPage[p] = off;
        break;
      } else {
        this.st[p] |= QUAR;
        this.note("mac", p, off, getU32(b, off + 8));
      }
      off += size;
    }
    if (!k) return;
    // Physical order must be seq order.
    for (let i = 1; i < k; i++) {
      if (tSeq[i] <= tSeq[i - 1]) {
        this.st[p] |= QUAR;
        this.note("order", p, tOff[i], tSeq[i]);
        break;
      }
    }
    // Sort by seq (insertion sort: a page holds at most a few dozen records).
    for (let i = 0; i < k; i++) {
      let j = i;
      while (j > 0 && tSeq[idx[j - 1]] > tSeq[i]) {
        idx[j] = idx[j - 1];
        j--;
      }
      idx[j] = i;
    }
    let last = -1;
    let lastH: Uint8Array | null = null;
    let cnt = 0;
    for (let i = 0; i < k; i++) {
      const r = idx[i];
      const off2 = tOff[r];
      const seq = tSeq[r];
      if (last >= 0 && seq === tSeq[last]) {
        this.st[p] |= QUAR;
        this.note("replay", p, off2, seq);
        continue;
      }
      const h = chainHash(this.c, b, off2, tSize[r]);
      if (last < 0) {
        s.firstPrev.set(b.subarray(off2 + 16, off2 + 32), p * HASH);
        this.pmin[p] = seq;
      } else if (seq !== tSeq[last] + 1) {
        this.st[p] |= QUAR;
        this.note("gap", p, off2, seq);
      } else if (!equalConstantTime(b.subarray(off2 + 16, off2 + 32), lastH as Uint8Array)) {
        this.st[p] |= QUAR;
        this.note("chain", p, off2, seq);
      }
      cnt++;
      if (b[off2 + 5] === 0) this.pack[p]++;
      else if (b[off2 + 4] === 0) this.pup[p]++;
      last = r;
      lastH = h;
    }
    this.pcnt[p] = cnt;
    this.pmax[p] = tSeq[last];
    s.lastHash.set(lastH as Uint8Array, p * HASH);
  }

  /**
   * ord = the pages holding records, by first seq (ties by page index). Pages are used as a ring, so the insertion
   * sort starts at the lowest and goes round: a clean journal is then already in order (linear, not quadratic).
   */
  private sortLive(): void {
    const n = this.n;
    let start = -1;
    for (let p = 0; p < n; p++) if (this.pcnt[p] && (start < 0 || this.pmin[p] < this.pmin[start])) start = p;
    this.ordLen = 0;
    if (start < 0) return;
    for (let k = 0; k < n; k++) {
      const p = (start + k) % n;
      if (!this.pcnt[p]) continue;
      let j = this.ordLen++;
      while (j > 0) {
        const a = this.ord[j - 1];
        if (!(this.pmin[a] > this.pmin[p] || (this.pmin[a] === this.pmin[p] && a > p))) break;
        this.ord[j] = a;
        j--;
      }
      this.ord[j] = p;
    }
  }

  private exclude(p: number): void {
    this.st[p] |= QUAR;
    this.note("replay", p, PAGE_HEAD, this.pmin[p]);
    this.pcnt[p] = 0;
    this.pack[p] = 0;
    this.pup[p] = 0;
  }

  private removeOrd(i: number): void {
    for (let j = i + 1; j < this.ordLen; j++) this.ord[j - 1] = this.ord[j];
    this.ordLen--;
  }

  private headPage(): number {
    return this.ordLen ? this.ord[this.ordLen - 1] : -1;
  }

  /** A page with no live record that may be erased now. */
  private erasable(p: number): boolean {
    return !(this.st[p] & QUAR) && this.pcnt[p] === 0 && p !== this.headPage();
  }

  /** Largest-size records that still fit: head page room, erasable pages, and the acked pages reclaim() frees. */
  private slotsLeft(): number {
    const head = this.headPage();
    let s = head >= 0 ? Math.floor((this.size - this.headFree) / MAX_RECORD) : 0;
    for (let p = 0; p < this.n; p++) if (this.erasable(p)) s += this.perPage;
    for (let i = 0; i < this.ordLen - 1; i++) {
      const p = this.ord[i];
      if ((this.st[p] & QUAR) !== 0 || this.pack[p] !== this.pcnt[p]) break;
      s += this.perPage;
    }
    return s;
  }

  /** null when a payment may be recorded now, else why not (for the merchant's screen). */
  canAccept(): Refusal | null {
    if (!this.ready) return JOURNAL_NOT_READY();
    if (this.fault) return this.fault;
    if (this.slotsLeft() <= this.reserve) return JOURNAL_FULL();
    return null;
  }

  /** Largest-size records append still accepts before it refuses with JOURNAL_FULL (0 when not ready or faulty). */
  spaceLeft(): number {
    if (!this.ready || this.fault) return 0;
    const s = this.slotsLeft() - this.reserve;
    return s > 0 ? s : 0;
  }

  /** JOURNAL_NEARLY_FULL while payments are still accepted but spaceLeft() is at most warnSlots; else null. */
  warning(): Refusal | null {
    if (this.canAccept()) return null;
    return this.spaceLeft() <= this.warnAt ? JOURNAL_NEARLY_FULL() : null;
  }

  /** Erase page p after marking it retiring (if it was in use). */
  private erasePage(p: number): void {
    if ((this.st[p] & ST_MASK) === USED || (this.st[p] & ST_MASK) === GARBLED) this.pages.write(p, 4, new Uint8Array(4));
    this.pages.erase(p);
    this.st[p] = FREE | CLEAN; // only pages with no quarantine are erased (erasable(), reclaimOne())
    this.pcnt[p] = 0;
    this.pack[p] = 0;
    this.pup[p] = 0;
  }

  /** An erased page for the next record, or -1. */
  private openPage(): number {
    let p = -1;
    for (let round = 0; round < 2 && p < 0; round++) {
      if (round === 1 && !this.reclaimOne()) break;
      const head = this.headPage();
      for (let k = 1; k <= this.n && p < 0; k++) {
        const q = (head + k + this.n) % this.n;
        if (this.erasable(q)) p = q;
      }
    }
    if (p < 0) return -1;
    if ((this.st[p] & ST_MASK) === FREE && !(this.st[p] & CLEAN)) {
      const b = this.pages.read(p, 0, this.size);
      if (allFF(b, 0, this.size)) this.st[p] |= CLEAN;
    }
    if (!(this.st[p] & CLEAN)) this.erasePage(p);
    return p;
  }

  /**
   * Record a payment. Returns its seq once the record is in flash (read back and compared): only then may the
   * customer be told the payment went through. Otherwise a refusal to show. `online`: the gateway approved (and
   * settled) it before it was written; the record carries that in its authenticated header (record.ts), so it is
   * known after a reboot (the end-of-day report counts it settled, the offline limits do not count it).
   */
  append(payload: Uint8Array, online?: boolean): { seq: number } | Refusal {
    const no = this.canAccept();
    if (no) return no;
    if (payload.length > MAX_PAYLOAD) return JOURNAL_TOO_LARGE();
    const size = recordSize(payload.length);
    let p = this.headPage();
    let off = p >= 0 ? this.headFree : this.size;
    if (off + size <= this.size) {
      const dest = this.pages.read(p, off, size);
      if (!allFF(dest, 0, size)) {
        this.pages.write(p, off, new Uint8Array(4));
        off = this.size;
        this.headFree = off;
      }
    }
    let fresh = false;
    if (off + size > this.size) {
      p = this.openPage();
      if (p < 0) return JOURNAL_FULL();
      off = 0;
      fresh = true;
    }
    const seq = this.headSeq + 1;
    const floor = this.ordLen ? this.pmin[this.ord[0]] : seq;
    const rec = encodeRecord(this.c, this.keys, seq, floor, this.headHash, payload, online);
    let data = rec;
    if (fresh) {
      data = new Uint8Array(PAGE_HEAD + size);
      data[0] = MAGIC0;
      data[1] = MAGIC1;
      data[2] = MAGIC2;
      data[3] = MAGIC3;
      for (let i = 4; i < PAGE_HEAD; i++) data[i] = 0xff;
      data.set(rec, PAGE_HEAD);
    }
    this.pages.write(p, off, data);
    if (!equalConstantTime(this.pages.read(p, off, data.length), data)) {
      return (this.fault = JOURNAL_FAULT());
    }
    if (fresh) {
      this.st[p] = USED; // an erasable page: no quarantine
      this.pmin[p] = seq;
      this.ord[this.ordLen++] = p;
      off = PAGE_HEAD;
    }
    this.pcnt[p]++;
    this.pmax[p] = seq;
    this.headFree = off + size;
    this.headSeq = seq;
    this.headHash = chainHash(this.c, rec, 0, size);
    this.nLive++;
    return { seq: seq };
  }

  /** Up to `max` records not yet acknowledged, oldest first, decrypted. */
  pending(max: number): PendingRecord[] {
    return this.collect(max, false);
  }

  /** Up to `max` live records, acknowledged ones included (for diagnostics and re-sending), decrypted. */
  records(max: number): PendingRecord[] {
    return this.collect(max, true);
  }

  /**
   * Calls `fn` with each live record, oldest first, decrypted, one at a time: acknowledged ones too when `all`.
   * Nothing is kept between calls, so a full journal is walked in the JsVars of one record (pending() and
   * records() hold every record they return: about 30 JsVars each). `fn` returns true to stop.
   */
  forEach(all: boolean, fn: (r: PendingRecord) => boolean | void): void {
    if (!this.ordLen) return;
    // one bit per seq in the live range, so a seq found twice (two pages claiming it) is given once
    const lo = this.pmin[this.ord[0]];
    let hi = lo;
    for (let i = 0; i < this.ordLen; i++) if (this.pmax[this.ord[i]] > hi) hi = this.pmax[this.ord[i]];
    const seen = new Uint8Array(((hi - lo) >> 3) + 1);
    for (let i = 0; i < this.ordLen; i++) {
      const p = this.ord[i];
      if (!all && this.pack[p] === this.pcnt[p]) continue;
      const b = this.pages.read(p, 0, this.size);
      let off = PAGE_HEAD;
      let size = headerSize(b, off, this.size);
      while (size) {
        const seq = getU32(b, off + 8);
        const acked = b[off + 5] === 0;
        const bit = seq - lo;
        if ((all || !acked) && seq >= this.pmin[p] && seq <= this.pmax[p] && !(seen[bit >> 3] & (1 << (bit & 7))) && verifyRecord(this.c, this.keys, b, off, size)) {
          const payload = decryptRecord(this.c, this.keys, b, off, size);
          if (payload) {
            seen[bit >> 3] |= 1 << (bit & 7);
            if (fn({ seq: seq, payload: payload, uploaded: acked || b[off + 4] === 0, acked: acked, online: b[off + 3] === 0xfe })) return;
          }
        }
        off += size;
        size = headerSize(b, off, this.size);
      }
    }
  }

  private collect(max: number, all: boolean): PendingRecord[] {
    const out: PendingRecord[] = [];
    if (max > 0) this.forEach(all, (r) => out.push(r) >= max);
    return out;
  }

  /** Mark records as sent to the gateway (durably). Returns how many changed. */
  markUploaded(seqs: number[]): number {
    return this.mark(seqs, false);
  }

  /** Mark records as acknowledged by the gateway (durably). Returns how many changed. */
  markAcked(seqs: number[]): number {
    return this.mark(seqs, true);
  }

  private mark(seqs: number[], ack: boolean): number {
    let changed = 0;
    for (let i = 0; i < this.ordLen; i++) {
      const p = this.ord[i];
      let any = false;
      for (let k = 0; k < seqs.length && !any; k++) any = seqs[k] >= this.pmin[p] && seqs[k] <= this.pmax[p];
      if (!any) continue;
      const b = this.pages.read(p, 0, this.size);
      const done: number[] = [];
      let off = PAGE_HEAD;
      let size = headerSize(b, off, this.size);
      while (size) {
        const seq = getU32(b, off + 8);
        if (seqs.indexOf(seq) >= 0 && done.indexOf(seq) < 0 && b[off + 5] !== 0 && (ack || b[off + 4] !== 0) && verifyRecord(this.c, this.keys, b, off, size)) {
          done.push(seq);
          const wasUp = b[off + 4] === 0;
          this.pages.write(p, off + 4, new Uint8Array([0, ack ? 0 : 0xff, 0xff, 0xff]));
          if (ack) {
            this.pack[p]++;
            this.nAcked++;
            if (wasUp) {
              this.pup[p]--;
              this.nUp--;
            }
          } else {
            this.pup[p]++;
            this.nUp++;
          }
          changed++;
        }
        off += size;
        size = headerSize(b, off, this.size);
      }
    }
    return changed;
  }

  /** Erase the oldest page if all its records are acknowledged and it is not the newest record's page. */
  private reclaimOne(): boolean {
    if (this.ordLen < 2) return false;
    const p = this.ord[0];
    if ((this.st[p] & QUAR) !== 0 || this.pack[p] !== this.pcnt[p]) return false;
    this.nLive -= this.pcnt[p];
    this.nAcked -= this.pack[p];
    this.removeOrd(0);
    this.erasePage(p);
    return true;
  }

  /** Free space: erase acknowledged pages (oldest first) and dead pages. Returns how many pages were erased. */
  reclaim(): number {
    if (!this.ready) return 0;
    let erased = 0;
    while (this.reclaimOne()) erased++;
    for (let p = 0; p < this.n; p++) {
      if (this.erasable(p) && !(this.st[p] & CLEAN)) {
        if ((this.st[p] & ST_MASK) === FREE) {
          if (allFF(this.pages.read(p, 0, this.size), 0, this.size)) {
            this.st[p] |= CLEAN;
            continue;
          }
        }
        this.erasePage(p);
        erased++;
      }
    }
    return erased;
  }

  stats(): JournalStats {
    let q = 0;
    for (let p = 0; p < this.n; p++) if ((this.st[p] & QUAR) !== 0) q++;
    return {
      pageSize: this.size,
      pageCount: this.n,
      records: this.nLive,
      pending: this.nLive - this.nAcked,
      uploaded: this.nUp,
      acked: this.nAcked,
      headSeq: this.headSeq,
      firstSeq: this.ordLen ? this.pmin[this.ord[0]] : 0,
      slotsLeft: this.ready ? this.slotsLeft() : 0,
      reserveSlots: this.reserve,
      spaceLeft: this.spaceLeft(),
      warnSlots: this.warnAt,
      capacity: this.n * this.perPage,
      quarantined: q,
    };
  }

  /** The chain head for the gateway: seq and chain hash of the newest record (zeros when empty). */
  head(): { seq: number; hash: Uint8Array } {
    return { seq: this.headSeq, hash: new Uint8Array(this.headHash) };
  }

  /** Anomalies found at recovery (the quarantine list to show and report at the next sync). */
  anomalies(): Anomaly[] {
    return this.found.slice();
  }

  /** After the anomalies reached the gateway: quarantined pages with no live record become erasable. */
  releaseQuarantine(): void {
    for (let p = 0; p < this.n; p++) this.st[p] &= ~QUAR;
    this.found = [];
  }
}

