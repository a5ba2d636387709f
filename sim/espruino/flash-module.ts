/**
 * The simulator's `require("Flash")`: Espruino's Flash module over a sim `Flash` (sim/espruino/flash.ts) that
 * stands for the part of the chip's flash starting at `baseAddress`.
 *
 * Semantics follow Espruino 2v29 (src/jswrap_flash.c, src/jshardware_common.c, targets/esp32/jshardware.c):
 * - `read(length, addr)` returns a new Uint8Array (undefined when length <= 0);
 * - `write(data, addr)` ANDs bits (NOR). It goes through jshFlashWriteAligned: an address or length that is not a
 *   multiple of 4 is done as a read-modify-write of the first and/or last 4-byte word, so one call can be up to
 *   three flash operations (each can be torn by a power cut);
 * - `erasePage(addr)` erases the 4096-byte page holding addr; a non-integer address throws
 *   "Address should be an integer";
 * - `getPage(addr)` gives `{ addr, length }` of the page; `getFree()` lists the emulated region (the real ESP32
 *   build lists 0xE000+8K, 0x310000+64K and 0x360000+640K, the last of which overlaps Storage).
 * The region starts at the journal's address and runs to the end of the kept orders' pages after it (rawFlashBytes).
 * Besides it, the chip's first 64 KB are there too (sim/espruino/partitions.ts: the partition
 * table at 0x8000, Espruino's ESP-IDF 3 table unless a test flashes another, and an erased boot selection), so the
 * firmware's boot check of the journal's place reads what a real chip carries.
 * Addresses outside those regions throw (the real chip would touch firmware or Storage there).
 *
 *   const flash = new Flash({ size: 192 * 4096 });
 *   const F = createFlashModule(flash, 0x190000);
 *   F.write(new Uint8Array([1, 2, 3, 4]), 0x190000);
 */
import type { Flash } from "./flash.ts";
import { toBytes } from "./bytes.ts";
import { SYSTEM_AREA_BYTES, systemAreaOf } from "./partitions.ts";

export interface FlashRealm {
  Uint8Array: Uint8ArrayConstructor;
}

const ALIGN = 4;

interface PageRegion {
  address: number;
  pageSize: number;
  pageCount: number;
}

/**
 * Bytes of raw flash the simulator keeps from the journal's address: the journal's region and the kept link
 * orders' pages (boards/board.ts `orders`), which the board places after it in the same partition.
 */
export function rawFlashBytes(p: { journal: PageRegion; orders: PageRegion }): number {
  const j = p.journal;
  const o = p.orders;
  const end = Math.max(j.address + j.pageSize * j.pageCount, o.address + o.pageSize * o.pageCount);
  if (o.address < j.address || o.pageSize !== j.pageSize) throw new RangeError("the kept orders' pages must follow the journal's, in pages of its size");
  return end - j.address;
}


export function createFlashModule(journal: Flash, baseAddress: number, realm: FlashRealm = globalThis, system: Flash = systemAreaOf(journal)) {
  // the region an access falls in (set by local())
  let flash = journal;
  function local(addr: unknown, len: number): number {
    if (typeof addr !== "number" || !Number.isInteger(addr)) throw new Error("Address should be an integer, got " + typeof addr);
    if (addr >= 0 && addr + len <= SYSTEM_AREA_BYTES && len >= 0) {
      flash = system;
      return addr;
    }
    flash = journal;
    const a = addr - baseAddress;
    if (a < 0 || a + len > flash.size) {
      throw new RangeError(`Flash access outside the emulated region: 0x${addr.toString(16)} + ${len}`);
    }
    return a;
  }
  return {
    read(length: number, addr: number): Uint8Array | undefined {
      if (!(length > 0)) return undefined;
      const a = local(addr, length);
      const out = new realm.Uint8Array(length);
      out.set(flash.read(a, length));
      return out;
    },
    write(data: unknown, addr: number): void {
      if (data === undefined) throw new Error("Data is not defined");
      const d = toBytes(data, "Data is not defined");
      if (!d.length) return;
      let a = local(addr, d.length);
      let p = 0;
      let len = d.length;
      const head = a & (ALIGN - 1);
      if (head) {
        const word = flash.read(a - head, ALIGN);
        const n = Math.min(ALIGN - head, len);
        word.set(d.subarray(0, n), head);
        flash.write(a - head, word);
        a += n;
        p += n;
        len -= n;
        if (!len) return;
      }
      const tail = len & (ALIGN - 1);
      const body = len - tail;
      if (body) flash.write(a, d.subarray(p, p + body));
      a += body;
      p += body;
      if (tail) {
        const word = flash.read(a, ALIGN);
        word.set(d.subarray(p, p + tail), 0);
        flash.write(a, word);
      }
    },
    erasePage(addr: unknown): void {
      const a = local(addr, 1); // first: it chooses the region
      flash.erasePage(a);
    },
    getPage(addr: number): { addr: number; length: number } | undefined {
      if (!Number.isInteger(addr) || addr < baseAddress || addr >= baseAddress + journal.size) return undefined;
      const start = addr - ((addr - baseAddress) % journal.pageSize);
      return { addr: start, length: journal.pageSize };
    },
    getFree(): { addr: number; length: number }[] {
      return [{ addr: baseAddress, length: journal.size }];
    },
  };
}
