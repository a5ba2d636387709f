/**
 * The power-cut sweep (power-cut.test.ts, power-cut-short.test.ts). The proof: power is cut at every flash operation of a scripted day (payments, uploads, acknowledgements,
 * reclaiming). After each cut the terminal reboots (a new Journal over the same flash) and recovers; every payment
 * it had confirmed to a customer must be there exactly once and decrypt, unless the gateway had acknowledged it
 * (then it may have been reclaimed). A cut must never look like tampering, and the journal must carry on.
 */
import assert from "node:assert/strict";
import type { Journal } from "../../firmware/journal/journal.ts";
import { Flash, isPowerCut } from "../../sim/espruino/flash.ts";
import { ENTRY_SIZES, payment as entryOf, paymentId, rig } from "./helpers.ts";

/** Payment `id` as one of the three entry sizes in turn (316-byte WalletPayments, 116, 94). */
const payment = (id: number) => entryOf(id, ENTRY_SIZES[id % ENTRY_SIZES.length]);

/** The region and the day: how many pages, how many payments, how many pages the day must reclaim at least. */
export interface SweepPlan {
  pages: number;
  payments: number;
  minReclaimed: number;
}

interface DayLog {
  /** payment id -> seq, for every append that returned a seq */
  confirmed: Map<number, number>;
  /** seqs passed to a markAcked call that returned */
  acked: Set<number>;
  payments: number;
  syncs: number;
  reclaimed: number;
}

/** The day: a payment at a time; every 8th payment a sync uploads what is pending and the gateway acks most of it. */
function day(j: Journal, log: DayLog, plan: SweepPlan): void {
  for (let i = 1; i <= plan.payments; i++) {
    const r = j.append(payment(i));
    if (!("seq" in r)) throw new Error("refused during the day: " + r.code);
    log.confirmed.set(i, r.seq);
    log.payments++;
    if (i % 8 === 0) {
      const up = j.pending(20).map((p) => p.seq);
      j.markUploaded(up);
      const acks = up.slice(0, Math.max(0, up.length - 3)); // the gateway lags a little
      j.markAcked(acks);
      for (const s of acks) log.acked.add(s);
      log.syncs++;
      log.reclaimed += j.reclaim();
    }
  }
}

function newLog(): DayLog {
  return { confirmed: new Map(), acked: new Set(), payments: 0, syncs: 0, reclaimed: 0 };
}

/** Every confirmed payment present exactly once (or acked), nothing unconfirmed, no anomaly; returns a failure text. */
function check(flash: Flash, log: DayLog, where: string, plan: SweepPlan): string | null {
  const r = rig(plan.pages, flash);
  const j = r.journal();
  const rep = j.recover();
  if (rep.anomalies.length) return `${where}: a power cut looked like tampering: ${JSON.stringify(rep.anomalies)}`;
  const pend = j.records(100000);
  const bySeq = new Map<number, number>();
  for (const p of pend) {
    if (bySeq.has(p.seq)) return `${where}: seq ${p.seq} twice`;
    bySeq.set(p.seq, paymentId(p.payload));
  }
  const ids = new Set<number>();
  for (const [seq, id] of bySeq) {
    if (ids.has(id)) return `${where}: payment ${id} twice`;
    ids.add(id);
    if (log.confirmed.get(id) !== seq) return `${where}: seq ${seq} holds payment ${id}, never confirmed with that seq`;
    if (!payment(id).every((b, k) => pend.find((p) => p.seq === seq)!.payload[k] === b)) return `${where}: payment ${id} decrypts wrong`;
  }
  for (const [id, seq] of log.confirmed) {
    if (log.acked.has(seq)) {
      if (bySeq.has(seq) && !pend.find((p) => p.seq === seq)!.acked) return `${where}: acked seq ${seq} is pending again`;
    } else if (bySeq.get(seq) !== id) return `${where}: confirmed payment ${id} (seq ${seq}) is missing`;
  }
  if (rep.records < pend.length) return `${where}: report counts ${rep.records} records, ${pend.length} pending`;
  // The journal carries on: more payments, a full sync, a reboot, still clean.
  const more: number[] = [];
  for (let i = 0; i < 3; i++) {
    const a = j.append(payment(100000 + i));
    if (!("seq" in a)) return `${where}: refused after recovery: ${a.code}`;
    more.push(a.seq);
  }
  j.markAcked(j.pending(100000).map((p) => p.seq));
  j.reclaim();
  const again = rig(plan.pages, flash).journal();
  const rep2 = again.recover();
  if (rep2.anomalies.length) return `${where}: anomalies after carrying on: ${JSON.stringify(rep2.anomalies)}`;
  if (again.stats().headSeq !== more[2]) return `${where}: head ${again.stats().headSeq} after carrying on, want ${more[2]}`;
  return null;
}

/** Cut the power at every flash operation of the day (and once more during recovery when it writes); assert. */
export function sweep(plan: SweepPlan): void {
    const clean = rig(plan.pages);
    const full = newLog();
    clean.journal().recover();
    const j0 = clean.journal();
    j0.recover();
    const before = clean.flash.ops;
    day(j0, full, plan);
    const total = clean.flash.ops - before;
    assert.ok(full.reclaimed >= plan.minReclaimed, "the day reclaims pages: " + full.reclaimed);

    const failures: string[] = [];
    let cuts = 0;
    let recoveryCuts = 0;
    for (let n = 1; n <= total; n++) {
      const r = rig(plan.pages);
      const j = r.journal();
      j.recover();
      const log = newLog();
      r.flash.cutPowerAt(n);
      try {
        day(j, log, plan);
        failures.push(`cut ${n}: the day finished without a cut`);
        continue;
      } catch (e) {
        if (!isPowerCut(e)) throw e;
      }
      cuts++;
      // A second cut during the recovery's own write (closing a torn tail), when it makes one.
      const probe = new Flash({ image: r.flash.bytes.slice(), pageSize: 4096 });
      const opsBefore = probe.ops;
      rig(plan.pages, probe).journal().recover();
      if (probe.ops > opsBefore) {
        const twice = new Flash({ image: r.flash.bytes.slice(), pageSize: 4096 });
        twice.cutPowerAt(1);
        assert.throws(() => rig(plan.pages, twice).journal().recover(), isPowerCut);
        recoveryCuts++;
        const f2 = check(twice, log, `cut ${n} + cut in recovery`, plan);
        if (f2) failures.push(f2);
      }
      const f = check(r.flash, log, `cut ${n}`, plan);
      if (f) failures.push(f);
    }
    console.log(
      `      power-cut sweep: ${cuts} cut points tried (every flash op of a day of ${full.payments} payments, ${full.syncs} syncs, ` +
        `${full.reclaimed} pages reclaimed), plus ${recoveryCuts} cuts during recovery`,
    );
    assert.deepEqual(failures.slice(0, 10), []);
    assert.equal(cuts, total);
}
