/**
 * The deny list's records in its log and older firmware's files, case by case: which record type a save writes,
 * records a load must skip (a length that is not 4 + 8k, an unknown type), and the newer of two legacy files.
 * Each case was a fault (a mutant) that deny-list.test.ts let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { DENY_FILES, DENY_LOG_BYTES, DENY_LOGS, denyListFromHex, denyListHasHex, loadDenyList, saveDenyList } from "../../firmware/app/limits.ts";
import { adler32, putU32, RecordLog } from "../../firmware/record-log.ts";
import type { FileStore } from "../../hal/storage.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { flashStore } from "../update/helpers.ts";

const A = "0102030405060708";
const B = "1112131415161718";
const C = "2122232425262728";

function store(): FileStore {
  return flashStore(new Flash({ size: 128 * 1024 }));
}

/** The log's records: type and data length. */
function records(st: FileStore): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  new RecordLog(st, DENY_LOGS, DENY_LOG_BYTES).load((t, _g, d) => out.push([t, d.length]));
  return out;
}

/** A record's data: version u32 then the IDs. */
function data(version: number, ids: string[]): Uint8Array {
  const b = new Uint8Array(4 + 8 * ids.length);
  putU32(b, 0, version);
  ids.forEach((h, i) => b.set(Buffer.from(h, "hex"), 4 + 8 * i));
  return b;
}

function append(st: FileStore, type: number, d: Uint8Array): void {
  const log = new RecordLog(st, DENY_LOGS, DENY_LOG_BYTES);
  log.load();
  assert.ok(log.append(type, log.gen + 1, d));
}

/** Older firmware's file: gen | version | count | ids | adler32. */
function legacyFile(gen: number, version: number, ids: string[]): Uint8Array {
  const n = 12 + 8 * ids.length;
  const b = new Uint8Array(n + 4);
  putU32(b, 0, gen);
  putU32(b, 4, version);
  putU32(b, 8, ids.length);
  ids.forEach((h, i) => b.set(Buffer.from(h, "hex"), 12 + 8 * i));
  putU32(b, n, adler32(b, 0, n));
  return b;
}

function ids(st: FileStore): string[] {
  const d = loadDenyList(st);
  return [A, B, C].filter((h) => denyListHasHex(d, h));
}

describe("deny list: its records", () => {
  it("a change smaller than the list is a DELTA; one as big as the list or bigger is a FULL record", () => {
    const st = store();
    assert.ok(saveDenyList(st, denyListFromHex([A, B, C], 1)));
    assert.ok(saveDenyList(st, denyListFromHex([A, B], 2))); // 1 changed of 2: DELTA
    assert.ok(saveDenyList(st, denyListFromHex([A, C], 3))); // 2 changed of 2: FULL
    assert.ok(saveDenyList(st, denyListFromHex([B], 4))); // 3 changed of 1: FULL
    assert.deepEqual(records(st), [
      [1, 28],
      [2, 12],
      [1, 20],
      [1, 12],
    ]);
    assert.deepEqual(ids(st), [B]);
    assert.equal(loadDenyList(st).version, 4);
  });

  it("skips a record whose data is not a version and whole IDs (too short, or a partial ID)", () => {
    const st = store();
    assert.ok(saveDenyList(st, denyListFromHex([A], 5)));
    append(st, 1, new Uint8Array([0, 0])); // a FULL record of 2 bytes
    append(st, 1, data(7, [B]).subarray(0, 11)); // a FULL record with 7 bytes of an ID
    append(st, 2, data(8, [C]).subarray(0, 9)); // a DELTA with 5 bytes of an ID
    const d = loadDenyList(st);
    assert.equal(d.version, 5);
    assert.deepEqual(ids(st), [A]);
  });

  it("skips a record of a type it does not know, and a DELTA before any FULL record", () => {
    const st = store();
    append(st, 2, data(3, [B])); // a DELTA with no list to apply to
    append(st, 1, data(4, [A]));
    append(st, 3, data(9, [C])); // a type of a later firmware
    const d = loadDenyList(st);
    assert.equal(d.version, 4);
    assert.deepEqual(ids(st), [A]);
  });
});

describe("deny list: older firmware's files", () => {
  it("loads the newer generation of two valid files, whichever name holds it", () => {
    for (const [g0, g1, want] of [
      [5, 6, B],
      [6, 5, A],
    ] as const) {
      const st = store();
      st.write(DENY_FILES[0], legacyFile(g0, 10 + g0, [A]));
      st.write(DENY_FILES[1], legacyFile(g1, 10 + g1, [B]));
      assert.deepEqual(ids(st), [want]);
      assert.equal(loadDenyList(st).version, 16);
    }
  });

  it("keeps a valid file when the other is damaged, whichever name is damaged", () => {
    for (const bad of [0, 1]) {
      const st = store();
      const broken = legacyFile(9, 99, [C]);
      broken[13] ^= 1;
      st.write(DENY_FILES[bad], broken);
      st.write(DENY_FILES[1 - bad], legacyFile(3, 33, [A]));
      assert.deepEqual(ids(st), [A], "damaged " + bad);
      assert.equal(loadDenyList(st).version, 33);
    }
  });

  it("an empty list saved by older firmware (16 bytes) keeps its version", () => {
    const st = store();
    st.write(DENY_FILES[0], legacyFile(1, 42, []));
    const d = loadDenyList(st);
    assert.equal(d.count, 0);
    assert.equal(d.version, 42);
  });
});
