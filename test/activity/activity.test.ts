import assert from "node:assert/strict";
import { ActivityLog } from "../../firmware/activity.ts";
import type { FileStore } from "../../hal/storage.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";

/** The device's FileStore over the simulator's Storage, keeping the Storage instance (for its compaction count). */
function device(flash: Flash): { store: FileStore; storage: EspruinoStorage } {
  const s = new EspruinoStorage(flash);
  const store: FileStore = {
    read(name, offset, length) {
      const ab = s.readArrayBuffer(name);
      if (!ab) return undefined;
      const start = offset || 0;
      const n = length === undefined ? ab.byteLength - start : length;
      if (start + n > ab.byteLength) return undefined;
      return new Uint8Array(ab, start, n);
    },
    write: (name, data, offset, size) => (size === undefined ? s.write(name, data, offset || 0) : s.write(name, data, offset || 0, size)),
    erase: (name) => s.erase(name),
    list: (prefix) => s.list().filter((n) => n.indexOf(prefix) === 0),
    stats: () => s.getStats(),
  };
  return { store, storage: s };
}

const T0 = Date.UTC(2026, 10, 23, 8, 40); // 2026-11-23 08:40 UTC

describe("activity log", () => {
  it("returns the newest lines first with their UTC time", () => {
    const { store } = device(new Flash({ size: 64 * 1024 }));
    let t = T0;
    const log = new ActivityLog(store, () => t);
    log.add("boot", "fw 1.4.0");
    t += 60000;
    log.add("connect", "wifi shop");
    assert.deepEqual(log.recent(5), ["2026-11-23 08:41 connect wifi shop", "2026-11-23 08:40 boot fw 1.4.0"]);
    assert.deepEqual(log.recent(1), ["2026-11-23 08:41 connect wifi shop"]);
  });

  it("survives a reboot and keeps appending after the last line", () => {
    const flash = new Flash({ size: 64 * 1024 });
    new ActivityLog(device(flash).store, () => T0).add("boot", "one");
    const again = new ActivityLog(device(flash).store, () => T0 + 120000);
    again.add("error", "E42 printer");
    assert.deepEqual(again.recent(9), ["2026-11-23 08:42 error E42 printer", "2026-11-23 08:40 boot one"]);
  });

  it("fills a pre-sized file at offsets: a line within a segment leaves no trash and no new file", () => {
    const { store } = device(new Flash({ size: 64 * 1024 }));
    const log = new ActivityLog(store, () => T0);
    log.add("boot", "first");
    const before = store.stats();
    for (let i = 0; i < 10; i++) log.add("sync", "ok " + i);
    const after = store.stats();
    assert.equal(after.trashCount, before.trashCount);
    assert.equal(after.fileCount, before.fileCount);
    assert.equal(after.fileBytes, before.fileBytes);
  });

  it("stays bounded: at most its segments, oldest lines dropped", () => {
    const { store } = device(new Flash());
    const log = new ActivityLog(store, () => T0, { segments: 3, segmentBytes: 256 });
    for (let i = 0; i < 500; i++) log.add("sync", "round " + i);
    const files = store.list("act.");
    assert.equal(files.length, 3);
    for (const f of files) assert.equal(store.read(f)!.length, 256);
    const r = log.recent(1000);
    assert.equal(r[0], "2026-11-23 08:40 sync round 499");
    assert.ok(r.length < 40 && r.length > 15, "kept " + r.length);
    // consecutive, newest first, no gaps
    for (let i = 0; i < r.length; i++) assert.equal(r[i], "2026-11-23 08:40 sync round " + (499 - i));
  });

  it("never makes Storage compact in normal use", () => {
    const { store, storage } = device(new Flash());
    const log = new ActivityLog(store, () => T0);
    for (let i = 0; i < 3000; i++) log.add(i % 2 ? "connect" : "disconnect", "ble central " + i);
    assert.equal(storage.compactions, 0);
    assert.equal(log.dropped, 0);
    assert.equal(log.recent(1)[0], "2026-11-23 08:40 connect ble central 2999");
  });

  it("keeps lines in RAM instead of compacting when Storage is nearly full", () => {
    const { store, storage } = device(new Flash({ size: 32 * 1024 }));
    const log = new ActivityLog(store, () => T0, { segments: 2, segmentBytes: 512, reserveBytes: 4096 });
    for (let i = 0; i < 2000; i++) log.add("sync", "round " + i);
    assert.equal(storage.compactions, 0);
    assert.ok(log.dropped > 0);
    assert.equal(log.recent(1)[0], "2026-11-23 08:40 sync round 1999");
  });

  it("survives a power cut in the middle of a line: earlier lines and the next one are whole", () => {
    for (let cut = 1; cut <= 4; cut++) {
      const flash = new Flash({ size: 64 * 1024 });
      const log = new ActivityLog(device(flash).store, () => T0);
      log.add("boot", "before");
      flash.cutPowerAt(cut);
      try {
        log.add("override", "manager approved a long detail text here");
      } catch (e) {
        assert.equal((e as { code?: string }).code, "POWER_CUT");
      }
      flash.cutPowerAt(null);
      const rebooted = new ActivityLog(device(flash).store, () => T0 + 60000);
      rebooted.add("boot", "after");
      const r = rebooted.recent(10);
      assert.equal(r[0], "2026-11-23 08:41 boot after", "cut " + cut);
      assert.equal(r[r.length - 1], "2026-11-23 08:40 boot before", "cut " + cut);
      const whole = "2026-11-23 08:40 override manager approved a long detail text here";
      assert.ok(r.length === 2 || (r.length === 3 && (r[1] === whole || (r[1].endsWith(" [cut]") && whole.startsWith(r[1].slice(0, -6))))), "cut " + cut + ": " + JSON.stringify(r));
    }
  });

  it("the fragment a cut leaves is shown as cut", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const log = new ActivityLog(device(flash).store, () => T0);
    log.add("boot", "before");
    flash.cutPowerAt(2); // the line's body (the first write fills the unaligned lead word)
    assert.throws(() => log.add("override", "manager approved a long detail text here"), { code: "POWER_CUT" });
    const r = new ActivityLog(device(flash).store, () => T0).recent(5);
    assert.equal(r.length, 2);
    assert.ok(r[0].startsWith("2026-11-23 08:40 override manager"), r[0]);
    assert.ok(r[0].endsWith(" [cut]"), r[0]);
  });

  it("writes ASCII only, cuts long details to 60 characters", () => {
    const { store } = device(new Flash({ size: 64 * 1024 }));
    const log = new ActivityLog(store, () => T0);
    log.add("error", "caf\u00e9 ~ \n" + "x".repeat(100));
    const line = log.recent(1)[0];
    assert.equal(line, "2026-11-23 08:40 error caf? ? ?" + "x".repeat(52));
  });
});
