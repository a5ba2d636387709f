/**
 * The partition tables of Espruino's ESP32 builds, and the chip's first 64 KB (bootloader, partition table at
 * 0x8000, nvs, boot selection) that the simulator's `require("Flash")` serves beside the journal's region.
 *
 * Sources (public repository espruino/Espruino):
 * - ESP-IDF 3 build (the official ESP32 build, Espruino 2v2x): `targets/esp32/Changes_V3.1/partitions_espruino.csv`
 *   nvs data/nvs 0x9000 12K; otadata data/ota 0xC000 8K; free data/0x40 0xE000 8K; factory app 0x10000 1536K;
 *   ota_0 app/ota_0 0x190000 1536K; flash data/0x40 0x310000 64K; js_code data/0 0x320000 256K;
 *   storage data/0 0x360000 640K (Storage is js_code + storage: 896 KB at 0x320000);
 * - ESP-IDF 4 build: `targets/esp32/IDF4/partitions.csv`: nvs data/nvs 0x6000 and phy_init data/phy 0x1000 (placed
 *   from 0x9000 by ESP-IDF's gen_esp32part.py), factory app 2000K at 0x10000, flash data/0x40 0x310000 64K,
 *   storage data/undefined 0x320000 896K. Its factory app (0x10000-0x204000) covers the start of the journal's region.
 */
import { encodePartitionTable, PartitionTable } from "../../hal/partition-table.ts";
import type { Partition } from "../../hal/partition-table.ts";
import { Flash } from "./flash.ts";

const p = (label: string, type: number, subtype: number, offset: number, size: number): Partition => ({ label, type, subtype, offset, size, flags: 0 });
const K = 1024;

export const ESPRUINO_IDF3_PARTITIONS: Partition[] = [
  p("nvs", 1, 0x02, 0x9000, 12 * K),
  p("otadata", 1, 0x00, 0xc000, 8 * K),
  p("free", 1, 0x40, 0xe000, 8 * K),
  p("factory", 0, 0x00, 0x10000, 1536 * K),
  p("ota_0", 0, 0x10, 0x190000, 1536 * K),
  p("flash", 1, 0x40, 0x310000, 64 * K),
  p("js_code", 1, 0x00, 0x320000, 256 * K),
  p("storage", 1, 0x00, 0x360000, 640 * K),
];

export const ESPRUINO_IDF4_PARTITIONS: Partition[] = [
  p("nvs", 1, 0x02, 0x9000, 0x6000),
  p("phy_init", 1, 0x01, 0xf000, 0x1000),
  p("factory", 0, 0x00, 0x10000, 2000 * K),
  p("flash", 1, 0x40, 0x310000, 64 * K),
  p("storage", 1, 0x06, 0x320000, 896 * K),
];

/** The chip's first 64 KB, from address 0. */
export const SYSTEM_AREA_BYTES = 0x10000;

/** A system area (all erased but the partition table) carrying `parts` at 0x8000. */
export function systemAreaWith(parts: Partition[]): Flash {
  const f = new Flash({ size: SYSTEM_AREA_BYTES });
  f.write(PartitionTable.Offset, encodePartitionTable(parts));
  return f;
}

/** Erase the partition table's page of `area` and write `parts` there (as esptool flashing a new table). */
export function flashPartitionTable(area: Flash, parts: Partition[]): void {
  area.erasePage(PartitionTable.Offset);
  area.write(PartitionTable.Offset, encodePartitionTable(parts));
}

// The simulator's host hands `require("Flash")` only the journal's Flash; the chip's first 64 KB belong to the same
// chip, so they are kept with it (one per journal image, the ESP-IDF 3 table unless a test flashes another).
const areas = new WeakMap<Flash, Flash>();

/** The system area of the chip whose journal region is `journal`. */
export function systemAreaOf(journal: Flash): Flash {
  let a = areas.get(journal);
  if (!a) {
    a = systemAreaWith(ESPRUINO_IDF3_PARTITIONS);
    areas.set(journal, a);
  }
  return a;
}
