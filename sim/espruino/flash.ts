/**
 * A NOR flash chip as Espruino's Storage sees it on an ESP32, with power-cut injection.
 *
 * Facts used (Espruino 2v29, `targets/esp32/jshardware.c`, `boards/ESP32.py`):
 * - the Storage area is 896 KB of 4096-byte pages (`saved_code: page_size 4096, pages 224`);
 * - `jshFlashWrite` is a plain `spi_flash_write`: NOR programming can only clear bits (1 -> 0),
 *   so the stored byte becomes `old & new`;
 * - `jshFlashErasePage` sets a whole page back to 0xFF; `jshFlashErasePages` (common code) erases
 *   page by page, so every page erase is a separate operation.
 *
 * Addresses here are offsets into the Storage area (0 = its first byte).
 *
 * Usage:
 *   const flash = new Flash();            // 896 KB, all 0xFF
 *   flash.cutPowerAt(3);                  // the 3rd write/erase from now is torn and throws PowerCut
 *   flash.save("storage.bin"); const again = Flash.load("storage.bin");
 */
import { readFileSync, writeFileSync } from "node:fs";

/** Thrown by the flash operation during which power was cut. */
export class PowerCut extends Error {
  readonly code = "POWER_CUT";
  /** Which operation was torn: "write" or "erase", and where. */
  readonly op: "write" | "erase";
  readonly addr: number;
  constructor(op: "write" | "erase", addr: number) {
    super(`power cut during flash ${op} at 0x${addr.toString(16)}`);
    this.name = "PowerCut";
    this.op = op;
    this.addr = addr;
  }
}

/** True if `e` is a PowerCut (checked by code, so it also works across realms). */
export function isPowerCut(e: unknown): e is PowerCut {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "POWER_CUT";
}

export interface FlashOptions {
  /** Size in bytes (default 896 KB, the official ESP32 build's Storage area). */
  size?: number;
  /** Erase page size in bytes (default 4096). */
  pageSize?: number;
  /** Initial contents (copied); its length sets the size when `size` is not given. */
  image?: Uint8Array;
}

export const DEFAULT_FLASH_SIZE = 896 * 1024;
export const DEFAULT_PAGE_SIZE = 4096;

export class Flash {
  /** The raw contents; read freely, but change them only through write/erasePage. */
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly pageSize: number;
  /** Number of write and erase operations performed so far (a torn one counts). */
  ops = 0;
  /** Operations left before the torn one (1 = the next), or null when no cut is armed. */
  private cutCountdown: number | null = null;

  constructor(opts: FlashOptions = {}) {
    const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    const size = opts.size ?? opts.image?.length ?? DEFAULT_FLASH_SIZE;
    if (!Number.isInteger(pageSize) || pageSize <= 0 || (pageSize & (pageSize - 1)) !== 0) {
      throw new RangeError(`pageSize must be a power of two, got ${pageSize}`);
    }
    if (!Number.isInteger(size) || size <= 0 || size % pageSize !== 0) {
      throw new RangeError(`size must be a positive multiple of pageSize (${pageSize}), got ${size}`);
    }
    if (opts.image && opts.image.length !== size) {
      throw new RangeError(`image is ${opts.image.length} bytes, flash is ${size}`);
    }
    this.size = size;
    this.pageSize = pageSize;
    this.bytes = new Uint8Array(size);
    if (opts.image) this.bytes.set(opts.image);
    else this.bytes.fill(0xff);
  }

  /** Copy of `len` bytes at `addr`. Reads never fail and are not counted. */
  read(addr: number, len: number): Uint8Array {
    this.checkRange(addr, len);
    return this.bytes.slice(addr, addr + len);
  }

  /**
   * Program `data` at `addr` with NOR semantics: each byte becomes `old & new` (bits only go 1 -> 0).
   * If this is the operation chosen by cutPowerAt, only the first half (rounded down) is programmed
   * and PowerCut is thrown.
   */
  write(addr: number, data: Uint8Array): void {
    this.checkRange(addr, data.length);
    const torn = this.countOp();
    const n = torn ? Math.floor(data.length / 2) : data.length;
    for (let i = 0; i < n; i++) this.bytes[addr + i] &= data[i];
    if (torn) throw new PowerCut("write", addr);
  }

  /**
   * Erase the page containing `addr` to 0xFF. If this is the operation chosen by cutPowerAt, only the
   * first half of the page is erased (the rest keeps its old contents) and PowerCut is thrown.
   */
  erasePage(addr: number): void {
    this.checkRange(addr, 1);
    const start = addr - (addr % this.pageSize);
    const torn = this.countOp();
    const n = torn ? this.pageSize / 2 : this.pageSize;
    this.bytes.fill(0xff, start, start + n);
    if (torn) throw new PowerCut("erase", start);
  }

  /**
   * Arm a power cut: the n-th write or erase from now (1-based) is torn and throws PowerCut.
   * The cut fires once; afterwards the flash works normally (the "device" has rebooted).
   * `null` disarms.
   */
  cutPowerAt(n: number | null): void {
    if (n !== null && (!Number.isInteger(n) || n < 1)) {
      throw new RangeError(`cutPowerAt needs an integer >= 1 or null, got ${n}`);
    }
    this.cutCountdown = n;
  }

  /** Write the raw image to a file (the simulator's equivalent of espruino.flash). */
  save(path: string): void {
    writeFileSync(path, this.bytes);
  }

  /** Load an image written by save(). */
  static load(path: string, opts: { pageSize?: number } = {}): Flash {
    const image = new Uint8Array(readFileSync(path));
    return new Flash({ image, pageSize: opts.pageSize });
  }

  /** Count one operation; true if it is the one to tear. */
  private countOp(): boolean {
    this.ops++;
    if (this.cutCountdown === null) return false;
    this.cutCountdown--;
    if (this.cutCountdown > 0) return false;
    this.cutCountdown = null;
    return true;
  }

  private checkRange(addr: number, len: number): void {
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > this.size) {
      throw new RangeError(`flash access out of range: 0x${addr.toString(16)} + ${len} (size ${this.size})`);
    }
  }
}
