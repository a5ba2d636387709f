import assert from "node:assert/strict";
import { DENY_FILES, denyListFromBytes, denyListFromHex, denyListHas, denyListHasHex, loadDenyList, saveDenyList } from "../../firmware/app/limits.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { flashStore } from "../update/helpers.ts";

function id(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(4, n);
  b[0] = n & 0xff;
  return b;
}
function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

describe("deny list", () => {
  it("finds every listed wallet and no other, whatever the input order", () => {
    const ids: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) ids.push(id((i * 7919) % 1000));
    const d = denyListFromHex(ids.map(hex), 3);
    assert.equal(d.count, 300);
    for (let n = 0; n < 1000; n++) {
      const listed = ids.some((b) => hex(b) === hex(id(n)));
      assert.equal(denyListHas(d, id(n)), listed, "id " + n);
    }
  });

  it("keeps its IDs sorted in one Uint8Array", () => {
    const d = denyListFromHex(["ff00000000000000", "0000000000000001", "7f00000000000000"], 1);
    assert.ok(d.ids instanceof Uint8Array);
    assert.equal(hex(d.ids), "0000000000000001" + "7f00000000000000" + "ff00000000000000");
  });

  it("drops duplicate IDs", () => {
    const d = denyListFromHex(["0102030405060708", "0102030405060708", "0000000000000000"], 1);
    assert.equal(d.count, 2);
    assert.ok(denyListHasHex(d, "0102030405060708"));
  });

  it("rejects an ID that is not 16 hex digits with a code", () => {
    assert.throws(() => denyListFromHex(["0102"], 1), { code: "DENY_BAD_ID" });
    assert.throws(() => denyListFromHex(["zz02030405060708"], 1), { code: "DENY_BAD_ID" });
  });

  it("an empty list denies nobody", () => {
    assert.equal(denyListHas(denyListFromBytes(new Uint8Array(0), 0), id(1)), false);
  });

  it("survives a reboot through Storage with its version", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const store = flashStore(flash);
    assert.equal(loadDenyList(store).count, 0);
    assert.ok(saveDenyList(store, denyListFromHex(["0102030405060708", "1112131415161718"], 9)));
    const again = loadDenyList(flashStore(flash));
    assert.equal(again.version, 9);
    assert.ok(denyListHasHex(again, "1112131415161718"));
    assert.equal(denyListHasHex(again, "2122232425262728"), false);
  });

  it("a save writes the other file, then erases the old one", () => {
    const store = flashStore(new Flash({ size: 64 * 1024 }));
    saveDenyList(store, denyListFromHex(["0102030405060708"], 1));
    const first = store.list("deny.");
    saveDenyList(store, denyListFromHex(["1112131415161718"], 2));
    const second = store.list("deny.");
    assert.equal(first.length, 1);
    assert.equal(second.length, 1);
    assert.notEqual(first[0], second[0]);
    assert.equal(loadDenyList(store).version, 2);
  });

  it("a power cut at any point of a save leaves the old or the new list whole", () => {
    for (let cut = 1; cut < 20; cut++) {
      const flash = new Flash({ size: 64 * 1024 });
      const store = flashStore(flash);
      saveDenyList(store, denyListFromHex(["0102030405060708"], 1));
      flash.cutPowerAt(cut);
      try {
        saveDenyList(store, denyListFromHex(["1112131415161718", "2122232425262728"], 2));
      } catch (e) {
        assert.equal((e as { code?: string }).code, "POWER_CUT");
      }
      flash.cutPowerAt(null);
      const d = loadDenyList(flashStore(flash));
      if (d.version === 1) assert.ok(denyListHasHex(d, "0102030405060708"), "cut " + cut);
      else {
        assert.equal(d.version, 2, "cut " + cut);
        assert.ok(denyListHasHex(d, "1112131415161718") && denyListHasHex(d, "2122232425262728"), "cut " + cut);
      }
    }
  });

  it("ignores a file whose checksum does not match", () => {
    const store = flashStore(new Flash({ size: 64 * 1024 }));
    const b = new Uint8Array(24);
    b[3] = 5; // gen 5
    b[11] = 1; // one ID, checksum left 0
    store.write(DENY_FILES[0], b);
    assert.equal(loadDenyList(store).count, 0);
  });
});
