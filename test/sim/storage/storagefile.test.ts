import assert from "node:assert/strict";
import { Flash } from "../../../sim/espruino/flash.ts";
import { EspruinoStorage } from "../../../sim/espruino/storage.ts";

function fresh(): EspruinoStorage {
  const s = new EspruinoStorage(new Flash({ size: 64 * 1024 }));
  s.boot();
  return s;
}

/** The example from Espruino's StorageFile documentation and tests/test_storage_file.js. */
function writeExample(s: EspruinoStorage): void {
  const f = s.open("foobar", "w");
  f.write("Hell");
  f.write("o World\n");
  f.write("Hello\n");
  f.write("World 2\n");
  s.open("foobar", "a").write("Hello World 3\n");
}

describe("sim/espruino Storage: StorageFile", () => {
  it("appends across opens and reports the length", () => {
    const s = fresh();
    const f = s.open("foobar", "w");
    f.write("Hell");
    f.write("o World\n");
    f.write("Hello\n");
    f.write("World 2\n");
    assert.equal(f.getLength(), 26);
    const a = s.open("foobar", "a");
    a.write("Hello World 3\n");
    assert.equal(a.getLength(), 40);
  });

  it("reads fixed lengths, then undefined at the end", () => {
    const s = fresh();
    writeExample(s);
    const f = s.open("foobar", "r");
    assert.deepEqual([f.read(13), f.read(13), f.read(13), f.read(13), f.read(13)],
      ["Hello World\nH", "ello\nWorld 2\n", "Hello World 3", "\n", undefined]);
  });

  it("reads line by line, then undefined at the end", () => {
    const s = fresh();
    writeExample(s);
    const f = s.open("foobar", "r");
    assert.deepEqual([f.readLine(), f.readLine(), f.readLine(), f.readLine(), f.readLine()],
      ["Hello World\n", "Hello\n", "World 2\n", "Hello World 3\n", undefined]);
  });

  it("is stored as chunk files 'name\\x01', 'name\\x02', ... and rolls over when a chunk is full", () => {
    const s = fresh();
    assert.equal(s.storageFileChunkSize, 4096 - 32);
    const line = "This is a long line of text that we want to write to our file over and over.\n";
    const total = line.length * 60; // 4680: two chunks
    const f = s.open("log", "w");
    for (let i = 0; i < 60; i++) f.write(line);
    assert.equal(s.read("log\x01")!.length, 4064);
    assert.equal(s.read("log\x02")!.slice(0, total - 4064), line.repeat(60).slice(4064));
    assert.equal(s.read("log\x03"), undefined);
    const r = s.open("log", "r");
    const lines: string[] = [];
    for (let l = r.readLine(); l !== undefined; l = r.readLine()) lines.push(l);
    assert.equal(lines.length, 60);
    assert.ok(lines.every((l) => l === line));
    assert.equal(s.open("log", "r").getLength(), total);
  });

  it("lists as 'name\\x01' by default, as 'name' with {sf:true}, and not at all with {sf:false}", () => {
    const s = fresh();
    writeExample(s);
    s.write("plain", "1");
    assert.deepEqual(s.list(), ["foobar\x01", "plain"]);
    assert.deepEqual(s.list(undefined, { sf: true }), ["foobar"]);
    assert.deepEqual(s.list(undefined, { sf: false }), ["plain"]);
  });

  it("cannot hold 0xFF: reading stops at the first 0xFF byte", () => {
    const s = fresh();
    s.open("f", "w").write("ab\xFFcd");
    assert.equal(s.open("f", "r").read(10), "ab");
    assert.equal(s.open("f", "r").getLength(), 2);
  });

  it("after a 0xFF, appending in 'a' mode lands on the bytes that followed it (NOR AND)", () => {
    const s = fresh();
    s.open("f", "w").write("ab\xFFcd");
    s.open("f", "a").write("XY");
    // 'X' fills the 0xFF; 'Y' (0x59) is ANDed into 'c' (0x63) giving 'A' (0x41)
    assert.equal(s.open("f", "r").read(10), "abXAd");
  });

  it("opening with 'w' erases the existing file", () => {
    const s = fresh();
    writeExample(s);
    s.open("foobar", "w").write("new\n");
    assert.equal(s.open("foobar", "r").read(100), "new\n");
  });

  it("refuses to read unless opened with 'r' and to write when opened with 'r'", () => {
    const s = fresh();
    const w = s.open("f", "w");
    w.write("x");
    assert.throws(() => w.read(1), /Can't read in this mode/);
    assert.throws(() => s.open("f", "r").write("y"), /Can't write in this mode/);
  });

  it("rejects an unknown open mode", () => {
    const s = fresh();
    assert.throws(() => s.open("f", "x" as "r"), /Invalid mode/);
  });

  it("erase removes every chunk and stops the object from writing", () => {
    const s = fresh();
    const f = s.open("log", "w");
    for (let i = 0; i < 3; i++) f.write("z".repeat(3000));
    assert.deepEqual(s.list(/^log/, { sf: false }), []);
    assert.ok(s.read("log\x03") !== undefined);
    f.erase();
    assert.equal(s.read("log\x01"), undefined);
    assert.equal(s.read("log\x02"), undefined);
    assert.equal(s.read("log\x03"), undefined);
    assert.throws(() => f.write("more"), /Can't write in this mode/);
  });

  it("throws when one write is bigger than a whole chunk, as Espruino does", () => {
    const s = fresh();
    const f = s.open("log", "w");
    assert.throws(() => f.write("z".repeat(5000)), /Too much data for file size/);
    assert.throws(() => f.write("z"), /Can't write in this mode/);
  });

  it("uses the 28th name character for the chunk number when the name is 28 long", () => {
    const s = fresh();
    const name = "a".repeat(27) + "b";
    s.open(name, "w").write("x");
    assert.deepEqual(s.list(), ["a".repeat(27) + "\x01"]);
    assert.equal(s.open(name, "r").read(5), "x");
  });
});
