/**
 * Capacity on the devkit's real journal region (read from boards/devkit-data.ts, not copied): how many of the largest
 * entries (316 bytes, a WalletPayment) wait for upload before the journal refuses, and that the region sits where
 * nothing else writes.
 */
import assert from "node:assert/strict";
import { devkitData as devkit } from "../../boards/devkit-data.ts";
import { MAX_PAYLOAD, recordSize } from "../../firmware/journal/record.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { LARGEST, payment, rig } from "./helpers.ts";

const region = devkit.platform.journal;

/**
 * Espruino's ESP32 partition table (targets/esp32/Changes_V3.1/partitions_espruino.csv, the official 2v2x build):
 * factory app 0x10000 + 1536K (ESP32_FLASH_MAX 1572864 in its board JSON), ota_0 0x190000 + 1536K (never
 * written by Espruino's flashing steps), "flash" data 0x310000 + 64K, then js_code/Storage from 0x320000.
 */
const FIRMWARE_END = 0x10000 + 1572864;
const OTA0_START = 0x190000;
const OTA0_END = 0x190000 + 1536 * 1024;

function fill(payloadLength: number): { accepted: number; slotsLeft: number; code: string; warnedAt: number } {
  const r = rig(region.pageCount, new Flash({ size: region.pageCount * region.pageSize, pageSize: region.pageSize }));
  const j = r.journal();
  j.recover();
  let n = 0;
  let warnedAt = -1;
  for (;;) {
    if (warnedAt < 0 && j.warning()) warnedAt = n;
    const a = j.append(payment(n + 1, payloadLength));
    if (!("seq" in a)) return { accepted: n, slotsLeft: j.stats().slotsLeft, code: a.code, warnedAt };
    n++;
  }
}

describe("journal: capacity on the devkit region", function () {
  this.timeout(120000);

  it("the region lies in ota_0, clear of the firmware, of Espruino's flash partition and of Storage", () => {
    const end = region.address + region.pageCount * region.pageSize;
    assert.equal(region.pageSize, 4096);
    assert.equal(region.address % region.pageSize, 0);
    assert.ok(region.address >= FIRMWARE_END && region.address >= OTA0_START, region.address.toString(16));
    assert.ok(end <= OTA0_END, "ends at 0x" + end.toString(16));
    assert.ok(end <= devkit.platform.storage.address, "runs into Storage at 0x" + end.toString(16));
  });

  it("holds at least 2,000 pending 316-byte entries (the largest) before refusing with JOURNAL_FULL", () => {
    assert.ok(LARGEST <= MAX_PAYLOAD);
    const f = fill(LARGEST);
    console.log(
      `      devkit region (${region.pageCount} x ${region.pageSize} B at 0x${region.address.toString(16)}): ` +
        `${f.accepted} pending records of ${LARGEST} bytes (${recordSize(LARGEST)} in flash) before JOURNAL_FULL, ` +
        `"nearly full" from ${f.warnedAt}`,
    );
    assert.equal(f.code, "JOURNAL_FULL");
    assert.ok(f.accepted >= 2000, String(f.accepted));
  });

  it("warns that it is nearly full well before it refuses", () => {
    const f = fill(LARGEST);
    assert.ok(f.warnedAt > 0 && f.warnedAt < f.accepted - 50, `warned at ${f.warnedAt} of ${f.accepted}`);
  });

  it("refuses while there is still room left (the reserve)", () => {
    const f = fill(LARGEST);
    assert.ok(f.slotsLeft > 0, String(f.slotsLeft));
  });
});
