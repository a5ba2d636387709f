/**
 * The persisted minimum firmware version (firmware/update/min-version.ts), unit by unit: what is read back, what
 * a raise writes (one record appended in place, nothing when not higher), and how records are read whatever their
 * order. Each case was a fault (a mutant) that the install and attack tests let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { ascii } from "../../protocol/codec/hex.ts";
import type { FileStore } from "../../hal/storage.ts";
import { RecordLog } from "../../firmware/record-log.ts";
import { MIN_LOGS, MIN_LOG_BYTES, raiseMinVersion, readMinVersion } from "../../firmware/update/min-version.ts";
import { bytesToText } from "../../firmware/settings.ts";
import { Flash } from "../../sim/espruino/flash.ts";
import { flashStore } from "./helpers.ts";

function store(): FileStore {
  return flashStore(new Flash({ size: 64 * 1024 }));
}

/** Every valid record of the minimum's log: [type, gen, text]. */
function records(st: FileStore): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = [];
  new RecordLog(st, MIN_LOGS, MIN_LOG_BYTES).load((t, g, d) => out.push([t, g, bytesToText(d)]));
  return out;
}

describe("minimum firmware version", () => {
  it("is empty on a factory terminal, then the version raised to", () => {
    const st = store();
    assert.equal(readMinVersion(st), "");
    assert.equal(raiseMinVersion(st, "1.0"), true);
    assert.equal(readMinVersion(st), "1.0");
  });

  it("each raise appends one record with the next generation in place in the same file (no new file per raise)", () => {
    const st = store();
    for (const v of ["1", "2", "10"]) assert.equal(raiseMinVersion(st, v), true);
    assert.deepEqual(records(st), [
      [1, 1, "1"],
      [1, 2, "2"],
      [1, 3, "10"],
    ]);
    assert.deepEqual(st.list("fwmin"), [MIN_LOGS[0]]);
    assert.equal(st.stats().trashCount, 0, "no file was replaced");
    assert.equal(readMinVersion(st), "10");
  });

  it("raising to the same or a lower version writes nothing and succeeds", () => {
    const st = store();
    raiseMinVersion(st, "2.0");
    const before = st.read(MIN_LOGS[0])!.slice();
    for (const v of ["2.0", "2.0.0", "1.9"]) assert.equal(raiseMinVersion(st, v), true, v);
    assert.deepEqual(st.read(MIN_LOGS[0]), before);
    assert.equal(readMinVersion(st), "2.0");
  });

  it("reads the highest version recorded whatever the order of the records, and ignores records of another type", () => {
    const st = store();
    const log = new RecordLog(st, MIN_LOGS, MIN_LOG_BYTES);
    log.load();
    assert.ok(log.append(1, 1, ascii("5")));
    assert.ok(log.append(2, 2, ascii("9"))); // a record type this version does not know
    assert.ok(log.append(1, 3, ascii("3")));
    assert.equal(readMinVersion(st), "5");
  });

  it("the first record read counts even when it is version 0 (\"0\" is not below nothing)", () => {
    const st = store();
    assert.equal(raiseMinVersion(st, "0"), true);
    assert.equal(readMinVersion(st), "0");
  });

  it("a raise Storage refuses returns false", () => {
    const st = store();
    const refusing: FileStore = { ...st, write: () => false };
    assert.equal(raiseMinVersion(refusing, "1"), false);
    assert.equal(readMinVersion(st), "");
  });
});
