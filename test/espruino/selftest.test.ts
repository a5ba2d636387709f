/**
 * The on-device self-tests and each board's boot on the real Espruino interpreter (ESPRUINO=/path/to/espruino), run
 * as the device runs code: stored in Storage, evaluated from there. The same checks as `npm run test:espruino`, so
 * that `npm test` (and CI, which sets ESPRUINO when the machine has the interpreter) runs them. Skipped without one.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bootOnInterpreter, interpreter, runFromStorage, tally } from "./interpreter.ts";

const bin = interpreter();
const root = process.cwd();

describe("the self-tests and the boards on the Espruino interpreter", function () {
  this.timeout(120000);
  before(function () {
    if (!bin) this.skip();
  });

  it("dist/selftest.js passes every case (codecs, crypto vectors, journal, protocol)", async () => {
    const r = await runFromStorage(bin!, join(root, "dist/selftest.js"));
    const t = tally(r.lines);
    assert.ok(t, "no closing tally line: " + r.lines.slice(-8).join(" | "));
    assert.deepEqual(r.lines.filter((l) => l.startsWith("FAIL ")), []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.timedOut, false);
    assert.equal(t.failed, 0);
    assert.ok(t.passed >= 60, "too few cases ran: " + t.passed);
  });

  it("dist/selftest-cryptojs.js passes the NIST and RFC vectors with its code kept in flash", async () => {
    const r = await runFromStorage(bin!, join(root, "dist/selftest-cryptojs.js"));
    // crypto-js loaded into RAM does not fit 16,383 JsVars; this interpreter keeps Storage memory-mapped, as the ESP32.
    assert.equal(r.inFlash, true, "the interpreter copied the bundle into RAM: use the build with Storage memory-mapped");
    const t = tally(r.lines);
    assert.ok(t, "no closing tally line: " + r.lines.slice(-8).join(" | "));
    assert.deepEqual(r.errors, []);
    assert.equal(t.failed, 0);
    assert.equal(t.passed, 11);
  });

  // the build writes the list of bundles (npm test builds before mocha); no list, no boards to boot
  const reportFile = join(root, "dist/size-report.json");
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, "utf8")) as { bundles: { name: string; file: string; budgetJsVars: number | null }[] }) : { bundles: [] };
  for (const b of report.bundles.filter((x) => x.name.indexOf("selftest") !== 0)) {
    it(`${b.file} boots from Storage and goes idle within its JsVars budget`, async () => {
      const r = await bootOnInterpreter(bin!, join(root, b.file));
      assert.deepEqual(r.run.errors, []);
      assert.ok(r.usage !== null, "never went idle: " + r.run.lines.slice(-8).join(" | "));
      assert.equal(r.total, 16383);
      assert.equal(r.inFlash, true);
      if (b.budgetJsVars) assert.ok(r.usage! <= b.budgetJsVars, r.usage + " JsVars idle, budget " + b.budgetJsVars);
    });
  }
});
