/**
 * What stats() counts (records, pending, uploaded, acknowledged, space), and reclaim()'s second pass: pages with no
 * live record that are not clean (a retiring page whose erase was torn, a free page with junk, a released replay)
 * are erased too, and a clean free page is not erased again.
 */
import assert from "node:assert/strict";
import { recordSize } from "../../firmware/journal/record.ts";
import type { Journal } from "../../firmware/journal/journal.ts";
import { LARGEST, payment, rig } from "./helpers.ts";

const PAGE = 4096;
const REC = recordSize(LARGEST); // 368
const PER_PAGE = Math.floor((PAGE - 8) / REC); // 11

function counts(j: Journal) {
  const s = j.stats();
  return { records: s.records, pending: s.pending, uploaded: s.uploaded, acked: s.acked, headSeq: s.headSeq, firstSeq: s.firstSeq };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function pageIsErased(r: ReturnType<typeof rig>, p: number): boolean {
  return r.flash.bytes.subarray(p * PAGE, (p + 1) * PAGE).every((x) => x === 0xff);
}

describe("journal: stats()", () => {
  it("says nothing fits before recover(), and gives the region's shape", () => {
    const j = rig(6).journal();
    assert.deepEqual(j.stats(), {
      pageSize: PAGE,
      pageCount: 6,
      records: 0,
      pending: 0,
      uploaded: 0,
      acked: 0,
      headSeq: 0,
      firstSeq: 0,
      slotsLeft: 0,
      reserveSlots: 8,
      spaceLeft: 0,
      warnSlots: 8,
      capacity: 6 * PER_PAGE,
      quarantined: 0,
    });
  });

  it("an empty journal: every page free", () => {
    const j = rig(6).journal(3);
    j.recover();
    const s = j.stats();
    assert.equal(s.slotsLeft, 6 * PER_PAGE);
    assert.equal(s.reserveSlots, 3);
    assert.equal(s.spaceLeft, 6 * PER_PAGE - 3);
    assert.deepEqual(counts(j), { records: 0, pending: 0, uploaded: 0, acked: 0, headSeq: 0, firstSeq: 0 });
  });

  it("counts records, pending, uploaded and acknowledged as payments are appended, uploaded and acknowledged", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 15; i++) j.append(payment(i)); // page 0: 1..11, page 1: 12..15
    assert.deepEqual(counts(j), { records: 15, pending: 15, uploaded: 0, acked: 0, headSeq: 15, firstSeq: 1 });
    // head page: 7 more of 368 bytes after 4 (8 + 4 * 368 = 1480); four free pages of 11
    assert.equal(j.stats().slotsLeft, 7 + 4 * PER_PAGE);
    assert.equal(j.stats().spaceLeft, 7 + 4 * PER_PAGE - 8);

    assert.equal(j.markUploaded([1, 2, 3]), 3);
    assert.deepEqual(counts(j), { records: 15, pending: 15, uploaded: 3, acked: 0, headSeq: 15, firstSeq: 1 });
    // acknowledging an uploaded record moves it from uploaded to acked; one never uploaded goes straight to acked
    assert.equal(j.markAcked([2, 3, 4, 5]), 4);
    assert.deepEqual(counts(j), { records: 15, pending: 11, uploaded: 1, acked: 4, headSeq: 15, firstSeq: 1 });
    // nothing is counted twice: already uploaded, already acknowledged, unknown seqs
    assert.equal(j.markUploaded([1, 2, 99]), 0);
    assert.equal(j.markAcked([2, 3, 0, 16]), 0);
    assert.deepEqual(counts(j), { records: 15, pending: 11, uploaded: 1, acked: 4, headSeq: 15, firstSeq: 1 });

    // the same numbers after a reboot, in the recovery report and in stats()
    const k = r.journal();
    const rep = k.recover();
    assert.deepEqual(
      { records: rep.records, pending: rep.pending, uploaded: rep.uploaded, acked: rep.acked, headSeq: rep.headSeq, firstSeq: rep.firstSeq },
      { records: 15, pending: 11, uploaded: 1, acked: 4, headSeq: 15, firstSeq: 1 },
    );
    assert.deepEqual(counts(k), { records: 15, pending: 11, uploaded: 1, acked: 4, headSeq: 15, firstSeq: 1 });
    assert.equal(rep.freePages, 4);
  });

  it("counts a fully acknowledged oldest page as space, and reclaim() frees it without changing that space", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 15; i++) j.append(payment(i));
    j.markUploaded(range(1, 11));
    j.markAcked(range(1, 11));
    assert.deepEqual(counts(j), { records: 15, pending: 4, uploaded: 0, acked: 11, headSeq: 15, firstSeq: 1 });
    assert.equal(j.stats().slotsLeft, 7 + 5 * PER_PAGE);
    assert.equal(j.reclaim(), 1);
    assert.ok(pageIsErased(r, 0));
    assert.deepEqual(counts(j), { records: 4, pending: 4, uploaded: 0, acked: 0, headSeq: 15, firstSeq: 12 });
    assert.equal(j.stats().slotsLeft, 7 + 5 * PER_PAGE);
    assert.equal(j.reclaim(), 0, "nothing left to erase");
  });

  it("counts quarantined pages", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 30; i++) j.append(payment(i));
    r.flash.bytes[1] ^= 0x02; // page 0's header
    r.flash.bytes[PAGE + 8 + 3 * REC + 60] ^= 0x01; // a record of page 1
    const k = r.journal();
    k.recover();
    assert.equal(k.stats().quarantined, 2);
    k.releaseQuarantine();
    assert.equal(k.stats().quarantined, 0);
  });
});

describe("journal: reclaim() erases dead pages too", () => {
  it("finishes a page whose erase was torn after it was marked retiring", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 15; i++) j.append(payment(i));
    // page 3: a used page marked retiring (its retire word cleared) whose erase never happened
    r.flash.bytes.set([0x50, 0x4a, 0x4e, 0x31, 0, 0, 0, 0, 0xa5], 3 * PAGE);
    const k = r.journal();
    const rep = k.recover();
    assert.deepEqual(rep.anomalies, []);
    assert.equal(rep.freePages, 4);
    assert.equal(k.reclaim(), 1);
    assert.ok(pageIsErased(r, 3));
    assert.equal(k.reclaim(), 0);
    assert.deepEqual(counts(k), { records: 15, pending: 15, uploaded: 0, acked: 0, headSeq: 15, firstSeq: 1 });
  });

  it("erases a free-looking page with junk after its first word, and leaves clean free pages alone", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    j.append(payment(1));
    r.flash.bytes[4 * PAGE + 2000] = 0x00;
    const k = r.journal();
    k.recover();
    let erases = 0;
    const erase = r.pages.erase.bind(r.pages);
    r.pages.erase = (p: number) => {
      erases++;
      assert.equal(p, 4, "only the dirty page is erased");
      erase(p);
    };
    assert.equal(k.reclaim(), 1);
    assert.equal(erases, 1);
    assert.ok(pageIsErased(r, 4));
    assert.equal(k.reclaim(), 0);
    assert.equal(erases, 1, "a page known clean is not read or erased again");
  });

  it("erases a replayed page once its quarantine is released, and the journal goes on", () => {
    const r = rig(6);
    const j = r.journal(0);
    j.recover();
    for (let i = 1; i <= 25; i++) j.append(payment(i)); // pages 0, 1, 2
    const old = r.flash.bytes.slice(0, PAGE);
    j.markAcked(range(1, 22));
    assert.equal(j.reclaim(), 2);
    j.append(payment(26)); // its floor, 23, says records below 23 were erased
    r.flash.bytes.set(old, 4 * PAGE); // page 0's old content written back on page 4
    const k = r.journal(0);
    const rep = k.recover();
    assert.ok(rep.anomalies.some((a) => a.kind === "replay" && a.page === 4), JSON.stringify(rep.anomalies));
    assert.equal(k.reclaim(), 0, "evidence kept");
    k.releaseQuarantine();
    assert.equal(k.reclaim(), 1);
    assert.ok(pageIsErased(r, 4));
    assert.deepEqual(counts(k), { records: 4, pending: 4, uploaded: 0, acked: 0, headSeq: 26, firstSeq: 23 });
  });
});
