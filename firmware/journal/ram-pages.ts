/**
 * FlashPages in RAM with NOR rules (writes AND bits, erase sets 0xFF, writes aligned to 4), for the self-test
 * cases that run on the device and for quick tests. The power-cut model lives in sim/espruino/flash.ts.
 */
import type { FlashPages } from "../../hal/flash-pages.ts";

export interface RamPages extends FlashPages {
  /** The raw contents, page after page (for tests that tamper with them). */
  bytes: Uint8Array;
}

export function ramPages(pageSize: number, pageCount: number): RamPages {
  const bytes = new Uint8Array(pageSize * pageCount);
  bytes.fill(0xff);
  function at(page: number, offset: number, length: number): number {
    if (page < 0 || page >= pageCount || offset < 0 || length < 0 || offset + length > pageSize) {
      const e: any = new Error("flash page access out of range");
      e.code = "RANGE";
      throw e;
    }
    return page * pageSize + offset;
  }
  return {
    pageSize: pageSize,
    pageCount: pageCount,
    bytes: bytes,
    read(page, offset, length) {
      const a = at(page, offset, length);
      return new Uint8Array(bytes.subarray(a, a + length)); // Espruino: typed slice() gives an Array
    },
    write(page, offset, data) {
      const a = at(page, offset, data.length);
      if (offset % 4 || data.length % 4) {
        const e: any = new Error("flash write not aligned to 4");
        e.code = "ALIGN";
        throw e;
      }
      for (let i = 0; i < data.length; i++) bytes[a + i] &= data[i];
    },
    erase(page) {
      const a = at(page, 0, pageSize);
      bytes.fill(0xff, a, a + pageSize);
    },
  };
}
