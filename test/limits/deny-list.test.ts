import assert from "node:assert/strict";
import { DENY_FILES, DENY_LOG_BYTES, denyListFromBytes, denyListFromHex, denyListHas, denyListHasHex, loadDenyList, saveDenyList } from "../../firmware/app/limits.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
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

  it("a save writes only what changed, in place into the pre-sized file: no new file, nothing to compact", () => {
    const flash = new Flash({ size: 128 * 1024 });
    const store = flashStore(flash);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(hex(id(i)));
    assert.ok(saveDenyList(store, denyListFromHex(ids, 1)));
    const before = store.stats();
    const used = (): number => {
      const b = store.read("deny.a")!;
      let n = b.length;
      while (n > 0 && b[n - 1] === 255) n--;
      return n;
    };
    const first = used();
    // one wallet added, one removed
    ids.push(hex(id(500)));
    ids.shift();
    assert.ok(saveDenyList(store, denyListFromHex(ids, 2)));
    assert.deepEqual(store.list("deny."), ["deny.a"]);
    assert.equal(store.stats().freeBytes, before.freeBytes);
    assert.equal(store.stats().trashBytes, 0);
    assert.ok(used() - first <= 12 + 4 + 2 * 8 + 3, "the record holds the two changed IDs: " + (used() - first) + " bytes");
    const d = loadDenyList(flashStore(flash));
    assert.equal(d.version, 2);
    assert.equal(d.count, 200);
    assert.ok(denyListHas(d, id(500)));
    assert.equal(denyListHas(d, id(0)), false);
    for (let i = 1; i < 200; i++) assert.ok(denyListHas(d, id(i)), "id " + i);
  });

  it("replays many changes to the same list the gateway sent, in order", () => {
    const flash = new Flash({ size: 256 * 1024 });
    const store = flashStore(flash);
    const held = new Set<number>();
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let v = 1; v <= 300; v++) {
      for (let k = rnd(6); k > 0; k--) {
        const w = rnd(400);
        if (held.has(w)) held.delete(w);
        else held.add(w);
      }
      assert.ok(saveDenyList(store, denyListFromHex([...held].map((w) => hex(id(w))), v)), "save " + v);
      if (v % 50 === 0 || v === 300) {
        const d = loadDenyList(flashStore(flash));
        assert.equal(d.version, v);
        assert.equal(d.count, held.size, "count at " + v);
        for (let w = 0; w < 400; w++) assert.equal(denyListHas(d, id(w)), held.has(w), "wallet " + w + " at " + v);
      }
    }
  });

  it("a full log turns over to the other file with the whole list, then erases the full one", () => {
    const flash = new Flash({ size: 256 * 1024 });
    const store = flashStore(flash);
    const ids: string[] = [];
    let v = 0;
    while (store.list("deny.")[0] !== "deny.b") {
      ids.push(hex(id(v)));
      assert.ok(saveDenyList(store, denyListFromHex(ids, ++v)));
      assert.ok(v < 5000);
    }
    assert.deepEqual(store.list("deny."), ["deny.b"]);
    assert.equal(store.stats().trashBytes, DENY_LOG_BYTES + 32, "the full file is the one thing left to compact");
    const d = loadDenyList(flashStore(flash));
    assert.equal(d.count, v);
    assert.equal(d.version, v);
  });

  it("reads the list older firmware saved (deny.0/deny.1) and replaces those files at the next save", () => {
    const flash = new Flash({ size: 64 * 1024 });
    const store = flashStore(flash);
    const b = new Uint8Array(12 + 8 + 4);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 3); // gen
    dv.setUint32(4, 41); // version
    dv.setUint32(8, 1); // count
    b.set(id(9), 12);
    let a = 1;
    let s2 = 0;
    for (let i = 0; i < 20; i++) {
      a = (a + b[i]) % 65521;
      s2 = (s2 + a) % 65521;
    }
    dv.setUint32(20, s2 * 65536 + a);
    store.write(DENY_FILES[1], b);
    const d = loadDenyList(store);
    assert.equal(d.version, 41);
    assert.ok(denyListHas(d, id(9)));
    assert.ok(saveDenyList(store, denyListFromHex([hex(id(9)), hex(id(10))], 42)));
    assert.deepEqual(store.list("deny."), ["deny.a"]);
    const e = loadDenyList(flashStore(flash));
    assert.equal(e.version, 42);
    assert.ok(denyListHas(e, id(9)) && denyListHas(e, id(10)));
  });

  /**
   * Cuts power at every flash operation of one save on copies of `base` (whose list is `old`), and checks the
   * old or the new list is whole after a power-on, the other file `keep` is intact, and the next save works.
   */
  function sweep(base: Flash, old: string[], next: string[], version: number): Set<number> {
    const probe = new Flash({ image: base.bytes, pageSize: base.pageSize });
    const start = probe.ops;
    assert.ok(saveDenyList(flashStore(probe), denyListFromHex(next, version)));
    const total = probe.ops - start;
    const seen = new Set<number>();
    for (let cut = 1; cut <= total; cut++) {
      const flash = new Flash({ image: base.bytes, pageSize: base.pageSize });
      const store = flashStore(flash);
      flash.cutPowerAt(cut);
      assert.throws(() => saveDenyList(store, denyListFromHex(next, version)), (e: unknown) => (e as { code?: string }).code === "POWER_CUT", "cut " + cut);
      flash.cutPowerAt(null);
      new EspruinoStorage(flash).boot();
      const d = loadDenyList(flashStore(flash));
      const want = d.version === version ? next : old;
      assert.ok(d.version === version || d.version === version - 1, "cut " + cut + ": version " + d.version);
      assert.equal(d.count, want.length, "cut " + cut);
      for (const h of want) assert.ok(denyListHasHex(d, h), "cut " + cut + ": " + h);
      seen.add(d.version);
      assert.equal(Buffer.from(flashStore(flash).read("keep")!).toString(), "intact", "cut " + cut);
      assert.ok(saveDenyList(flashStore(flash), denyListFromHex(old, version + 1)), "save after cut " + cut);
      assert.equal(loadDenyList(flashStore(flash)).count, old.length);
    }
    return seen;
  }

  it("a power cut at any flash operation of a save (in place) leaves the old or the new list whole", () => {
    const flash = new Flash({ size: 128 * 1024 });
    const store = flashStore(flash);
    store.write("keep", new Uint8Array(Buffer.from("intact")));
    const old = ["0102030405060708", "3132333435363738"];
    saveDenyList(store, denyListFromHex(["0102030405060708"], 1));
    saveDenyList(store, denyListFromHex(old, 2));
    const seen = sweep(flash, old, ["1112131415161718", "2122232425262728", "3132333435363738"], 3);
    assert.ok(seen.has(2));
  });

  it("a power cut at any flash operation of a turnover leaves the old or the new list whole", () => {
    const flash = new Flash({ size: 256 * 1024 });
    const store = flashStore(flash);
    store.write("keep", new Uint8Array(Buffer.from("intact")));
    const ids: string[] = [];
    let v = 0;
    for (;;) {
      const probe = new Flash({ image: flash.bytes, pageSize: flash.pageSize });
      assert.ok(saveDenyList(flashStore(probe), denyListFromHex(ids.concat([hex(id(v))]), v + 1)));
      if (flashStore(probe).list("deny.").indexOf("deny.b") >= 0) break;
      ids.push(hex(id(v)));
      assert.ok(saveDenyList(store, denyListFromHex(ids, ++v)));
    }
    const seen = sweep(flash, ids, ids.concat([hex(id(v))]), v + 1);
    assert.deepEqual([...seen].sort(), [v, v + 1], "the sweep saw both outcomes");
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

// ---------------------------------------------------------------------------------------------------------------
// The saved file, byte by byte (firmware/app/limits.ts: gen u32 | version u32 | count u32 | ids | Adler-32 u32,
// big-endian). Adler-32 as RFC 1950 section 8.2 defines it, written here independently of the product's.

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return (s * 65536 + a) >>> 0;
}

/** A deny-list file as the device writes it, with a right checksum unless `checksum` is given. */
function denyFile(gen: number, version: number, ids: string[], checksum?: number): Uint8Array {
  const n = 12 + ids.length * 8;
  const b = new Uint8Array(n + 4);
  const v = new DataView(b.buffer);
  v.setUint32(0, gen);
  v.setUint32(4, version);
  v.setUint32(8, ids.length);
  ids.forEach((h, i) => b.set(Buffer.from(h, "hex"), 12 + i * 8));
  v.setUint32(n, checksum ?? adler32(b.subarray(0, n)));
  return b;
}

/** A FileStore that fails loudly on a name that is not a string, and records what was written and erased. */
function strictStore(): { store: ReturnType<typeof flashStore>; ops: string[] } {
  const inner = flashStore(new Flash({ size: 64 * 1024 }));
  const ops: string[] = [];
  const name = (n: unknown) => {
    if (typeof n !== "string") throw new TypeError("file name " + String(n));
    return n;
  };
  const store = {
    ...inner,
    read: (n: string, o?: number, l?: number) => inner.read(name(n), o, l),
    write: (n: string, d: Uint8Array, o?: number, s?: number) => {
      ops.push("write " + name(n));
      return inner.write(n, d, o, s);
    },
    erase: (n: string) => {
      ops.push("erase " + name(n));
      inner.erase(n);
    },
  } as ReturnType<typeof flashStore>;
  return { store, ops };
}

const A = "0102030405060708";
const B = "1112131415161718";
const C = "2122232425262728";

describe("deny list: sorting and duplicates", () => {
  it("keeps the ID after a duplicate pair (A, A, B keeps B)", () => {
    const d = denyListFromHex([A, A, B], 1);
    assert.equal(d.count, 2);
    assert.equal(hex(d.ids), A + B);
    assert.ok(denyListHasHex(d, B));
  });

  it("drops every repeat wherever it stands (B, A, B, C, A, C, C)", () => {
    const d = denyListFromHex([B, A, B, C, A, C, C], 1);
    assert.equal(hex(d.ids), A + B + C);
    assert.equal(d.count, 3);
  });

  it("sorts and deduplicates any list like a reference sort (seeded random lists of 0 to 60 IDs)", () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let round = 0; round < 300; round++) {
      const ids: string[] = [];
      const len = rnd(61);
      // few distinct byte values so that duplicates and shared prefixes are common
      for (let i = 0; i < len; i++) ids.push(Array.from({ length: 8 }, () => "0" + rnd(3)).join(""));
      const want = [...new Set(ids)].sort();
      const d = denyListFromHex(ids, 1);
      assert.equal(hex(d.ids), want.join(""), "round " + round + ": " + ids.join(","));
      assert.equal(d.count, want.length);
      for (const w of want) assert.ok(denyListHasHex(d, w), w);
    }
  });

  it("says why an ID is refused", () => {
    assert.throws(() => denyListFromHex(["0102"], 1), { code: "DENY_BAD_ID", message: "bad wallet ID in deny list" });
  });

  it("a wallet ID of another length than 8 bytes is never on the list, even when it starts with a listed one", () => {
    const d = denyListFromHex([A, B], 1);
    assert.equal(denyListHas(d, Buffer.from(A + "00", "hex")), false);
    assert.equal(denyListHas(d, Buffer.from(A.slice(0, 14), "hex")), false);
    assert.equal(denyListHasHex(d, A.slice(0, 14)), false);
    assert.equal(denyListHasHex(d, "zz02030405060708"), false);
  });
});

describe("deny list: the saved file", () => {
  it("Adler-32 of this test is RFC 1950's (\"Wikipedia\" gives 0x11E60398)", () => {
    assert.equal(adler32(new TextEncoder().encode("Wikipedia")), 0x11e60398);
  });



  it("each save counts one more generation, in the file and in the list saved", () => {
    const { store } = strictStore();
    for (let g = 1; g <= 4; g++) {
      const d = denyListFromHex([A], g * 10);
      assert.ok(saveDenyList(store, d));
      assert.equal(d.gen, g);
      const loaded = loadDenyList(store);
      assert.equal(loaded.gen, g);
      assert.equal(loaded.version, g * 10);
    }
  });

  it("a damaged byte anywhere in a saved list makes it ignored (its checksum no longer matches)", () => {
    const good = denyFile(3, 9, [A, B]);
    for (let i = 0; i < good.length; i++) {
      const { store } = strictStore();
      const bad = new Uint8Array(good);
      bad[i] ^= 0x10;
      store.write(DENY_FILES[0], bad);
      const d = loadDenyList(store);
      assert.equal(d.count, 0, "byte " + i);
      assert.equal(d.version, 0, "byte " + i);
    }
  });


  it("a file longer than its count says is ignored, even with the checksum right at its place", () => {
    const { store } = strictStore();
    const f = denyFile(3, 9, [A]);
    const longer = new Uint8Array(f.length + 8);
    longer.set(f);
    store.write(DENY_FILES[0], longer);
    assert.equal(loadDenyList(store).version, 0);
  });

  it("a file shorter than a header is ignored", () => {
    const { store } = strictStore();
    store.write(DENY_FILES[0], denyFile(3, 9, []).subarray(0, 15));
    assert.equal(loadDenyList(store).version, 0);
  });





  it("when flash is full the save says so and the old list stays in force", () => {
    const { store } = strictStore();
    assert.ok(saveDenyList(store, denyListFromHex([A], 1)));
    const full = { ...store, write: () => false } as typeof store;
    const d = denyListFromHex([B], 2);
    assert.equal(saveDenyList(full, d), false);
    assert.equal(d.gen, 0);
    const l = loadDenyList(store);
    assert.equal(l.version, 1);
    assert.ok(denyListHasHex(l, A));
  });
});
