/**
 * Activity log: connections, boots, errors and overrides, kept in a few pre-sized Storage files ("segments")
 * that are filled line by line at offsets, so no line ever rewrites a file.
 *
 *   const log = new ActivityLog(device.storage, () => clock.now());
 *   log.add("boot", "fw 1.4.0");
 *   log.recent(5);   // ["2026-11-23 08:40 boot fw 1.4.0", ...], newest first
 *
 * Flash rules it keeps (see /work/shared/espruino-notes.md):
 * - A segment is created once at its full size (`write(name, head, 0, size)`: the rest stays 0xFF) and then only
 *   erased bytes are filled (`write(name, line, offset)`), which never moves other files.
 * - When the current segment is full the oldest is erased and created again. That is the only step that makes
 *   trash, and it is taken only while Storage has `segmentBytes + reserveBytes` free after its last file, so it
 *   never makes Espruino compact. Without that room the log keeps its last lines in RAM (`dropped` counts what was
 *   lost) until a maintenance step makes room.
 * - A power cut in the middle of a line leaves a fragment without its "\n". The next start sees it and ends it
 *   with "~\n": recent() shows such a line with " [cut]", and the lines after it are whole.
 * Text is ASCII: other characters (and "~") are written as "?"; details are cut to 60 characters.
 * Segment layout: "#<generation>\n" then lines "<unix seconds> <kind> <detail>\n".
 */
import type { FileStore } from "../hal/storage.ts";
import { formatDateTime } from "./receipt/time.ts";

export type ActivityKind = "boot" | "connect" | "disconnect" | "sync" | "error" | "override" | "tech" | "update";

export interface ActivityOptions {
  /** Number of segment files (default 4), named `act.0` ... */
  segments?: number;
  /** Bytes per segment (default 1024). */
  segmentBytes?: number;
  /** Free Storage to leave untouched when a segment is recreated (default 16384). */
  reserveBytes?: number;
}

const NL = 10;
const TILDE = 126;
const MAX_DETAIL = 60;
const RAM_LINES = 8;

export class ActivityLog {
  /** Lines that could not be written to flash (Storage too full to recreate a segment). */
  dropped = 0;
  private readonly n: number;
  private readonly size: number;
  private readonly reserve: number;
  /** Current segment, write position in it, its generation; cur -1 when no segment exists yet. */
  private cur = -1;
  private pos = 0;
  private gen = 0;
  /** A torn line was found at start: end it before the next line. */
  private torn = false;
  /** Lines kept in RAM while flash has no room, oldest first. */
  private ram: string[] = [];

  constructor(private readonly store: FileStore, private readonly now: () => number, o?: ActivityOptions) {
    this.n = (o && o.segments) || 4;
    this.size = (o && o.segmentBytes) || 1024;
    this.reserve = o && o.reserveBytes !== undefined ? o.reserveBytes : 16384;
    for (let i = 0; i < this.n; i++) {
      const g = this.generation(i);
      if (g > this.gen) {
        this.gen = g;
        this.cur = i;
      }
    }
    if (this.cur >= 0) {
      const b = this.store.read(this.name(this.cur));
      let p = 0;
      if (b) while (p < b.length && b[p] !== 255) p++;
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
      if (!this.rotate()) return this.keep(s);
      // a fresh segment: the torn fragment stays ended where it was (it is shown as cut)
      if (this.store.write(this.name(this.cur), line.subarray(pre), this.pos)) this.pos += line.length - pre;
      else this.keep(s);
    } else if (this.store.write(this.name(this.cur), line, this.pos)) {
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
    for (let k = 0; k < this.n && out.length < n; k++) {
      const seg = (this.cur - k + this.n) % this.n;
      if (k && this.generation(seg) !== this.gen - k) break;
      const b = this.store.read(this.name(seg));
      if (!b) break;
      let end = seg === this.cur ? this.pos : b.length;
      while (end > 0 && b[end - 1] === 255) end--;
      // walk lines backwards; the first line is the segment's "#gen" header
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
    }
    return out;
  }

  private name(i: number): string {
    return "act." + i;
  }

  /** Generation in segment i's header, or 0 when it has none (absent, or a cut while creating it). */
  private generation(i: number): number {
    const b = this.store.read(this.name(i), 0, 12);
    if (!b || b[0] !== 35) return 0;
    let g = 0;
    for (let p = 1; p < b.length; p++) {
      if (b[p] === NL) return g;
      const d = b[p] - 48;
      if (d < 0 || d > 9) return 0;
      g = g * 10 + d;
    }
    return 0;
  }

  /** Start the next segment (the oldest), if Storage has room to do so without compacting. */
  private rotate(): boolean {
    const next = (this.cur + 1) % this.n;
    const name = this.name(next);
    if (this.store.stats().freeBytes < this.size + this.reserve) return false;
    if (this.store.read(name, 0, 1)) this.store.erase(name);
    const head = "#" + (this.gen + 1) + "\n";
    const h = new Uint8Array(head.length);
    for (let i = 0; i < head.length; i++) h[i] = head.charCodeAt(i);
    if (!this.store.write(name, h, 0, this.size)) return false;
    this.cur = next;
    this.gen++;
    this.pos = h.length;
    return true;
  }
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
