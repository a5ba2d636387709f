/**
 * Raw NOR flash pages in a region reserved for one user (the transaction journal, or the kept link orders), outside
 * Espruino's Storage.
 * NOR rules apply: `write` can only clear bits (each byte becomes old & new), `erase` sets a whole page to 0xFF.
 * On ESP32, offsets and lengths of writes are multiples of 4. A power cut can tear any write or erase.
 */
export interface FlashPages {
  /** Bytes per erase page (4096 on ESP32). */
  readonly pageSize: number;
  readonly pageCount: number;
  /** A copy of `length` bytes at `offset` of `page`. */
  read(page: number, offset: number, length: number): Uint8Array;
  /** Program `data` at `offset` of `page` (bits only go 1 -> 0). Offset and length: multiples of 4. */
  write(page: number, offset: number, data: Uint8Array): void;
  /** Set the whole page to 0xFF. */
  erase(page: number): void;
}

/** A stretch of the chip's flash: absolute address and length in bytes. */
export interface FlashSpan {
  address: number;
  length: number;
}

/**
 * The chip's flash by absolute address, read only (the partition table at 0x8000, the boot selection), and where
 * the board put the journal's region, the kept link orders' pages and Storage: what the boot check of their place
 * needs (firmware/journal/place.ts).
 */
export interface ChipFlash {
  readonly journal: FlashSpan;
  readonly orders: FlashSpan;
  readonly storage: FlashSpan;
  /** `length` bytes at absolute address `addr`, or undefined when they cannot be read. */
  read(addr: number, length: number): Uint8Array | undefined;
}
