/**
 * The Espruino Storage binding (hal/espruino/storage.ts) over the simulator's Storage, which compacts on its own
 * when a write finds no room, as Espruino does: no firmware write through the binding may ever trigger that.
 */
import assert from "node:assert/strict";
import { storageOver } from "../../hal/espruino/storage.ts";
import type { EspruinoStorageModule } from "../../hal/espruino/storage.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";

function fresh() {
  const flash = new Flash({ size: 64 * 1024 });
  const s = new EspruinoStorage(flash);
  s.boot();
  return { s, fs: storageOver(s as unknown as EspruinoStorageModule) };
}

describe("Espruino Storage binding: no write makes Storage compact", () => {
  it("writes a new file while there is room, and reads it back", () => {
    const { s, fs } = fresh();
    assert.equal(fs.write("deny.a", new Uint8Array([1, 2, 3])), true);
    assert.deepEqual(Array.from(fs.read("deny.a")!), [1, 2, 3]);
    assert.equal(s.compactions, 0);
  });

  it("refuses a new file that Espruino would make room for by compacting, and leaves Storage as it was", () => {
    const { s, fs } = fresh();
    // fill Storage with trash: files written and erased, as settings rewritten day after day leave it
    let i = 0;
    while (s.getStats().freeBytes > 6000) {
      assert.equal(fs.write("t" + (i % 2), new Uint8Array(1500).fill(i & 0xff)), true, "room left at " + s.getStats().freeBytes);
      fs.erase("t" + (i % 2));
      i++;
    }
    assert.ok(s.getStats().trashBytes > 40000, "mostly trash now");
    const before = s.getStats();
    assert.equal(fs.write("big", new Uint8Array(3000)), false, "refused: it would have compacted");
    assert.equal(s.compactions, 0, "Storage never compacted");
    assert.deepEqual(s.getStats(), before);
    assert.equal(fs.write("bigger", new Uint8Array(8000)), false);
    assert.equal(s.compactions, 0);
    // that write straight to Espruino's Storage compacts: what the binding prevents
    assert.equal(s.write("bigger", new Uint8Array(8000)), true);
    assert.equal(s.compactions, 1);
  });

  it("still fills an existing pre-sized file at an offset when Storage is full", () => {
    const { s, fs } = fresh();
    assert.equal(fs.write("seg", new Uint8Array(0), 0, 512), true);
    while (fs.write("pad" + s.getStats().fileCount, new Uint8Array(2000))) {}
    assert.equal(fs.write("seg", new Uint8Array([7, 7]), 100), true);
    assert.deepEqual(Array.from(fs.read("seg", 100, 2)!), [7, 7]);
    assert.equal(s.compactions, 0);
  });
});
