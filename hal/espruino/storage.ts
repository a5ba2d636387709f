/**
 * Espruino binding of hal/storage.ts over `require("Storage")`. Reads use `readArrayBuffer`, which on ESP32 maps
 * the file in flash instead of copying it into RAM.
 *
 * No write through here can make Espruino compact Storage: a write that creates a file (no offset) is refused
 * (false) unless Storage has room for it with a page to spare, because a full Storage compacts on its own inside
 * `write`, and a power cut during that compaction can erase every file (../shared/espruino-notes.md). Writes at an
 * offset fill a file that already exists and take no new space: what the firmware rewrites in the field (deny
 * list, issuer keys, sync day, vault) is written that way (firmware/record-log.ts). Space held by erased files (a
 * replaced update slot, an activity segment, a log's turnover) comes back only when a technician compacts on
 * stable power (docs/technician.md).
 */
import type { FileStore } from "../storage.ts";

/** A file's header in Storage (size word and 28-byte name) plus the 4-byte alignment of its data. */
const FILE_OVERHEAD = 32 + 4;
/** Free space kept beyond a new file: the unusable tail of the last written page, at most one page. */
const SPARE_BYTES = 4096;

/** The part of Espruino's Storage module used here. */
export interface EspruinoStorageModule {
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  write(name: string, data: Uint8Array, offset?: number, size?: number): boolean;
  erase(name: string): void;
  list(): string[];
  getStats(): { totalBytes: number; freeBytes: number; fileBytes: number; fileCount: number; trashBytes: number; trashCount: number };
}

export function storageOver(S: EspruinoStorageModule): FileStore {
  return {
    read(name, offset, length) {
      const ab = S.readArrayBuffer(name);
      if (!ab) return undefined;
      const start = offset || 0;
      const n = length === undefined ? ab.byteLength - start : length;
      if (start + n > ab.byteLength) return undefined;
      return new Uint8Array(ab, start, n);
    },
    write(name, data, offset, size) {
      if (!offset) {
        const need = (size === undefined ? data.length : size) + FILE_OVERHEAD + SPARE_BYTES;
        if (S.getStats().freeBytes < need) return false;
      }
      return size === undefined ? S.write(name, data, offset || 0) : S.write(name, data, offset || 0, size);
    },
    erase(name) {
      S.erase(name);
    },
    list(prefix) {
      const names = S.list();
      return names.filter((n) => n.indexOf(prefix) === 0);
    },
    stats() {
      return S.getStats();
    },
  };
}

export function storage(): FileStore {
  return storageOver(require("Storage"));
}
