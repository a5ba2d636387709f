/**
 * The ESP-IDF partition table codec (hal/partition-table.ts), with no IO: entries, the end marker, the MD5 entry,
 * damaged bytes, and Espruino's two ESP32 tables round-tripped.
 */
import assert from "node:assert/strict";
import { decodePartition, describePartition, encodePartition, encodePartitionTable, PartitionTable } from "../../hal/partition-table.ts";
import { ESPRUINO_IDF3_PARTITIONS, ESPRUINO_IDF4_PARTITIONS } from "../../sim/espruino/partitions.ts";

/** The bytes of one entry written out by hand from the layout (esp_partition_info_t). */
const OTA0 = Uint8Array.from([
  0xaa, 0x50, 0x00, 0x10, // magic, app, ota_0
  0x00, 0x00, 0x19, 0x00, // offset 0x190000
  0x00, 0x00, 0x18, 0x00, // size 0x180000
  0x6f, 0x74, 0x61, 0x5f, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // "ota_0"
  0x01, 0x00, 0x00, 0x00, // flags: encrypted
]);

describe("ESP-IDF partition table codec", () => {
  it("decodes an entry's type, subtype, little-endian offset and size, label and flags", () => {
    assert.deepEqual(decodePartition(OTA0, 0), { type: 0, subtype: 0x10, offset: 0x190000, size: 0x180000, label: "ota_0", flags: 1 });
  });

  it("decodes at a byte offset inside a longer buffer", () => {
    const b = new Uint8Array(64).fill(0xff);
    b.set(OTA0, 32);
    assert.equal((decodePartition(b, 32) as { label: string }).label, "ota_0");
    assert.equal(decodePartition(b, 0), "end");
  });

  it("takes an entry of 0xFF bytes and the MD5 entry (EB EB) as the end of the list", () => {
    assert.equal(decodePartition(new Uint8Array(32).fill(0xff), 0), "end");
    const md5 = new Uint8Array(32).fill(0x11);
    md5[0] = 0xeb;
    md5[1] = 0xeb;
    assert.equal(decodePartition(md5, 0), "end");
  });

  it("refuses bytes that are no entry: wrong magic, all zero, too short", () => {
    const bad = Uint8Array.from(OTA0);
    bad[1] = 0x51;
    assert.equal(decodePartition(bad, 0), null);
    assert.equal(decodePartition(new Uint8Array(32), 0), null);
    assert.equal(decodePartition(OTA0.subarray(0, 31), 0), null);
    assert.equal(decodePartition(OTA0, 1), null);
    assert.equal(decodePartition(OTA0, -1), null);
  });

  it("reads a 16-character label with no NUL after it", () => {
    const p = { type: 1, subtype: 0x40, offset: 0x310000, size: 0x10000, label: "abcdefghijklmnop", flags: 0 };
    assert.deepEqual(decodePartition(encodePartition(p), 0), p);
  });

  it("encodes the hand-written entry byte for byte", () => {
    assert.deepEqual(encodePartition({ type: 0, subtype: 0x10, offset: 0x190000, size: 0x180000, label: "ota_0", flags: 1 }), OTA0);
  });

  for (const [name, parts] of [["ESP-IDF 3", ESPRUINO_IDF3_PARTITIONS], ["ESP-IDF 4", ESPRUINO_IDF4_PARTITIONS]] as const) {
    it(`round-trips Espruino's ${name} table: its entries, then the end marker, erased to 0xC00 bytes`, () => {
      const t = encodePartitionTable(parts);
      assert.equal(t.length, PartitionTable.MaxBytes);
      const back = [];
      for (let i = 0; ; i++) {
        const p = decodePartition(t, i * 32);
        assert.notEqual(p, null);
        if (p === "end") break;
        back.push(p);
      }
      assert.deepEqual(back, parts);
      assert.ok(t.subarray(parts.length * 32).every((x) => x === 0xff));
    });
  }

  it("describes a partition as a technician reads it", () => {
    assert.equal(describePartition(ESPRUINO_IDF4_PARTITIONS[2]), "factory (app 0x10000+0x1f4000)");
    assert.equal(describePartition({ type: 0x40, subtype: 0, offset: 0x1000, size: 0x1000, label: "", flags: 0 }), "? (type 0x40 0x1000+0x1000)");
  });
});
