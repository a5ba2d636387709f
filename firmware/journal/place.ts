/**
 * May the journal write its region (and the kept link orders theirs, beside it)? Checked at boot, before the
 * journal is opened, from the partition table the chip carries (hal/partition-table.ts): the journal writes raw
 * flash pages, so a region that holds the interpreter, Storage or data another part of the system writes would be
 * destroyed, or destroy the journal.
 *
 * The rule: the journal's region must lie wholly inside ONE partition that holds no running code and no Storage:
 *  - an app partition `ota_N` (subtype 0x10-0x1F), only when the table has a `factory` app and the boot selection
 *    (`otadata`, data/ota, 0x2000 bytes) is erased: the bootloader then boots the factory app (the Espruino tools
 *    flash the interpreter there and never write otadata), so no code in an ota slot ever runs. Once otadata
 *    selects a slot, any ota slot may hold the running code: refused;
 *  - or a data partition of a subtype nothing on the device writes: not ota (boot selection; Espruino's ESP-IDF 3
 *    table also labels its Storage data/0), phy, nvs (Wi-Fi settings), coredump, nvs_keys, efuse, undefined
 *    (Espruino's ESP-IDF 4 table puts Storage there), nor a file system (esphttpd, fat, spiffs, littlefs) that a
 *    component may mount. Espruino's own "flash" partition (data/0x40, listed free by `require("Flash").getFree()`)
 *    qualifies;
 *  - and in either case the partition must not overlap the board's Storage area (checked by address, since
 *    Espruino's tables label Storage with ordinary data subtypes), and no custom partition type (0x40-0xFE), whose
 *    use the firmware cannot know;
 *  - the kept orders' region (hal/device.ts `orders`) lies in the same partition and does not overlap the
 *    journal's (PT_ORDERS otherwise): the terminal keeps no link order where the journal may not open.
 * Refusing is the only safe answer to a layout it does not know: a journal that overwrote the interpreter
 * bricks the terminal, one inside Storage loses every payment at the next compaction.
 *
 * Reads are 32 bytes at a time and nothing is kept but the answer: cheap in JsVars.
 *
 *   const place = checkJournalPlace(device.flash);
 *   if (place.code) show(place.message); else open the journal;
 */
import type { ChipFlash } from "../../hal/flash-pages.ts";
import { AppSubtype, DataSubtype, decodePartition, describePartition, PartitionTable, PartitionType } from "../../hal/partition-table.ts";
import type { Partition } from "../../hal/partition-table.ts";

/** code "" when the journal may open; otherwise one of the PT_* codes, and a message for the screen and reports. */
export interface JournalPlace {
  code: string;
  message: string;
}

// One function, its helpers inline: every function of the bundle costs JsVars for as long as the firmware runs.
export function checkJournalPlace(flash: ChipFlash): JournalPlace {
  const hex = (n: number) => "0x" + n.toString(16);
  const j0 = flash.journal.address;
  const j1 = j0 + flash.journal.length;
  const s0 = flash.storage.address;
  const s1 = s0 + flash.storage.length;
  const where = "journal " + hex(j0) + "-" + hex(j1);
  let code = "";
  let why = "";
  let home: Partition | null = null;
  let overlap: Partition | null = null;
  let factory = false;
  let otadata = -1;
  let end = false;
  for (let i = 0; i < PartitionTable.MaxBytes / PartitionTable.EntryBytes && !code && !end; i++) {
    const b = flash.read(PartitionTable.Offset + i * PartitionTable.EntryBytes, PartitionTable.EntryBytes);
    const p = b && b.length === PartitionTable.EntryBytes ? decodePartition(b, 0) : undefined;
    if (p === undefined) {
      code = "PT_UNREADABLE";
      why = "partition table unreadable at " + hex(PartitionTable.Offset);
    } else if (p === null || (p === "end" && !i)) {
      code = i ? "PT_BAD" : "PT_NONE";
      why = i ? "partition table entry " + i + " damaged" : "no partition table at " + hex(PartitionTable.Offset);
    } else if (p === "end") end = true;
    else {
      if (p.type === PartitionType.App && p.subtype === AppSubtype.Factory) factory = true;
      if (p.type === PartitionType.Data && p.subtype === DataSubtype.Ota && p.size === PartitionTable.OtadataBytes && otadata < 0) otadata = p.offset;
      const p1 = p.offset + p.size;
      if (j0 >= p.offset && j1 <= p1) {
        if (!home) home = p;
      } else if (j0 < p1 && p.offset < j1 && !overlap) overlap = p;
    }
  }
  if (code) return { code: code, message: why };
  if (!end) return { code: "PT_BAD", message: "partition table has no end marker" };
  if (overlap) return { code: "PT_OVERLAP", message: where + " overlaps " + describePartition(overlap) };
  if (!home) return { code: "PT_OUTSIDE", message: where + " is in no partition" };
  const h = home;
  const at = where + " in " + describePartition(h);
  // the kept orders' pages (firmware/app/kept-orders.ts) must lie in the same partition, apart from the journal's:
  // every rule below then holds for them too
  const o0 = flash.orders.address;
  const o1 = o0 + flash.orders.length;
  if (o0 < h.offset || o1 > h.offset + h.size || (o0 < j1 && j0 < o1)) return { code: "PT_ORDERS", message: "orders " + hex(o0) + "-" + hex(o1) + " not in " + describePartition(h) + " apart from the journal" };
  if (h.offset < s1 && s0 < h.offset + h.size) return { code: "PT_STORAGE", message: at + ", which holds Storage" };
  if (h.type === PartitionType.App) {
    if (h.subtype < AppSubtype.Ota0 || h.subtype > AppSubtype.Ota15) return { code: "PT_CODE", message: at + ": running code" };
    if (!factory) return { code: "PT_CODE", message: at + ": no factory app, it may run" };
    // the boot selection: both sectors' sequence numbers erased (0xFFFFFFFF), or the bootloader may pick a slot
    for (let s = 0; otadata >= 0 && s < 2; s++) {
      const b = flash.read(otadata + s * PartitionTable.OtadataSector, 4);
      if (!b || b.length !== 4) return { code: "PT_UNREADABLE", message: "otadata unreadable at " + hex(otadata) };
      if ((b[0] & b[1] & b[2] & b[3]) !== 0xff) return { code: "PT_CODE", message: at + ": otadata selects an ota app" };
    }
    return { code: "", message: at };
  }
  if (h.type !== PartitionType.Data) return { code: "PT_TYPE", message: at + ": unknown use" };
  // data subtypes something writes (see the rule above)
  const sub = h.subtype;
  if (sub <= DataSubtype.Undefined || (sub >= DataSubtype.EspHttpd && sub <= DataSubtype.LittleFs)) return { code: "PT_USED", message: at + ", subtype 0x" + sub.toString(16) + " in use" };
  return { code: "", message: at };
}

/** The refusal as screen lines of at most `width` characters, broken at spaces. */
export function placeLines(p: JournalPlace, width: number): string[] {
  const words = (p.code + " " + p.message).split(" ");
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (cur && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = "";
    }
    cur = cur ? cur + " " + w : w.slice(0, width);
  }
  if (cur) out.push(cur);
  return out;
}
