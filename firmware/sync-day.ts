/**
 * The day (since 1970) of the last sync, kept as a day map written in place: one pre-sized Storage file per
 * SYNC_DAY_BYTES-8 days, one byte per calendar day, 0x00 where a sync happened, 0xFF (erased) elsewhere. A sync
 * programs one erased byte at an offset (Storage.write(name, data, offset)), which creates no file and leaves no
 * space for a compaction; a day is written at most once.
 *
 *   const day = loadSyncDay(device.storage);   // -1 when none
 *   saveSyncDay(device.storage, 20425);
 *
 * File: base day u32 | ~base u32 (big-endian) | map: byte i is day base + i. The last sync is base plus the index
 * of the last programmed byte. A 4 KB file covers 4,088 days (11 years); then (or after a clock that jumped back
 * before base) the map turns over to the other name, created with the new base and its first byte, checked, and
 * only then is the old one erased: a power cut leaves the old or the new day. One byte cannot be half-programmed
 * into a different valid day: any byte that is not 0xFF counts as written, so a torn write reads as the new day or
 * not at all (the old day).
 *
 * The names `sync.day` and `sync.dax`: `sync.day` of older firmware (the day as decimal text) is still read, and
 * the first save turns over from it.
 */
import type { FileStore } from "../hal/storage.ts";
import { getU32, putU32 } from "./record-log.ts";

export const SYNC_DAY_FILES = ["sync.day", "sync.dax"];
export const SYNC_DAY_BYTES = 4096;
const HEAD = 8;

interface DayMap {
  file: number;
  base: number;
  /** Index of the last programmed byte, -1 for none. */
  last: number;
}

function readMap(store: FileStore, i: number): DayMap | null {
  const b = store.read(SYNC_DAY_FILES[i]);
  if (!b || b.length !== SYNC_DAY_BYTES) return null;
  const base = getU32(b, 0);
  if ((base ^ getU32(b, 4)) >>> 0 !== 0xffffffff) return null;
  let last = b.length - 1;
  while (last >= HEAD && b[last] === 255) last--;
  return { file: i, base, last: last - HEAD };
}

/** Legacy sync.day: the day as decimal text. */
function legacyDay(store: FileStore): number {
  const b = store.read(SYNC_DAY_FILES[0]);
  if (!b || b.length === SYNC_DAY_BYTES || !b.length || b.length > 9) return -1;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function current(store: FileStore): { map: DayMap | null; day: number } {
  let map: DayMap | null = null;
  let day = -1;
  for (let i = 0; i < SYNC_DAY_FILES.length; i++) {
    const m = readMap(store, i);
    if (m && m.last >= 0 && m.base + m.last > day) {
      map = m;
      day = m.base + m.last;
    }
  }
  if (!map) day = legacyDay(store);
  return { map, day };
}

/** Day of the last sync, or -1. */
export function loadSyncDay(store: FileStore): number {
  return current(store).day;
}

/**
 * Records a sync on `day` (a day not after the saved one is a no-op, true). False when Storage refuses a
 * turnover (no room): the saved day stays the old one.
 */
export function saveSyncDay(store: FileStore, day: number): boolean {
  if (!(day >= 0) || day !== Math.floor(day)) return false;
  const c = current(store);
  if (day <= c.day) return true;
  const m = c.map;
  if (m && day >= m.base && day - m.base < SYNC_DAY_BYTES - HEAD) {
    const at = HEAD + day - m.base;
    const name = SYNC_DAY_FILES[m.file];
    if (!store.write(name, new Uint8Array([0]), at)) return false;
    const back = store.read(name, at, 1);
    return !!back && back[0] !== 255;
  }
  // never the name holding the day in force (a map, or the legacy text in sync.day)
  const next = m ? 1 - m.file : c.day >= 0 ? 1 : 0;
  const name = SYNC_DAY_FILES[next];
  const first = new Uint8Array(HEAD + 1);
  putU32(first, 0, day);
  putU32(first, 4, ~day >>> 0);
  first[HEAD] = 0;
  // the other name holds an older map, a torn one or the legacy text: nothing newer than c.day is lost
  if (store.read(name, 0, 1)) store.erase(name);
  if (!store.write(name, first, 0, SYNC_DAY_BYTES)) return false;
  const m2 = readMap(store, next);
  if (!m2 || m2.base + m2.last !== day) return false;
  const old = next === 0 ? 1 : 0;
  if (store.read(SYNC_DAY_FILES[old], 0, 1)) store.erase(SYNC_DAY_FILES[old]);
  return true;
}
