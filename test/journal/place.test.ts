/**
 * The boot check of the journal's flash region against the chip's partition table (firmware/journal/place.ts),
 * over flash images in memory: each rule of the check, one behaviour per case.
 */
import assert from "node:assert/strict";
import type { ChipFlash } from "../../hal/flash-pages.ts";
import { encodePartitionTable, PartitionTable } from "../../hal/partition-table.ts";
import type { Partition } from "../../hal/partition-table.ts";
import { checkJournalPlace, placeLines } from "../../firmware/journal/place.ts";
import { devkitData } from "../../boards/devkit-data.ts";
import { ESPRUINO_IDF3_PARTITIONS, ESPRUINO_IDF4_PARTITIONS } from "../../sim/espruino/partitions.ts";

const jr = devkitData.platform.journal;
const st = devkitData.platform.storage;
const JOURNAL = { address: jr.address, length: jr.pageSize * jr.pageCount };
const or = devkitData.platform.orders;
const ORDERS = { address: or.address, length: or.pageSize * or.pageCount };
const STORAGE = { address: st.address, length: st.pageSize * st.pages };

/** The chip's first 64 KB (all erased but what is given), read as ChipFlash reads; reads elsewhere fail loudly. */
function chip(table: Uint8Array | null, patch?: (img: Uint8Array) => void, journal = JOURNAL, orders = ORDERS): ChipFlash & { reads: number } {
  const img = new Uint8Array(0x10000).fill(0xff);
  if (table) img.set(table, PartitionTable.Offset);
  if (patch) patch(img);
  const c = {
    journal,
    orders,
    storage: STORAGE,
    reads: 0,
    read(addr: number, length: number) {
      c.reads++;
      if (addr < 0 || addr + length > img.length) throw new Error(`the check read 0x${addr.toString(16)}+${length}, outside the system area`);
      return img.slice(addr, addr + length);
    },
  };
  return c;
}
const part = (label: string, type: number, subtype: number, offset: number, size: number): Partition => ({ label, type, subtype, offset, size, flags: 0 });
// a home partition of 0xca000 bytes: the journal's 200 pages and the kept orders' 2 after them
const withHome = (home: Partition) => encodePartitionTable([part("nvs", 1, 2, 0x9000, 0x6000), part("factory", 0, 0, 0x10000, 0x180000), home, part("storage", 1, 6, 0x320000, 0xe0000)]);

describe("the journal's place in the partition table", () => {
  it("opens in ota_0 of Espruino's ESP-IDF 3 table, boot selection erased", () => {
    const p = checkJournalPlace(chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS)));
    assert.deepEqual(p, { code: "", message: "journal 0x190000-0x258000 in ota_0 (app 0x190000+0x180000)" });
  });

  it("refuses Espruino's ESP-IDF 4 table, whose 2000 KB factory app covers the region's start", () => {
    const p = checkJournalPlace(chip(encodePartitionTable(ESPRUINO_IDF4_PARTITIONS)));
    assert.equal(p.code, "PT_OVERLAP");
    assert.equal(p.message, "journal 0x190000-0x258000 overlaps factory (app 0x10000+0x1f4000)");
  });

  it("refuses a chip with no partition table (erased, or zeros as the Linux interpreter reads)", () => {
    assert.equal(checkJournalPlace(chip(null)).code, "PT_NONE");
    assert.equal(checkJournalPlace(chip(new Uint8Array(0xc00))).code, "PT_NONE");
  });

  it("refuses a table with a damaged entry after good ones", () => {
    const t = encodePartitionTable(ESPRUINO_IDF3_PARTITIONS);
    t[3 * 32] = 0x00;
    assert.deepEqual(checkJournalPlace(chip(t)), { code: "PT_BAD", message: "partition table entry 3 damaged" });
  });

  it("refuses a table that fills 0xC00 bytes with no end marker", () => {
    const t = new Uint8Array(0xc00);
    const e = encodePartitionTable([part("x", 1, 0x40, 0x1000000, 0x1000)]).subarray(0, 32);
    for (let i = 0; i < 0xc00; i += 32) t.set(e, i);
    assert.equal(checkJournalPlace(chip(t)).code, "PT_BAD");
  });

  it("refuses when the table cannot be read", () => {
    const c = chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS));
    c.read = () => undefined;
    assert.equal(checkJournalPlace(c).code, "PT_UNREADABLE");
  });

  it("refuses the factory app partition: the interpreter runs there", () => {
    const t = encodePartitionTable([part("factory", 0, 0, 0x10000, 0x300000)]);
    const p = checkJournalPlace(chip(t));
    assert.equal(p.code, "PT_CODE");
    assert.match(p.message, /in factory \(app 0x10000\+0x300000\): running code/);
  });

  it("refuses an ota slot once the boot selection (otadata) is written: that slot may hold the running code", () => {
    const c = chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS), (img) => img.set([1, 0, 0, 0], 0xd000));
    const p = checkJournalPlace(c);
    assert.equal(p.code, "PT_CODE");
    assert.match(p.message, /otadata selects an ota app/);
  });

  it("refuses an ota slot when the table has no factory app to boot instead", () => {
    const t = encodePartitionTable([part("ota_0", 0, 0x10, 0x10000, 0x180000), part("ota_1", 0, 0x11, 0x190000, 0x180000)]);
    const p = checkJournalPlace(chip(t));
    assert.equal(p.code, "PT_CODE");
    assert.match(p.message, /in ota_1 .*no factory app/);
  });

  it("opens in a data partition of a subtype nothing writes (Espruino's data/0x40)", () => {
    assert.equal(checkJournalPlace(chip(withHome(part("journal", 1, 0x40, 0x190000, 0xca000)))).code, "");
  });

  for (const [sub, name] of [[0x00, "ota"], [0x01, "phy"], [0x02, "nvs"], [0x03, "coredump"], [0x06, "undefined"], [0x81, "fat"], [0x82, "spiffs"]] as const) {
    it(`refuses a data partition of subtype ${name} (0x${sub.toString(16)}): something writes it`, () => {
      const p = checkJournalPlace(chip(withHome(part("d", 1, sub, 0x190000, 0xca000))));
      assert.equal(p.code, "PT_USED");
      assert.match(p.message, new RegExp("subtype 0x" + sub.toString(16) + " in use"));
    });
  }

  it("refuses a partition of a custom type, whose use the firmware cannot know", () => {
    assert.equal(checkJournalPlace(chip(withHome(part("mine", 0x40, 0, 0x190000, 0xca000)))).code, "PT_TYPE");
  });

  it("refuses a partition that also holds Storage, whatever its subtype", () => {
    const t = encodePartitionTable([part("factory", 0, 0, 0x10000, 0x180000), part("big", 1, 0x40, 0x190000, 0x270000)]);
    const p = checkJournalPlace(chip(t));
    assert.equal(p.code, "PT_STORAGE");
    assert.match(p.message, /which holds Storage/);
  });

  it("refuses a region in no partition at all", () => {
    const t = encodePartitionTable([part("factory", 0, 0, 0x10000, 0x180000)]);
    assert.deepEqual(checkJournalPlace(chip(t)), { code: "PT_OUTSIDE", message: "journal 0x190000-0x258000 is in no partition" });
  });

  it("refuses a region that runs past the end of a good partition into the next", () => {
    const p = checkJournalPlace(chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS), undefined, { address: 0x300000, length: 0x20000 }));
    assert.equal(p.code, "PT_OVERLAP");
    assert.match(p.message, /0x300000-0x320000 overlaps ota_0/);
  });

  it("refuses when the kept orders' pages lie outside the journal's partition (PT_ORDERS): a data partition just the journal's size", () => {
    assert.deepEqual(checkJournalPlace(chip(withHome(part("data", 1, 0x40, 0x190000, 0xc8000)))), {
      code: "PT_ORDERS",
      message: "orders 0x258000-0x25a000 not in data (data 0x190000+0xc8000) apart from the journal",
    });
  });

  it("refuses kept orders' pages that overlap the journal's, even inside its partition (PT_ORDERS)", () => {
    const p = checkJournalPlace(chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS), undefined, JOURNAL, { address: 0x257000, length: 0x2000 }));
    assert.equal(p.code, "PT_ORDERS");
    assert.match(p.message, /^orders 0x257000-0x259000 not in ota_0/);
  });

  it("refuses kept orders' pages in another good partition than the journal's (PT_ORDERS): one check covers both", () => {
    assert.equal(checkJournalPlace(chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS), undefined, JOURNAL, { address: 0x310000, length: 0x2000 })).code, "PT_ORDERS");
  });

  it("reads the table 32 bytes at a time and stops at its end (9 reads and the boot selection's 2 for ESP-IDF 3)", () => {
    const c = chip(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS));
    checkJournalPlace(c);
    assert.equal(c.reads, ESPRUINO_IDF3_PARTITIONS.length + 1 + 2);
  });

  it("breaks a refusal into screen lines of at most 40 characters", () => {
    const lines = placeLines(checkJournalPlace(chip(encodePartitionTable(ESPRUINO_IDF4_PARTITIONS))), 40);
    assert.deepEqual(lines, ["PT_OVERLAP journal 0x190000-0x258000", "overlaps factory (app 0x10000+0x1f4000)"]);
    assert.ok(lines.every((l) => l.length <= 40));
  });
});
