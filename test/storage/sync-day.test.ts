/** The day of the last sync as a day map written in place (firmware/sync-day.ts), on the simulator's Storage. */
import assert from "node:assert/strict";
import { loadSyncDay, saveSyncDay, SYNC_DAY_BYTES, SYNC_DAY_FILES } from "../../firmware/sync-day.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { flashStore } from "../update/helpers.ts";

const DAY = 20425; // 2025-12-04

describe("sync day (firmware/sync-day.ts)", () => {
  it("is -1 before any sync and the saved day after a power-on", () => {
    const flash = new Flash({ size: 64 * 1024 });
    assert.equal(loadSyncDay(flashStore(flash)), -1);
    assert.ok(saveSyncDay(flashStore(flash), DAY));
    assert.equal(loadSyncDay(flashStore(flash)), DAY);
  });

  it("writes one byte per day into the pre-sized file: a year of daily syncs makes no file and nothing to compact", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const store = flashStore(flash);
    assert.ok(saveSyncDay(store, DAY));
    const before = store.stats();
    for (let d = DAY + 1; d <= DAY + 365; d++) {
      const ops = flash.ops;
      assert.ok(saveSyncDay(store, d));
      assert.equal(flash.ops - ops, 1, "one flash write on day " + d);
      assert.equal(loadSyncDay(store), d);
    }
    assert.deepEqual(store.list("sync."), [SYNC_DAY_FILES[0]]);
    assert.equal(store.stats().freeBytes, before.freeBytes);
    assert.equal(store.stats().trashBytes, 0);
  });

  it("does nothing for a day not after the saved one", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const store = flashStore(flash);
    saveSyncDay(store, DAY + 5);
    const ops = flash.ops;
    assert.ok(saveSyncDay(store, DAY + 5));
    assert.ok(saveSyncDay(store, DAY + 1));
    assert.equal(flash.ops, ops);
    assert.equal(loadSyncDay(store), DAY + 5);
  });

  it("skips days without a sync and turns over to the other file past the map's 11 years", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const store = flashStore(flash);
    saveSyncDay(store, DAY);
    saveSyncDay(store, DAY + 40);
    assert.equal(loadSyncDay(store), DAY + 40);
    const last = DAY + SYNC_DAY_BYTES - 8 - 1;
    assert.ok(saveSyncDay(store, last));
    assert.deepEqual(store.list("sync."), [SYNC_DAY_FILES[0]]);
    assert.ok(saveSyncDay(store, last + 1));
    assert.deepEqual(store.list("sync."), [SYNC_DAY_FILES[1]]);
    assert.equal(loadSyncDay(flashStore(flash)), last + 1);
  });

  it("reads older firmware's sync.day (decimal text) and moves to the map at the next save", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const store = flashStore(flash);
    store.write("sync.day", new Uint8Array(Buffer.from(String(DAY))));
    assert.equal(loadSyncDay(store), DAY);
    assert.ok(saveSyncDay(store, DAY + 1));
    assert.deepEqual(store.list("sync."), [SYNC_DAY_FILES[1]]);
    assert.equal(loadSyncDay(flashStore(flash)), DAY + 1);
  });

  for (const what of ["in place", "a turnover", "from older firmware's file"]) {
    it("after a power cut at every flash operation of a save (" + what + "), holds the old day or the new one, and other files survive", () => {
      const base = new Flash({ size: 64 * 1024 });
      const s0 = flashStore(base);
      s0.write("keep", new Uint8Array(Buffer.from("intact")));
      const old = DAY;
      if (what === "from older firmware's file") s0.write("sync.day", new Uint8Array(Buffer.from(String(DAY))));
      else saveSyncDay(s0, DAY);
      const next = what === "a turnover" ? DAY + SYNC_DAY_BYTES : DAY + 1;
      const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
      const start = probe.ops;
      assert.ok(saveSyncDay(flashStore(probe), next));
      const total = probe.ops - start;
      assert.ok(total >= 1);
      const seen = new Set<number>();
      for (let cut = 1; cut <= total; cut++) {
        const flash = new Flash({ image: base.bytes, pageSize: base.pageSize });
        flash.cutPowerAt(cut);
        assert.throws(() => saveSyncDay(flashStore(flash), next), (e: unknown) => (e as { code?: string }).code === "POWER_CUT");
        flash.cutPowerAt(null);
        new EspruinoStorage(flash).boot();
        const d = loadSyncDay(flashStore(flash));
        assert.ok(d === old || d === next, "cut " + cut + " of " + total + ": " + d);
        seen.add(d);
        assert.equal(Buffer.from(flashStore(flash).read("keep")!).toString(), "intact", "cut " + cut);
        assert.ok(saveSyncDay(flashStore(flash), next + 1), "save after cut " + cut);
        assert.equal(loadSyncDay(flashStore(flash)), next + 1);
      }
      if (total > 1) assert.deepEqual([...seen].sort(), [old, next]);
    });
  }
});
