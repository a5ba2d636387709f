/**
 * Tampering with the flash behind the firmware's back (an attacker with the chip, or damage) is detected at
 * recovery: each case names what was done and the anomaly kind expected. Genuine records stay live.
 */
import assert from "node:assert/strict";
import { chainHash, recordSize } from "../../firmware/journal/record.ts";
import { Journal } from "../../firmware/journal/journal.ts";
import type { CryptoBackend } from "../../hal/crypto.ts";
import { isPowerCut } from "../../sim/espruino/flash.ts";
import { LARGEST, nodeCrypto, payment, paymentId, rig, testKeys } from "./helpers.ts";

const PAGE = 4096;
const REC = recordSize(LARGEST); // 368 bytes: 11 records a page
const PER_PAGE = Math.floor((PAGE - 8) / REC);
const at = (page: number, k: number) => page * PAGE + 8 + k * REC;

/** A journal of `n` payments (ids 1..n) on 6 pages; returns the rig. */
function filled(n: number) {
  const r = rig(6);
  const j = r.journal();
  j.recover();
  for (let i = 1; i <= n; i++) j.append(payment(i));
  return r;
}

function kinds(r: ReturnType<typeof rig>): string[] {
  return r.journal().recover().anomalies.map((a) => a.kind);
}

describe("journal: tamper detection", () => {
  it("a clean journal reports no anomaly", () => {
    assert.deepEqual(kinds(filled(40)), []);
  });

  it("a flipped bit inside a record is a bad tag, and that record is quarantined", () => {
    const r = filled(40);
    r.flash.bytes[at(0, 5) + 40] ^= 0x10;
    const j = r.journal();
    const rep = j.recover();
    assert.ok(rep.anomalies.some((a) => a.kind === "mac" && a.page === 0 && a.offset === 8 + 5 * REC), JSON.stringify(rep.anomalies));
    assert.deepEqual(j.pending(100).map((p) => paymentId(p.payload)).filter((id) => id === 6), []);
    assert.equal(j.pending(100).length, 39);
  });

  it("a flipped bit in the newest record is a bad tag, not a torn tail", () => {
    const r = filled(20); // page 1 holds 12..20
    r.flash.bytes[at(1, 20 - PER_PAGE - 1) + REC - 3] ^= 0x01;
    const rep = r.journal().recover();
    assert.equal(rep.tornTail, false);
    assert.ok(rep.anomalies.some((a) => a.kind === "mac" && a.page === 1), JSON.stringify(rep.anomalies));
  });

  it("a deleted record (the page rewritten without it) breaks the chain", () => {
    const r = filled(40);
    const page = r.flash.bytes.slice(0, PAGE);
    const rebuilt = new Uint8Array(PAGE).fill(0xff);
    rebuilt.set(page.subarray(0, at(0, 7)), 0);
    rebuilt.set(page.subarray(at(0, 8), at(0, PER_PAGE)), at(0, 7));
    r.flash.bytes.set(rebuilt, 0);
    const j = r.journal();
    const k = j.recover().anomalies.map((x) => x.kind);
    assert.ok(k.includes("gap") || k.includes("chain"), k.join());
    assert.equal(j.stats().quarantined, 1, "the page the record was taken from is kept as evidence");
  });

  it("a deleted page in the middle leaves a gap", () => {
    const r = filled(40); // pages 0, 1, 2
    r.flash.bytes.fill(0xff, PAGE, 2 * PAGE);
    assert.ok(kinds(r).includes("gap"));
  });

  it("two swapped records are out of order", () => {
    const r = filled(40);
    const a = r.flash.bytes.slice(at(0, 3), at(0, 4));
    const b = r.flash.bytes.slice(at(0, 4), at(0, 5));
    r.flash.bytes.set(b, at(0, 3));
    r.flash.bytes.set(a, at(0, 4));
    const j = r.journal();
    const rep = j.recover();
    assert.ok(rep.anomalies.some((x) => x.kind === "order"), JSON.stringify(rep.anomalies));
    assert.equal(j.pending(100).length, 40, "the swapped records are genuine and stay live");
    assert.equal(j.stats().quarantined, 1, "the page they were swapped on is kept as evidence");
  });

  it("an old page written back after it was reclaimed is a replay, and its records are not live", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= PER_PAGE; i++) j.append(payment(i));
    const old = r.flash.bytes.slice(0, PAGE); // page 0, full, records 1..11
    for (let i = PER_PAGE + 1; i <= 40; i++) j.append(payment(i));
    j.markAcked(Array.from({ length: 30 }, (_, i) => i + 1));
    assert.ok(j.reclaim() >= 2);
    for (let i = 41; i <= 45; i++) j.append(payment(i)); // written with a floor above 11
    // the attacker erases page 0 (wherever it is in use or not) and writes the old image back
    r.flash.bytes.set(old, 0);
    const k = r.journal();
    const rep = k.recover();
    assert.ok(rep.anomalies.some((x) => x.kind === "replay"), JSON.stringify(rep.anomalies));
    const live = k.records(1000).map((p) => p.seq);
    assert.ok(live.every((s) => s > PER_PAGE), "replayed seqs came back: " + live.join());
  });

  it("an old copy of a live page placed on a free page is a replay (duplicate seqs)", () => {
    const r = filled(20);
    r.flash.bytes.set(r.flash.bytes.slice(0, PAGE), 4 * PAGE);
    const j = r.journal();
    const rep = j.recover();
    assert.ok(rep.anomalies.some((x) => x.kind === "replay"), JSON.stringify(rep.anomalies));
    assert.equal(j.pending(100).length, 20);
  });

  it("a damaged page header is reported and the page is kept", () => {
    const r = filled(40);
    r.flash.bytes[1] ^= 0x02;
    const j = r.journal();
    const rep = j.recover();
    assert.ok(rep.anomalies.some((x) => x.kind === "page" && x.page === 0));
    assert.ok(j.stats().quarantined >= 1);
  });

  it("quarantined pages are not erased until the quarantine is released", () => {
    const r = filled(40);
    r.flash.bytes[at(0, 2) + 50] ^= 0x04;
    const j = r.journal(0);
    j.recover();
    j.markAcked(Array.from({ length: 40 }, (_, i) => i + 1));
    j.reclaim();
    assert.notEqual(r.flash.bytes[0], 0xff, "evidence erased");
    j.releaseQuarantine();
    assert.ok(j.reclaim() >= 1);
    assert.equal(r.flash.bytes[0], 0xff);
  });
});

describe("journal: tamper detection on the fast boot path (one tag per clean run of pages)", () => {
  /** Rewrite record k of a page's ciphertext and re-link every later record of that page (SHA-256 needs no key). */
  function forgeAndRelink(r: ReturnType<typeof rig>, page: number, k: number): void {
    const b = r.flash.bytes;
    b[at(page, k) + 40] ^= 0x20;
    for (let i = k + 1; i < PER_PAGE && b[at(page, i)] === 0xa5; i++) {
      b.set(chainHash(nodeCrypto(), b, at(page, i - 1), REC), at(page, i) + 16);
    }
  }

  it("a record changed in a middle page, with the rest of its page re-linked, is still a bad tag", () => {
    const r = filled(40); // pages 0..3
    forgeAndRelink(r, 1, 2);
    const j = r.journal();
    const rep = j.recover();
    assert.ok(rep.anomalies.some((a) => a.kind === "mac" && a.page === 1 && a.offset === 8 + 2 * REC), JSON.stringify(rep.anomalies));
    assert.ok(!j.pending(100).some((p) => paymentId(p.payload) === PER_PAGE + 3), "the forged record came back live");
  });

  it("a record changed in the newest page, with the rest of its page re-linked, is still a bad tag", () => {
    const r = filled(40); // page 3 holds 34..40
    forgeAndRelink(r, 3, 1);
    const rep = r.journal().recover();
    assert.ok(rep.anomalies.some((a) => a.kind === "mac" && a.page === 3), JSON.stringify(rep.anomalies));
  });

  it("the newest record with its prev changed to match a forged chain is a bad tag", () => {
    const r = filled(40);
    forgeAndRelink(r, 3, 5); // record 6 of page 3 (seq 39) changed, the newest (seq 40) re-linked to it
    const rep = r.journal().recover();
    assert.ok(rep.anomalies.filter((a) => a.kind === "mac" && a.page === 3).length >= 2, JSON.stringify(rep.anomalies));
  });

  it("a clean journal is authenticated with one tag (the newest record's) and one SHA-256 a record", () => {
    const r = filled(40);
    let shas = 0;
    const c = nodeCrypto();
    const counting: CryptoBackend = { ...c, sha256: (d: Uint8Array) => (shas++, c.sha256(d)) };
    const rep = new Journal({ pages: r.pages, crypto: counting, keys: testKeys() }).recover();
    assert.deepEqual([rep.records, rep.anomalies.length], [40, 0]);
    assert.equal(shas, 40 + 2, "one chain hash a record plus one HMAC (two SHA-256) for the newest tag");
  });
});

describe("journal: torn tail", () => {
  it("drops a record torn by a power cut, reports it, and reuses its seq", () => {
    const r = filled(10);
    const j = r.journal();
    j.recover();
    r.flash.cutPowerAt(1);
    assert.throws(() => j.append(payment(11)), isPowerCut);
    const k = r.journal();
    const rep = k.recover();
    assert.equal(rep.tornTail, true);
    assert.deepEqual(rep.anomalies, []);
    assert.equal(rep.headSeq, 10);
    const a = k.append(payment(12));
    assert.deepEqual(a, { seq: 11 });
    const again = r.journal();
    const rep2 = again.recover();
    assert.equal(rep2.tornTail, false, "the torn record was closed once and for all");
    assert.deepEqual(rep2.anomalies, []);
    assert.deepEqual(again.pending(100).map((p) => paymentId(p.payload)).slice(-2), [10, 12]);
  });

  it("drops a torn first record of a fresh page", () => {
    const r = filled(PER_PAGE); // page 0 is full
    const j = r.journal();
    j.recover();
    r.flash.cutPowerAt(1);
    assert.throws(() => j.append(payment(PER_PAGE + 1)), isPowerCut);
    const rep = r.journal().recover();
    assert.deepEqual([rep.tornTail, rep.anomalies.length, rep.headSeq], [true, 0, PER_PAGE]);
  });
});
