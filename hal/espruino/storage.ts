/**
 * Espruino binding of hal/storage.ts over `require("Storage")`. Reads use `readArrayBuffer`, which on ESP32 maps
 * the file in flash instead of copying it into RAM.
 */
import type { FileStore } from "../storage.ts";

export function storage(): FileStore {
  const S = require("Storage");
  return {
    read(name, offset, length) {
      const ab: ArrayBuffer | undefined = S.readArrayBuffer(name);
      if (!ab) return undefined;
      const start = offset || 0;
      const n = length === undefined ? ab.byteLength - start : length;
      if (start + n > ab.byteLength) return undefined;
      return new Uint8Array(ab, start, n);
    },
    write(name, data, offset, size) {
      return size === undefined ? S.write(name, data, offset || 0) : S.write(name, data, offset || 0, size);
    },
    erase(name) {
      S.erase(name);
    },
    list(prefix) {
      const names: string[] = S.list();
      return names.filter((n) => n.indexOf(prefix) === 0);
    },
    stats() {
      return S.getStats();
    },
  };
}
