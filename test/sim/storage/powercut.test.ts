import assert from "node:assert/strict";
import { Flash, isPowerCut } from "../../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../../sim/espruino/storage.ts";

const content = (seed: number, n: number) =>
  String.fromCharCode(...Array.from({ length: n }, (_, k) => 32 + ((seed * 7 + k) % 90)));

function fresh(): { flash: Flash; s: EspruinoStorage } {
  const flash = new Flash({ size: 64 * 1024 });
  const s = new EspruinoStorage(flash);
  s.boot();
  return { flash, s };
}

/** Power back on: a new Storage over the same flash, after Espruino's boot check. */
function reboot(flash: Flash): EspruinoStorage {
  const s = new EspruinoStorage(flash);
  s.boot();
  return s;
}

/**
 * Run `action` once uncut to count its flash operations, then once per cut point on a fresh
 * setup, calling `check` with the rebooted storage. Returns how many cut points were swept.
 */
function sweep(
  setup: () => { flash: Flash; s: EspruinoStorage },
  action: (s: EspruinoStorage) => void,
  check: (after: EspruinoStorage, cutAt: number) => void,
): number {
  const probe = setup();
  const before = probe.flash.ops;
  action(probe.s);
  const total = probe.flash.ops - before;
  assert.ok(total > 0, "the action must touch the flash");
  for (let n = 1; n <= total; n++) {
    const { flash, s } = setup();
    flash.cutPowerAt(n);
    assert.throws(() => action(s), isPowerCut, `cut point ${n} must interrupt the action`);
    check(reboot(flash), n);
  }
  return total;
}

describe("sim/espruino Storage: power cuts and the boot check", () => {
  it("boot keeps intact storage", () => {
    const { flash, s } = fresh();
    s.write("a", "1");
    s.erase("a");
    s.write("b", "2");
    const after = reboot(flash);
    assert.equal(after.lastBootWiped, false);
    assert.deepEqual(after.list(), ["b"]);
  });

  it("boot keeps storage that is filled exactly to the end", () => {
    const { flash, s } = fresh();
    s.write("a", "1");
    s.write("rest", "z", 0, s.getFree() - 32);
    assert.equal(s.getFree(), 0);
    assert.equal(reboot(flash).lastBootWiped, false);
  });

  it("a damaged header at boot makes Espruino erase all of Storage", () => {
    const { flash, s } = fresh();
    s.write("a", "first");
    s.write("b", "second");
    flash.write(0, new Uint8Array(4)); // size word of the first header -> 0
    const after = reboot(flash);
    assert.equal(after.lastBootWiped, true);
    assert.ok(flash.bytes.every((b) => b === 0xff));
    assert.deepEqual(after.list(), []);
  });

  it("a blank first page with data behind it makes boot erase everything", () => {
    const { flash, s } = fresh();
    s.write("a", content(1, 5000)); // runs into page 1
    s.write("b", "x");
    flash.erasePage(0);
    const after = reboot(flash);
    assert.equal(after.lastBootWiped, true);
    assert.ok(flash.bytes.every((b) => b === 0xff));
  });

  it("a cut after the old copy is marked but before the new one is written loses the file", () => {
    const { flash, s } = fresh();
    s.write("cfg", "old settings");
    s.write("other", "kept");
    flash.cutPowerAt(2); // 1: mark old copy erased, 2: new header (torn)
    assert.throws(() => s.write("cfg", "new settings"), isPowerCut);
    const after = reboot(flash);
    assert.equal(after.lastBootWiped, false);
    assert.equal(after.read("cfg"), undefined);
    assert.equal(after.read("other"), "kept");
  });

  it("an interrupted overwrite leaves the old file, the new file or none, never a mix", () => {
    const setup = () => {
      const r = fresh();
      r.s.write("cfg", content(1, 300));
      r.s.write("other", content(2, 100));
      return r;
    };
    const outcomes = new Set<string>();
    sweep(setup, (s) => s.write("cfg", content(3, 301)), (after, n) => {
      assert.equal(after.lastBootWiped, false, `cut ${n}`);
      assert.equal(after.read("other"), content(2, 100), `cut ${n}`);
      const cfg = after.read("cfg");
      if (cfg === undefined) outcomes.add("none");
      else if (cfg === content(3, 301)) outcomes.add("new");
      else if (cfg.startsWith(content(3, 301).slice(0, 150)) && cfg.endsWith("\xFF")) outcomes.add("new, torn data");
      else assert.fail(`cut ${n}: unexpected cfg ${JSON.stringify(cfg.slice(0, 20))}`);
    });
    assert.ok(outcomes.has("none"));
  });

  it("a cut during compact() can make the next boot wipe all of Storage", () => {
    const setup = () => {
      const r = fresh();
      r.s.write("old", content(99, 20000));
      for (let i = 0; i < 10; i++) r.s.write("f" + i, content(i, 3000));
      r.s.erase("old");
      return r;
    };
    let wiped = 0;
    const total = sweep(setup, (s) => s.compact(), (after) => {
      if (after.lastBootWiped) {
        wiped++;
        assert.deepEqual(after.list(), []);
      }
    });
    assert.ok(wiped > 0, "some cut point must wipe Storage");
    assert.ok(wiped < total, "a cut at the very end must not wipe");
  });

  it("a cut during a write that triggers automatic compaction can wipe all of Storage", () => {
    const setup = () => {
      const r = fresh();
      for (let i = 0; i < 14; i++) r.s.write("f" + i, content(i, 4000));
      r.s.erase("f3");
      r.s.erase("f7");
      return r;
    };
    let wiped = 0;
    sweep(setup, (s) => s.write("new", content(50, 12000)), (after) => {
      if (after.lastBootWiped) wiped++;
    });
    assert.ok(wiped > 0);
  });

  it("appending to a StorageFile never damages other files, whatever the cut point", () => {
    const line = "2026-01-01T00:00:00 sale 1250 EUR ok\n";
    const setup = () => {
      const r = fresh();
      r.s.write("before", content(1, 500));
      r.s.open("log", "w").write(line.repeat(100)); // 3700 of the 4064-byte first chunk
      r.s.write("after", content(2, 500));
      return r;
    };
    const appends = (s: EspruinoStorage) => {
      const f = s.open("log", "a");
      for (let i = 0; i < 30; i++) f.write(line); // crosses into chunk 2
    };
    const full = line.repeat(130);
    const total = sweep(setup, appends, (after, n) => {
      assert.equal(after.lastBootWiped, false, `cut ${n}`);
      assert.equal(after.read("before"), content(1, 500), `cut ${n}`);
      assert.equal(after.read("after"), content(2, 500), `cut ${n}`);
      const r = after.open("log", "r");
      let text = "";
      for (let part = r.read(1000); part !== undefined; part = r.read(1000)) text += part;
      assert.ok(full.startsWith(text) && text.length >= 3700, `cut ${n}: log is not a prefix of what was written`);
    });
    assert.ok(total >= 30);
  });
});
