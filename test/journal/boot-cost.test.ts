/**
 * Boot's fast path at its edges: a clean journal is authenticated with one chain hash a record and one tag
 * (tamper.test.ts) also past seq 255 and 65,535 (the seq's higher bytes), and with a page full of the smallest
 * records; a page read the slow way keeps every one of its records (up to 63 a page). Each case was a fault (a
 * mutant) that the other tests let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import type { CryptoBackend } from "../../hal/crypto.ts";
import { Journal } from "../../firmware/journal/journal.ts";
import { nodeCrypto, payment, rig, testKeys } from "./helpers.ts";

function bootShas(r: ReturnType<typeof rig>): { shas: number; records: number; anomalies: number; head: number } {
  let shas = 0;
  const c = nodeCrypto();
  const counting: CryptoBackend = { ...c, sha256: (d: Uint8Array) => (shas++, c.sha256(d)) };
  const rep = new Journal({ pages: r.pages, crypto: counting, keys: testKeys() }).recover();
  return { shas, records: rep.records, anomalies: rep.anomalies.length, head: rep.headSeq };
}

describe("journal boot: the fast path at its edges", () => {
  it("300 small records (seqs past 255): one chain hash each and one tag", () => {
    const r = rig(6);
    const j = r.journal(0);
    j.recover();
    for (let i = 1; i <= 300; i++) assert.deepEqual(j.append(payment(i, 0)), { seq: i });
    assert.deepEqual(bootShas(r), { shas: 300 + 2, records: 300, anomalies: 0, head: 300 });
  });

  it("a page full of the smallest records (63 of 64 bytes) read the slow way keeps all of them", () => {
    const r = rig(3);
    const j = r.journal(0);
    j.recover();
    for (let i = 1; i <= 64; i++) j.append(payment(i, 0)); // 63 on page 0, the 64th on page 1
    assert.equal(r.flash.bytes[4096 + 8], 0xa5, "page 0 holds 63");
    // two genuine records swapped: every tag is good, but page 0 is read the slow way
    const a = r.flash.bytes.slice(8 + 4 * 64, 8 + 5 * 64);
    r.flash.bytes.copyWithin(8 + 4 * 64, 8 + 5 * 64, 8 + 6 * 64);
    r.flash.bytes.set(a, 8 + 5 * 64);
    const k = r.journal(0);
    const rep = k.recover();
    assert.deepEqual(
      rep.anomalies.map((x) => `${x.kind} ${x.page} ${x.seq}`),
      ["order 0 5"],
    );
    assert.equal(rep.records, 64);
    assert.ok(k.records(100).some((p) => p.seq === 63), "the page's last record is live");
  });
});
