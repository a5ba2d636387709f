/**
 * Journal benchmark on Node: flash operations and bytes per payment, time to append, time to recover a full
 * journal, on the devkit's region (192 pages of 4096 bytes) in the simulator's flash, through the Espruino binding.
 *
 *   npx tsx bench/journal.ts
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { CryptoBackend } from "../hal/crypto.ts";
import type { FlashPages } from "../hal/flash-pages.ts";
import { flashPages } from "../hal/espruino/flash-pages.ts";
import { Journal } from "../firmware/journal/journal.ts";
import { Flash } from "../sim/espruino/flash.ts";
import { createFlashModule } from "../sim/espruino/flash-module.ts";

const PAGES = 192;
const PAGE = 4096;
const BASE = 0x190000;
const PAYLOAD = 206; // a signed Payment message

function nodeCrypto(): CryptoBackend {
  const aes = (dec: boolean, k: Uint8Array, iv: Uint8Array, d: Uint8Array) => {
    const c = dec ? createDecipheriv("aes-128-cbc", k, iv) : createCipheriv("aes-128-cbc", k, iv);
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(d), c.final()]));
  };
  return {
    name: "node",
    sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()),
    aesCbcEncrypt: (k, iv, d) => aes(false, k, iv, d),
    aesCbcDecrypt: (k, iv, d) => aes(true, k, iv, d),
  };
}

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
console.log(`  interpreter: not measured by this script (an Espruino run needs a bundle of the journal; not built yet)`);
