import assert from "node:assert/strict";
import { Flash } from "../../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../../sim/espruino/storage.ts";

/** Printable, file-specific content so a misplaced byte shows. */
const content = (seed: number, n: number) =>
  String.fromCharCode(...Array.from({ length: n }, (_, k) => 32 + ((seed * 7 + k) % 90)));

function fresh(): { flash: Flash; s: EspruinoStorage } {
  const flash = new Flash({ size: 64 * 1024 });
  const s = new EspruinoStorage(flash);
  s.boot();
  return { flash, s };
}

/** 20 KB of trash at the start, then ten 3000-byte files spread over the following pages. */
function trashFirst() {
  const r = fresh();
  r.s.write("old", content(99, 20000));
  for (let i = 0; i < 10; i++) r.s.write("f" + i, content(i, 3000));
  r.s.erase("old");
  return r;
}

describe("sim/espruino Storage: compaction", () => {
  it("compact() removes all trash and keeps every live file's content", () => {
    const { s } = trashFirst();
    s.compact();
    const st = s.getStats();
    assert.equal(st.trashCount, 0);
    assert.equal(st.trashBytes, 0);
    assert.equal(st.fileCount, 10);
    for (let i = 0; i < 10; i++) assert.equal(s.read("f" + i), content(i, 3000));
  });

  it("compact() moves live files down in place: the first header is now a live file", () => {
    const { flash, s } = trashFirst();
    const free = s.getFree();
    s.compact();
    assert.equal(String.fromCharCode(flash.bytes[4], flash.bytes[5]), "f0");
    assert.equal(s.getFree(), free + 20032);
  });

  it("compact() erases and rewrites pages through the flash (no hidden copy)", () => {
    const { flash, s } = trashFirst();
    const ops = flash.ops;
    s.compact();
    assert.ok(flash.ops - ops > 16, `expected page erases and writes, got ${flash.ops - ops} ops`);
  });

  it("compact() does nothing when there is no trash", () => {
    const { flash, s } = fresh();
    s.write("a", "1");
    const ops = flash.ops;
    s.compact();
    assert.equal(flash.ops, ops);
    assert.equal(s.compactions, 0);
  });

  it("a write that does not fit compacts automatically and then succeeds", () => {
    const { s } = fresh();
    for (let i = 0; i < 14; i++) s.write("f" + i, content(i, 4000));
    s.erase("f3");
    s.erase("f7");
    assert.ok(s.getFree() < 12000);
    assert.equal(s.write("new", content(50, 12000)), true);
    assert.equal(s.compactions, 1);
    assert.equal(s.getStats().trashCount, 0);
    assert.equal(s.read("new"), content(50, 12000));
    assert.equal(s.read("f13"), content(13, 4000));
  });

  it("does not compact when even free + trash would not be enough, and throws", () => {
    const { s } = fresh();
    for (let i = 0; i < 14; i++) s.write("f" + i, content(i, 4000));
    s.erase("f3");
    assert.throws(() => s.write("huge", content(1, 40000)), /Unable to find or create file/);
    assert.equal(s.compactions, 0);
  });

  it("overwriting a file when there is no room loses the old copy", () => {
    const { s } = fresh();
    s.write("keep", content(1, 30000));
    s.write("big", content(2, 20000));
    assert.throws(() => s.write("big", content(3, 40000)), /Unable to find or create file/);
    assert.equal(s.read("big"), undefined);
    assert.equal(s.read("keep"), content(1, 30000));
  });

  it("a file can start in a page and run on into blank pages after it", () => {
    const { s } = fresh();
    s.write("small", "x");
    s.write("span", content(3, 10000));
    assert.equal(s.read("span"), content(3, 10000));
    assert.equal(s.getStats().fileBytes, 36 + 10032);
  });
});
