import assert from "node:assert/strict";
import { Flash, isPowerCut } from "../../sim/espruino/flash.ts";
import { createFlashModule } from "../../sim/espruino/flash-module.ts";

const BASE = 0x310000;
const mk = () => {
  const flash = new Flash({ size: 4 * 4096 });
  return { flash, F: createFlashModule(flash, BASE) };
};

describe("sim Flash module (require('Flash'))", () => {
  it("reads a new Uint8Array at an absolute address", () => {
    const { flash, F } = mk();
    flash.write(8, new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual(Array.from(F.read(4, BASE + 8)!), [1, 2, 3, 4]);
  });

  it("returns undefined for a read of length 0", () => {
    assert.equal(mk().F.read(0, BASE), undefined);
  });

  it("write ANDs bits like NOR flash", () => {
    const { F } = mk();
    F.write(new Uint8Array([0xf0, 0x0f, 0xff, 0x00]), BASE);
    F.write(new Uint8Array([0x3c, 0x3c, 0x3c, 0x3c]), BASE);
    assert.deepEqual(Array.from(F.read(4, BASE)!), [0x30, 0x0c, 0x3c, 0x00]);
  });

  it("an aligned write is one flash operation", () => {
    const { flash, F } = mk();
    F.write(new Uint8Array(64).fill(0), BASE + 64);
    assert.equal(flash.ops, 1);
  });

  it("an unaligned write becomes read-modify-write of its edge words (three operations)", () => {
    const { flash, F } = mk();
    F.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), BASE + 2);
    assert.equal(flash.ops, 3);
    assert.deepEqual(Array.from(F.read(12, BASE)!), [0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 0xff, 0xff, 0xff]);
  });

  it("erasePage erases the whole page holding the address", () => {
    const { F } = mk();
    F.write(new Uint8Array(8).fill(0), BASE + 4096);
    F.write(new Uint8Array(4).fill(0), BASE);
    F.erasePage(BASE + 4096 + 100);
    assert.deepEqual(Array.from(F.read(8, BASE + 4096)!), [255, 255, 255, 255, 255, 255, 255, 255]);
    assert.deepEqual(Array.from(F.read(4, BASE)!), [0, 0, 0, 0]);
  });

  it("erasePage throws for a non-integer address", () => {
    assert.throws(() => mk().F.erasePage("0x310000"), /Address should be an integer/);
  });

  it("throws outside the emulated region", () => {
    assert.throws(() => mk().F.read(4, BASE - 4), RangeError);
    assert.throws(() => mk().F.write(new Uint8Array(4), BASE + 4 * 4096), RangeError);
  });

  it("a power cut tears a write through the module", () => {
    const { flash, F } = mk();
    flash.cutPowerAt(1);
    assert.throws(() => F.write(new Uint8Array(8).fill(0), BASE), isPowerCut);
    assert.deepEqual(Array.from(F.read(8, BASE)!), [0, 0, 0, 0, 255, 255, 255, 255]);
  });

  it("creates its arrays in the given realm", () => {
    class Mine extends Uint8Array {}
    const flash = new Flash({ size: 4096 });
    const F = createFlashModule(flash, BASE, { Uint8Array: Mine as unknown as Uint8ArrayConstructor });
    assert.ok(F.read(4, BASE) instanceof Mine);
  });

  it("getPage gives the page start and length", () => {
    assert.deepEqual(mk().F.getPage(BASE + 5000), { addr: BASE + 4096, length: 4096 });
  });
});
