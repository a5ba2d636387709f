/**
 * Espruino's `require("Storage")` emulated on a NOR flash model (sim/espruino/flash.ts), following
 * Espruino 2v29's `src/jsflash.c`, `src/jswrap_storage.c` and `src/jsinteractive.c` as built for ESP32
 * (4-byte alignment, 4096-byte pages, no filename table, no second bank). Every change to Storage is
 * a sequence of Flash writes and page erases in the same order as on the device, so a power cut
 * (Flash.cutPowerAt) leaves the flash exactly as torn as the real one would be.
 *
 * Layout facts (jsflash.h):
 * - a file is a 32-byte header `{ uint32 size; char name[28] }` followed by its data, padded so the
 *   next header is 4-byte aligned (JSF_ALIGNMENT = 4 unless FLASH_64BITS_ALIGNMENT);
 * - `size` holds the length in its low 24 bits and flags in the top 8 (64 = StorageFile chunk,
 *   128 = compressed, 32 = filename table); the name is 0-padded and up to 28 bytes, longer names
 *   are cut to 28;
 * - a header is valid if size is not 0xFFFFFFFF, not 0 and the file ends inside Storage;
 * - erasing (or replacing) a file writes 0 over the first 4 name bytes: it becomes trash until a
 *   compaction copies the live files down over it.
 *
 * Usage:
 *   const storage = new EspruinoStorage(flash);
 *   storage.boot();                          // what a power-on does: wipe all if a header looks damaged
 *   storage.write("cfg", "{a:1}");
 *   storage.read("cfg");                     // "{a:1}"
 */
import type { Flash } from "./flash.ts";
import { isPowerCut } from "./flash.ts";

/** sizeof(JsfFileHeader) */
const HEADER_SIZE = 32;
/** sizeof(JsfFileName): the longest name Storage keeps */
export const MAX_NAME_LENGTH = 28;
/** JSF_ALIGNMENT on ESP32 */
const ALIGNMENT = 4;
const WORD_UNSET = 0xffffffff;

/** JsfFileFlags, stored in the top byte of the header's size word. */
export const enum FileFlags {
  NONE = 0,
  FILENAME_TABLE = 32,
  STORAGEFILE = 64,
  COMPRESSED = 128,
}

/** Error with the message Espruino's jsExceptionHere would print, plus a `code` to test on. */
export class StorageError extends Error {
  readonly code = "STORAGE_ERROR";
}

/** The constructors the bundle's realm uses, so values handed to it pass its own checks. */
export interface StorageRealm {
  Uint8Array: Uint8ArrayConstructor;
  ArrayBuffer: ArrayBufferConstructor;
}

/** Result of Storage.getStats() (jswrap_storage_getStats): the shape hal/storage.ts already states. */
import type { StorageStats } from "../../hal/storage.ts";
export type { StorageStats };

/** A file header as read from flash. */
interface Header {
  /** the raw size word: length in the low 24 bits, flags in the top 8 */
  size: number;
  /** the 28 name bytes */
  name: Uint8Array;
}

/** The position of a header in a scan; addr is -1 where Espruino's C code uses 0 for "none". */
interface Cursor {
  addr: number;
  header: Header;
}

const NONE = -1;

const fileSize = (h: Header): number => h.size & 0x00ffffff;
const fileFlags = (h: Header): number => h.size >>> 24;
const firstChars = (h: Header): number =>
  (h.name[0] | (h.name[1] << 8) | (h.name[2] << 16) | (h.name[3] << 24)) >>> 0;
const align = (n: number): number => (n + (ALIGNMENT - 1)) & ~(ALIGNMENT - 1);

/** jsfNameFromVar: the first 28 bytes of the name, 0-padded. Characters are bytes (mod 256). */
function nameBytes(name: unknown): Uint8Array {
  const s = String(name);
  const out = new Uint8Array(MAX_NAME_LENGTH);
  for (let i = 0; i < MAX_NAME_LENGTH && i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** jsfVarFromName: the name up to its first 0 byte. */
function nameString(name: Uint8Array): string {
  let s = "";
  for (let i = 0; i < name.length && name[i] !== 0; i++) s += String.fromCharCode(name[i]);
  return s;
}

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < MAX_NAME_LENGTH; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes as a binary string, one char per byte (what Storage.read returns). */
function binaryString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  }
  return s;
}

function stringBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

const tagOf = (v: unknown): string => Object.prototype.toString.call(v);

/**
 * JSV_GET_AS_CHAR_ARRAY (jsvIterateCallback): the bytes Espruino would write for `data`. Strings give
 * one byte per char, ArrayBuffers and typed arrays their underlying bytes, arrays and numbers one
 * byte per element. Works across realms (no instanceof).
 */
function dataBytes(data: unknown): Uint8Array {
  if (typeof data === "string") return stringBytes(data);
  if (tagOf(data) === "[object ArrayBuffer]") return new Uint8Array(data as ArrayBuffer).slice();
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (Array.isArray(data)) return Uint8Array.from(data, (x) => Number(x) & 0xff);
  if (typeof data === "number") return Uint8Array.of(data & 0xff); // a number is one byte
  if (typeof data === "boolean") return Uint8Array.of(data ? 1 : 0);
  if (data === null) return new Uint8Array(0);
  if (data === undefined) throw new StorageError("Can't get pointer to data to write");
  return stringBytes(String(data));
}

/** Espruino's "int" parameters: undefined and junk become 0, fractions are dropped. */
function toInt(v: unknown): number {
  const n = Math.trunc(Number(v));
  return Number.isFinite(n) ? n : 0;
}

/** jsvIsObject: a plain object, not an array, buffer, function or null. */
function isPlainObject(v: unknown): v is object {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
    tagOf(v) !== "[object ArrayBuffer]";
}

/**
 * The Storage library over one Flash. Method names and behaviour follow `require("Storage")`.
 * Several instances over the same Flash see the same files (nothing is cached in RAM).
 */
export class EspruinoStorage {
  /** True if the last boot() found a damaged header and erased everything. */
  lastBootWiped = false;
  /** How many automatic or explicit compactions ran (for tests and the simulator's UI). */
  compactions = 0;

  private readonly realm: StorageRealm;
  private readonly end: number;
  private readonly pageSize: number;

  constructor(readonly flash: Flash, realm?: StorageRealm) {
    this.realm = realm ?? { Uint8Array, ArrayBuffer };
    this.end = flash.size;
    this.pageSize = flash.pageSize;
  }

  /** StorageFile chunk size (STORAGEFILE_CHUNKSIZE): min(page, 4096) - header for areas under 1 MB. */
  get storageFileChunkSize(): number {
    if (this.end < 1000000) return Math.min(this.pageSize, 4096) - HEADER_SIZE;
    return this.pageSize * 10 - HEADER_SIZE;
  }

  // ------------------------------------------------------------------ boot

  /**
   * What Espruino does at power-on (jsinteractive.c, first boot): if jsfIsStorageValid(NORMAL)
   * fails, print "Storage is corrupt." and erase all of Storage (jsfResetStorage).
   */
  boot(): void {
    this.lastBootWiped = !this.isStorageValid();
    if (this.lastBootWiped) this.eraseAll();
  }

  /**
   * jsfIsBankStorageValid(JSFSTT_NORMAL): follow the header chain (skipping to the next page when a
   * page has no more headers). Storage is valid if the chain ends on an all-0xFF header, or runs
   * exactly to the end; if the very first header is blank, everything must be blank.
   */
  isStorageValid(): boolean {
    let cur: Cursor = { addr: 0, header: this.readHeader(0) };
    let lastAddr = 0;
    if (this.isValidHeader(cur.addr, cur.header)) {
      let next: Cursor | null;
      while ((next = this.nextHeader(cur, true)).valid) {
        cur = next;
        lastAddr = cur.addr;
      }
      cur = next;
      if (cur.addr === NONE) {
        // may have stopped only because Storage is full
        const newAddr = align(lastAddr + fileSize(cur.header) + HEADER_SIZE);
        if (newAddr <= this.end && newAddr + HEADER_SIZE > this.end) return true;
        // otherwise Espruino looks at whatever header it last read
      }
    }
    const allFF = cur.header.size === WORD_UNSET && cur.header.name.every((b) => b === 0xff);
    if (allFF && cur.addr === 0) return this.isErased(0, this.end);
    return allFF;
  }

  // ------------------------------------------------------------------ public API (jswrap_storage.c)

  /** Storage.eraseAll(): erase every page of the Storage area. */
  eraseAll(): void {
    for (let a = 0; a < this.end; a += this.pageSize) this.flash.erasePage(a);
  }

  /** Storage.erase(name): mark the file as trash (does nothing if it does not exist). */
  erase(name: string): void {
    this.eraseFile(nameBytes(name));
  }

  /** Storage.read(name, offset, length): a binary string, or undefined if there is no such file. */
  read(name: string, offset?: number, length?: number): string | undefined {
    const bytes = this.readFile(nameBytes(name), toInt(offset), toInt(length));
    return bytes === undefined ? undefined : binaryString(bytes);
  }

  /** Storage.readArrayBuffer(name): the file's bytes as an ArrayBuffer of the bundle's realm. */
  readArrayBuffer(name: string): ArrayBuffer | undefined {
    const bytes = this.readFile(nameBytes(name), 0, 0);
    if (bytes === undefined) return undefined;
    const buf = new this.realm.ArrayBuffer(bytes.length);
    new this.realm.Uint8Array(buf).set(bytes);
    return buf;
  }

  /**
   * Storage.readJSON(name, noExceptions): parse with Espruino's liberal JSON (unquoted keys etc.).
   * Undefined if the file is missing; throws on bad JSON unless noExceptions.
   */
  readJSON(name: string, noExceptions?: boolean): unknown {
    const text = this.read(name);
    if (text === undefined) return undefined;
    try {
      return parseLiberal(text);
    } catch (e) {
      if (noExceptions) return undefined;
      throw e;
    }
  }

  /**
   * Storage.write(name, data, offset, size). With offset 0 (or none) the file is (re)created, size
   * bytes long (default: the data's length); an existing copy is marked erased first. With an
   * offset, the data goes into the existing file, whose target bytes must still be 0xFF. Plain
   * objects are written as JSON (offset and size ignored). Returns true, or throws as Espruino does.
   */
  write(name: string, data: unknown, offset?: number, size?: number): boolean {
    if (isPlainObject(data)) {
      const json = stringifyEspruino(data, { dropQuotes: false, unicodeEscape: true });
      return this.writeFile(nameBytes(name), stringBytes(json), FileFlags.NONE, 0, 0);
    }
    return this.writeFile(nameBytes(name), dataBytes(data), FileFlags.NONE, toInt(offset), toInt(size));
  }

  /** Storage.writeJSON(name, data): Espruino's compact JSON (unquoted keys, \xHH escapes). */
  writeJSON(name: string, data: unknown): boolean {
    const json = stringifyEspruino(data, { dropQuotes: true, unicodeEscape: false });
    return this.writeFile(nameBytes(name), stringBytes(json), FileFlags.NONE, 0, 0);
  }

  /**
   * Storage.list(regex, filter). StorageFiles are listed once, by their first chunk's name
   * (`"name\x01"`), or by their plain name with `{sf:true}`; `{sf:false}` hides them.
   */
  list(regex?: RegExp | string, filter?: { sf?: boolean }): string[] {
    let containing = 0;
    let notContaining = 0;
    if (isPlainObject(filter) && "sf" in filter) {
      if (filter.sf) containing |= FileFlags.STORAGEFILE;
      else notContaining |= FileFlags.STORAGEFILE;
    }
    const files: string[] = [];
    this.forEachHeader((_addr, h) => {
      if (!this.isRealFile(h)) return;
      const flags = fileFlags(h);
      if (notContaining & flags) return;
      if (containing && !(containing & flags)) return;
      const name = h.name.slice();
      if (flags & FileFlags.STORAGEFILE) {
        let i = 0;
        while (i + 1 < MAX_NAME_LENGTH && name[i + 1]) i++;
        if (name[i] !== 1) return; // only chunk 1 stands for the file
        if (containing & FileFlags.STORAGEFILE) name[i] = 0;
      }
      const s = nameString(name);
      if (regex !== undefined && regex !== null) {
        const m = String.prototype.match.call(s, regex as RegExp);
        if (m === null || m === undefined) return;
      }
      files.push(s);
    });
    return files;
  }

  /** Storage.getFree(): bytes after the last file (trash before it is not counted). */
  getFree(): number {
    return this.getStorageStats().free;
  }

  /** Storage.getStats() */
  getStats(): StorageStats {
    const s = this.getStorageStats();
    return {
      totalBytes: s.total,
      freeBytes: s.free,
      fileBytes: s.fileBytes,
      fileCount: s.fileCount,
      trashBytes: s.trashBytes,
      trashCount: s.trashCount,
    };
  }

  /** Storage.compact(): copy live files down over trash, page by page, in place. */
  compact(): void {
    this.compactBank();
  }

  /** Storage.open(name, mode): a StorageFile for "r", "w" (erases it first) or "a" (append). */
  open(name: string, mode: "r" | "w" | "a"): StorageFile {
    if (mode !== "r" && mode !== "w" && mode !== "a") {
      throw new StorageError(`Invalid mode ${JSON.stringify(mode)}`);
    }
    return new StorageFile(this, String(name).slice(0, MAX_NAME_LENGTH), mode);
  }

  // ------------------------------------------------------------------ flash primitives (jsflash.c)

  private readHeader(addr: number): Header {
    const b = this.flash.read(addr, HEADER_SIZE);
    const size = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    return { size, name: b.slice(4) };
  }

  /** jsfGetFileHeader's validity test. */
  private isValidHeader(addr: number, h: Header): boolean {
    return h.size !== WORD_UNSET && h.size !== 0 && addr + HEADER_SIZE + fileSize(h) <= this.end;
  }

  /** jsfIsRealFile: not trash, and an ordinary, StorageFile or compressed file. */
  private isRealFile(h: Header): boolean {
    const f = fileFlags(h);
    return firstChars(h) !== 0 &&
      (f === FileFlags.NONE || f === FileFlags.STORAGEFILE || f === FileFlags.COMPRESSED);
  }

  /** Start of the page after the one holding addr, or NONE at the end. */
  private nextPage(addr: number): number {
    const next = addr - (addr % this.pageSize) + this.pageSize;
    return next >= this.end ? NONE : next;
  }

  /**
   * jsfGetNextFileHeader: the header after `cur` (aligned). With getAll, if there is no valid
   * header there, look at the start of the next page instead (a blank page ends the search).
   */
  private nextHeader(cur: Cursor, getAll: boolean): Cursor & { valid: boolean } {
    let addr = align(cur.addr + fileSize(cur.header) + HEADER_SIZE);
    // no room for another header: the C code leaves the header as it was
    if (addr < cur.addr || addr + HEADER_SIZE > this.end) return { addr: NONE, header: cur.header, valid: false };
    let header = this.readHeader(addr);
    let valid = this.isValidHeader(addr, header);
    if (getAll && !valid) {
      addr = this.nextPage(addr);
      if (addr === NONE) return { addr: NONE, header, valid: false };
      header = this.readHeader(addr);
      valid = this.isValidHeader(addr, header);
    }
    return { addr, header, valid };
  }

  /** Visit every valid header from the start, as jsfBankListFiles/FindFile do (GNFH_GET_ALL). */
  private forEachHeader(visit: (addr: number, h: Header) => boolean | void): void {
    let cur: Cursor = { addr: 0, header: this.readHeader(0) };
    if (!this.isValidHeader(0, cur.header)) return;
    for (;;) {
      if (visit(cur.addr, cur.header) === true) return;
      const next = this.nextHeader(cur, true);
      if (!next.valid) return;
      cur = next;
    }
  }

  private isErased(addr: number, len: number): boolean {
    for (let i = addr; i < addr + len; i++) if (this.flash.bytes[i] !== 0xff) return false;
    return true;
  }

  /** jsfFindFile: the first live file with exactly this 28-byte name. @internal (StorageFile) */
  findFile(name: Uint8Array): { addr: number; header: Header } | null {
    const want = (name[0] | (name[1] << 8) | (name[2] << 16) | (name[3] << 24)) >>> 0;
    let found: { addr: number; header: Header } | null = null;
    this.forEachHeader((addr, h) => {
      if (firstChars(h) === want && sameName(h.name, name)) {
        found = { addr: addr + HEADER_SIZE, header: h };
        return true;
      }
    });
    return found;
  }

  /** jsfReadFile: offset/length clipped to the file; length <= 0 means "to the end". */
  private readFile(name: Uint8Array, offset: number, length: number): Uint8Array | undefined {
    const f = this.findFile(name);
    if (!f) return undefined;
    const len = fileSize(f.header);
    if (offset < 0) offset = 0;
    if (length <= 0) length = len;
    if (offset > len) offset = len;
    if (offset + length > len) length = len - offset;
    if (length <= 0) return new Uint8Array(0);
    return this.flash.read(f.addr + offset, length);
  }

  /** jsfEraseFileInternal: write 0 over the first 4 name bytes. `dataAddr` points after the header. */
  private markErased(dataAddr: number): void {
    this.flash.write(dataAddr - HEADER_SIZE + 4, new Uint8Array(4));
  }

  /** jsfEraseFile. @internal (StorageFile) */
  eraseFile(name: Uint8Array): boolean {
    const f = this.findFile(name);
    if (!f) return false;
    this.markErased(f.addr);
    return true;
  }

  /**
   * jshFlashWriteAligned: flash only takes whole 4-byte words, so a ragged start or end is written
   * as a word re-using the bytes already there (NOR AND leaves those unchanged). @internal (StorageFile)
   */
  writeAligned(addr: number, data: Uint8Array): void {
    let p = 0;
    let len = data.length;
    const lead = addr & (ALIGNMENT - 1);
    if (lead) {
      const word = this.flash.read(addr - lead, ALIGNMENT);
      const n = Math.min(ALIGNMENT - lead, len);
      word.set(data.subarray(0, n), lead);
      this.flash.write(addr - lead, word);
      addr += n;
      p += n;
      len -= n;
      if (len === 0) return;
    }
    const tail = len & (ALIGNMENT - 1);
    const body = len - tail;
    if (body) this.flash.write(addr, data.subarray(p, p + body));
    addr += body;
    p += body;
    if (tail) {
      const word = this.flash.read(addr, ALIGNMENT);
      word.set(data.subarray(p, p + tail), 0);
      this.flash.write(addr, word);
    }
  }

  /**
   * jsfWriteFile. With offset 0 an existing file is kept only if it has the same size and flags
   * and is still blank (or already holds exactly this data); otherwise it is marked erased and a
   * new one is created (which may compact). Then the data goes at offset, into bytes that must
   * still be 0xFF. @internal (StorageFile)
   */
  writeFile(name: Uint8Array, data: Uint8Array, flags: number, offset: number, size: number): boolean {
    if (offset < 0 || size < 0) return false;
    if (size === 0) size = data.length;
    if (!size) throw new StorageError("Can't create zero length file");
    const found = this.findFile(name);
    let addr = found ? found.addr : NONE;
    let header = found?.header;
    if ((!found && offset === 0) ||
        (found && offset === 0 && (flags !== fileFlags(found.header) || size !== fileSize(found.header) ||
          !this.isErased(found.addr, size)))) {
      if (found && offset === 0 && size === fileSize(found.header) && flags === fileFlags(found.header) &&
          data.length === size && this.isEqual(found.addr, data)) {
        return true; // files equal: nothing to write
      }
      if (found) this.markErased(found.addr);
      const created = this.createFile(name, size, flags);
      addr = created ? created.addr : NONE;
      header = created?.header;
    }
    if (addr === NONE || !header) throw new StorageError("Unable to find or create file");
    if (offset + data.length > fileSize(header)) throw new StorageError("Too much data for file size");
    addr += offset;
    if (!this.isErased(addr, data.length)) throw new StorageError("File already written with different data");
    this.writeAligned(addr, data);
    return true;
  }

  private isEqual(addr: number, data: Uint8Array): boolean {
    for (let i = 0; i < data.length; i++) if (this.flash.bytes[addr + i] !== data[i]) return false;
    return true;
  }

  /**
   * jsfGetSpaceLeftInPage: room from addr to the end of its page, or to the end of Storage if the
   * next page has no header (assumed blank from there on).
   */
  private spaceLeftInPage(addr: number): number {
    let nextStart = addr - (addr % this.pageSize) + this.pageSize;
    if (nextStart < this.end && !this.isValidHeader(nextStart, this.readHeader(nextStart))) nextStart = this.end;
    return Math.min(nextStart, this.end) - addr;
  }

  /**
   * jsfCreateFile: find the first gap after a page's last header big enough for header + data
   * (files may run into following blank pages). If none, and free + trash would be enough, compact
   * once and look again. Writes the header (one flash write) and returns the data address.
   */
  private createFile(name: Uint8Array, size: number, flags: number): { addr: number; header: Header } | null {
    const required = align(size) + HEADER_SIZE;
    let compacted = false;
    for (;;) {
      let addr = 0;
      let freeSpace = 0;
      let trashSpace = 0;
      let freeAddr = NONE;
      do {
        let cur: Cursor = { addr, header: this.readHeader(addr) };
        if (this.isValidHeader(addr, cur.header)) {
          for (;;) {
            if (firstChars(cur.header) === 0) trashSpace += fileSize(cur.header);
            const next = this.nextHeader(cur, false);
            cur = next;
            if (!next.valid) break;
          }
          addr = cur.addr;
        }
        // A chain that ran to the very end leaves no room (Espruino's addr 0 case).
        const space = addr === NONE ? 0 : this.spaceLeftInPage(addr);
        freeSpace += space;
        if (space < required) addr = addr === NONE ? NONE : this.nextPage(addr);
        else freeAddr = addr;
      } while (addr !== NONE && freeAddr === NONE);
      if (freeAddr !== NONE) {
        const header: Header = { size: ((size | (flags << 24)) >>> 0), name: name.slice() };
        const bytes = new Uint8Array(HEADER_SIZE);
        new DataView(bytes.buffer).setUint32(0, header.size, true);
        bytes.set(header.name, 4);
        this.flash.write(freeAddr, bytes);
        return { addr: freeAddr + HEADER_SIZE, header };
      }
      // only compact if it would certainly make enough room: better to fail fast
      if (!compacted && required < freeSpace + trashSpace) {
        compacted = true;
        if (!this.compactBank()) return null;
      } else {
        return null;
      }
    }
  }

  /** jsfGetStorageStats(start, allPages=true), plus the page compaction starts from. */
  private getStorageStats() {
    const stats = {
      fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0, total: this.end, free: 0,
      firstPageWithErasedFiles: NONE,
    };
    let lastAddr = 0;
    let lastUnbrokenPageStart = 0; // last page that starts with a header
    this.forEachHeader((addr, h) => {
      if (addr % this.pageSize === 0) lastUnbrokenPageStart = addr;
      const bytes = align(fileSize(h)) + HEADER_SIZE;
      lastAddr = addr + bytes;
      if (firstChars(h) !== 0) {
        stats.fileBytes += bytes;
        stats.fileCount++;
      } else {
        stats.trashBytes += bytes;
        stats.trashCount++;
        if (stats.firstPageWithErasedFiles === NONE) stats.firstPageWithErasedFiles = lastUnbrokenPageStart;
      }
    });
    stats.free = this.end - lastAddr;
    return stats;
  }

  /**
   * jsfBankCompact: nothing to do without trash. Otherwise live files from the first page holding
   * trash onwards are streamed through a RAM ring buffer of min(fileBytes, page + header) bytes and
   * written back lower down: each destination page is erased when the write pointer enters it, but
   * only once everything to be read from it has been buffered. Remaining pages are erased at the end.
   * A power cut in between leaves erased or half-written pages in the middle of the chain.
   */
  private compactBank(): boolean {
    const stats = this.getStorageStats();
    if (!stats.trashBytes) return false;
    this.compactions++;
    const bufSize = Math.min(stats.fileBytes, this.pageSize + HEADER_SIZE);
    return this.compactFrom(stats.firstPageWithErasedFiles, new Uint8Array(bufSize));
  }

  /** jsfCompactInternal + jsfCompactWriteBuffer */
  private compactFrom(start: number, buf: Uint8Array): boolean {
    const size = buf.length;
    let writeAddr = start;
    let head = 0;
    let tail = 0;
    let used = 0;

    const push = (bytes: Uint8Array) => {
      for (const b of bytes) {
        buf[head] = b;
        head = (head + 1) % size;
      }
      used += bytes.length;
    };
    const pageEnd = (a: number) => {
      const n = this.nextPage(a);
      return n === NONE ? this.end : n;
    };
    /** Write buffered bytes out, but never into a page that is still being read from. */
    const flush = (readAddr: number) => {
      let nextFlashPage = pageEnd(writeAddr);
      while (used) {
        let s = used;
        if (s + tail > size) s = size - tail;
        if (s + writeAddr > nextFlashPage) s = nextFlashPage - writeAddr;
        if (readAddr < nextFlashPage) return;
        if (writeAddr % this.pageSize === 0) this.flash.erasePage(writeAddr);
        this.flash.write(writeAddr, buf.slice(tail, tail + s));
        writeAddr += s;
        nextFlashPage = pageEnd(writeAddr);
        tail = (tail + s) % size;
        used -= s;
      }
    };

    let cur: Cursor = { addr: start, header: this.readHeader(start) };
    let lastAddr = start;
    if (this.isValidHeader(start, cur.header)) {
      for (;;) {
        if (this.isRealFile(cur.header)) {
          push(this.flash.read(cur.addr, HEADER_SIZE));
          let remaining = align(fileSize(cur.header));
          let ptr = cur.addr + HEADER_SIZE;
          flush(ptr);
          while (remaining) {
            let s = size - used;
            if (s > size - head) s = size - head;
            if (tail > head && s > tail - head) s = tail - head;
            if (s === 0) return false; // "compact> error - no space left!"
            if (s > remaining) s = remaining;
            buf.set(this.flash.read(ptr, s), head);
            remaining -= s;
            ptr += s;
            used += s;
            head = (head + s) % size;
            flush(ptr);
          }
        }
        const next = this.nextHeader(cur, true);
        lastAddr = next.addr;
        if (!next.valid) break;
        cur = next;
      }
    }
    flush(this.end);
    // erase what is left between the compacted data and where the old data ended
    let eraseFrom = writeAddr;
    if (writeAddr !== start) eraseFrom = this.nextPage(writeAddr - 1);
    if (eraseFrom !== NONE) {
      const eraseTo = lastAddr === NONE ? this.end : lastAddr;
      for (let a = eraseFrom; a < eraseTo; a += this.pageSize) this.flash.erasePage(a);
    }
    return true;
  }
}

/**
 * A StorageFile (jswrap_storage.c): a file kept as chunks named `name + "\x01"`, `"\x02"`, ... up
 * to 255, each STORAGEFILE_CHUNKSIZE bytes with flag 64. The end of data is the first 0xFF byte, so
 * the byte 0xFF cannot be stored: it is written, but reads stop there and a later append in "a"
 * mode lands on top of what followed it. Like Espruino's object it carries name, chunk, offset and
 * mode (the mode's char code; 0 once erased or after a failed write).
 */
export class StorageFile {
  name: string;
  chunk = 1;
  offset = 0;
  mode: number;

  constructor(private readonly storage: EspruinoStorage, name: string, mode: "r" | "w" | "a") {
    this.name = name;
    this.mode = mode.charCodeAt(0);
    const fname = this.chunkName(1);
    let found = this.find(fname);
    if (mode === "w" && found) {
      this.erase();
      found = null;
    }
    if (mode === "a") {
      const flash = storage.flash;
      let chunk = 1;
      let offset = 0;
      let lastCh = found ? flash.bytes[found.addr + found.len - 1] : 255;
      while (found && lastCh !== 255 && chunk < 255) {
        chunk++;
        found = this.find(this.chunkName(chunk));
        if (found) lastCh = flash.bytes[found.addr + found.len - 1];
      }
      if (found) {
        while (offset < found.len && flash.bytes[found.addr + offset] !== 0xff) offset++;
      }
      this.chunk = chunk;
      this.offset = offset;
    }
    this.mode = mode.charCodeAt(0);
  }

  /** StorageFile.read(len): up to len bytes, or undefined at the end. */
  read(len: number): string | undefined {
    const n = toInt(len);
    return this.readInternal(n < 0 ? 0 : n);
  }

  /** StorageFile.readLine(): up to and including the next "\n", or undefined at the end. */
  readLine(): string | undefined {
    return this.readInternal(-1);
  }

  /** StorageFile.getLength(): full chunks plus the used part of the last one. */
  getLength(): number {
    const flash = this.storage.flash;
    let chunk = 1;
    let length = 0;
    let found = this.find(this.chunkName(chunk));
    let lastCh = found ? flash.bytes[found.addr + found.len - 1] : 255;
    while (found && lastCh !== 255 && chunk < 255) {
      length += found.len;
      chunk++;
      found = this.find(this.chunkName(chunk));
      if (found) lastCh = flash.bytes[found.addr + found.len - 1];
    }
    let offset = 0;
    if (found) while (offset < found.len && flash.bytes[found.addr + offset] !== 0xff) offset++;
    return length + offset;
  }

  /** StorageFile.write(data): append; a full chunk rolls over into a new one. */
  write(data: unknown): void {
    if (this.mode !== 0x77 && this.mode !== 0x61) throw new StorageError("Can't write in this mode");
    const bytes = stringBytes(asString(data));
    if (bytes.length === 0) return;
    const chunkSize = this.storage.storageFileChunkSize;
    const found = this.find(this.chunkName(this.chunk));
    if (!found) {
      this.createChunk(this.chunk, bytes, chunkSize);
      this.offset = bytes.length;
      return;
    }
    const remaining = found.len - this.offset;
    if (bytes.length < remaining) {
      this.writeRaw(found.addr + this.offset, bytes);
      this.offset += bytes.length;
      return;
    }
    // fill up this chunk, then start the next one with the rest
    this.writeRaw(found.addr + this.offset, bytes.subarray(0, remaining));
    this.offset += remaining;
    if (this.chunk === 255) throw new StorageError("File too big!");
    const rest = bytes.subarray(remaining);
    this.createChunk(this.chunk + 1, rest, chunkSize);
    this.chunk++;
    this.offset = rest.length;
  }

  /** StorageFile.erase(): mark every chunk erased; the file can no longer be used. */
  erase(): void {
    for (let chunk = 1; chunk <= 256; chunk++) {
      if (!this.storage.eraseFile(this.chunkName(chunk & 0xff))) break;
    }
    this.chunk = 1;
    this.offset = 0;
    this.mode = 0;
  }

  /** The chunk's 28-byte name: the last used name byte's successor holds the chunk number. */
  private chunkName(chunk: number): Uint8Array {
    const n = nameBytes(this.name);
    let i = MAX_NAME_LENGTH - 1;
    while (i && n[i - 1] === 0) i--;
    n[i] = chunk;
    return n;
  }

  private find(name: Uint8Array): { addr: number; len: number } | null {
    const data = this.storage.findFile(name);
    return data ? { addr: data.addr, len: fileSize(data.header) } : null;
  }

  /** jswrap_flash_write: an aligned raw write, no check that the bytes are blank. */
  private writeRaw(addr: number, bytes: Uint8Array): void {
    if (!bytes.length) return;
    this.storage.writeAligned(addr, bytes);
  }

  private createChunk(chunk: number, bytes: Uint8Array, chunkSize: number): void {
    try {
      this.storage.writeFile(this.chunkName(chunk), bytes, FileFlags.STORAGEFILE, 0, chunkSize);
    } catch (e) {
      if (!isPowerCut(e)) this.mode = 0; // no more writing after a failed chunk
      throw e;
    }
  }

  private readInternal(len: number): string | undefined {
    let isReadLine = len < 0;
    if (this.mode !== 0x72) throw new StorageError("Can't read in this mode");
    const flash = this.storage.flash;
    const first = this.find(this.chunkName(this.chunk));
    if (!first) return undefined;
    let found: { addr: number; len: number } = first;
    let offset = this.offset;
    let result: string | undefined;
    const BUF = 32;
    if (isReadLine) len = BUF;
    while (len) {
      let remaining = found.len - offset;
      if (remaining <= 0) {
        offset = 0;
        let next: { addr: number; len: number } | null = null;
        if (this.chunk !== 255) {
          this.chunk++;
          next = this.find(this.chunkName(this.chunk));
        }
        this.offset = offset;
        if (!next) return result;
        found = next;
        remaining = found.len;
      }
      let l = Math.min(len, BUF, remaining);
      for (let i = 0; i < l; i++) {
        const b = flash.bytes[found.addr + offset + i];
        if (b === 0xff) {
          l = i;
          len = l;
          break;
        }
        if (isReadLine && b === 0x0a) {
          l = i + 1;
          len = l;
          isReadLine = false;
          break;
        }
      }
      if (!l) break;
      result = (result ?? "") + binaryString(flash.read(found.addr + offset, l));
      len -= l;
      offset += l;
      if (isReadLine) len = BUF;
    }
    this.offset = offset;
    return result;
  }
}

/** jsvAsString: what StorageFile.write turns its argument into. */
function asString(v: unknown): string {
  if (typeof v === "string") return v;
  if (tagOf(v) === "[object ArrayBuffer]") return Array.from(new Uint8Array(v as ArrayBuffer)).join(",");
  return String(v);
}

// ------------------------------------------------------------------ Espruino's JSON dialect
/*
 * Facts from Espruino 2v29 `src/jswrap_json.c`, `src/jsutils.c`:
 * - `Storage.writeJSON` writes with JSON_DROP_QUOTES and without JSON_ALL_UNICODE_ESCAPE: keys that are
 *   identifiers (`[A-Za-z_][A-Za-z0-9_]*`, under 63 chars) or integers are written without quotes, and
 *   strings use `\n \t \b \v \f \r`, `\0`..`\7` and `\xHH` escapes. The result is not standard JSON.
 * - `Storage.write(name, object)` stringifies like `JSON.stringify` (quoted keys, `\u00HH` escapes).
 * - Both skip functions and undefined values in objects, write functions in arrays as `undefined`,
 *   undefined in arrays as `null`, NaN/Infinity as `null`, typed arrays and ArrayBuffers as arrays,
 *   honour `toJSON`, and write a cycle as ` ... `. Numbers use Node's formatting here (Espruino's
 *   own float printing differs in the last digits).
 * - `Storage.readJSON` parses "liberally" (JSON_DROP_QUOTES): unquoted keys, single-quoted strings,
 *   JS escapes, comments and trailing commas are accepted, and text after the first value is ignored.
 * Text is bytes (no Unicode on ESP32 builds): every character is taken modulo 256.
 */

export interface StringifyOptions {
  /** JSON_DROP_QUOTES: leave identifier and integer keys unquoted. */
  dropQuotes: boolean;
  /** JSON_ALL_UNICODE_ESCAPE: escape as `\u00HH` only (standard JSON) instead of `\xHH`/`\N`. */
  unicodeEscape: boolean;
}

const isArrayBufferLike = (v: unknown): boolean => tagOf(v) === "[object ArrayBuffer]";

/** escapeCharacter() from jsutils.c, for one byte `ch` followed by `next` (-1 at the end). */
function escapeByte(ch: number, next: number, jsonStyle: boolean): string {
  switch (ch) {
    case 0x0a: return "\\n";
    case 0x09: return "\\t";
    case 0x08: return "\\b";
    case 0x0c: return "\\f";
    case 0x0d: return "\\r";
    case 0x5c: return "\\\\";
    case 0x22: return "\\\"";
  }
  if (ch === 0x0b && !jsonStyle) return "\\v";
  if (ch < 8 && !jsonStyle && (next < 0x30 || next > 0x37)) return "\\" + String.fromCharCode(0x30 + ch);
  if (ch < 32 || ch >= 127) {
    const hex = ch.toString(16).toUpperCase().padStart(2, "0");
    return jsonStyle ? "\\u00" + hex : "\\x" + hex;
  }
  return String.fromCharCode(ch);
}

/** A string quoted the way cbprintf's `%q` (or `%Q` with jsonStyle) does it. */
export function quoteString(s: string, jsonStyle: boolean): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const next = i + 1 < s.length ? s.charCodeAt(i + 1) & 0xff : -1;
    out += escapeByte(s.charCodeAt(i) & 0xff, next, jsonStyle);
  }
  return out + "\"";
}

function isIDString(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

function isIntegerKey(s: string): boolean {
  return /^(0|-?[1-9][0-9]*)$/.test(s) && Math.abs(Number(s)) < 2 ** 31;
}

/** jsfGetJSON with the flags Storage uses. */
export function stringifyEspruino(value: unknown, opts: StringifyOptions): string {
  const busy = new Set<object>();

  const key = (k: string): string => {
    if (opts.dropQuotes && (isIntegerKey(k) || (k.length < 63 && isIDString(k)))) return k;
    return quoteString(k, opts.unicodeEscape);
  };

  const emit = (v: unknown, name: string, allowToJSON: boolean): string => {
    if (v === undefined) return "null";
    if (v === null) return "null";
    if (typeof v === "function") return "undefined";
    if (typeof v === "string") return quoteString(v, opts.unicodeEscape);
    if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "bigint") return String(v);
    if (typeof v !== "object") return "null";
    if (busy.has(v)) return " ... ";
    busy.add(v);
    try {
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (let i = 0; i < v.length; i++) parts.push(emit(v[i], String(i), true));
        return "[" + parts.join(",") + "]";
      }
      if (isArrayBufferLike(v)) return "[" + Array.from(new Uint8Array(v as ArrayBuffer)).join(",") + "]";
      if (ArrayBuffer.isView(v)) {
        const items = tagOf(v) === "[object DataView]"
          ? Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
          : Array.from(v as unknown as ArrayLike<number>);
        return "[" + items.map((x) => emit(x, "", false)).join(",") + "]";
      }
      const toJSON = allowToJSON ? (v as { toJSON?: unknown }).toJSON : undefined;
      if (typeof toJSON === "function") {
        const result: unknown = toJSON.call(v, name);
        if (result === v) busy.delete(v);
        return emit(result, "", false);
      }
      const parts: string[] = [];
      for (const k of Object.keys(v)) {
        const desc = Object.getOwnPropertyDescriptor(v, k);
        if (!desc || desc.get || desc.set) continue; // getters/setters are hidden
        const item: unknown = desc.value;
        if (item === undefined || typeof item === "function") continue;
        parts.push(key(k) + ":" + emit(item, k, true));
      }
      return "{" + parts.join(",") + "}";
    } finally {
      busy.delete(v);
    }
  };

  return emit(value, "", true);
}

/** Error thrown by parseLiberal, carrying a code since Espruino's errors have no useful class. */
export class EspruinoSyntaxError extends SyntaxError {
  readonly code = "SYNTAX_ERROR";
}

type Tok =
  | { t: "str"; v: string }
  | { t: "int"; v: number; text: string }
  | { t: "float"; v: number }
  | { t: "id"; v: string }
  | { t: "punct"; v: string }
  | { t: "eof" };

/** A small lexer covering what Espruino's lexer does for JSON-like text. */
class Lexer {
  private pos = 0;
  tok: Tok = { t: "eof" };
  constructor(private readonly src: string) {
    this.next();
  }

  next(): void {
    const s = this.src;
    for (;;) {
      while (this.pos < s.length && /[ \t\r\n\v\f]/.test(s[this.pos])) this.pos++;
      if (s.startsWith("//", this.pos)) {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
        continue;
      }
      if (s.startsWith("/*", this.pos)) {
        const end = s.indexOf("*/", this.pos + 2);
        this.pos = end < 0 ? s.length : end + 2;
        continue;
      }
      break;
    }
    if (this.pos >= s.length) {
      this.tok = { t: "eof" };
      return;
    }
    const c = s[this.pos];
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z0-9_$]+/.exec(s.slice(this.pos))!;
      this.pos += m[0].length;
      this.tok = { t: "id", v: m[0] };
      return;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(s[this.pos + 1] ?? ""))) {
      const rest = s.slice(this.pos);
      const radix = /^0[xX][0-9a-fA-F]+/.exec(rest) ?? /^0[bB][01]+/.exec(rest) ?? /^0[oO][0-7]+/.exec(rest);
      if (radix) {
        this.pos += radix[0].length;
        this.tok = { t: "int", v: Number(radix[0]), text: radix[0] };
        return;
      }
      const m = /^[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]+)?/.exec(rest)!;
      this.pos += m[0].length;
      this.tok = m[1] || m[2] ? { t: "float", v: Number(m[0]) } : { t: "int", v: Number(m[0]), text: m[0] };
      return;
    }
    if (c === "\"" || c === "'" || c === "`") {
      this.tok = { t: "str", v: this.readString(c) };
      return;
    }
    this.pos++;
    this.tok = { t: "punct", v: c };
  }

  private readString(quote: string): string {
    const s = this.src;
    let out = "";
    this.pos++;
    while (this.pos < s.length && s[this.pos] !== quote) {
      let ch = s[this.pos++];
      if (ch === "\\" && this.pos < s.length) {
        const e = s[this.pos++];
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v" };
        if (e in simple) ch = simple[e];
        else if (e === "x") {
          ch = String.fromCharCode(parseInt(s.slice(this.pos, this.pos + 2), 16) & 0xff);
          this.pos += 2;
        } else if (e === "u") {
          ch = String.fromCharCode(parseInt(s.slice(this.pos, this.pos + 4), 16) & 0xff);
          this.pos += 4;
        } else if (e >= "0" && e <= "7") {
          let oct = e;
          while (oct.length < 3 && /[0-7]/.test(s[this.pos] ?? "")) oct += s[this.pos++];
          ch = String.fromCharCode(parseInt(oct, 8) & 0xff);
        } else if (e === "\n") ch = "";
        else ch = e;
      }
      if (ch) out += String.fromCharCode(ch.charCodeAt(0) & 0xff);
    }
    if (this.pos >= s.length) throw new EspruinoSyntaxError("Unterminated string");
    this.pos++;
    return out;
  }
}

function describe(t: Tok): string {
  switch (t.t) {
    case "eof": return "EOF";
    case "str": return "String";
    case "int": case "float": return "Number";
    case "id": return t.v === "true" || t.v === "false" || t.v === "null" ? t.v : "ID";
    case "punct": return `'${t.v}'`;
  }
}

/**
 * jswrap_json_parse_liberal: Espruino's parser with unquoted keys allowed. Returns undefined where
 * Espruino's parser gives up without an exception (a `-` not followed by a number); throws
 * EspruinoSyntaxError where Espruino raises one.
 */
export function parseLiberal(text: string): unknown {
  const lex = new Lexer(text);
  const isKeyTok = (t: Tok) => t.t === "str" || t.t === "int" || (t.t === "id");
  const match = (p: string): void => {
    if (lex.tok.t === "punct" && lex.tok.v === p) {
      lex.next();
      return;
    }
    throw new EspruinoSyntaxError(`Got ${describe(lex.tok)} expected '${p}'`);
  };
  const isPunct = (p: string) => lex.tok.t === "punct" && lex.tok.v === p;

  const value = (): unknown => {
    const t = lex.tok;
    if (t.t === "id" && t.v === "true") { lex.next(); return true; }
    if (t.t === "id" && t.v === "false") { lex.next(); return false; }
    if (t.t === "id" && t.v === "null") { lex.next(); return null; }
    if (t.t === "int" || t.t === "float") { lex.next(); return t.v; }
    if (t.t === "str") { lex.next(); return t.v; }
    if (t.t === "punct" && t.v === "-") {
      lex.next();
      const n = lex.tok;
      if (n.t !== "int" && n.t !== "float") return GIVE_UP;
      lex.next();
      return 0 - n.v;
    }
    if (t.t === "punct" && t.v === "[") {
      lex.next();
      const arr: unknown[] = [];
      while (!isPunct("]")) {
        const v = value();
        if (v === GIVE_UP) return GIVE_UP;
        if (!isPunct("]")) match(",");
        arr.push(v);
      }
      match("]");
      return arr;
    }
    if (t.t === "punct" && t.v === "{") {
      lex.next();
      const obj: Record<string, unknown> = {};
      while (isKeyTok(lex.tok)) {
        const k = lex.tok as { v: unknown; text?: string };
        const name = typeof k.v === "string" ? k.v : (k.text ?? String(k.v));
        lex.next();
        match(":");
        const v = value();
        if (v === GIVE_UP) return GIVE_UP;
        if (!isPunct("}")) match(",");
        Object.defineProperty(obj, name, { value: v, enumerable: true, writable: true, configurable: true });
      }
      match("}");
      return obj;
    }
    throw new EspruinoSyntaxError(`Expecting valid value, got ${describe(t)}`);
  };

  const result = value();
  return result === GIVE_UP ? undefined : result;
}

const GIVE_UP = Symbol("give up");
