/**
 * A flat file store in flash (Espruino's Storage on the device). Names are at most 28 characters. The rules that
 * keep data safe at a power cut (never overwrite, write pre-sized files at offsets, never trigger compaction)
 * belong to the layer above (firmware/record-log.ts); this interface only exposes what the flash can do.
 */
export interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}
export interface FileStore {
  /** Whole file, or a slice; undefined if absent. */
  read(name: string, offset?: number, length?: number): Uint8Array | undefined;
  /**
   * Create/replace `name` with `data`; with `size`, create a file of that many bytes (unwritten bytes stay 0xFF);
   * with `offset`, fill bytes of an existing pre-sized file (only erased bytes change). False when flash is full.
   */
  write(name: string, data: Uint8Array, offset?: number, size?: number): boolean;
  erase(name: string): void;
  /** Names starting with `prefix`. */
  list(prefix: string): string[];
  stats(): StorageStats;
}
