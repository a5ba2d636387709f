import assert from "node:assert/strict";
import { Journal, JOURNAL_FULL } from "../../firmware/journal/journal.ts";
import { MAX_PAYLOAD, recordSize } from "../../firmware/journal/record.ts";
import { ENTRY_SIZES, LARGEST, nodeCrypto, payment, paymentId, rig, testKeys } from "./helpers.ts";

function seqOf(r: unknown): number {
  assert.ok(r && typeof r === "object" && "seq" in r, "append refused: " + JSON.stringify(r));
  return (r as { seq: number }).seq;
}

describe("journal", () => {
  it("refuses to append before recover() ran", () => {
    const j = rig(4).journal();
    assert.equal((j.append(payment(1)) as { code: string }).code, "JOURNAL_NOT_READY");
  });

  it("gives consecutive seqs from 1 on an empty region", () => {
    const j = rig(4).journal();
    j.recover();
    assert.deepEqual([1, 2, 3].map(() => seqOf(j.append(payment(7)))), [1, 2, 3]);
  });

  it("returns what was appended, decrypted, after a reboot", () => {
    const r = rig(4);
    const j = r.journal();
    j.recover();
    for (let i = 0; i < 40; i++) seqOf(j.append(payment(i, 1 + (i * 37) % MAX_PAYLOAD)));
    const again = r.journal();
    const rep = again.recover();
    assert.equal(rep.records, 40);
    assert.deepEqual(rep.anomalies, []);
    const got = again.pending(100);
    assert.equal(got.length, 40);
    got.forEach((g, i) => assert.deepEqual(g.payload, payment(i, 1 + (i * 37) % MAX_PAYLOAD)));
  });

  it("never stores a payload in plaintext", () => {
    const r = rig(2);
    const j = r.journal();
    j.recover();
    const p = new Uint8Array(64).fill(0x41);
    seqOf(j.append(p));
    const hex = Buffer.from(r.flash.bytes).toString("hex");
    assert.ok(!hex.includes("41414141414141414141414141414141"));
  });

  it("keeps the uploaded and acked states across a reboot", () => {
    const r = rig(4);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 10; i++) j.append(payment(i));
    assert.equal(j.markUploaded([1, 2, 3, 4]), 4);
    assert.equal(j.markAcked([1, 2]), 2);
    const rep = r.journal().recover();
    assert.deepEqual([rep.records, rep.acked, rep.uploaded, rep.pending], [10, 2, 2, 8]);
  });

  it("keeps a record's 'approved online' flag across a reboot, the fast and the slow reading, and through its acknowledgement", () => {
    const r = rig(4);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 30; i++) seqOf(j.append(payment(i), i % 3 === 0)); // three pages: every third approved online
    const online = (k: Journal) => {
      const seqs: number[] = [];
      k.forEach(true, (x) => void (x.online && seqs.push(x.seq)));
      return seqs;
    };
    const want = [3, 6, 9, 12, 15, 18, 21, 24, 27, 30];
    assert.deepEqual(online(j), want);
    const again = r.journal();
    const rep = again.recover();
    assert.deepEqual([rep.records, rep.anomalies.length], [30, 0]);
    assert.deepEqual(online(again), want);
    assert.deepEqual(again.pending(3).map((x) => x.online), [false, false, true]);
    // acknowledged: the status word changes, the flag (in the authenticated header) does not
    assert.equal(again.markUploaded([3]) + again.markAcked([3, 4]), 3);
    const third = r.journal();
    assert.deepEqual(third.recover().anomalies, []);
    assert.deepEqual(online(third), want);
  });

  it("pending() leaves out acknowledged records and flags uploaded ones", () => {
    const r = rig(4);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 5; i++) j.append(payment(i));
    j.markAcked([1, 3]);
    j.markUploaded([2]);
    assert.deepEqual(j.pending(10).map((p) => [p.seq, p.uploaded, paymentId(p.payload)]), [[2, true, 2], [4, false, 4], [5, false, 5]]);
  });

  it("forEach() walks every record across pages once, oldest first, pending only or all, and stops when told", () => {
    const r = rig(6);
    const j = r.journal();
    j.recover();
    for (let i = 1; i <= 40; i++) j.append(payment(i)); // more than three pages
    j.markAcked([1, 2, 17]);
    const seen: number[] = [];
    j.forEach(false, (x) => {
      seen.push(paymentId(x.payload));
    });
    assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i + 1).filter((i) => i !== 1 && i !== 2 && i !== 17));
    assert.deepEqual(seen, j.pending(100).map((x) => paymentId(x.payload)));
    const all: number[] = [];
    j.forEach(true, (x) => {
      all.push(x.seq);
    });
    assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => i + 1));
    const firstFive: number[] = [];
    j.forEach(true, (x) => firstFive.push(x.seq) >= 5);
    assert.deepEqual(firstFive, [1, 2, 3, 4, 5]);
    assert.equal(j.pending(0).length, 0);
  });

  it("reclaims only fully acknowledged pages, and never the newest record's page", () => {
    const r = rig(4);
    const j = r.journal(0);
    j.recover();
    const perPage = Math.floor((4096 - 8) / recordSize(LARGEST));
    for (let i = 1; i <= perPage * 2; i++) j.append(payment(i));
    j.markAcked(Array.from({ length: perPage * 2 - 1 }, (_, i) => i + 1));
    assert.equal(j.reclaim(), 1);
    j.markAcked([perPage * 2]);
    assert.equal(j.reclaim(), 0, "the page holding the newest record stays");
    assert.equal(j.stats().firstSeq, perPage + 1);
  });

  it("carries seq and chain on after everything was reclaimed", () => {
    const r = rig(3);
    const j = r.journal(0);
    j.recover();
    for (let i = 1; i <= 30; i++) seqOf(j.append(payment(i))); // 3 pages of 11
    j.markAcked(Array.from({ length: 30 }, (_, i) => i + 1));
    j.reclaim();
    const k = r.journal(0);
    const rep = k.recover();
    assert.deepEqual(rep.anomalies, []);
    assert.equal(seqOf(k.append(payment(31))), 31);
    assert.deepEqual(r.journal().recover().anomalies, []);
  });

  it("refuses with JOURNAL_FULL before space runs out, and accepts again after acks and reclaim", () => {
    const r = rig(4);
    const j = r.journal(8);
    j.recover();
    let n = 0;
    let res: unknown;
    for (;;) {
      res = j.append(payment(n + 1, MAX_PAYLOAD));
      if (!(res as { seq?: number }).seq) break;
      n++;
    }
    assert.deepEqual(res, JOURNAL_FULL());
    assert.deepEqual(j.canAccept(), JOURNAL_FULL());
    assert.ok(j.stats().slotsLeft > 0, "refused while space was still left");
    j.markAcked(Array.from({ length: n }, (_, i) => i + 1));
    j.reclaim();
    assert.equal(j.canAccept(), null);
    assert.equal(seqOf(j.append(payment(999))), n + 1);
  });

  it("takes payloads of up to 319 bytes (the largest entry, 316, with room to spare)", () => {
    assert.equal(MAX_PAYLOAD, 319);
    const r = rig(2);
    const j = r.journal(0);
    j.recover();
    for (const n of [LARGEST, MAX_PAYLOAD]) seqOf(j.append(payment(n, n)));
    assert.deepEqual(r.journal().recover().anomalies, []);
  });

  it("returns each entry size (316, 116 and 94 bytes) byte for byte after a reboot", () => {
    const r = rig(3);
    const j = r.journal();
    j.recover();
    ENTRY_SIZES.forEach((n, i) => seqOf(j.append(payment(i + 1, n))));
    const again = r.journal();
    again.recover();
    assert.deepEqual(again.pending(10).map((p) => p.payload), ENTRY_SIZES.map((n, i) => payment(i + 1, n)));
  });

  it("rejects a payload over the limit", () => {
    const j = rig(2).journal();
    j.recover();
    assert.equal((j.append(new Uint8Array(MAX_PAYLOAD + 1)) as { code: string }).code, "JOURNAL_TOO_LARGE");
  });

  it("head() is the newest seq and its chain hash", () => {
    const r = rig(2);
    const j = r.journal();
    j.recover();
    j.append(payment(1));
    j.append(payment(2));
    const h = j.head();
    assert.equal(h.seq, 2);
    const again = r.journal();
    again.recover();
    assert.deepEqual(again.head(), h);
  });
});

describe("journal: space left and the nearly-full warning", () => {
  it("spaceLeft() counts down by one per largest record and reaches 0 exactly when append refuses", () => {
    const j = rig(3).journal(2);
    j.recover();
    const start = j.spaceLeft();
    assert.equal(start, 3 * 11 - 2);
    let n = 0;
    while ("seq" in j.append(payment(n + 1))) {
      n++;
      assert.equal(j.spaceLeft(), start - n);
    }
    assert.equal(n, start);
    assert.equal(j.spaceLeft(), 0);
  });

  it("refuses pages over 64 KB, whose free offsets its 16-bit table could not hold", () => {
    const pages = { ...rig(1).pages, pageSize: 0x10000 };
    assert.throws(() => new Journal({ pages, crypto: nodeCrypto(), keys: testKeys() }), /journal pages over 64 KB/);
    const ok = rig(1);
    assert.doesNotThrow(() => new Journal({ pages: ok.pages, crypto: nodeCrypto(), keys: testKeys() }));
  });

  it("warning() is JOURNAL_NEARLY_FULL from warnSlots left until the refusal, and null before", () => {
    const r = rig(3);
    const j = new Journal({ pages: r.pages, crypto: nodeCrypto(), keys: testKeys(), reserveSlots: 2, warnSlots: 5 });
    j.recover();
    const seen: string[] = [];
    for (;;) {
      const w = j.warning();
      seen.push(j.spaceLeft() + ":" + (w ? w.code : "-"));
      if (!("seq" in j.append(payment(seen.length)))) break;
    }
    assert.deepEqual(seen.slice(-7), ["6:-", "5:JOURNAL_NEARLY_FULL", "4:JOURNAL_NEARLY_FULL", "3:JOURNAL_NEARLY_FULL", "2:JOURNAL_NEARLY_FULL", "1:JOURNAL_NEARLY_FULL", "0:-"]);
    assert.deepEqual(j.canAccept(), JOURNAL_FULL());
  });

  it("spaceLeft() comes back after acks and reclaim", () => {
    const j = rig(3).journal(2);
    j.recover();
    for (let i = 1; i <= 22; i++) j.append(payment(i));
    const before = j.spaceLeft();
    j.markAcked(Array.from({ length: 11 }, (_, i) => i + 1));
    assert.equal(j.spaceLeft(), before + 11, "a fully acked page counts as free before it is erased");
    j.reclaim();
    assert.equal(j.spaceLeft(), before + 11);
  });
});

describe("journal: boot recovery of a journal that went round its ring", () => {
  it("finds the records in seq order when the newest pages lie physically before the oldest", () => {
    const r = rig(5);
    const j = r.journal(0);
    j.recover();
    let next = 1;
    const add = (n: number) => {
      for (let i = 0; i < n; i++) seqOf(j.append(payment(next++)));
    };
    add(44); // pages 0..3 full
    j.markAcked(Array.from({ length: 22 }, (_, i) => i + 1));
    assert.equal(j.reclaim(), 2); // pages 0 and 1 erased
    add(25); // page 4, then pages 0 and 1 again
    const k = r.journal(0);
    const rep = k.recover();
    assert.deepEqual([rep.anomalies.length, rep.firstSeq, rep.headSeq, rep.records, rep.pending], [0, 23, 69, 47, 47]);
    assert.deepEqual(k.pending(100).map((p) => paymentId(p.payload)), Array.from({ length: 47 }, (_, i) => i + 23));
    assert.equal(seqOf(k.append(payment(70))), 70);
  });
});
