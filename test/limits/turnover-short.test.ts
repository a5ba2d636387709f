/**
 * The deny list's log turnover on a small rig: a few big saves fill the 32 KB log (deny-list.test.ts fills it with
 * hundreds of one-ID saves, which takes seconds, too long to run against each mutant; the mutation run takes
 * these instead, docs/mutation.md). The same behaviours: the whole list moves to the other file as one FULL record
 * and the full file is erased; a power cut at any flash operation of the turnover leaves the old or the new list.
 */
import assert from "node:assert/strict";
import { DENY_LOG_BYTES, denyListFromBytes, denyListHas, loadDenyList, saveDenyList } from "../../firmware/app/limits.ts";
import type { DenyList } from "../../firmware/app/limits.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../sim/espruino/storage.ts";
import { flashStore } from "../update/helpers.ts";

/** `n` distinct wallet IDs from `from` on, spread over the ID space (not in order). */
function ids(from: number, n: number): Uint8Array {
  const b = new Uint8Array(n * 8);
  const v = new DataView(b.buffer);
  for (let i = 0; i < n; i++) {
    v.setUint32(i * 8, Math.imul(from + i, 2654435761) >>> 0);
    v.setUint32(i * 8 + 4, from + i);
  }
  return b;
}

const cat = (a: Uint8Array, b: Uint8Array) => new Uint8Array([...a, ...b]);

/** The same list, whole: every ID of `want` and the count. */
function holds(d: DenyList, want: Uint8Array, what: string): void {
  assert.equal(d.count, want.length / 8, what + ": count");
  for (let i = 0; i < want.length; i += 8) assert.ok(denyListHas(d, want.subarray(i, i + 8)), what + ": ID " + i / 8);
}

/** A 32 KB log with 30,432 bytes used: a FULL record of 1,000 IDs and a DELTA of 2,800 more. */
function nearlyFull(): { flash: Flash; list: Uint8Array } {
  const flash = new Flash({ size: 256 * 1024 });
  const store = flashStore(flash);
  store.write("keep", new Uint8Array(Buffer.from("intact")));
  const a = ids(0, 1000);
  assert.ok(saveDenyList(store, denyListFromBytes(a, 1)));
  const b = cat(a, ids(1000, 2800));
  assert.ok(saveDenyList(store, denyListFromBytes(b, 2)));
  assert.deepEqual(store.list("deny."), ["deny.a"]);
  return { flash, list: b };
}

describe("deny list: the log's turnover, on a small rig", () => {
  it("a save that does not fit moves the whole list to the other file and erases the full one", () => {
    const { flash, list } = nearlyFull();
    const store = flashStore(flash);
    const next = cat(list, ids(3800, 300)); // a delta of 300 IDs (2,416 bytes): past the end of the log
    assert.ok(saveDenyList(store, denyListFromBytes(next, 3)));
    assert.deepEqual(store.list("deny."), ["deny.b"]);
    assert.equal(store.stats().trashBytes, DENY_LOG_BYTES + 32, "the full file is the one thing left to compact");
    const d = loadDenyList(flashStore(flash));
    assert.equal(d.version, 3);
    holds(d, next, "after the turnover");
    // and the new file takes deltas in place again
    const after = cat(next, ids(4100, 5));
    assert.ok(saveDenyList(store, denyListFromBytes(after, 4)));
    assert.deepEqual(store.list("deny."), ["deny.b"]);
    holds(loadDenyList(flashStore(flash)), after, "a delta after the turnover");
  });

  it("a power cut at any flash operation of the turnover leaves the old or the new list whole", () => {
    const base = nearlyFull();
    const next = cat(base.list, ids(3800, 300));
    const probe = new Flash({ image: base.flash.bytes, pageSize: base.flash.pageSize });
    const start = probe.ops;
    assert.ok(saveDenyList(flashStore(probe), denyListFromBytes(next, 3)));
    const total = probe.ops - start;
    assert.ok(total >= 2, "a turnover is more than one flash operation: " + total);
    const seen = new Set<number>();
    for (let cut = 1; cut <= total; cut++) {
      const flash = new Flash({ image: base.flash.bytes, pageSize: base.flash.pageSize });
      flash.cutPowerAt(cut);
      assert.throws(() => saveDenyList(flashStore(flash), denyListFromBytes(next, 3)), (e: unknown) => (e as { code?: string }).code === "POWER_CUT", "cut " + cut);
      flash.cutPowerAt(null);
      new EspruinoStorage(flash).boot();
      const d = loadDenyList(flashStore(flash));
      assert.ok(d.version === 2 || d.version === 3, "cut " + cut + ": version " + d.version);
      holds(d, d.version === 3 ? next : base.list, "cut " + cut);
      seen.add(d.version);
      assert.equal(Buffer.from(flashStore(flash).read("keep")!).toString(), "intact", "cut " + cut);
      assert.ok(saveDenyList(flashStore(flash), denyListFromBytes(base.list, 4)), "save after cut " + cut);
      holds(loadDenyList(flashStore(flash)), base.list, "save after cut " + cut);
    }
    assert.deepEqual([...seen].sort(), [2, 3], "the sweep saw both outcomes");
  });
});
