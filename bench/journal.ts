/**
 * Journal benchmark on Node: flash operations and bytes per payment, time to append, time to recover a full
 * journal, on the devkit's region (192 pages of 4096 bytes) in the simulator's flash, through the Espruino binding.
 *
 *   npx tsx bench/journal.ts
 */
import { nodeCrypto } from "../sim/gateway/node-crypto.ts";
import { performance } from "node:perf_hooks";
import type { FlashPages } from "../hal/flash-pages.ts";
import { flashPages } from "../hal/espruino/flash-pages.ts";
import { Journal } from "../firmware/journal/journal.ts";
import { Flash } from "../sim/espruino/flash.ts";
import { compile } from "../build.ts";
import { interpreter, runOnInterpreter } from "../test/espruino/interpreter.ts";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFlashModule } from "../sim/espruino/flash-module.ts";

const PAGES = 192;
const PAGE = 4096;
const BASE = 0x190000;
const PAYLOAD = 206; // a signed Payment message


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
const flash = new Flash({ size: PAGES * PAGE, pageSize: PAGE });
const pages = counted(flashPages({ address: BASE, pageSize: PAGE, pageCount: PAGES }, createFlashModule(flash, BASE)));
const payload = (i: number) => new Uint8Array(PAYLOAD).fill(i & 255);
const reset = () => {
  pages.writes = pages.erases = pages.bytes = pages.reads = 0;
};

// 1. A steady day: payments, and every 20 a sync that uploads and acks them and reclaims.
let j = new Journal({ pages, crypto, keys });
j.recover();
reset();
const DAY = 3000;
let appendMs = 0;
let appends = 0;
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
  appends++;
  if (i % 20 === 0) {
    const seqs = j.pending(20).map((p) => p.seq);
    j.markUploaded(seqs);
    j.markAcked(seqs);
    j.reclaim();
  }
}
const perPayOps = (pages.writes + pages.erases) / DAY;
const perPayBytes = pages.bytes / DAY;

// 2. A full journal: fill with pending payments until refused, then time a recovery (a boot).
const flash2 = new Flash({ size: PAGES * PAGE, pageSize: PAGE });
const pages2 = flashPages({ address: BASE, pageSize: PAGE, pageCount: PAGES }, createFlashModule(flash2, BASE));
j = new Journal({ pages: pages2, crypto, keys });
j.recover();
let n = 0;
for (;;) {
  const r = j.append(payload(n));
  if (!("seq" in r)) break;
  n++;
}
const runs = 5;
let recMs = 0;
let rep = null as ReturnType<Journal["recover"]> | null;
for (let k = 0; k < runs; k++) {
  const jj = new Journal({ pages: pages2, crypto, keys });
  const t0 = performance.now();
  rep = jj.recover();
  recMs += performance.now() - t0;
}

console.log(`journal bench (Node ${process.version}, devkit region ${PAGES} x ${PAGE} bytes, ${PAYLOAD}-byte payloads)`);
console.log(`  append only:              ${(appendWrites / appends).toFixed(2)} flash ops, ${(appendBytes / appends).toFixed(1)} bytes written per payment`);
console.log(`  whole life of a payment:  ${perPayOps.toFixed(2)} flash ops, ${perPayBytes.toFixed(1)} bytes written (append, upload mark, ack mark, reclaim; syncs of 20)`);
console.log(`  append time:              ${((appendMs / appends) * 1000).toFixed(1)} us per payment (mean of ${appends})`);
console.log(`  recovery of a full journal (${rep!.records} pending records): ${(recMs / runs).toFixed(1)} ms (mean of ${runs})`);
await onInterpreter(rep!.records);

/**
 * The same journal code, built by the same pipeline, on a real Espruino interpreter (ESPRUINO=...): append until a
 * small RAM region is full, then recover it, and scale the per-record recovery time to a full devkit journal.
 * The region is 12 pages: the 32-bit interpreter has 229 KB of variables in all, and it refused a 96 KB typed array.
 */
async function onInterpreter(fullRecords: number): Promise<void> {
  const bin = interpreter();
  if (!bin) {
    console.log("  interpreter: skipped (set ESPRUINO=/path/to/espruino to measure on Espruino)");
    return;
  }
  const entry =
    `import { Journal } from "./firmware/journal/journal.ts";\n` +
    `import { ramPages } from "./firmware/journal/ram-pages.ts";\n` +
    `import { builtinCrypto } from "./hal/espruino/crypto.ts";\n` +
    `const keys = { enc: new Uint8Array(16), mac: new Uint8Array(32), iv: new Uint8Array(16) };\n` +
    `keys.enc[0] = 1; keys.mac[0] = 2; keys.iv[0] = 3;\n` +
    `const pages = ramPages(4096, 12); const c = builtinCrypto();\n` +
    `let j = new Journal({ pages: pages, crypto: c, keys: keys }); j.recover();\n` +
    `const payload = new Uint8Array(${PAYLOAD}); let n = 0; let t = getTime();\n` +
    `while (!j.canAccept()) { payload[0] = n & 255; j.append(payload); n++; }\n` +
    `const appendMs = (getTime() - t) * 1000 / n;\n` +
    `t = getTime(); j = new Journal({ pages: pages, crypto: c, keys: keys }); const r = j.recover();\n` +
    `const recoverMs = (getTime() - t) * 1000;\n` +
    `print("JOURNAL " + n + " " + appendMs.toFixed(2) + " " + recoverMs.toFixed(1) + " " + r.records + " " + process.memory().usage);\n`;
  const dir = mkdtempSync(join(tmpdir(), "journal-bench-"));
  const file = join(dir, "probe.js");
  writeFileSync(file, await compile(entry, "journal-bench.entry.ts", ["crypto"]));
  const r = await runOnInterpreter(bin, file, 600000);
  const line = r.lines.find((l) => l.startsWith("JOURNAL "));
  if (!line) {
    console.log("  interpreter: no figure; it printed: " + r.lines.slice(-5).join(" | "));
    return;
  }
  const [, n, appendMs, recoverMs, recovered, vars] = line.split(" ");
  const perRecord = Number(recoverMs) / Number(recovered);
  console.log(`  interpreter (${bin}):`);
  console.log(`    append time:            ${appendMs} ms per payment (mean of ${n})`);
  console.log(`    recovery:               ${recoverMs} ms for ${recovered} records = ${perRecord.toFixed(2)} ms per record; JsVars in use ${vars}`);
  console.log(`    full devkit journal:    about ${((perRecord * fullRecords) / 1000).toFixed(1)} s for ${fullRecords} records (scaled from the figure above)`);
}
