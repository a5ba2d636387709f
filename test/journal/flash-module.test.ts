import assert from "node:assert/strict";
import { Flash, isPowerCut } from "../../sim/espruino/flash.ts";
import { createFlashModule } from "../../sim/espruino/flash-module.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../build.ts";
import { checkJournalPlace } from "../../firmware/journal/place.ts";
import type { ChipFlash } from "../../hal/flash-pages.ts";
import { encodePartitionTable } from "../../hal/partition-table.ts";
import { ESPRUINO_IDF3_PARTITIONS, ESPRUINO_IDF4_PARTITIONS, flashPartitionTable, systemAreaOf } from "../../sim/espruino/partitions.ts";
import { interpreter, runOnInterpreter } from "../espruino/interpreter.ts";

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

  it("carries Espruino's ESP-IDF 3 partition table at 0x8000 and an erased boot selection at 0xC000", () => {
    const { F } = mk();
    assert.deepEqual(Array.from(F.read(0xc00, 0x8000)!), Array.from(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS)));
    assert.deepEqual(Array.from(F.read(4, 0xc000)!), [255, 255, 255, 255]);
    assert.deepEqual(Array.from(F.read(4, 0xd000)!), [255, 255, 255, 255]);
  });

  it("keeps the chip's first 64 KB with its journal image: a table flashed there is what every later module reads", () => {
    const { flash } = mk();
    flashPartitionTable(systemAreaOf(flash), ESPRUINO_IDF4_PARTITIONS);
    const again = createFlashModule(flash, BASE);
    assert.deepEqual(Array.from(again.read(0xc00, 0x8000)!), Array.from(encodePartitionTable(ESPRUINO_IDF4_PARTITIONS)));
    assert.deepEqual(Array.from(mk().F.read(32, 0x8000)!), Array.from(encodePartitionTable(ESPRUINO_IDF3_PARTITIONS).subarray(0, 32)));
  });

  it("erasePage and write in the first 64 KB reach that area, never the journal's pages", () => {
    const { flash, F } = mk();
    F.write(new Uint8Array(4).fill(0), BASE);
    F.erasePage(0x8000);
    F.write(new Uint8Array([1, 2, 3, 4]), 0xe000);
    assert.deepEqual(Array.from(F.read(4, 0x8000)!), [255, 255, 255, 255]);
    assert.deepEqual(Array.from(F.read(4, 0xe000)!), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(F.read(4, BASE)!), [0, 0, 0, 0]);
    assert.equal(flash.ops, 1);
  });
});

/**
 * The partition-table codec and the journal's place check (hal/partition-table.ts, firmware/journal/place.ts) on
 * the real Espruino interpreter (ESPRUINO=...), compiled as the bundle is: the same answers as Node for Espruino's
 * two ESP32 tables, what the check keeps in JsVars, and the `require("Flash")` binding on the Linux build (which
 * reads zeros outside its Storage: no partition table). Skipped without an interpreter.
 */
describe("the partition table check on the Espruino interpreter", function () {
  this.timeout(120000);
  const journal = { address: 0x190000, length: 200 * 4096 };
  const orders = { address: 0x258000, length: 2 * 4096 };
  const storage = { address: 0x320000, length: 224 * 4096 };
  const tables: Record<string, Uint8Array> = {
    idf3: encodePartitionTable(ESPRUINO_IDF3_PARTITIONS),
    idf4: encodePartitionTable(ESPRUINO_IDF4_PARTITIONS),
  };
  const entriesHex = (t: Uint8Array) => Buffer.from(t.subarray(0, t.findIndex((b, i) => i % 32 === 0 && b === 0xff))).toString("hex");
  /** The chip's first 64 KB with `table` at 0x8000, as ChipFlash. */
  const nodeChip = (table: Uint8Array): ChipFlash => {
    const img = new Uint8Array(0x10000).fill(0xff);
    img.set(table, 0x8000);
    return { journal, orders, storage, read: (a, n) => (a >= 0 && a + n <= img.length ? img.slice(a, a + n) : undefined) };
  };

  it("gives Node's answers for the ESP-IDF 3 and 4 tables, keeps a few JsVars, and refuses the Linux build's blank chip", async function () {
    const bin = interpreter();
    if (!bin) return this.skip();
    const script = `
import { checkJournalPlace } from "./firmware/journal/place.ts";
import { chipFlash } from "./hal/espruino/flash-pages.ts";
import { decodePartition } from "./hal/partition-table.ts";
declare const process: any, getTime: any;
const out = (s: string) => console.log("OUT " + s);
const J = ${JSON.stringify(journal)};
const O = ${JSON.stringify(orders)};
const S = ${JSON.stringify(storage)};
function chip(hex: string) {
  const img = new Uint8Array(0x10000);
  img.fill(255);
  for (let i = 0; i < hex.length; i += 2) img[0x8000 + i / 2] = parseInt(hex.substr(i, 2), 16);
  return { journal: J, orders: O, storage: S, read: (a: number, n: number) => (a >= 0 && a + n <= img.length ? new Uint8Array(img.subarray(a, a + n)) : undefined) };
}
const tables: any = ${JSON.stringify({ idf3: entriesHex(tables.idf3), idf4: entriesHex(tables.idf4) })};
for (const name in tables) {
  const c = chip(tables[name]);
  const m0 = process.memory().usage;
  const t0 = getTime();
  const r = checkJournalPlace(c);
  const ms = Math.round((getTime() - t0) * 1000);
  const kept = process.memory().usage - m0;
  out(name + " " + JSON.stringify(r));
  out(name + "-cost " + kept + " " + ms);
}
const e = decodePartition(chip(tables.idf3).read(0x8000 + 4 * 32, 32) as Uint8Array, 0);
out("entry " + JSON.stringify(e));
const real = chipFlash({ address: J.address, pageSize: 4096, pageCount: J.length / 4096 }, { address: O.address, pageSize: 4096, pageCount: O.length / 4096 }, { address: S.address, pageSize: 4096, pages: S.length / 4096 });
out("linux " + JSON.stringify(checkJournalPlace(real)));
`;
    const js = await compile(script, "partition-probe.ts", ["Flash", "Storage"]);
    const file = join(mkdtempSync(join(tmpdir(), "partition-probe-")), "probe.js");
    writeFileSync(file, js + "\nquit();\n");
    const run = await runOnInterpreter(bin, file);
    assert.deepEqual(run.errors, [], run.lines.join("\n"));
    const got: Record<string, string> = {};
    for (const l of run.lines) if (l.startsWith("OUT ")) got[l.slice(4, l.indexOf(" ", 4))] = l.slice(l.indexOf(" ", 4) + 1);
    assert.deepEqual(JSON.parse(got.idf3), checkJournalPlace(nodeChip(tables.idf3)));
    assert.deepEqual(JSON.parse(got.idf4), checkJournalPlace(nodeChip(tables.idf4)));
    assert.equal(JSON.parse(got.idf3).code, "");
    assert.equal(JSON.parse(got.idf4).code, "PT_OVERLAP");
    assert.deepEqual(JSON.parse(got.entry), ESPRUINO_IDF3_PARTITIONS[4]);
    assert.equal(JSON.parse(got.linux).code, "PT_NONE");
    // what the answer keeps once the check is done (the reads and entries are garbage by then)
    for (const name of ["idf3", "idf4"]) {
      const [kept] = got[name + "-cost"].split(" ").map(Number);
      console.log(`      ${name}: ${kept} JsVars kept, ${got[name + "-cost"].split(" ")[1]} ms on the interpreter`);
      assert.ok(kept <= 40, name + ": the check keeps " + kept + " JsVars");
    }
  });
});
