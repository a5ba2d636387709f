/**
 * The record log (firmware/record-log.ts) unit by unit: the record's bytes, where the next record goes (`end`) for
 * each way a file can end (blank, torn, full to the byte, a header claiming bytes past the end), which file is
 * current when a cut turnover left two, and the write checks (bytes not erased, a write that reads back wrong).
 * Each case was a fault (a mutant) that record-log.test.ts and the deny-list tests let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import type { FileStore } from "../../hal/storage.ts";
import { encodeRecord, RecordLog, recordBytes } from "../../firmware/record-log.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { flashStore } from "../update/helpers.ts";

const NAMES = ["t.a", "t.b"];
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

function store(): FileStore {
  return flashStore(new Flash({ size: 64 * 1024 }));
}

/** A file `name` of `size` bytes holding `parts` one after the other (the rest erased, 0xFF). */
function file(st: FileStore, name: string, size: number, ...parts: Uint8Array[]): void {
  const b = new Uint8Array(size).fill(255);
  let o = 0;
  for (const p of parts) {
    b.set(p, o);
    o += p.length;
  }
  assert.ok(st.write(name, b, 0, size));
}

function loaded(st: FileStore, min = 4096): { log: RecordLog; recs: string[] } {
  const log = new RecordLog(st, NAMES, min);
  const recs: string[] = [];
  log.load((t, g, d, at) => recs.push(t + ":" + g + ":" + text(d) + "@" + at));
  return { log, recs };
}

describe("record log: the record", () => {
  it("is type, ~type, length, generation, data, Adler-32, padded with 0xFF to a multiple of 4", () => {
    assert.deepEqual([...encodeRecord(0x12, 0x01020304, bytes("A"))], [0x12, 0xed, 0, 1, 1, 2, 3, 4, 0x41, 0x08, 0x78, 0x01, 0x4c, 255, 255, 255]);
    // Adler-32 (RFC 1950 section 8.2) of the 9 bytes before it, by hand: a = 1 + 331 = 0x14c; s = the sum of a after
    // each byte, 19 + 256 + 256 + 257 + 258 + 260 + 263 + 267 + 332 = 2168 = 0x878
    for (let len = 0; len < 10; len++) assert.equal(recordBytes(len), encodeRecord(1, 1, new Uint8Array(len)).length, "len " + len);
  });
});

describe("record log: where the next record goes", () => {
  it("a log never loaded, or with no file, has no current file and takes no record in place", () => {
    const st = store();
    const fresh = new RecordLog(st, NAMES, 4096);
    assert.deepEqual([fresh.file, fresh.end, fresh.gen, fresh.size], [-1, -1, 0, 0]);
    assert.equal(fresh.bytes(), undefined);
    fresh.load();
    assert.deepEqual([fresh.file, fresh.end, fresh.gen, fresh.size], [-1, -1, 0, 0]);
    // a first append without load creates the first name and erases nothing else
    file(st, "t.b", 64);
    assert.ok(new RecordLog(st, NAMES, 4096).append(1, 1, bytes("x")));
    assert.deepEqual(loaded(st).recs, ["1:1:x@0"]);
    assert.ok(st.read("t.b"), "t.b is not erased by a log that never loaded it");
  });

  it("a log file created but holding no valid record is not current", () => {
    const st = store();
    file(st, "t.b", 64);
    const { log } = loaded(st);
    assert.deepEqual([log.file, log.end, log.gen], [-1, -1, 0]);
    assert.ok(log.append(1, 1, bytes("one")));
    assert.equal(log.file, 0, "the first record starts the first name");
  });

  it("bytes() is the current file, also when it is the first name", () => {
    const st = store();
    const { log } = loaded(st);
    assert.ok(log.append(1, 1, bytes("one")));
    assert.deepEqual(log.bytes(), st.read("t.a"));
    const again = loaded(st).log;
    assert.equal(again.file, 0);
    assert.deepEqual(again.bytes(), st.read("t.a"));
  });

  it("appends one after the other with the same log, each at the end of the one before", () => {
    const st = store();
    const { log } = loaded(st);
    for (const s of ["one", "two", "three"]) assert.ok(log.append(1, log.gen + 1, bytes(s)));
    assert.equal(log.end, 16 + 16 + 20);
    assert.deepEqual(loaded(st).recs, ["1:1:one@0", "1:2:two@16", "1:3:three@32"]);
    assert.deepEqual(st.list("t."), ["t.a"]);
  });

  it("reads records of type 0 and 255 (a header byte 0xFF is not erased flash when its complement is right)", () => {
    const st = store();
    file(st, "t.a", 64, encodeRecord(0, 1, bytes("zero")), encodeRecord(255, 2, bytes("full")));
    const { log, recs } = loaded(st);
    assert.deepEqual(recs, ["0:1:zero@0", "255:2:full@16"]);
    assert.equal(log.end, 32);
  });

  it("a file full to its last byte: every record read, end at the size, the next record turns over", () => {
    const st = store();
    // the second record's checksum ends at the file's last byte (no padding)
    file(st, "t.a", 32, encodeRecord(1, 1, bytes("one")), encodeRecord(1, 2, bytes("twoo")));
    const { log, recs } = loaded(st);
    assert.deepEqual(recs, ["1:1:one@0", "1:2:twoo@16"]);
    assert.equal(log.end, 32);
    assert.ok(log.append(1, 3, bytes("3")));
    assert.deepEqual(st.list("t."), ["t.b"]);
  });

  it("a record that fills the file's last bytes exactly is written in place", () => {
    const st = store();
    file(st, "t.a", 32, encodeRecord(1, 1, bytes("one")));
    const { log } = loaded(st);
    assert.ok(log.append(1, 2, bytes("two")));
    assert.deepEqual(st.list("t."), ["t.a"]);
    assert.deepEqual(loaded(st).recs, ["1:1:one@0", "1:2:two@16"]);
  });

  it("a file whose size is not a multiple of 4, with a record padded past its end: no place for the next", () => {
    const st = store();
    file(st, "t.a", 30, encodeRecord(1, 1, bytes("one")), encodeRecord(1, 2, bytes("A")).subarray(0, 13));
    const { log, recs } = loaded(st);
    assert.deepEqual(recs, ["1:1:one@0", "1:2:A@16"]);
    assert.equal(log.end, -1);
  });

  it("the last 12 bytes of a file holding neither erased bytes nor a record: no place for the next", () => {
    const st = store();
    file(st, "t.a", 28, encodeRecord(1, 1, bytes("one")), new Uint8Array(12).fill(0x33));
    assert.equal(loaded(st).log.end, -1);
  });

  it("a torn header: erased type bytes but written bytes after them, or a wrong complement, or a length past the end", () => {
    const rec = encodeRecord(1, 1, bytes("one"));
    const tails: Array<[string, number[]]> = [
      ["FF FF then written bytes", [255, 255, 0, 1, 0, 0, 0, 2]],
      ["FF FF, length, then a written gen byte", [255, 255, 255, 255, 255, 255, 255, 0]],
      ["a complement that is not", [0x12, 0x00, 0x00, 0x01, 0, 0, 0, 2]],
      ["a length past the end", [1, 0xfe, 0x10, 0x00, 0, 0, 0, 2]],
    ];
    for (const [what, tail] of tails) {
      const st = store();
      file(st, "t.a", 64, rec, new Uint8Array(tail));
      const { log, recs } = loaded(st);
      assert.deepEqual(recs, ["1:1:one@0"], what);
      assert.equal(log.end, -1, what);
      assert.equal(log.gen, 1, what);
    }
  });

  it("an erased header followed by bytes that are not erased: the place is there, but the append checks and turns over", () => {
    const st = store();
    const junk = new Uint8Array(12).fill(255);
    junk[8] = 0; // the 9th byte of the blank header's place
    file(st, "t.a", 64, encodeRecord(1, 1, bytes("one")), junk);
    const { log } = loaded(st);
    assert.equal(log.end, 16);
    assert.ok(log.append(1, 2, bytes("two")));
    assert.deepEqual(st.list("t."), ["t.b"], "not written over bytes that are not erased");
    assert.deepEqual(loaded(st).recs, ["1:2:two@0"]);
  });

  it("the generation is the highest valid one, whatever the order of the records", () => {
    const st = store();
    file(st, "t.a", 64, encodeRecord(1, 5, bytes("five")), encodeRecord(1, 3, bytes("three")));
    assert.equal(loaded(st).log.gen, 5);
  });

  it("with both files there (a turnover cut before the old one was erased), only the newer file's records are given", () => {
    for (const [older, newer] of [
      ["t.a", "t.b"],
      ["t.b", "t.a"],
    ]) {
      const st = store();
      file(st, older, 64, encodeRecord(1, 1, bytes("old1")), encodeRecord(1, 2, bytes("old2")));
      file(st, newer, 64, encodeRecord(9, 3, bytes("whole")));
      const { log, recs } = loaded(st);
      assert.deepEqual(recs, ["9:3:whole@0"], newer + " newer");
      assert.equal(log.file, NAMES.indexOf(newer));
    }
  });
});

describe("record log: turnover and write checks", () => {
  it("a turnover file is the minimum size when the record is half of it, bigger only beyond", () => {
    const st = store();
    const half = new RecordLog(st, NAMES, 4096);
    half.load();
    assert.ok(half.append(1, 1, new Uint8Array(2048 - 12)));
    assert.equal(half.size, 4096);
    assert.equal(st.read("t.a")!.length, 4096);
    const st2 = store();
    const more = new RecordLog(st2, NAMES, 4096);
    more.load();
    assert.ok(more.append(1, 1, new Uint8Array(2052 - 12)));
    assert.equal(more.size, 8192);
  });

  /** The store, with writes that report success but leave other bytes, or reads that lose the file. */
  function lying(mode: "flip" | "lose" | "short") {
    const st = store();
    // armed: the next write's bytes read back wrong (reads before it, such as the check that the place is erased, are right)
    let armed = false;
    let lie = false;
    const s: FileStore = {
      ...st,
      write: (n, d, o, size) => {
        if (armed) lie = true;
        return st.write(n, d, o, size);
      },
      read: (n, o, l) => {
        const r = st.read(n, o, l);
        if (!lie || !r || l === 1) return r;
        if (mode === "lose") return undefined;
        if (mode === "short") return r.subarray(0, r.length - 1);
        const c = new Uint8Array(r);
        c[c.length - 1] ^= 1;
        return c;
      },
    };
    return { s, st, arm: () => (armed = true) };
  }

  it("an append in place whose bytes do not read back as written is refused (false)", () => {
    for (const mode of ["flip", "lose", "short"] as const) {
      const { s, arm } = lying(mode);
      const log = new RecordLog(s, NAMES, 4096);
      log.load();
      assert.ok(log.append(1, 1, bytes("one")));
      const was = { end: log.end, gen: log.gen };
      arm();
      assert.equal(log.append(1, 2, bytes("two")), false, mode);
      assert.deepEqual({ end: log.end, gen: log.gen }, was, mode + ": the log still points after the last good record");
    }
  });

  it("a turnover whose new file does not read back as written is refused (false), keeping the current file", () => {
    for (const mode of ["flip", "lose", "short"] as const) {
      const { s, st, arm } = lying(mode);
      file(st, "t.a", 16, encodeRecord(1, 1, bytes("one")));
      const log = new RecordLog(s, NAMES, 4096);
      log.load();
      arm();
      assert.equal(log.append(1, 2, bytes("two")), false, mode);
      assert.ok(st.read("t.a"), mode + ": the current file is kept");
      assert.equal(log.file, 0, mode);
    }
  });
});
