/**
 * The plumbing that runs code on a real Espruino interpreter (ESPRUINO=/path/to/espruino): storing a file in its
 * Storage byte for byte, running it from there as the device does, and the boot probe. Skipped without ESPRUINO.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootOnInterpreter, interpreter, runFromStorage, runOnInterpreter, storeOnInterpreter } from "./interpreter.ts";

const bin = interpreter();

describe("running code on the Espruino interpreter through its Storage", function () {
  this.timeout(60000);
  before(function () {
    if (!bin) this.skip();
  });

  it("stores every byte value, quotes and backslashes included, across chunks, and reads the same bytes back", async () => {
    const bytes = new Uint8Array(5000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
    bytes.set([0x22, 0x5c, 0x0a, 0x0d, 0x00, 0xff], 2045); // across the 2,048-byte chunk boundary
    const dir = mkdtempSync(join(tmpdir(), "interp-test-"));
    const stored = await storeOnInterpreter(bin!, dir, "bytes", bytes);
    assert.equal(stored.ok, true, stored.run.lines.join("\n"));
    // Read back in a second run over the same fake flash, independently of the CRC the store step checked.
    writeFileSync(join(dir, "read.js"), 'print("B64 "+btoa(require("Storage").read("bytes")));quit();\n');
    const run = await runOnInterpreter(bin!, join(dir, "read.js"), 60000, dir);
    const line = run.lines.find((l) => l.startsWith("B64 "));
    assert.ok(line, run.lines.join("\n"));
    assert.deepEqual(new Uint8Array(Buffer.from(line.slice(4), "base64")), bytes);
  });

  it("runs a file from Storage after the given prelude, and reports its uncaught errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interp-test-"));
    const file = join(dir, "code.js");
    writeFileSync(file, 'function add(a,b){return a+b;}\nprint("SUM "+add(before,2));\nsetTimeout(function(){throw new Error("late");},10);\n');
    const r = await runFromStorage(bin!, file, { before: "var before=40;", after: 'setTimeout(function(){print("AFTER");},50);' });
    assert.ok(r.lines.includes("SUM 42"), r.lines.join("\n"));
    assert.ok(r.lines.includes("AFTER"), r.lines.join("\n"));
    assert.ok(r.errors.some((l) => l.indexOf("Uncaught") >= 0), r.lines.join("\n"));
    assert.equal(typeof r.inFlash, "boolean");
  });

  it("measures a bundle that boots and goes idle, and refuses one that throws", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interp-test-"));
    const good = join(dir, "good.js");
    writeFileSync(good, "(function(){var kept=new Uint8Array(1000);setInterval(function(){kept[0]++;},100);}).call(this);\n");
    const r = await bootOnInterpreter(bin!, good, 300);
    assert.ok(r.usage !== null && r.total !== null && r.usage > 0 && r.usage < r.total, r.run.lines.join("\n"));
    const bad = join(dir, "bad.js");
    writeFileSync(bad, readFileSync(good, "utf8") + 'throw new Error("boot failed");\n');
    const b = await bootOnInterpreter(bin!, bad, 300);
    assert.ok(b.run.errors.length > 0, b.run.lines.join("\n"));
  });
});
