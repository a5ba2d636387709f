/**
 * What recovery reports, exactly: each tampering or damage gives anomalies with their kind, page, offset and seq
 * (tamper.test.ts checks the kinds), page headers byte by byte, the report's cap, and the warning threshold's
 * default. Each case was a fault (a mutant) that the other tests let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { recordSize } from "../../firmware/journal/record.ts";
import { JOURNAL_NEARLY_FULL } from "../../firmware/journal/journal.ts";
import { LARGEST, payment, paymentId, rig } from "./helpers.ts";

const PAGE = 4096;
const REC = recordSize(LARGEST); // 368
const PER_PAGE = Math.floor((PAGE - 8) / REC); // 11
const at = (page: number, k: number) => page * PAGE + 8 + k * REC;

function filled(n: number, pages = 6) {
  const r = rig(pages);
  const j = r.journal();
  j.recover();
  for (let i = 1; i <= n; i++) j.append(payment(i));
  return r;
}

describe("journal recovery: anomalies exactly", () => {
  it("a bad tag names its page, offset and seq as read; the record after it is then a gap; only that record is lost", () => {
    const r = filled(30); // pages 0 (1..11), 1 (12..22), 2 (23..30)
    r.flash.bytes[at(1, 4) + 40] ^= 0x10; // seq 16's ciphertext
    const j = r.journal();
    const rep = j.recover();
    assert.deepEqual(rep.anomalies, [
      { kind: "mac", page: 1, offset: 8 + 4 * REC, seq: 16 },
      { kind: "gap", page: 1, offset: 8 + 5 * REC, seq: 17 },
    ]);
    assert.deepEqual(
      j.records(100).map((p) => p.seq),
      Array.from({ length: 30 }, (_, i) => i + 1).filter((s) => s !== 16),
    );
    assert.equal(rep.records, 29);
    assert.equal(j.stats().quarantined, 1);
  });

  it("a bad tag on a page's last record quarantines that page by itself, and the next page for the gap it leaves", () => {
    const r = filled(30); // pages 0 (1..11), 1 (12..22), 2 (23..30)
    r.flash.bytes[at(1, PER_PAGE - 1) + 40] ^= 0x10; // seq 22's ciphertext: nothing after it on its page
    const j = r.journal();
    const rep = j.recover();
    assert.deepEqual(rep.anomalies, [
      { kind: "mac", page: 1, offset: 8 + (PER_PAGE - 1) * REC, seq: 22 },
      { kind: "gap", page: 2, offset: 8, seq: 23 },
    ]);
    // each page by its own anomaly: the page whose record failed is evidence, kept until the report is through
    assert.equal(j.stats().quarantined, 2);
    j.releaseQuarantine();
    assert.equal(j.stats().quarantined, 0);
  });

  it("a whole page missing in the middle is one gap, at the next page's first record", () => {
    const r = filled(30);
    r.flash.bytes.fill(0xff, PAGE, 2 * PAGE);
    const rep = r.journal().recover();
    assert.deepEqual(rep.anomalies, [{ kind: "gap", page: 2, offset: 8, seq: 23 }]);
    assert.equal(r.journal().recover().anomalies.length, 1);
    assert.equal(r.journal().stats().quarantined, 0, "before recovery nothing is known");
    const k = r.journal();
    k.recover();
    assert.equal(k.stats().quarantined, 1, "the page after the gap is kept as evidence");
    assert.equal(rep.records, 19);
    assert.equal(rep.firstSeq, 1);
    assert.equal(rep.headSeq, 30);
  });

  it("a damaged page magic, byte by byte, is a page anomaly; the page keeps its place", () => {
    for (let k = 0; k < 4; k++) {
      const r = filled(30);
      r.flash.bytes[PAGE + k] ^= 0x01;
      const rep = r.journal().recover();
      assert.deepEqual(rep.anomalies.slice(0, 1), [{ kind: "page", page: 1, offset: 0, seq: 0 }], "byte " + k);
    }
  });

  it("a page header that is only partly erased is damage, not a free page", () => {
    for (let k = 0; k < 4; k++) {
      const r = filled(5);
      r.flash.bytes[3 * PAGE + k] = 0x00; // page 3 was free
      const rep = r.journal().recover();
      assert.deepEqual(rep.anomalies, [{ kind: "page", page: 3, offset: 0, seq: 0 }], "byte " + k);
      assert.equal(rep.freePages, 5, "no live record there");
    }
  });

  it("any byte of the retire word cleared makes the page retiring: its records are not live, nothing is reported", () => {
    for (let k = 4; k < 8; k++) {
      const r = filled(15); // page 0 full (1..11), page 1 holds 12..15
      r.flash.bytes[k] = 0x00;
      const j = r.journal();
      const rep = j.recover();
      assert.deepEqual(rep.anomalies, [], "byte " + k);
      assert.equal(rep.firstSeq, 12, "byte " + k);
      assert.equal(rep.records, 4, "byte " + k);
    }
  });

  it("reports at most 32 anomalies", () => {
    const r = filled(60, 6); // pages 0..5
    for (let p = 0; p < 5; p++) for (let k = 0; k < PER_PAGE; k += 1) r.flash.bytes[at(p, k) + 40] ^= 0x01;
    const rep = r.journal().recover();
    assert.equal(rep.anomalies.length, 32);
    assert.deepEqual(rep.anomalies[0], { kind: "mac", page: 0, offset: 8, seq: 1 });
  });

  it("a record header damaged in a middle page: the rest of that page is lost from there, the chain notes the gap", () => {
    const r = filled(30);
    r.flash.bytes[at(1, 5) + 1] = 0x02; // seq 17's version byte
    const j = r.journal();
    const rep = j.recover();
    assert.deepEqual(rep.anomalies[0], { kind: "mac", page: 1, offset: 8 + 5 * REC, seq: 0 });
    const live = j.records(100).map((p) => p.seq);
    assert.ok(live.includes(16) && !live.includes(17) && live.includes(23), live.join());
  });
});

describe("journal recovery: the 'approved online' flag changed on flash is found at boot", () => {
  // the flag is in the record's header byte 3 (FF none, FE approved online): covered by the tag and, for a flagged
  // record, by its chain hash, so the fast boot path (links and one tag a page) sees it set or cleared
  for (const [what, k] of [
    ["a middle record", 4],
    ["the last record of a full page", PER_PAGE - 1],
  ] as const) {
    it(`${what}: set on an offline payment, or cleared on an online one, is a bad tag and the record is not live`, () => {
      for (const flagged of [false, true]) {
        const r = rig(6);
        const j = r.journal();
        j.recover();
        for (let i = 1; i <= 30; i++) j.append(payment(i), flagged);
        const seq = PER_PAGE + k + 1;
        r.flash.bytes[at(1, k) + 3] = flagged ? 0xff : 0xfe;
        const again = r.journal();
        const rep = again.recover();
        assert.ok(
          rep.anomalies.some((a) => a.kind === "mac" && a.page === 1 && a.offset === 8 + k * REC),
          (flagged ? "cleared" : "set") + ": " + JSON.stringify(rep.anomalies),
        );
        assert.ok(!again.records(100).some((p) => p.seq === seq), "the changed record stayed live");
      }
    });
  }
});

describe("journal recovery: any damaged header byte of a record in a clean page is found at boot", () => {
  // The fast boot path reads a clean page by its hash links and one tag; a record whose header (marker, seq, floor,
  // prev) was changed must still be found: read again the slow way, its own tag fails.
  for (const [what, k] of [
    ["a middle record", 4],
    ["the first record", 0],
    ["the last record of a full page", PER_PAGE - 1],
  ] as const) {
    it(`${what}: every byte from the marker to the prev hash`, () => {
      const clean = filled(30);
      const image = clean.flash.bytes.slice();
      const seq = PER_PAGE + k + 1; // page 1 holds seqs 12..22
      // byte 0: a marker that is neither A5 nor FF closes the page there (how a torn tail is closed): the records
      // from there are gone and the next page's first record is a gap
      {
        const r = rig(6);
        r.flash.bytes.set(image);
        r.flash.bytes[at(1, k)] = 0x00;
        const rep = r.journal().recover();
        assert.deepEqual(rep.anomalies, [{ kind: "gap", page: 2, offset: 8, seq: 23 }]);
        assert.equal(rep.records, 30 - (PER_PAGE - k));
      }
      for (let i = 1; i < 32; i++) {
        if (i >= 4 && i < 8) continue; // the status word is outside the tag
        const r = rig(6);
        r.flash.bytes.set(image);
        r.flash.bytes[at(1, k) + i] ^= 0x01;
        const j = r.journal();
        const rep = j.recover();
        const bad = rep.anomalies.filter((a) => a.kind === "mac" && a.page === 1 && a.offset === 8 + k * REC);
        assert.equal(bad.length, 1, `byte ${i}: ${JSON.stringify(rep.anomalies)}`);
        assert.ok(!j.records(100).some((p) => p.seq === seq && i >= 8), "byte " + i + ": the damaged record stayed live");
      }
    });
  }
});

describe("journal: the warning threshold", () => {
  it("defaults to a tenth of the capacity, at least the reserve", () => {
    const big = rig(20).journal();
    assert.equal(big.stats().warnSlots, 22); // 20 pages x 11 / 10
    assert.equal(rig(6).journal().stats().warnSlots, 8); // 6.6 < reserve 8
    assert.equal(rig(6).journal(12).stats().warnSlots, 12);
  });

  it("says nearly full exactly when spaceLeft reaches warnSlots", () => {
    const r = rig(20);
    const j = r.journal();
    j.recover();
    let n = 0;
    while (j.spaceLeft() > 22) {
      assert.equal(j.warning(), null, "at " + j.spaceLeft());
      j.append(payment(++n));
    }
    assert.equal(j.spaceLeft(), 22);
    assert.deepEqual(j.warning(), JOURNAL_NEARLY_FULL());
    assert.equal(paymentId(j.records(1)[0].payload), 1);
  });
});
