/** The record log in pre-sized Storage files (firmware/record-log.ts), on the simulator's Espruino Storage. */
import assert from "node:assert/strict";
import { encodeRecord, RecordLog } from "../../firmware/record-log.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { flashStore } from "../update/helpers.ts";

const NAMES = ["t.a", "t.b"];
const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const text = (b: Uint8Array) => Buffer.from(b).toString();

function records(flash: Flash): string[] {
  const out: string[] = [];
  new RecordLog(flashStore(flash), NAMES, 4096).load((type, gen, data) => out.push(type + ":" + gen + ":" + text(data)));
  return out;
}

function append(flash: Flash, s: string): boolean {
  const log = new RecordLog(flashStore(flash), NAMES, 4096);
  log.load();
  return log.append(1, log.gen + 1, bytes(s));
}

describe("record log (firmware/record-log.ts)", () => {
  it("gives back every record in order with its generation, from one pre-sized file", () => {
    const flash = new Flash({ size: 64 * 1024 });
    for (const s of ["one", "two", "three"]) assert.ok(append(flash, s));
    assert.deepEqual(records(flash), ["1:1:one", "1:2:two", "1:3:three"]);
    assert.deepEqual(flashStore(flash).list("t."), ["t.a"]);
    assert.equal(flashStore(flash).read("t.a")!.length, 4096);
  });

  it("skips a record whose checksum fails and goes on after it", () => {
    const flash = new Flash({ size: 64 * 1024 });
    append(flash, "one");
    append(flash, "two");
    // clear a bit in "two" (bits can only go 1 -> 0, as a torn or disturbed write would)
    const s = flashStore(flash);
    const b = s.read("t.a")!;
    const at = encodeRecord(1, 1, bytes("one")).length + 8;
    const file = new Uint8Array(b);
    file[at] &= file[at] - 1; // its lowest set bit cleared
    const copy = new Flash({ size: 64 * 1024 });
    flashStore(copy).write("t.a", file.subarray(0, at + 16), 0, 4096);
    assert.deepEqual(records(copy), ["1:1:one"]);
    assert.ok(append(copy, "three"));
    assert.deepEqual(records(copy), ["1:1:one", "1:2:three"], "the next generation is above the valid ones");
  });

  it("turns over to the other file when the tail of the current one cannot be read (a torn header)", () => {
    const flash = new Flash({ size: 64 * 1024 });
    append(flash, "one");
    const end = encodeRecord(1, 1, bytes("one")).length;
    flashStore(flash).write("t.a", new Uint8Array([0x12, 0x00, 0x34, 0x56]), end); // not a header, not erased
    assert.deepEqual(records(flash), ["1:1:one"]);
    assert.ok(append(flash, "two"));
    assert.deepEqual(flashStore(flash).list("t."), ["t.b"]);
    assert.deepEqual(records(flash), ["1:2:two"]);
  });

  it("turns over when the next record does not fit, with the whole value given for it", () => {
    const flash = new Flash({ size: 64 * 1024 });
    let n = 0;
    const s = flashStore(flash);
    for (;;) {
      const log = new RecordLog(s, NAMES, 4096);
      log.load();
      assert.ok(log.append(2, log.gen + 1, new Uint8Array(100).fill(n & 255), { type: 9, data: bytes("whole " + n) }));
      n++;
      if (s.list("t.")[0] === "t.b") break;
      assert.ok(n < 100);
    }
    // the first write found no file: it created one with the whole value (20 bytes), then 36 records of 112 bytes fit
    assert.equal(n, 1 + Math.floor((4096 - 20) / 112) + 1);
    assert.deepEqual(records(flash), ["9:" + n + ":whole " + (n - 1)]);
    assert.equal(s.stats().trashBytes, 4096 + 32);
  });

  it("refuses (false) a turnover Storage has no room for, keeping the current file", () => {
    const flash = new Flash({ size: 16 * 1024 });
    const s = flashStore(flash);
    for (let i = 0; i < 36; i++) assert.ok(append(flash, "x".repeat(100)));
    s.write("filler", new Uint8Array(s.stats().freeBytes - 64));
    const binding = { ...s, write: (name: string, data: Uint8Array, offset?: number, size?: number) => (offset ? s.write(name, data, offset) : s.stats().freeBytes >= (size ?? data.length) + 36 + 4096 && s.write(name, data, offset, size)) };
    const log = new RecordLog(binding, NAMES, 4096);
    log.load();
    assert.equal(log.append(1, log.gen + 1, bytes("y".repeat(100))), false);
    assert.deepEqual(s.list("t."), ["t.a"]);
    assert.equal(records(flash).length, 36);
  });
});
