/**
 * Recovery and append at their edges: pages from another journal (same keys) that break the chain between pages
 * and inside one, a seq copied onto a page of its own, a torn-looking record that is not at the write frontier, a
 * page reclaimed by append itself when no free page is left, a write that does not read back, a dirty free slot,
 * and the anomaly list's accessors. Each case was a fault (a mutant) the other tests let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { createCipheriv, createHmac } from "node:crypto";
import { deriveIv, recordSize } from "../../firmware/journal/record.ts";
import { JOURNAL_FAULT } from "../../firmware/journal/journal.ts";
import { LARGEST, nodeCrypto, payment, rig, testKeys } from "./helpers.ts";

const PAGE = 4096;
const REC = recordSize(LARGEST);
const PER_PAGE = Math.floor((PAGE - 8) / REC); // 11
const at = (page: number, k: number) => page * PAGE + 8 + k * REC;

function filled(n: number, pages = 6, first = 1) {
  const r = rig(pages);
  const j = r.journal();
  j.recover();
  for (let i = 1; i <= n; i++) j.append(payment(first + i));
  return r;
}

describe("journal recovery edges", () => {
  it("a page from another journal (same keys, same seqs) breaks the chain on both of its sides", () => {
    const a = filled(30);
    const b = filled(30, 6, 1000); // other payloads, same seqs
    a.flash.bytes.set(b.flash.bytes.subarray(PAGE, 2 * PAGE), PAGE);
    const j = a.journal();
    const rep = j.recover();
    assert.deepEqual(rep.anomalies, [
      { kind: "chain", page: 1, offset: 8, seq: 12 },
      { kind: "chain", page: 2, offset: 8, seq: 23 },
    ]);
    assert.equal(j.stats().quarantined, 2);
    assert.equal(rep.records, 30, "genuine records (good tags) stay live");
  });

  it("a record from another journal inside a page breaks the chain there and after it", () => {
    const a = filled(30);
    const b = filled(30, 6, 1000);
    a.flash.bytes.set(b.flash.bytes.subarray(at(1, 1), at(1, 2)), at(1, 1)); // seq 13
    const rep = a.journal().recover();
    assert.deepEqual(rep.anomalies, [
      { kind: "chain", page: 1, offset: 8 + REC, seq: 13 },
      { kind: "chain", page: 1, offset: 8 + 2 * REC, seq: 14 },
    ]);
  });

  it("a record copied next to itself in a page is out of order and a replay, and counted once", () => {
    const a = filled(30);
    a.flash.bytes.set(a.flash.bytes.slice(at(1, 1), at(1, 2)), at(1, 2)); // seq 13 over seq 14
    const j = a.journal();
    const rep = j.recover();
    const kinds = rep.anomalies.map((x) => `${x.kind} ${x.page} ${x.offset} ${x.seq}`);
    assert.ok(kinds.includes(`order 1 ${8 + 2 * REC} 13`), kinds.join());
    assert.ok(kinds.includes(`replay 1 ${8 + 2 * REC} 13`), kinds.join());
    assert.equal(j.records(100).filter((p) => p.seq === 13).length, 1);
    assert.equal(j.markAcked([13]), 1, "the seq is acknowledged once");
    assert.equal(j.stats().acked, 1);
  });

  it("the newest record copied alone onto a free page is a replay, not a second copy or a gap", () => {
    const a = filled(23); // page 0: 1..11, page 1: 12..22, page 2: 23
    const img = new Uint8Array(PAGE).fill(0xff);
    img.set(a.flash.bytes.subarray(PAGE, PAGE + 8), 0); // a page header
    img.set(a.flash.bytes.subarray(at(1, 10), at(1, 11)), 8); // seq 22 alone
    a.flash.bytes.set(img, 4 * PAGE);
    const j = a.journal();
    const rep = j.recover();
    assert.deepEqual(rep.anomalies, [{ kind: "replay", page: 4, offset: 8, seq: 22 }]);
    assert.equal(rep.records, 23);
    assert.equal(j.records(100).filter((p) => p.seq === 22).length, 1);
  });

  it("a record whose tag was never written, on a page that is not the frontier, is a bad tag, not a torn tail", () => {
    const a = filled(15); // page 0 full, page 1 holds 12..15
    a.flash.bytes.fill(0xff, at(0, PER_PAGE - 1) + REC - 16, at(0, PER_PAGE - 1) + REC); // seq 11's tag erased
    const j = a.journal();
    const rep = j.recover();
    assert.equal(rep.tornTail, false);
    assert.deepEqual(rep.anomalies, [
      { kind: "gap", page: 1, offset: 8, seq: 12 }, // seq 11 is not live
      { kind: "mac", page: 0, offset: 8 + (PER_PAGE - 1) * REC, seq: 0 },
    ]);
    assert.equal(j.stats().quarantined, 2);
  });

  it("a torn-looking record on a quarantined head page is a bad tag, not a torn tail", () => {
    const a = filled(15); // page 1 (the head) holds 12..15
    a.flash.bytes[at(1, 1) + 40] ^= 1; // seq 13: bad tag, the page is quarantined
    a.flash.bytes.fill(0xff, at(1, 3) + REC - 16, at(1, 3) + REC); // seq 15's tag erased
    const rep = a.journal().recover();
    assert.equal(rep.tornTail, false);
    assert.ok(rep.anomalies.some((x) => x.kind === "mac" && x.page === 1 && x.offset === 8 + 3 * REC && x.seq === 0), JSON.stringify(rep.anomalies));
  });

  it("only one torn tail is dropped: a second torn-looking record at the frontier is a bad tag", () => {
    const a = filled(15);
    a.flash.bytes.fill(0xff, at(1, 3) + REC - 16, at(1, 3) + REC); // seq 15 torn on the head page
    const img = new Uint8Array(PAGE).fill(0xff);
    img.set(a.flash.bytes.subarray(PAGE, PAGE + 8), 0);
    img.set(a.flash.bytes.subarray(at(1, 3), at(1, 4)), 8); // the same torn record opening page 3
    a.flash.bytes.set(img, 3 * PAGE);
    const rep = a.journal().recover();
    assert.equal(rep.tornTail, true);
    assert.deepEqual(rep.anomalies, [{ kind: "mac", page: 3, offset: 8, seq: 0 }]);
    assert.equal(rep.headSeq, 14);
  });

  it("anomalies() repeats the report's list, is a copy, and is empty before recovery and after release", () => {
    const a = filled(30);
    a.flash.bytes[at(1, 4) + 40] ^= 1;
    const j = a.journal();
    assert.deepEqual(j.anomalies(), []);
    const rep = j.recover();
    assert.deepEqual(j.anomalies(), rep.anomalies);
    rep.anomalies.length = 0;
    j.anomalies().pop();
    assert.equal(j.anomalies().length, 2);
    j.releaseQuarantine();
    assert.deepEqual(j.anomalies(), []);
  });

  it("the chain head of an empty journal is seq 0 and 16 zero bytes", () => {
    const j = rig(3).journal();
    j.recover();
    assert.deepEqual(j.head(), { seq: 0, hash: new Uint8Array(16) });
  });
});

describe("journal reads and marks", () => {
  it("a record with a valid tag but bad padding is never handed out", () => {
    const r = filled(5);
    // re-encrypt seq 3 with padding bytes that disagree, and re-tag it with the journal's own key
    const keys = testKeys();
    const off = at(0, 2);
    const size = REC;
    const plain = new Uint8Array(size - 48).fill(0x05);
    plain[plain.length - 2] = 0x04;
    const e = createCipheriv("aes-128-cbc", keys.enc, deriveIv(nodeCrypto(), keys, 3)).setAutoPadding(false);
    r.flash.bytes.set(Buffer.concat([e.update(plain), e.final()]), off + 32);
    const rec = r.flash.bytes.subarray(off, off + size);
    const tag = createHmac("sha256", keys.mac).update(rec.subarray(0, 4)).update(rec.subarray(8, size - 16)).digest();
    r.flash.bytes.set(tag.subarray(0, 16), off + size - 16);
    const j = r.journal();
    j.recover();
    assert.deepEqual(
      j.records(100).map((p) => p.seq),
      [1, 2, 4, 5],
    );
  });

  it("pending(max) and records(max) give at most max", () => {
    const j = filled(10).journal();
    j.recover();
    assert.equal(j.pending(3).length, 3);
    assert.equal(j.records(1).length, 1);
    assert.equal(j.records(10).length, 10);
  });

  it("marks the first and the last seq of a page when asked for that seq alone", () => {
    const j = filled(30).journal();
    j.recover();
    assert.equal(j.markUploaded([12]), 1); // page 1's first
    assert.equal(j.markAcked([11]), 1); // page 0's last
    assert.equal(j.markAcked([22]), 1); // page 1's last
    assert.equal(j.markUploaded([23]), 1); // page 2's first
    assert.deepEqual([j.stats().uploaded, j.stats().acked], [2, 2]);
  });

  it("counts uploaded and acknowledged records of a page read the slow way", () => {
    const r = filled(30);
    const j = r.journal();
    j.recover();
    j.markUploaded([12, 13, 14]);
    j.markAcked([14, 15]);
    r.flash.bytes[at(1, 6) + 40] ^= 1; // seq 18: page 1 is read record by record
    const rep = r.journal().recover();
    assert.deepEqual([rep.records, rep.uploaded, rep.acked, rep.pending], [29, 2, 2, 27]);
  });

  it("reclaim() before recover() erases nothing, and spaceLeft() is never negative", () => {
    const r = filled(15);
    r.journal().recover();
    const before = r.flash.bytes.slice();
    const j = r.journal();
    assert.equal(j.reclaim(), 0);
    assert.deepEqual(r.flash.bytes, before);
    const k = rig(1).journal(20); // 11 slots, reserve 20
    k.recover();
    assert.equal(k.spaceLeft(), 0);
  });
});

describe("journal append edges", () => {
  it("with no free page left, append reclaims the oldest acknowledged page itself", () => {
    const r = rig(3);
    const j = r.journal(0);
    j.recover();
    for (let i = 1; i <= 3 * PER_PAGE; i++) assert.ok("seq" in j.append(payment(i)), "append " + i);
    j.markAcked(Array.from({ length: PER_PAGE }, (_, i) => i + 1)); // page 0 acknowledged; reclaim() not called
    const res = j.append(payment(99));
    assert.deepEqual(res, { seq: 3 * PER_PAGE + 1 });
    assert.equal(j.stats().firstSeq, PER_PAGE + 1);
    const k = r.journal(0);
    const rep = k.recover();
    assert.deepEqual(rep.anomalies, []);
    assert.equal(rep.headSeq, 3 * PER_PAGE + 1);
  });

  it("a write that does not read back is JOURNAL_FAULT, and the journal refuses from then on", () => {
    const r = rig(3);
    const j = r.journal();
    j.recover();
    j.append(payment(1));
    const write = r.pages.write.bind(r.pages);
    r.pages.write = (p: number, off: number, data: Uint8Array) => {
      const bad = new Uint8Array(data);
      bad[bad.length - 1] ^= 1; // a stuck bit
      write(p, off, bad);
    };
    assert.deepEqual(j.append(payment(2)), JOURNAL_FAULT());
    assert.deepEqual(j.canAccept(), JOURNAL_FAULT());
    assert.equal(j.spaceLeft(), 0);
    assert.equal(j.warning(), null);
  });

  it("a slot whose first word is not erased is not written at all: the record goes to a fresh page", () => {
    for (let k = 1; k < 4; k++) {
      const r = rig(3);
      const j = r.journal();
      j.recover();
      j.append(payment(1));
      r.flash.bytes[8 + REC + k] = 0x00; // FF 00 FF FF (k = 1) where record 2 would start
      const before = r.flash.bytes.slice(8 + REC, 8 + 2 * REC);
      const x = r.journal();
      x.recover();
      assert.deepEqual(x.append(payment(2)), { seq: 2 }, "byte " + k);
      assert.deepEqual(r.flash.bytes.slice(8 + REC, 8 + 2 * REC), before, "byte " + k + ": the slot was written");
      assert.equal(r.flash.bytes[PAGE + 8], 0xa5, "byte " + k + ": record 2 on page 1");
    }
  });

  it("a free slot with junk in it is closed, and the record goes to a fresh page", () => {
    const r = rig(3);
    const j = r.journal();
    j.recover();
    j.append(payment(1));
    r.flash.bytes[8 + REC + 100] = 0x00; // inside where record 2 would go on page 0
    const k = r.journal();
    k.recover();
    assert.deepEqual(k.append(payment(2)), { seq: 2 });
    assert.deepEqual(Array.from(r.flash.bytes.subarray(8 + REC, 8 + REC + 4)), [0, 0, 0, 0], "the slot closed");
    assert.equal(r.flash.bytes[PAGE + 8], 0xa5, "record 2 on page 1");
    const rep = r.journal().recover();
    assert.deepEqual(rep.anomalies, []);
    assert.equal(rep.records, 2);
  });
});
