/**
 * hal/flash-pages.ts over Espruino's `require("Flash")` for a region the board reserves (outside Storage).
 * `Flash.write` on ESP32 goes through jshFlashWriteAligned; this binding only ever passes offsets and lengths that
 * are multiples of 4, so each write is one spi_flash_write. `Flash.read(length, addr)` returns a new Uint8Array.
 *
 *   const pages = flashPages({ address: 0x190000, pageSize: 4096, pageCount: 192 });
 */
import type { ChipFlash, FlashPages } from "../flash-pages.ts";

export interface FlashRegion {
  /** Absolute flash address of the first page (page-aligned). */
  address: number;
  pageSize: number;
  pageCount: number;
}

function fail(what: string, code: string): never {
  const e: any = new Error("flash " + what);
  e.code = code;
  throw e;
}

/** `module` stands in for require("Flash") (the simulator passes its own); by default the built-in one. */
export function flashPages(region: FlashRegion, module?: any): FlashPages {
  const F = module || require("Flash");
  const size = region.pageSize;
  const count = region.pageCount;
  function addr(page: number, offset: number, length: number): number {
    if (page < 0 || page >= count || offset < 0 || length < 0 || offset + length > size) fail("access out of region", "RANGE");
    return region.address + page * size + offset;
  }
  return {
    pageSize: size,
    pageCount: count,
    read(page, offset, length) {
      const a = addr(page, offset, length);
      if (!length) return new Uint8Array(0);
      const out = F.read(length, a);
      if (!out || out.length !== length) fail("read failed", "FLASH");
      return out;
    },
    write(page, offset, data) {
      const a = addr(page, offset, data.length);
      if (offset % 4 || data.length % 4) fail("write not aligned to 4", "ALIGN");
      if (data.length) F.write(data, a);
    },
    erase(page) {
      F.erasePage(addr(page, 0, size));
    },
  };
}

/**
 * The chip's flash read through `require("Flash").read` at any address (Espruino's ESP32 port reads with
 * spi_flash_read, from code; unverified on hardware), with where the board put the journal, the kept orders and
 * Storage. A read that throws or gives the wrong length is undefined.
 */
export function chipFlash(journal: FlashRegion, orders: FlashRegion, storage: { address: number; pageSize: number; pages: number }, module?: any): ChipFlash {
  const F = module || require("Flash");
  return {
    journal: { address: journal.address, length: journal.pageSize * journal.pageCount },
    orders: { address: orders.address, length: orders.pageSize * orders.pageCount },
    storage: { address: storage.address, length: storage.pageSize * storage.pages },
    read(addr, length) {
      try {
        const out = F.read(length, addr);
        return out && out.length === length ? out : undefined;
      } catch (e) {
        return undefined;
      }
    },
  };
}
