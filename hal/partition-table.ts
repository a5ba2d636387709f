/**
 * The ESP32's partition table, decoded (a pure codec: bytes in, values out, no IO).
 *
 * Layout (Espressif, ESP-IDF Programming Guide, "Partition Tables", and `esp_flash_partitions.h`
 * `esp_partition_info_t`): at flash offset 0x8000, up to 0xC00 bytes of 32-byte entries, each
 *   0  magic, u16 LE 0x50AA (bytes AA 50)      2  type (0 app, 1 data, 0x40-0xFE custom)   3  subtype
 *   4  offset, u32 LE                          8  size, u32 LE
 *   12 label, 16 bytes, NUL padded             28 flags, u32 LE (bit 0: encrypted)
 * The list ends at an entry of 0xFF bytes; an MD5 entry (bytes EB EB, then the digest of the entries) may come
 * first. Subtypes: app 0x00 factory, 0x10+n ota_n, 0x20 test; data 0x00 ota (boot selection), 0x01 phy, 0x02 nvs,
 * 0x03 coredump, 0x04 nvs_keys, 0x05 efuse, 0x06 undefined, 0x80 esphttpd, 0x81 fat, 0x82 spiffs, 0x83 littlefs.
 *
 *   const p = decodePartition(F.read(32, 0x8000), 0);   // Partition, "end" or null
 */

/** Where the table is and its sizes (a const enum: inlined by the build, no JsVar on the device). */
export const enum PartitionTable {
  Offset = 0x8000,
  /** Bytes the table may take (ESP_PartitionTable.MaxBytes_LEN). */
  MaxBytes = 0xc00,
  EntryBytes = 32,
  /** The boot selection partition (data/ota, "otadata"): two sectors, each starting with a u32 sequence number. */
  OtadataBytes = 0x2000,
  OtadataSector = 0x1000,
}

export const enum PartitionType {
  App = 0x00,
  Data = 0x01,
}

export const enum AppSubtype {
  Factory = 0x00,
  Ota0 = 0x10,
  Ota15 = 0x1f,
  Test = 0x20,
}

export const enum DataSubtype {
  Ota = 0x00,
  Phy = 0x01,
  Nvs = 0x02,
  Coredump = 0x03,
  NvsKeys = 0x04,
  EfuseEm = 0x05,
  Undefined = 0x06,
  EspHttpd = 0x80,
  Fat = 0x81,
  Spiffs = 0x82,
  LittleFs = 0x83,
}

export interface Partition {
  type: number;
  subtype: number;
  /** Absolute flash address of its first byte. */
  offset: number;
  size: number;
  label: string;
  flags: number;
}

/**
 * The entry at byte `at` of `b`: a Partition, "end" at the end marker (0xFF bytes) or the MD5 entry (which the
 * bootloader takes as the end of the list), null when the 32 bytes are no entry at all (or `b` is too short).
 */
export function decodePartition(b: Uint8Array, at: number): Partition | "end" | null {
  if (!b || at < 0 || b.length < at + PartitionTable.EntryBytes) return null;
  const m0 = b[at];
  const m1 = b[at + 1];
  if ((m0 === 0xff && m1 === 0xff) || (m0 === 0xeb && m1 === 0xeb)) return "end";
  if (m0 !== 0xaa || m1 !== 0x50) return null;
  let label = "";
  for (let i = 0; i < 16; i++) {
    const c = b[at + 12 + i];
    if (!c) break;
    label += String.fromCharCode(c);
  }
  // the three little-endian u32 at 4, 8 and 28
  const w = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const o = at + (k < 2 ? 4 + 4 * k : 28);
    w[k] = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }
  return { type: b[at + 2], subtype: b[at + 3], offset: w[0], size: w[1], label: label, flags: w[2] };
}

/** The 32 bytes of one entry (for tools and tests that build a table). */
export function encodePartition(p: Partition): Uint8Array {
  const b = new Uint8Array(PartitionTable.EntryBytes);
  b[0] = 0xaa;
  b[1] = 0x50;
  b[2] = p.type;
  b[3] = p.subtype;
  for (let i = 0; i < 4; i++) {
    b[4 + i] = (p.offset >>> (8 * i)) & 0xff;
    b[8 + i] = (p.size >>> (8 * i)) & 0xff;
    b[28 + i] = (p.flags >>> (8 * i)) & 0xff;
  }
  for (let i = 0; i < p.label.length && i < 16; i++) b[12 + i] = p.label.charCodeAt(i) & 0xff;
  return b;
}

/** A whole table as flashed at 0x8000: the entries, then 0xFF to PartitionTable.MaxBytes (no MD5 entry). */
export function encodePartitionTable(parts: Partition[]): Uint8Array {
  const out = new Uint8Array(PartitionTable.MaxBytes);
  out.fill(0xff);
  for (let i = 0; i < parts.length; i++) out.set(encodePartition(parts[i]), i * PartitionTable.EntryBytes);
  return out;
}

/** "factory (app 0x10000+0x180000)": a partition as the technician reads it. */
export function describePartition(p: Partition): string {
  const kind = p.type === PartitionType.App ? "app" : p.type === PartitionType.Data ? "data" : "type 0x" + p.type.toString(16);
  return (p.label || "?") + " (" + kind + " 0x" + p.offset.toString(16) + "+0x" + p.size.toString(16) + ")";
}
