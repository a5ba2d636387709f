/**
 * Journal benchmark: flash operations and bytes per payment, time to append, time to recover (boot) a journal of
 * 2,000 pending 316-byte entries (the largest, a WalletPayment) and a full one, on the devkit's region (read from
^ * boards/devkit-data.ts) in the simulator's flash, through the Espruino binding. With ESPRUINO=/path/to/espruino32 it
 * also boots the same journal code, built by the same pipeline, on the interpreter over the very same flash image
 * (written into the interpreter's fake flash file, read through its `require("Flash")`).
 *
 *   npx tsx bench/journal.ts
 *   ESPRUINO=/work/espruino-bin/espruino32 npx tsx bench/journal.ts
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { devkitData as devkit } from "../boards/devkit-data.ts";
import { compile } from "../build.ts";
import { espruinoBin } from "../sim/engine/engine.ts";
import { Journal } from "../firmware/journal/journal.ts";
import type { FlashPages } from "../hal/flash-pages.ts";
import { flashPages } from "../hal/espruino/flash-pages.ts";
import { Flash } from "../sim/espruino/flash.ts";
import { createFlashModule } from "../sim/espruino/flash-module.ts";
import { nodeCrypto } from "../gateway/node-crypto.ts";

const REGION = devkit.platform.journal;
const PAGES = REGION.pageCount;
const PAGE = REGION.pageSize;
const BASE = REGION.address;
const PAYLOAD = 316; // the largest journal entry, a WalletPayment
const PENDING = 2000;

/**
 * The interpreter's fake flash is the file ./espruino.flash in its working directory (896 KB at 0x10000000, all of
 * it Storage on that build). The region goes at 0x10002000: one small Storage file in the first page and an erased
 * page after it, so Storage reads as valid and ends there whatever the interpreter's flash page size (1 KB on the
 * stock Linux build, 4 KB like the ESP32 on an ESP32-shaped one; with the region right at the second page start,
 * a 4 KB-page build read the journal as a damaged Storage header and erased everything at start). Recovery only
 * reads (nothing is torn), then up to 20 appends are timed.
 */
const FAKE_FLASH_START = 0x10000000;
const FAKE_FLASH_SIZE = 896 * 1024;
const AT = 8192;

interface Counted extends FlashPages {
  writes: number;
  erases: number;
  bytes: number;
  reads: number;
}

function counted(inner: FlashPages): Counted {
  const c: Counted = {
    pageSize: inner.pageSize,
    pageCount: inner.pageCount,
    writes: 0,
    erases: 0,
    bytes: 0,
    reads: 0,
    read(p, o, l) {
      c.reads++;
      return inner.read(p, o, l);
    },
    write(p, o, d) {
      c.writes++;
      c.bytes += d.length;
      inner.write(p, o, d);
    },
    erase(p) {
      c.erases++;
      inner.erase(p);
    },
  };
  return c;
}

const keys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(32).fill(2), iv: new Uint8Array(16).fill(3) };
const crypto = nodeCrypto();
const payload = (i: number) => new Uint8Array(PAYLOAD).fill(i & 255);
const region = (f: Flash) => flashPages({ address: BASE, pageSize: PAGE, pageCount: PAGES }, createFlashModule(f, BASE));

// 1. A steady day: payments, and every 20 a sync that uploads and acks them and reclaims.
const flash = new Flash({ size: PAGES * PAGE, pageSize: PAGE });
const pages = counted(region(flash));
let j = new Journal({ pages, crypto, keys });
j.recover();
pages.writes = pages.erases = pages.bytes = pages.reads = 0;
const DAY = 3000;
let appendMs = 0;
let appendWrites = 0;
let appendBytes = 0;
for (let i = 1; i <= DAY; i++) {
  const w0 = pages.writes + pages.erases;
  const b0 = pages.bytes;
  const t0 = performance.now();
  const r = j.append(payload(i));
  appendMs += performance.now() - t0;
  appendWrites += pages.writes + pages.erases - w0;
  appendBytes += pages.bytes - b0;
  if (!("seq" in r)) throw new Error("refused: " + r.code);
  if (i % 20 === 0) {
    const seqs = j.pending(20).map((p) => p.seq);
    j.markUploaded(seqs);
    j.markAcked(seqs);
    j.reclaim();
  }
}
const perPayOps = (pages.writes + pages.erases) / DAY;
const perPayBytes = pages.bytes / DAY;

/** A region holding `count` pending payments (or as many as it takes, for Infinity). */
function journalOf(count: number): { flash: Flash; records: number } {
  const f = new Flash({ size: PAGES * PAGE, pageSize: PAGE });
  const jj = new Journal({ pages: region(f), crypto, keys });
  jj.recover();
  let n = 0;
  while (n < count && "seq" in jj.append(payload(n))) n++;
  return { flash: f, records: n };
}

function timeRecovery(f: Flash): { ms: number; records: number; anomalies: number } {
  const runs = 5;
  let ms = 0;
  let rep = null as ReturnType<Journal["recover"]> | null;
  for (let k = 0; k < runs; k++) {
    const jj = new Journal({ pages: region(f), crypto, keys });
    const t0 = performance.now();
    rep = jj.recover();
    ms += performance.now() - t0;
  }
  return { ms: ms / runs, records: rep!.records, anomalies: rep!.anomalies.length };
}

const two = journalOf(PENDING);
const full = journalOf(Infinity);
const r2 = timeRecovery(two.flash);
const rf = timeRecovery(full.flash);

console.log(`journal bench (Node ${process.version}, devkit region ${PAGES} x ${PAGE} bytes at 0x${BASE.toString(16)}, ${PAYLOAD}-byte entries)`);
console.log(`  append only:              ${(appendWrites / DAY).toFixed(2)} flash ops, ${(appendBytes / DAY).toFixed(1)} bytes written per payment`);
console.log(`  whole life of a payment:  ${perPayOps.toFixed(2)} flash ops, ${perPayBytes.toFixed(1)} bytes written (append, upload mark, ack mark, reclaim; syncs of 20)`);
console.log(`  append time:              ${((appendMs / DAY) * 1000).toFixed(1)} us per payment (mean of ${DAY})`);
console.log(`  capacity:                 ${full.records} pending ${PAYLOAD}-byte entries before JOURNAL_FULL`);
console.log(`  recovery, ${r2.records} pending:   ${r2.ms.toFixed(1)} ms (mean of 5), ${r2.anomalies} anomalies`);
console.log(`  recovery, full (${rf.records}): ${rf.ms.toFixed(1)} ms (mean of 5), ${rf.anomalies} anomalies`);
await onInterpreter([
  { name: `${two.records} pending`, flash: two.flash, records: two.records },
  { name: `full (${full.records})`, flash: full.flash, records: full.records },
]);


async function onInterpreter(cases: { name: string; flash: Flash; records: number }[]): Promise<void> {
  const bin = espruinoBin();
  if (!bin) {
    console.log("  interpreter: skipped (set ESPRUINO=/path/to/espruino32 to measure on Espruino)");
    return;
  }
  if (AT + PAGES * PAGE > FAKE_FLASH_SIZE) throw new Error("region larger than the interpreter's fake flash");
  const entry =
    `import { Journal } from "./firmware/journal/journal.ts";\n` +
    `import { flashPages } from "./hal/espruino/flash-pages.ts";\n` +
    `import { builtinCrypto } from "./hal/espruino/crypto.ts";\n` +
    `const keys = { enc: new Uint8Array(16), mac: new Uint8Array(32), iv: new Uint8Array(16) };\n` +
    `keys.enc.fill(1); keys.mac.fill(2); keys.iv.fill(3);\n` +
    `const pages = flashPages({ address: ${FAKE_FLASH_START + AT}, pageSize: ${PAGE}, pageCount: ${PAGES} });\n` +
    `const c = builtinCrypto();\n` +
    `const m0 = process.memory().usage;\n` +
    `let t = getTime(); const j = new Journal({ pages: pages, crypto: c, keys: keys }); const r = j.recover();\n` +
    `const recoverMs = (getTime() - t) * 1000; const m1 = process.memory().usage;\n` +
    `t = getTime(); new Journal({ pages: pages, crypto: c, keys: keys }).recover(); new Journal({ pages: pages, crypto: c, keys: keys }).recover();\n` +
    `const againMs = (getTime() - t) * 1000 / 2;\n` +
    `const payload = new Uint8Array(${PAYLOAD}); let n = 0; t = getTime();\n` +
    `while (n < 20 && !j.canAccept()) { payload[0] = n; j.append(payload); n++; }\n` +
    `const appendMs = n ? (getTime() - t) * 1000 / n : 0;\n` +
    `print("JOURNAL " + r.records + " " + r.anomalies.length + " " + recoverMs.toFixed(1) + " " + n + " " + appendMs.toFixed(2) + " " + (m1 - m0) + " " + againMs.toFixed(1));\n`;
  const code = await compile(entry, "journal-bench.entry.ts", ["crypto", "Flash"]);
  console.log(`  interpreter (${bin}), the same flash images in its fake flash:`);
  for (const c of cases) {
    const dir = mkdtempSync(join(tmpdir(), "journal-bench-"));
    // An empty Storage must be erased throughout or the interpreter resets it at start ("Storage is corrupt"):
    // one small file makes Storage end at the header after it, and the region lies beyond.
    writeFileSync(join(dir, "mark.js"), `require("Storage").write("mark", "journal bench");\n`);
    await run(bin, dir, "mark.js", 20000);
    const image = new Uint8Array(readFileSync(join(dir, "espruino.flash")));
    if (image.length !== FAKE_FLASH_SIZE || !image.subarray(1024, AT + PAGES * PAGE).every((x) => x === 0xff)) {
      throw new Error(
        `the interpreter's fake flash is not as expected: ${image.length} bytes (${FAKE_FLASH_SIZE} needed, an ESP32-shaped ` +
          `build with 896 KB of Storage), or not erased after the first page`,
      );
    }
    image.set(c.flash.bytes.subarray(0, PAGES * PAGE), AT);
    writeFileSync(join(dir, "espruino.flash"), image);
    writeFileSync(join(dir, "probe.js"), code);
    const out = await run(bin, dir, "probe.js", 600000);
    const line = out.split(/\r?\n/).find((l) => l.indexOf("JOURNAL ") >= 0);
    if (!line) {
      console.log(`    ${c.name}: no figure; it printed: ` + out.slice(-400).replace(/\s+/g, " "));
      continue;
    }
    const [, recs, anomalies, recoverMs, n, appendMs, vars, againMs] = line.slice(line.indexOf("JOURNAL ")).split(" ");
    console.log(
      `    recovery, ${c.name}: ${recoverMs} ms for ${recs} records at boot (${(Number(recoverMs) / Number(recs)).toFixed(3)} ms a record; ` +
        `${againMs} ms again, mean of 2), ` +
        `${anomalies} anomalies, JsVars kept ${vars}; then ` +
        (Number(n) ? `append ${appendMs} ms per payment (mean of ${n})` : "append refused (journal full), as expected"),
    );
    if (Number(recs) !== c.records || Number(anomalies) !== 0) {
      console.log(`    ${c.name}: FAILED: the interpreter recovered ${recs} records with ${anomalies} anomalies; Node wrote ${c.records}`);
      process.exitCode = 1;
    }
  }
}

/** Run the interpreter in `cwd` with stdin kept open (at EOF the Linux build reads garbage into its console). */
function run(bin: string, cwd: string, file: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [file], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (out += d.toString("latin1")));
    child.stderr.on("data", (d) => (out += d.toString("latin1")));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
