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
 * Recovery reads every page, checks every tag, drops one torn tail (a record whose tag was never written, with
 * nothing after it, at the write frontier) and reports everything else that is wrong as an anomaly: a bad tag
 * ("mac"), a missing seq ("gap"), a prev hash that does not match ("chain"), records out of order in a page
 * ("order"), a seq seen twice or one below the newest record's floor ("replay"), a page with a bad header ("page").
 * Anomalous pages are quarantined (never erased) until releaseQuarantine(), after the report reached the gateway.
 * Genuine records (good tag) stay live and are uploaded whatever else is wrong around them.
 *
 *   const j = new Journal({ pages, crypto, keys });
 *   const report = j.recover();            // once at boot, before anything else
 *   const r = j.append(payload);           // { seq } or a refusal { code, message } to show the merchant
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import type { FlashPages } from "../../hal/flash-pages.ts";
import { equalConstantTime } from "../codec/hex.ts";
import type { JournalKeys } from "./record.ts";
import {
  chainHash,
  decryptRecord,
  encodeRecord,
  getU32,
  HASH,
  headerSize,
  MARK,
  MAX_PAYLOAD,
  MAX_RECORD,
  recordSize,
  TAG,
  verifyRecord,
} from "./record.ts";

export interface Refusal {
  code: string;
  message: string;
}

export const JOURNAL_FULL: Refusal = { code: "JOURNAL_FULL", message: "Journal full: sync to free space" };
export const JOURNAL_NOT_READY: Refusal = { code: "JOURNAL_NOT_READY", message: "Journal not ready: restart" };
export const JOURNAL_FAULT: Refusal = { code: "JOURNAL_FAULT", message: "Journal flash fault: service terminal" };
export const JOURNAL_TOO_LARGE: Refusal = { code: "JOURNAL_TOO_LARGE", message: "Payment record too large" };

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
  quarantined: number;
}

export interface JournalOptions {
  pages: FlashPages;
  crypto: CryptoBackend;
  keys: JournalKeys;
  /** Refuse new records while at most this many largest-size slots are left (default 8). */
  reserveSlots?: number;
}

export interface PendingRecord {
  seq: number;
  payload: Uint8Array;
  uploaded: boolean;
  acked: boolean;
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

const Q_NONE = 0;
const Q_KEEP = 1; // evidence: never erase until released
const Q_EXCLUDED = 2; // records not live (replay); evidence too

function allFF(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0xff) return false;
  return true;
}

export class Journal {
  private pages: FlashPages;
  private c: CryptoBackend;
  private keys: JournalKeys;
  private reserve: number;
  private n: number;
  private size: number;
  /** Largest records per page. */
  private perPage: number;

  private st: Uint8Array;
  private quar: Uint8Array;
  private clean: Uint8Array;
  private pmin: Uint32Array;
  private pmax: Uint32Array;
  private pcnt: Uint16Array;
  private pack: Uint16Array;
  private pup: Uint16Array;
  private pfree: Uint32Array;
  /** Live pages in seq order; the last one holds the newest record and takes appends. */
  private ord: Uint16Array;
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
    this.st = new Uint8Array(n);
    this.quar = new Uint8Array(n);
    this.clean = new Uint8Array(n);
    this.pmin = new Uint32Array(n);
    this.pmax = new Uint32Array(n);
    this.pcnt = new Uint16Array(n);
    this.pack = new Uint16Array(n);
    this.pup = new Uint16Array(n);
    this.pfree = new Uint32Array(n);
    this.ord = new Uint16Array(n);
  }

  private note(kind: string, page: number, offset: number, seq: number): void {
    if (this.found.length < MAX_ANOMALIES) this.found.push({ kind: kind, page: page, offset: offset, seq: seq });
  }

  /** Read the whole journal, drop a torn tail, find anomalies, and get ready to append. Call once at boot. */
  recover(): RecoveryReport {
    const P = this.size;
    const n = this.n;
    const maxIn = Math.floor((P - PAGE_HEAD) / 64) + 1;
    const tSeq = new Uint32Array(maxIn);
    const tOff = new Uint16Array(maxIn);
    const tSize = new Uint16Array(maxIn);
    const idx = new Uint16Array(maxIn);
    const firstPrev = new Uint8Array(n * HASH);
    const lastHash = new Uint8Array(n * HASH);
    const tornPage = new Int32Array(n);
    let maxFloor = 0;
    this.found = [];
    this.tornTail = false;
    this.fault = null;
    this.ready = false;

    for (let p = 0; p < n; p++) {
      this.quar[p] = Q_NONE;
      this.clean[p] = 0;
      this.pcnt[p] = 0;
      this.pack[p] = 0;
      this.pup[p] = 0;
      this.pmin[p] = 0;
      this.pmax[p] = 0;
      this.pfree[p] = P;
      tornPage[p] = -1;
      const b = this.pages.read(p, 0, P);
      if (b[0] === 0xff && b[1] === 0xff && b[2] === 0xff && b[3] === 0xff) {
        this.st[p] = FREE;
        continue;
      }
      if (b[0] !== MAGIC0 || b[1] !== MAGIC1 || b[2] !== MAGIC2 || b[3] !== MAGIC3) {
        this.st[p] = GARBLED;
        this.quar[p] = Q_KEEP;
        this.note("page", p, 0, 0);
        continue;
      }
      if (!(b[4] === 0xff && b[5] === 0xff && b[6] === 0xff && b[7] === 0xff)) {
        this.st[p] = RETIRED;
        continue;
      }
      this.st[p] = USED;
      // Walk the page's records in physical order.
      let k = 0;
      let off = PAGE_HEAD;
      while (off + 4 <= P) {
        if (b[off] === 0xff) {
          if (allFF(b, off, off + 4)) this.pfree[p] = off;
          break;
        }
        if (b[off] !== MARK) break; // closed from here
        const size = headerSize(b, off, P);
        if (!size) {
          this.quar[p] = Q_KEEP;
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
          if (fl > maxFloor) maxFloor = fl;
        } else if (allFF(b, off + size - TAG, P)) {
          // Its tag was never written and nothing follows: a write torn by a power cut, or so it seems.
          tornPage[p] = off;
          break;
        } else {
          this.quar[p] = Q_KEEP;
          this.note("mac", p, off, getU32(b, off + 8));
        }
        off += size;
      }
      if (!k) continue;
      // Physical order must be seq order.
      for (let i = 1; i < k; i++) {
        if (tSeq[i] <= tSeq[i - 1]) {
          this.quar[p] = Q_KEEP;
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
          this.quar[p] = Q_KEEP;
          this.note("replay", p, off2, seq);
          continue;
        }
        const h = chainHash(this.c, b, off2, tSize[r]);
        if (last < 0) {
          firstPrev.set(b.subarray(off2 + 16, off2 + 32), p * HASH);
          this.pmin[p] = seq;
        } else if (seq !== tSeq[last] + 1) {
          this.quar[p] = Q_KEEP;
          this.note("gap", p, off2, seq);
        } else if (!equalConstantTime(b.subarray(off2 + 16, off2 + 32), lastH as Uint8Array)) {
          this.quar[p] = Q_KEEP;
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
      lastHash.set(lastH as Uint8Array, p * HASH);
    }

    // Records below the newest floor had been erased: a page of them is a replay.
    for (let p = 0; p < n; p++) {
      if (this.pcnt[p] && this.pmin[p] < maxFloor) this.exclude(p);
    }
    // Live pages in seq order; overlaps are replays, holes are gaps, prev hashes must link.
    this.ordLen = 0;
    for (let p = 0; p < n; p++) {
      if (!this.pcnt[p]) continue;
      let j = this.ordLen++;
      while (j > 0 && this.pmin[this.ord[j - 1]] > this.pmin[p]) {
        this.ord[j] = this.ord[j - 1];
        j--;
      }
      this.ord[j] = p;
    }
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
        this.quar[p] = this.quar[p] || Q_KEEP;
        this.note("gap", p, PAGE_HEAD, this.pmin[p]);
      } else if (!equalConstantTime(firstPrev.subarray(p * HASH, p * HASH + HASH), lastHash.subarray(a * HASH, a * HASH + HASH))) {
        this.quar[p] = this.quar[p] || Q_KEEP;
        this.note("chain", p, PAGE_HEAD, this.pmin[p]);
      }
      i++;
    }
    const head = this.ordLen ? this.ord[this.ordLen - 1] : -1;
    this.headSeq = head >= 0 ? this.pmax[head] : 0;
    this.headHash = head >= 0 ? new Uint8Array(lastHash.subarray(head * HASH, head * HASH + HASH)) : new Uint8Array(HASH);

    // At most one torn tail, at the write frontier: on the head page, or a page opened for the next record.
    for (let p = 0; p < n; p++) {
      const off = tornPage[p];
      if (off < 0) continue;
      if (!this.tornTail && this.quar[p] === Q_NONE && (p === head || this.pcnt[p] === 0)) {
        this.pages.write(p, off, new Uint8Array(4)); // clear its first word: the page is closed from here
        this.tornTail = true;
      } else {
        this.quar[p] = this.quar[p] || Q_KEEP;
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

  private exclude(p: number): void {
    this.quar[p] = Q_EXCLUDED;
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
    return this.quar[p] === Q_NONE && this.pcnt[p] === 0 && p !== this.headPage();
  }

  /** Largest-size records that still fit: head page room, erasable pages, and the acked pages reclaim() frees. */
  private slotsLeft(): number {
    const head = this.headPage();
    let s = head >= 0 ? Math.floor((this.size - this.pfree[head]) / MAX_RECORD) : 0;
    for (let p = 0; p < this.n; p++) if (this.erasable(p)) s += this.perPage;
    for (let i = 0; i < this.ordLen - 1; i++) {
      const p = this.ord[i];
      if (this.quar[p] !== Q_NONE || this.pack[p] !== this.pcnt[p]) break;
      s += this.perPage;
    }
    return s;
  }

  /** null when a payment may be recorded now, else why not (for the merchant's screen). */
  canAccept(): Refusal | null {
    if (!this.ready) return JOURNAL_NOT_READY;
    if (this.fault) return this.fault;
    if (this.slotsLeft() <= this.reserve) return JOURNAL_FULL;
    return null;
  }

  /** Erase page p after marking it retiring (if it was in use). */
  private erasePage(p: number): void {
    if (this.st[p] === USED || this.st[p] === GARBLED) this.pages.write(p, 4, new Uint8Array(4));
    this.pages.erase(p);
    this.st[p] = FREE;
    this.clean[p] = 1;
    this.pcnt[p] = 0;
    this.pack[p] = 0;
    this.pup[p] = 0;
    this.pfree[p] = PAGE_HEAD;
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
    if (this.st[p] === FREE && !this.clean[p]) {
      const b = this.pages.read(p, 0, this.size);
      if (allFF(b, 0, this.size)) this.clean[p] = 1;
    }
    if (!(this.st[p] === FREE && this.clean[p])) this.erasePage(p);
    return p;
  }

  /**
   * Record a payment. Returns its seq once the record is in flash (read back and compared): only then may the
   * customer be told the payment went through. Otherwise a refusal to show.
   */
  append(payload: Uint8Array): { seq: number } | Refusal {
    const no = this.canAccept();
    if (no) return no;
    if (payload.length > MAX_PAYLOAD) return JOURNAL_TOO_LARGE;
    const size = recordSize(payload.length);
    let p = this.headPage();
    let off = p >= 0 ? this.pfree[p] : this.size;
    if (off + size <= this.size) {
      const dest = this.pages.read(p, off, size);
      if (!allFF(dest, 0, size)) {
        this.pages.write(p, off, new Uint8Array(4));
        off = this.size;
        this.pfree[p] = off;
      }
    }
    let fresh = false;
    if (off + size > this.size) {
      p = this.openPage();
      if (p < 0) return JOURNAL_FULL;
      off = 0;
      fresh = true;
    }
    const seq = this.headSeq + 1;
    const floor = this.ordLen ? this.pmin[this.ord[0]] : seq;
    const rec = encodeRecord(this.c, this.keys, seq, floor, this.headHash, payload);
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
      this.fault = JOURNAL_FAULT;
      return JOURNAL_FAULT;
    }
    if (fresh) {
      this.st[p] = USED;
      this.clean[p] = 0;
      this.pmin[p] = seq;
      this.ord[this.ordLen++] = p;
      off = PAGE_HEAD;
    }
    this.pcnt[p]++;
    this.pmax[p] = seq;
    this.pfree[p] = off + size;
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

  private collect(max: number, all: boolean): PendingRecord[] {
    const out: PendingRecord[] = [];
    for (let i = 0; i < this.ordLen && out.length < max; i++) {
      const p = this.ord[i];
      if (!all && this.pack[p] === this.pcnt[p]) continue;
      const b = this.pages.read(p, 0, this.size);
      let off = PAGE_HEAD;
      let size = headerSize(b, off, this.size);
      while (size && out.length < max) {
        const seq = getU32(b, off + 8);
        const acked = b[off + 5] === 0;
        if ((all || !acked) && seq >= this.pmin[p] && seq <= this.pmax[p] && !has(out, seq) && verifyRecord(this.c, this.keys, b, off, size)) {
          const payload = decryptRecord(this.c, this.keys, b, off, size);
          if (payload) out.push({ seq: seq, payload: payload, uploaded: acked || b[off + 4] === 0, acked: acked });
        }
        off += size;
        size = headerSize(b, off, this.size);
      }
    }
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
    if (this.quar[p] !== Q_NONE || this.pack[p] !== this.pcnt[p]) return false;
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
      if (this.erasable(p) && !(this.st[p] === FREE && this.clean[p])) {
        if (this.st[p] === FREE) {
          if (allFF(this.pages.read(p, 0, this.size), 0, this.size)) {
            this.clean[p] = 1;
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
    for (let p = 0; p < this.n; p++) if (this.quar[p] !== Q_NONE) q++;
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
    for (let p = 0; p < this.n; p++) this.quar[p] = Q_NONE;
    this.found = [];
  }
}

function has(list: PendingRecord[], seq: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i].seq === seq) return true;
  return false;
}
