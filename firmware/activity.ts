/**
 * Activity log: connections, boots, errors and overrides, appended line by line INTO one pre-sized Storage file at
 * offsets, so that no line creates a file or leaves space for a compaction.
 *
 *   const log = new ActivityLog(device.storage, () => clock.now());
 *   log.add("boot", "fw 1.4.0");
 *   log.recent(5);   // ["2026-11-23 08:40 boot fw 1.4.0", ...], newest first
 *
 * Flash rules it keeps (see /work/shared/espruino-notes.md and docs/architecture.md, "Storage that never needs a
 * compaction"):
 * - The file is created once at its full size (`write(name, head, 0, size)`: the rest stays 0xFF) and then only
 *   erased bytes are filled (`write(name, line, offset)`), which never moves other files and never compacts.
 * - Two names, `act.a` and `act.b`, as the record logs (firmware/record-log.ts): when the current file cannot take
 *   the next line it TURNS OVER: the other name is created with the next generation and the newest lines (up to
 *   `carryBytes`, whole lines), and only then is the full file erased. That is the one step that leaves space to
 *   compact (one file's size), and the file is sized so that it comes once in more than a year: 32 KB against the
 *   ~25 KB a year of daily syncs writes (test/flows/storage-year.test.ts). A turnover is taken only while Storage
 *   has `fileBytes + reserveBytes` free, so it never makes Espruino compact; without that room the log keeps its
 *   last lines in RAM (`dropped` counts what was lost).
 * - A power cut in the middle of a line leaves a fragment without its "\n". The next start sees it and ends it
 *   with "~\n": recent() shows such a line with " [cut]", and the lines after it are whole. A cut in a turnover
 *   leaves the full file current (a new file without its header line reads as generation 0) or the new one
 *   (highest generation); the other is erased at the next turnover.
 * - The files of older firmware (`act.0`..`act.7`, 1 KB segments erased and created in turn) are erased once the
 *   first file of this log exists: the one trash an update to this firmware leaves here.
 * Text is ASCII: other characters (and "~") are written as "?"; details are cut to 60 characters.
 * File layout: "#<generation>/<bytes of the first write>\n" then lines "<unix seconds> <kind> <detail>\n", then 0xFF to the end. No line holds
 * a 0xFF byte, so the written part is found by a binary search for the first erased byte.
 */
import type { FileStore } from "../hal/storage.ts";
import { formatDateTime } from "./receipt/time.ts";

export type ActivityKind = "boot" | "connect" | "disconnect" | "sync" | "error" | "override" | "tech" | "update";

export interface ActivityOptions {
  /** Bytes of each of the two files (default 32768). */
  fileBytes?: number;
  /** Newest lines copied into the new file at a turnover, in bytes (default 1024). */
  carryBytes?: number;
  /** Free Storage to leave untouched when a file is created (default 16384). */
  reserveBytes?: number;
}

export const ACTIVITY_FILES = ["act.a", "act.b"];
const OLD_SEGMENTS = 8;
const NL = 10;
const TILDE = 126;
const MAX_DETAIL = 60;
const RAM_LINES = 8;

export class ActivityLog {
  /** Lines that could not be written to flash (Storage too full for a turnover). */
  dropped = 0;
  private readonly size: number;
  private readonly carry: number;
  private readonly reserve: number;
  /** Current file (index in ACTIVITY_FILES), write position in it, its generation; cur -1 when none exists yet. */
  private cur = -1;
  private pos = 0;
  private gen = 0;
  /** A torn line was found at start: end it before the next line. */
  private torn = false;
  /** Lines kept in RAM while flash has no room, oldest first. */
  private ram: string[] = [];

  constructor(private readonly store: FileStore, private readonly now: () => number, o?: ActivityOptions) {
    this.size = (o && o.fileBytes) || 32768;
    this.carry = o && o.carryBytes !== undefined ? o.carryBytes : 1024;
    this.reserve = o && o.reserveBytes !== undefined ? o.reserveBytes : 16384;
    for (let i = 0; i < 2; i++) {
      const g = this.generation(i);
      if (g > this.gen) {
        this.gen = g;
        this.cur = i;
      }
    }
    if (this.cur >= 0) {
      const b = this.store.read(ACTIVITY_FILES[this.cur]);
      const p = b ? writtenEnd(b) : 0;
      this.pos = p;
      this.torn = !!b && p > 0 && b[p - 1] !== NL;
    }
  }

  /** Record one event, stamped with now(). */
  add(kind: ActivityKind, detail: string): void {
    let s = Math.floor(this.now() / 1000) + " " + kind + " ";
    for (let i = 0; i < detail.length && i < MAX_DETAIL; i++) {
      const c = detail.charCodeAt(i);
      s += c >= 32 && c < 126 ? detail.charAt(i) : "?";
    }
    const pre = this.torn ? 2 : 0;
    const line = new Uint8Array(pre + s.length + 1);
    if (pre) {
      line[0] = TILDE;
      line[1] = NL;
    }
    for (let i = 0; i < s.length; i++) line[pre + i] = s.charCodeAt(i);
    line[line.length - 1] = NL;
    if (this.cur < 0 || this.pos + line.length > this.size) {
      // the new file starts with whole lines: the torn fragment stays ended where it was (it is shown as cut)
      if (!this.turnOver(line.length - pre)) return this.keep(s);
      if (this.store.write(ACTIVITY_FILES[this.cur], line.subarray(pre), this.pos)) this.pos += line.length - pre;
      else this.keep(s);
    } else if (this.store.write(ACTIVITY_FILES[this.cur], line, this.pos)) {
      this.pos += line.length;
      this.torn = false;
    } else this.keep(s);
  }

  /** A line flash could not take: kept in RAM (the last few), counted in `dropped`. */
  private keep(s: string): void {
    this.dropped++;
    this.ram.push(s);
    if (this.ram.length > RAM_LINES) this.ram.shift();
  }

  /** The newest `n` lines, newest first, as "YYYY-MM-DD hh:mm kind detail" (UTC). */
  recent(n: number): string[] {
    const out: string[] = [];
    for (let i = this.ram.length - 1; i >= 0 && out.length < n; i--) out.push(show(this.ram[i], false));
    if (this.cur < 0) return out;
    const b = this.store.read(ACTIVITY_FILES[this.cur]);
    if (!b) return out;
    let end = this.pos;
    // walk lines backwards; the first line is the file's "#gen" header
    while (end > 0 && out.length < n) {
      let start = end - 1;
      if (b[start] === NL) start--;
      const stop = start + 1;
      while (start >= 0 && b[start] !== NL) start--;
      start++;
      if (start === 0) break;
      let cut = false;
      let e = stop;
      if (e > start && b[e - 1] === TILDE) {
        cut = true;
        e--;
      } else if (stop === end && b[end - 1] !== NL) cut = true; // fragment a cut left at the very end
      let s = "";
      for (let i = start; i < e; i++) s += String.fromCharCode(b[i]);
      out.push(show(s, cut));
      end = start;
    }
    return out;
  }

  /**
   * Generation in file i's header "#<gen>/<first>\n", or 0 when it has none (absent) or its first write, `first`
   * bytes ending in "\n", is not all there (a cut while creating it: the file it was to replace is still whole).
   */
  private generation(i: number): number {
    const b = this.store.read(ACTIVITY_FILES[i], 0, 24);
    if (!b || b[0] !== 35) return 0;
    let g = 0;
    let f = -1;
    for (let p = 1; p < b.length; p++) {
      if (b[p] === NL) {
        if (f < 1) return 0;
        const last = this.store.read(ACTIVITY_FILES[i], f - 1, 1);
        return last && last[0] === NL ? g : 0;
      }
      if (b[p] === 47 && f < 0) {
        f = 0;
        continue;
      }
      const d = b[p] - 48;
      if (d < 0 || d > 9) return 0;
      if (f < 0) g = g * 10 + d;
      else f = f * 10 + d;
    }
    return 0;
  }

  /**
   * Start the other file with the next generation and the newest whole lines of the current one (leaving room for
   * a line of `need` bytes), then erase the current one; false, changing nothing, when Storage has no room.
   */
  private turnOver(need: number): boolean {
    const next = this.cur < 0 ? 0 : 1 - this.cur;
    const name = ACTIVITY_FILES[next];
    if (this.store.stats().freeBytes < this.size + this.reserve) return false;
    // a file left there by a turnover a power cut ended early: older than the current one
    if (this.store.read(name, 0, 1)) this.store.erase(name);
    // the header names the first write's length: sized for a 5-digit length, the room is judged before it is known
    let head = "#" + (this.gen + 1) + "/00000\n";
    let tail: Uint8Array | null = null;
    let end = 0;
    if (this.cur >= 0 && this.carry > 0) {
      const b = this.store.read(ACTIVITY_FILES[this.cur]);
      if (b) {
        // whole lines only (a fragment a cut left at the end is carried ended by "~\n"), never the header line,
        // within carryBytes and the room the next line needs
        const room = Math.min(this.carry, this.size - head.length - 2 - need);
        let from = Math.max(0, this.pos - room);
        while (from < this.pos && b[from - 1] !== NL) from++;
        if (from < this.pos) {
          tail = b.subarray(from, this.pos);
          end = tail[tail.length - 1] === NL ? 0 : 2;
        }
      }
    }
    const body = (tail ? tail.length : 0) + end;
    let total = head.length + body;
    for (let k = 0; k < 2; k++) {
      head = "#" + (this.gen + 1) + "/" + total + "\n";
      total = head.length + body;
    }
    const first = new Uint8Array(total);
    for (let i = 0; i < head.length; i++) first[i] = head.charCodeAt(i);
    if (tail) first.set(tail, head.length);
    if (end) {
      first[first.length - 2] = TILDE;
      first[first.length - 1] = NL;
    }
    if (!this.store.write(name, first, 0, this.size)) return false;
    if (this.cur >= 0) this.store.erase(ACTIVITY_FILES[this.cur]);
    else for (let i = 0; i < OLD_SEGMENTS; i++) if (this.store.read("act." + i, 0, 1)) this.store.erase("act." + i);
    this.cur = next;
    this.gen++;
    this.pos = first.length;
    this.torn = false;
    return true;
  }
}

/** Index of the first erased (0xFF) byte of a file written from its start, by binary search (lines hold no 0xFF). */
function writtenEnd(b: Uint8Array): number {
  let lo = 0;
  let hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (b[mid] === 255) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** "1763887200 boot fw 1" -> "2026-11-23 08:40 boot fw 1"; lines that do not start with seconds are shown as is. */
function show(s: string, cut: boolean): string {
  const sp = s.indexOf(" ");
  let t = sp > 0 && sp <= 12 ? 0 : -1;
  for (let i = 0; t >= 0 && i < sp; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) t = -1;
    else t = t * 10 + d;
  }
  const body = t >= 0 ? formatDateTime(t * 1000) + s.slice(sp) : s;
  return cut ? body + " [cut]" : body;
}
