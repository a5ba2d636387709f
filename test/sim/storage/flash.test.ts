import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Flash, PowerCut, isPowerCut } from "../../../sim/espruino/flash.ts";

describe("sim/espruino Flash (NOR model)", () => {
  it("starts erased: 896 KB of 0xFF in 4096-byte pages by default", () => {
    const f = new Flash();
    assert.equal(f.bytes.length, 896 * 1024);
    assert.equal(f.pageSize, 4096);
    assert.ok(f.bytes.every((b) => b === 0xff));
  });

  it("write only clears bits: the stored byte is old AND new", () => {
    const f = new Flash({ size: 8192 });
    f.write(10, Uint8Array.of(0xf0));
    f.write(10, Uint8Array.of(0x3c));
    assert.equal(f.read(10, 1)[0], 0x30);
  });

  it("erasePage sets exactly the page holding the address back to 0xFF", () => {
    const f = new Flash({ size: 3 * 4096 });
    f.write(0, new Uint8Array(3 * 4096));
    f.erasePage(4096 + 100);
    assert.ok(f.read(4096, 4096).every((b) => b === 0xff));
    assert.ok(f.read(0, 4096).every((b) => b === 0));
    assert.ok(f.read(8192, 4096).every((b) => b === 0));
  });

  it("counts every write and erase in ops", () => {
    const f = new Flash({ size: 8192 });
    f.write(0, new Uint8Array(4));
    f.erasePage(0);
    f.write(4, new Uint8Array(4));
    assert.equal(f.ops, 3);
  });

  it("a cut write stores only its first half (rounded down) and throws PowerCut", () => {
    const f = new Flash({ size: 8192 });
    f.write(0, new Uint8Array(4)); // before arming: not counted for the cut
    f.cutPowerAt(2);
    f.write(100, new Uint8Array(8)); // 1st: whole
    assert.throws(() => f.write(200, new Uint8Array(7)), (e: unknown) => e instanceof PowerCut && isPowerCut(e));
    assert.deepEqual(Array.from(f.read(200, 8)), [0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert.ok(f.read(100, 8).every((b) => b === 0));
  });

  it("a cut erase leaves the second half of the page with its old contents", () => {
    const f = new Flash({ size: 8192 });
    f.write(0, new Uint8Array(4096));
    f.cutPowerAt(1);
    assert.throws(() => f.erasePage(0), (e: unknown) => isPowerCut(e) && (e as PowerCut).code === "POWER_CUT");
    assert.ok(f.read(0, 2048).every((b) => b === 0xff));
    assert.ok(f.read(2048, 2048).every((b) => b === 0));
  });

  it("the cut fires once; later operations work again", () => {
    const f = new Flash({ size: 8192 });
    f.cutPowerAt(1);
    assert.throws(() => f.write(0, Uint8Array.of(0, 0)), isPowerCut);
    f.write(8, Uint8Array.of(0, 0));
    assert.deepEqual(Array.from(f.read(8, 2)), [0, 0]);
  });

  it("isPowerCut recognises the error by its code (works across realms)", () => {
    assert.equal(isPowerCut({ code: "POWER_CUT" }), true);
    assert.equal(isPowerCut(new Error("x")), false);
    assert.equal(isPowerCut(undefined), false);
  });

  it("save and load round-trip the image through a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-"));
    try {
      const f = new Flash({ size: 8192 });
      f.write(5, Uint8Array.of(1, 2, 3));
      f.save(join(dir, "img.bin"));
      const g = Flash.load(join(dir, "img.bin"));
      assert.equal(g.size, 8192);
      assert.deepEqual(g.bytes, f.bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects accesses outside the chip", () => {
    const f = new Flash({ size: 4096 });
    assert.throws(() => f.write(4095, new Uint8Array(2)), RangeError);
    assert.throws(() => f.read(-1, 1), RangeError);
  });
});
