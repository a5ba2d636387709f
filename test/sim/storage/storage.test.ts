import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { Flash } from "../../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../../sim/espruino/storage.ts";

/** 16 pages of 4 KB: small enough to fill, same page size as the ESP32 build. */
function fresh(): { flash: Flash; s: EspruinoStorage } {
  const flash = new Flash({ size: 64 * 1024 });
  const s = new EspruinoStorage(flash);
  s.boot();
  return { flash, s };
}

const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const bin = (bytes: number[]) => String.fromCharCode(...bytes);

describe("sim/espruino Storage: files", () => {
  it("over a default flash, offers the ESP32 build's 896 KB and starts empty", () => {
    const s = new EspruinoStorage(new Flash());
    s.boot();
    assert.equal(s.lastBootWiped, false);
    assert.deepEqual(s.getStats(), {
      totalBytes: 917504, freeBytes: 917504, fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0,
    });
  });

  it("reads back what was written, one char per byte, for all 256 byte values", () => {
    const { s } = fresh();
    const all = Array.from({ length: 256 }, (_, i) => i);
    assert.equal(s.write("bin", Uint8Array.from(all)), true);
    assert.equal(s.read("bin"), bin(all));
  });

  it("returns undefined for a file that does not exist", () => {
    const { s } = fresh();
    assert.equal(s.read("nope"), undefined);
  });

  it("reads with offset and length, clipped to the file", () => {
    const { s } = fresh();
    s.write("f", "0123456789");
    assert.equal(s.read("f", 3, 4), "3456");
    assert.equal(s.read("f", 7), "789");
    assert.equal(s.read("f", 8, 100), "89");
    assert.equal(s.read("f", 20), "");
    assert.equal(s.read("f", 2, 0), "23456789");
  });

  it("lays a file out as a 32-byte header (24-bit size, 28-byte name) then data, 4-byte aligned", () => {
    const { flash, s } = fresh();
    s.write("hello", "abcde");
    s.write("next", "x");
    const b = flash.bytes;
    assert.equal(u32(b, 0), 5);
    assert.equal(String.fromCharCode(...b.slice(4, 9)), "hello");
    assert.ok(b.slice(9, 32).every((x) => x === 0));
    assert.equal(String.fromCharCode(...b.slice(32, 37)), "abcde");
    assert.equal(u32(b, 40), 1); // 32 + 5 rounded up to 40
    assert.equal(String.fromCharCode(...b.slice(44, 48)), "next");
  });

  it("readArrayBuffer returns an ArrayBuffer of the realm it was given", () => {
    const realm = vm.runInNewContext("({ Uint8Array, ArrayBuffer })") as {
      Uint8Array: Uint8ArrayConstructor; ArrayBuffer: ArrayBufferConstructor;
    };
    const flash = new Flash({ size: 64 * 1024 });
    const s = new EspruinoStorage(flash, realm);
    s.write("b", Uint8Array.of(1, 2, 3));
    const ab = s.readArrayBuffer("b")!;
    assert.ok(ab instanceof realm.ArrayBuffer);
    assert.ok(!(ab instanceof ArrayBuffer));
    assert.deepEqual(Array.from(new realm.Uint8Array(ab)), [1, 2, 3]);
  });

  it("writes arrays, typed arrays and ArrayBuffers as bytes", () => {
    const { s } = fresh();
    s.write("a", [65, 66, 0x143]);
    s.write("u16", Uint16Array.of(0x4241));
    s.write("ab", Uint8Array.of(67, 68).buffer);
    assert.equal(s.read("a"), "ABC");
    assert.equal(s.read("u16"), "AB");
    assert.equal(s.read("ab"), "CD");
  });

  it("silently cuts names to 28 characters", () => {
    const { s } = fresh();
    const long = "abcdefghijklmnopqrstuvwxyz0123456789";
    s.write(long, "v");
    assert.deepEqual(s.list(), [long.slice(0, 28)]);
    assert.equal(s.read(long.slice(0, 28)), "v");
    assert.equal(s.read(long.slice(0, 28) + "ZZZ"), "v"); // a different long name hits the same file
  });

  it("refuses to create an empty file", () => {
    const { s } = fresh();
    assert.throws(() => s.write("e", ""), /Can't create zero length file/);
  });

  it("marks the old copy erased when a file is overwritten, leaving trash", () => {
    const { s } = fresh();
    s.write("cfg", "one");
    s.write("cfg", "two!");
    assert.equal(s.read("cfg"), "two!");
    const st = s.getStats();
    assert.equal(st.fileCount, 1);
    assert.equal(st.trashCount, 1);
    assert.equal(st.trashBytes, 36);
  });

  it("does not touch flash when the same content is written again", () => {
    const { flash, s } = fresh();
    s.write("cfg", "same");
    const ops = flash.ops;
    assert.equal(s.write("cfg", "same"), true);
    assert.equal(flash.ops, ops);
  });

  it("erase makes the file unreadable and counts it as trash", () => {
    const { s } = fresh();
    s.write("x", "data");
    s.erase("x");
    assert.equal(s.read("x"), undefined);
    assert.deepEqual(s.list(), []);
    assert.equal(s.getStats().trashCount, 1);
  });

  it("getFree drops by the header plus the aligned data size", () => {
    const { s } = fresh();
    const before = s.getFree();
    s.write("f", "12345");
    assert.equal(before, 64 * 1024);
    assert.equal(s.getFree(), before - 32 - 8);
  });

  it("getFree does not count trash in the middle", () => {
    const { s } = fresh();
    s.write("a", "x".repeat(100));
    s.write("b", "y");
    const free = s.getFree();
    s.erase("a");
    assert.equal(s.getFree(), free);
  });

  it("lists with a regex filter", () => {
    const { s } = fresh();
    s.write("app.js", "1");
    s.write("app.json", "2");
    s.write("lib", "3");
    assert.deepEqual(s.list(/\.js$/), ["app.js"]);
  });

  it("eraseAll leaves every byte 0xFF", () => {
    const { flash, s } = fresh();
    s.write("a", "1");
    s.eraseAll();
    assert.ok(flash.bytes.every((b) => b === 0xff));
    assert.deepEqual(s.list(), []);
  });

  it("keeps files for a new instance over the same flash (a reboot)", () => {
    const { flash, s } = fresh();
    s.write("keep", "me");
    s.erase("keep");
    s.write("keep", "me too");
    const again = new EspruinoStorage(flash);
    again.boot();
    assert.equal(again.lastBootWiped, false);
    assert.equal(again.read("keep"), "me too");
  });

  it("survives a save/load of the flash image", () => {
    const { flash, s } = fresh();
    s.write("boot", "hello");
    const dir = mkdtempSync(join(tmpdir(), "storage-"));
    try {
      flash.save(join(dir, "flash.bin"));
      const s2 = new EspruinoStorage(Flash.load(join(dir, "flash.bin")));
      s2.boot();
      assert.equal(s2.lastBootWiped, false);
      assert.equal(s2.read("boot"), "hello");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sim/espruino Storage: pre-sized files", () => {
  it("creates the file at full size, unwritten bytes reading as 0xFF", () => {
    const { s } = fresh();
    s.write("a", "Hello", 0, 14);
    assert.equal(s.read("a"), "Hello" + "\xFF".repeat(9));
  });

  it("fills later parts in place without creating a new copy", () => {
    const { s } = fresh();
    s.write("a", "Hello", 0, 14);
    s.write("other", "z");
    s.write("a", " ", 5);
    s.write("a", "World!!!", 6);
    assert.equal(s.read("a"), "Hello World!!!");
    assert.equal(s.getStats().trashCount, 0);
    assert.deepEqual(s.list(), ["a", "other"]); // "a" did not move behind "other"
  });

  it("refuses to write over bytes that are no longer 0xFF", () => {
    const { s } = fresh();
    s.write("a", "Hello", 0, 14);
    assert.throws(() => s.write("a", "J", 1), /File already written with different data/);
    assert.equal(s.read("a", 0, 5), "Hello");
  });

  it("refuses data that runs past the file's size", () => {
    const { s } = fresh();
    s.write("a", "Hi", 0, 4);
    assert.throws(() => s.write("a", "xyz", 2), /Too much data for file size/);
  });

  it("rewrites the file when writing at offset 0 again", () => {
    const { s } = fresh();
    s.write("a", "Hello", 0, 14);
    s.write("a", " ", 0);
    assert.equal(s.read("a"), " ");
  });

  it("writes into a pre-sized file at offset 0 in place while it is still blank", () => {
    const { s } = fresh();
    s.write("a", "\xFF", 0, 8);
    s.write("a", "ab", 0, 8);
    assert.equal(s.read("a"), "ab" + "\xFF".repeat(6));
    assert.equal(s.getStats().trashCount, 0);
  });
});

describe("sim/espruino Storage: JSON", () => {
  it("writeJSON writes Espruino's compact form with unquoted keys and \\x escapes", () => {
    const { s } = fresh();
    s.writeJSON("j", { 7: true, a: 1, "b c": "x\ny\x01", n: NaN, u: undefined, f: () => 1, arr: [1, undefined] });
    assert.equal(s.read("j"), '{7:true,a:1,"b c":"x\\ny\\1",n:null,arr:[1,null]}');
  });

  it("readJSON reads writeJSON's output back", () => {
    const { s } = fresh();
    const v = { name: "caf\xe9", list: [1, -2.5, null, false], nested: { k: "v" } };
    s.writeJSON("j", v);
    assert.deepEqual(s.readJSON("j"), v);
  });

  it("writeJSON output is not standard JSON", () => {
    const { s } = fresh();
    s.writeJSON("j", { a: 1 });
    assert.throws(() => JSON.parse(s.read("j")!));
  });

  it("write(name, object) stores standard JSON", () => {
    const { s } = fresh();
    s.write("o", { a: "\xe9", b: [1] });
    assert.equal(s.read("o"), '{"a":"\\u00E9","b":[1]}');
    assert.deepEqual(JSON.parse(s.read("o")!), { a: "\xe9", b: [1] });
  });

  it("readJSON throws on bad JSON unless noExceptions is set", () => {
    const { s } = fresh();
    s.write("bad", "{a:");
    assert.throws(() => s.readJSON("bad"));
    assert.equal(s.readJSON("bad", true), undefined);
    assert.equal(s.readJSON("missing"), undefined);
  });
});
