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

  it("fills a pre-sized file at offsets: a line leaves no trash and no new file", () => {
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

  it("stays bounded: one file, turned over to the other name with its newest lines, consecutive and whole", () => {
    const { store } = device(new Flash());
    const log = new ActivityLog(store, () => T0, { fileBytes: 1024, carryBytes: 256 });
    for (let i = 0; i < 500; i++) log.add("sync", "round " + i);
    const files = store.list("act.");
    assert.equal(files.length, 1, files.join(", "));
    assert.equal(store.read(files[0])!.length, 1024);
    const r = log.recent(1000);
    assert.equal(r[0], "2026-11-23 08:40 sync round 499");
    assert.ok(r.length > 6, "kept " + r.length);
    // consecutive, newest first, no gaps, also across the lines carried by the last turnover
    for (let i = 0; i < r.length; i++) assert.equal(r[i], "2026-11-23 08:40 sync round " + (499 - i));
    // and after a restart
    assert.deepEqual(new ActivityLog(store, () => T0, { fileBytes: 1024, carryBytes: 256 }).recent(1000), r);
  });

  it("leaves no trash for a line; a turnover leaves exactly one file's size, and only once the file is full", () => {
    const { store, storage } = device(new Flash());
    const log = new ActivityLog(store, () => T0, { fileBytes: 2048, carryBytes: 256 });
    log.add("boot", "first");
    const s0 = store.stats();
    let turnovers = 0;
    let last = s0;
    for (let i = 0; i < 300; i++) {
      log.add("sync", "round " + i);
      const s = store.stats();
      if (s.trashCount !== last.trashCount) {
        turnovers++;
        assert.equal(s.trashCount, last.trashCount + 1, "one file erased");
        assert.equal(s.freeBytes, last.freeBytes - (s.trashBytes - last.trashBytes), "the new file takes what the old one left");
      } else assert.equal(s.freeBytes, last.freeBytes, "line " + i + " takes no free space");
      last = s;
    }
    // 300 lines of 25-26 bytes (7.7 KB) in 2 KB files that start with up to 256 bytes carried over
    assert.ok(turnovers >= 3 && turnovers <= 4, "turnovers " + turnovers);
    assert.equal(storage.compactions, 0);
  });

  it("holds a year of daily syncs (~25 KB of lines) in its default 32 KB file without a turnover", () => {
    const { store } = device(new Flash());
    let t = T0;
    const log = new ActivityLog(store, () => t);
    log.add("boot", "fw 1.4.0");
    const s0 = store.stats();
    for (let day = 0; day < 365; day++) {
      log.add("connect", "wifi");
      log.add("sync", "ok");
      log.add("disconnect", "wifi");
      t += 86400000;
    }
    const s = store.stats();
    assert.equal(s.freeBytes, s0.freeBytes);
    assert.equal(s.trashBytes, s0.trashBytes);
    assert.equal(log.recent(1)[0].slice(-15), "disconnect wifi");
  });

  it("erases the 1 KB segments of older firmware (act.0..) once its own file exists, and only then", () => {
    const { store } = device(new Flash());
    const head = (g: number) => new Uint8Array(Buffer.from("#" + g + "\n1763887200 boot old\n"));
    for (let i = 0; i < 4; i++) assert.ok(store.write("act." + i, head(i + 1), 0, 1024));
    const log = new ActivityLog(store, () => T0);
    assert.deepEqual(store.list("act.").sort(), ["act.0", "act.1", "act.2", "act.3"]);
    log.add("boot", "new");
    assert.deepEqual(store.list("act."), ["act.a"]);
    assert.deepEqual(log.recent(5), ["2026-11-23 08:40 boot new"]);
  });

  it("survives a power cut at every flash operation of a turnover: old lines or the carried ones, then whole lines", () => {
    const o = { fileBytes: 512, carryBytes: 128 };
    for (let cut = 1; cut <= 40; cut++) {
      const flash = new Flash();
      let n = 0;
      const log = new ActivityLog(device(flash).store, () => T0, o);
      // fill the first file until the long line below cannot fit
      const end = () => device(flash).store.read("act.a")!.indexOf(255);
      do log.add("sync", "round " + n++);
      while (512 - end() >= 30);
      assert.deepEqual(device(flash).store.list("act."), ["act.a"]);
      flash.cutPowerAt(cut);
      let wasCut = false;
      try {
        log.add("sync", "round " + n + " " + "x".repeat(40));
      } catch (e) {
        assert.equal((e as { code?: string }).code, "POWER_CUT", "cut " + cut);
        wasCut = true;
      }
      flash.cutPowerAt(null);
      if (!wasCut) break; // past the last operation of the turnover
      const again = new ActivityLog(device(flash).store, () => T0 + 60000, o);
      again.add("boot", "after");
      const r = again.recent(100);
      assert.equal(r[0], "2026-11-23 08:41 boot after", "cut " + cut);
      // below the newest: the lines before the cut, newest first, consecutive, maybe the cut one (whole or [cut])
      let k = 1;
      if (r[k] && r[k].indexOf("round " + n) >= 0) k++;
      assert.ok(r.length - k >= 3, "cut " + cut + ": " + JSON.stringify(r));
      for (let i = k; i < r.length; i++) assert.equal(r[i], "2026-11-23 08:40 sync round " + (n - 1 - (i - k)), "cut " + cut + ": " + JSON.stringify(r));
      assert.ok(device(flash).store.list("act.").length <= 2);
    }
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
    const log = new ActivityLog(store, () => T0, { fileBytes: 1024, reserveBytes: 4096 });
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
    // the line's body: the first write fills the lead word when the line starts off a word boundary
    const pos = device(flash).store.read("act.a")!.indexOf(255);
    flash.cutPowerAt(pos % 4 ? 2 : 1);
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
