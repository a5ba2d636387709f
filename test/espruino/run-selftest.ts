/**
 * npm run test:espruino — dist/selftest.js (and the boot of each board bundle) on a real Espruino interpreter.
 *   ESPRUINO=/path/to/espruino npm run test:espruino
 * Without ESPRUINO it says that it skipped and exits 0.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bootOnInterpreter, interpreter, runFromStorage, tally } from "./interpreter.ts";
import { espruinoName } from "../../sim/engine/engine.ts";

const root = process.cwd();

async function main(): Promise<number> {
  const bin = interpreter();
  if (!bin) {
    console.log("test:espruino SKIPPED: no interpreter. Set ESPRUINO=/path/to/espruino (Espruino's Linux build) to run dist/selftest.js on it.");
    return 0;
  }
  if (bin.startsWith("/dev/") || bin.startsWith("tcp://")) {
    console.error("test:espruino: ESPRUINO names a port; running on a device goes through `npm run flash` (not available yet). Give the path of an interpreter binary.");
    return 2;
  }
  let failures = 0;
  let passes = 0;
  for (const name of ["selftest", "selftest-cryptojs"]) {
    // Run as the device runs code: stored in Storage, evaluated from there (on the ESP32, and on a Linux build
    // with Storage memory-mapped, function bodies then stay in flash).
    const st = await runFromStorage(bin, join(root, "dist", name + ".js"));
    const t = tally(st.lines);
    for (const l of st.lines) if (l.startsWith("FAIL ")) console.log("  " + l);
    const oom = st.lines.some((l) => l.indexOf("OUT OF MEMORY") >= 0 || l.indexOf("LOW_MEMORY") >= 0);
    if (!t && oom && name === "selftest-cryptojs" && st.inFlash === false) {
      // crypto-js evaluated from RAM needs ~14,900 JsVars just to load on a 16,383-variable build; on the device its
      // code stays in flash. This interpreter copies Storage into RAM, so the run says nothing about the device:
      // said plainly, and counted as neither a pass nor a failure.
      console.log(`${name} on ${espruinoName()}: NOT RUN: out of memory loading crypto-js, which this interpreter copies from Storage into RAM (use a build with Storage memory-mapped, or a 64-bit build)`);
      continue;
    }
    if (!t || t.failed > 0 || st.errors.length || st.timedOut) {
      failures++;
      console.log(`${name} on ${espruinoName()}: FAILED ${t ? t.passed + " passed, " + t.failed + " failed" : "no tally"}${st.timedOut ? " (timed out)" : ""}`);
      for (const e of st.errors) console.log("  " + e);
    } else {
      passes++;
      console.log(`${name} on ${espruinoName()}: ${t.passed} passed, ${t.failed} failed`);
    }
  }

  // Each board bundle must boot on the interpreter without an uncaught error.
  const report = JSON.parse(readFileSync(join(root, "dist/size-report.json"), "utf8")) as { bundles: { name: string; file: string }[] };
  for (const b of report.bundles.filter((x) => x.name.indexOf("selftest") !== 0)) {
    const r = await bootOnInterpreter(bin, join(root, b.file));
    if (r.usage === null || r.run.errors.length) {
      failures++;
      console.log(`${b.file} boot: FAILED`);
      for (const l of r.run.lines.slice(-15)) console.log("  " + l);
    } else {
      passes++;
      console.log(`${b.file} boot: ok, JsVars in use ${r.usage}/${r.total}${r.inFlash ? " (code in flash)" : " (code copied to RAM: upper bound)"}`);
    }
  }
  console.log(`${passes} passed, ${failures} failed`);
  return failures ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => {
  console.error(e);
  process.exit(1);
});
