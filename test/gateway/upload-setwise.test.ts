/**
 * Set-wise ingest (docs/gateway.md, ingest at the limit): an upload loads what its records read in one query per
 * table and writes its rows in multi-row INSERTs, with every check of the record-by-record path. Runs on the
 * suite's database (SQLite, or PostgreSQL under npm run test:gateway-pg).
 */
import assert from "node:assert/strict";
import { txId } from "../../protocol/ids.ts";
import type { Entry } from "../../protocol/entry.ts";
import { Issuer } from "../../gateway/issuer.ts";
import { SyncPg } from "../../gateway/pg-sync.ts";
import type { SqlStore } from "../../gateway/sql-store.ts";
import type { JournalRecord, LinkSend } from "../helpers/soft-terminal.ts";
import { inProcess, SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";
import { makeRig, ON_POSTGRES } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

interface Side {
  rig: Rig;
  t: SoftTerminal;
  merchantId: number;
}

/**
 * A gateway with one merchant, one terminal (this private key) and one wallet (this key), under `issuer`. With
 * `preverify`, a verify thread opens each upload before its turn, as the HTTP server with workers does.
 */
function side(issuer: Issuer, terminalKey: Uint8Array, w: SoftWallet, setWise: boolean, preverify = false): Side {
  const rig = makeRig(":memory:", { issuer, verifyThreads: preverify ? 1 : 0 });
  const m = rig.gw.registerMerchant({ name: "Shop", webhookUrl: "https://shop.example/hook" });
  const probe = new SoftTerminal({ terminalId: 0, privateKey: terminalKey, linkPublicKey: rig.gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
  const reg = rig.gw.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
  const send: LinkSend = async (r) => {
    const req = { method: "POST", path: r.path, headers: { "content-type": "text/plain" }, body: r.body, remote: { address: "10.0.0.9", port: 40000 } };
    if (preverify && rig.gw.wantsPreverify(req)) await rig.gw.preverify(req);
    return rig.gw.handle(req);
  };
  const t = new SoftTerminal({ terminalId: reg.terminalId, privateKey: terminalKey, linkPublicKey: rig.gw.linkPublicKey, send, now: () => Math.floor(rig.clock.now() / 1000) });
  const a = rig.gw.registerWallet({ publicKey: w.publicKey, capMinor: 1000, phone: "+4915100000001", balanceMinor: 5000 }).allowance;
  if (setWise) w.setAllowance(a);
  // the record-by-record path: a store that does not load an upload's reads ahead
  if (!setWise) (rig.gw.store as { loadUpload?: unknown }).loadUpload = undefined;
  return { rig, t, merchantId: m.merchantId };
}

/** What an upload leaves in the database, as comparable values (the SMS delivery token is random: left out). */
function state(s: Side): unknown {
  const st = s.rig.gw.store;
  return {
    ledger: s.rig.gw.ledger(),
    records: s.rig.gw.records(s.merchantId),
    flags: s.rig.gw.flags(),
    deny: st.denyList(),
    balances: st.balances(""),
    trial: st.trialBalance(),
    postings: st.postings(""),
    activity: st.activity().map((a) => [a.id, a.kind, a.detail]),
    webhooks: st.webhooks().map((w) => [w.id, w.event, w.payload]),
    sms: st.sms().map((m) => [m.id, m.to, m.text, m.kind, m.ref]),
  };
}

describe("gateway: set-wise ingest", () => {
  it("a batch mixing a duplicate, a gap, a bad signature, a double spend, a re-journaled payment, refunds and malformed entries enters exactly what record-by-record ingest enters, with balanced postings", async () => {
    const issuer = Issuer.generate(1);
    const terminalKey = new Uint8Array(32).fill(7);
    const w = new SoftWallet();
    const a = side(issuer, terminalKey, w, true);
    const b = side(issuer, terminalKey, w, false);
    const t = a.t;
    // the journal is made once (on a's terminal) and uploaded to both gateways
    const A = t.walletPayment(w, 100);
    const B = t.walletPayment(w, 200);
    t.record(A);
    t.record(B);
    const C = t.walletPayment(w, 300);
    t.record(C); // 3
    t.record(t.walletPayment(w, 10)); // 4: never sent (a gap)
    const pA = A as Extract<Entry, { kind: 1 }>;
    t.record(t.walletPayment(w, 40, { counter: w.spent[0].counter })); // 5: A's counter again (a double spend), after the gap
    const bad = t.walletPayment(w, 20);
    (bad as Extract<Entry, { kind: 1 }>).payment[150] ^= 1; // a byte of the wallet's signature
    t.record(bad); // 6: E_SIG
    const pB = B as Extract<Entry, { kind: 1 }>;
    t.record({ kind: 1, txId: t.nextTxId(), method: 1, request: pB.request, payment: pB.payment, orderRef: "" }); // 7: B re-journaled
    t.record(t.refund(C.txId, 50)); // 8: a refund of C, entered in the same upload
    t.record(t.refund(pA.txId, 1000)); // 9: more than A: E_REFUND_OVER
    t.record({ ...t.walletPayment(w, 5), txId: txId(t.terminalId + 98, 1) }); // 10: another terminal's txId: E_TXID
    t.journal.push({ seq: 11, entry: new Uint8Array([1, 2, 3]), acked: false, prev: "ab".repeat(16) }); // 11: E_ENTRY
    t.record({ ...t.walletPayment(w, 7), txId: C.txId }); // 12: C's txId with other contents: E_TXID_CONFLICT
    const all: JournalRecord[] = t.journal.map((r) => ({ ...r, entry: new Uint8Array(r.entry), acked: false }));
    const first = all.slice(0, 2);
    const second = [all[1], ...all.slice(2).filter((r) => r.seq !== 4)];
    const head = (x: SoftTerminal) => x as unknown as { headHash: string };
    head(b.t).headHash = head(a.t).headHash;
    for (const s of [a, b]) {
      s.t.journal = first.map((r) => ({ ...r }));
      await s.t.hello();
      const r1 = await s.t.uploadBatch(32);
      assert.deepEqual(r1.acked, [1, 2]);
      s.t.journal = second.map((r) => ({ ...r }));
    }
    const ra = await a.t.uploadBatch(32);
    const rb = await b.t.uploadBatch(32);
    assert.deepEqual(ra, rb, "the same reply");
    assert.deepEqual(ra.acked, [2, 3, 5, 7, 8]);
    assert.deepEqual(
      ra.rejected.map((x) => [x.seq, x.code]),
      [
        [6, "E_SIG"],
        [9, "E_REFUND_OVER"],
        [10, "E_TXID"],
        [11, "E_ENTRY"],
        [12, "E_TXID_CONFLICT"],
      ],
    );
    assert.deepEqual(state(a), state(b), "the same rows, ids, balances and outbox as record-by-record ingest");
    // what those rows are
    const kinds = a.rig.gw.flags().map((f) => f.kind);
    for (const k of ["gap", "double-spend", "rejournaled", "rejected"]) assert.ok(kinds.includes(k), "a " + k + " flag");
    assert.equal(kinds.filter((k) => k === "rejected").length, 5);
    assert.deepEqual(a.rig.gw.store.denyList(), [w.walletId]);
    assert.deepEqual(
      a.rig.gw.ledger().map((l) => [l.kind, l.amountMinor]).sort(),
      [["refund", -50], ["wallet", 100], ["wallet", 200], ["wallet", 300], ["wallet", 40]].sort(),
    );
    assert.deepEqual(a.rig.gw.store.unbalancedMovements(), []);
    for (const x of a.rig.gw.store.trialBalance()) assert.equal(x.debits, x.credits);
    // the re-sent record 2 is acknowledged again, never entered twice; the resent whole batch changes nothing
    a.t.journal = all.filter((r) => r.seq !== 4).map((r) => ({ ...r, acked: false }));
    const before = JSON.stringify(state(a));
    const again = await a.t.uploadBatch(32);
    assert.deepEqual(again.acked, [1, 2, 3, 5, 7, 8]);
    const strip = (x: unknown) => JSON.stringify({ ...(x as object), activity: [] });
    assert.equal(strip(state(a)), strip(JSON.parse(before)), "the resent batch changed nothing but the activity log");
  });

  it("an upload preverify opened reads the terminal's row with its reads (one round trip fewer on PostgreSQL), enters what record-by-record ingest enters, and a stale merchant in the link cache only drops those reads", async () => {
    const issuer = Issuer.generate(1);
    const terminalKey = new Uint8Array(32).fill(9);
    const w = new SoftWallet();
    const a = side(issuer, terminalKey, w, true, true);
    const b = side(issuer, terminalKey, w, false);
    try {
      const t = a.t;
      // two batches of six payments (the same shape: their round trips compare), then a refund and a double spend
      const first = t.walletPayment(w, 100);
      t.record(first);
      for (let i = 0; i < 11; i++) t.record(t.walletPayment(w, 10 + i));
      t.record(t.refund(first.txId, 30)); // 13
      t.record(t.walletPayment(w, 40, { counter: w.spent[1].counter })); // 14: a double spend
      for (let i = 0; i < 2; i++) t.record(t.walletPayment(w, 20 + i));
      const all: JournalRecord[] = t.journal.map((r) => ({ ...r, entry: new Uint8Array(r.entry), acked: false }));
      const head = (x: SoftTerminal) => x as unknown as { headHash: string };
      head(b.t).headHash = head(a.t).headHash;
      b.t.journal = all.map((r) => ({ ...r }));
      for (const s of [a, b]) await s.t.hello();
      const st = a.rig.gw.store as SqlStore;
      // the folded reads: terminalAndUpload answers the terminal's row; counted, with the database's round trips
      let folded = 0;
      let dropped = 0;
      const fold = st.terminalAndUpload.bind(st);
      const drop = st.dropUpload.bind(st);
      st.terminalAndUpload = (tid, n) => (folded++, fold(tid, n));
      st.dropUpload = () => (dropped++, drop());
      let trips = 0;
      const orig = SyncPg.prototype.batch;
      if (ON_POSTGRES) {
        SyncPg.prototype.batch = function (this: SyncPg, qs) {
          trips++;
          return orig.call(this, qs);
        };
      }
      const up = async (s: Side) => {
        trips = 0;
        const r = await s.t.uploadBatch(6);
        return { r, trips };
      };
      try {
        const a1 = await up(a);
        const b1 = await up(b);
        assert.deepEqual(a1.r, b1.r);
        assert.equal(folded, 1, "the terminal's row read with the upload's reads");
        assert.equal(dropped, 0);
        // the same upload's shape without the fold: one round trip more
        const keep = st.terminalAndUpload;
        (st as { terminalAndUpload?: unknown }).terminalAndUpload = undefined;
        const a2 = await up(a);
        st.terminalAndUpload = keep;
        const b2 = await up(b);
        assert.deepEqual(a2.r, b2.r);
        if (ON_POSTGRES) assert.equal(a2.trips - a1.trips, 1, "round trips an upload: " + a1.trips + " folded, " + a2.trips + " not");
        // the link cache names another merchant (stale): the reads loaded for it are dropped and loaded again
        const c = a.rig.gw.linkCache.get(t.terminalId);
        assert.ok(c && c.merchantId === a.merchantId);
        c.merchantId = a.merchantId + 1000;
        const a3 = await up(a);
        const b3 = await up(b);
        assert.deepEqual(a3.r, b3.r);
        assert.equal(folded, 2);
        assert.equal(dropped, 1, "the reads loaded under the wrong merchant dropped");
        assert.equal(c.merchantId, a.merchantId, "the cache learnt the merchant again");
      } finally {
        SyncPg.prototype.batch = orig;
      }
      assert.deepEqual(a.t.pending.length, 0);
      assert.deepEqual(
        a.rig.gw.ledger().map((l) => [l.kind, l.amountMinor]),
        b.rig.gw.ledger().map((l) => [l.kind, l.amountMinor]),
      );
      assert.deepEqual(state(a), state(b), "the same rows, ids, balances and outbox as record-by-record ingest");
      assert.ok(a.rig.gw.flags().some((f) => f.kind === "double-spend"));
    } finally {
      a.rig.gw.close();
      b.rig.gw.close();
    }
  });

  it("an upload costs a bounded number of statements: 32 records take no more than 4 do", async () => {
    const rig = makeRig();
    const m = rig.gw.registerMerchant({ name: "Shop", webhookUrl: "https://shop.example/hook" });
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: rig.gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const reg = rig.gw.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
    const t = new SoftTerminal({ terminalId: reg.terminalId, privateKey: probe.privateKey, linkPublicKey: rig.gw.linkPublicKey, send: (r) => inProcess(rig.gw)(r), now: () => Math.floor(rig.clock.now() / 1000) });
    const w = new SoftWallet();
    w.setAllowance(rig.gw.registerWallet({ publicKey: w.publicKey, capMinor: 100000, phone: "+4915100000001", balanceMinor: 200000 }).allowance);
    for (let i = 0; i < 4 + 32 + 32; i++) t.record(t.walletPayment(w, 10 + i));
    await t.hello();
    // statements the database runs: SQLite's prepared statements run, PostgreSQL's statements sent
    let n = 0;
    const restore: (() => void)[] = [];
    if (ON_POSTGRES) {
      const orig = SyncPg.prototype.batch;
      SyncPg.prototype.batch = function (this: SyncPg, qs) {
        n += qs.length;
        return orig.call(this, qs);
      };
      restore.push(() => (SyncPg.prototype.batch = orig));
    } else {
      const st = rig.gw.store as unknown as { st: (sql: string) => unknown };
      const orig = st.st;
      st.st = function (this: SqlStore, sql: string) {
        n++;
        return orig.call(this, sql);
      };
      restore.push(() => (st.st = orig));
    }
    try {
      const count = async (k: number) => {
        n = 0;
        const r = await t.uploadBatch(k);
        assert.equal(r.acked.length, k);
        return n;
      };
      const four = await count(4);
      const many = await count(32);
      const later = await count(32);
      assert.ok(many <= four + 4, "32 records: " + many + " statements, 4 records: " + four);
      assert.ok(later <= four + 4, "the next 32 (held records to look up): " + later);
      assert.ok(many <= (ON_POSTGRES ? 16 : 40), "an upload of 32 records is " + many + " statements");
    } finally {
      for (const f of restore) f();
    }
    assert.deepEqual(rig.gw.store.unbalancedMovements(), []);
    assert.equal(rig.gw.ledger().length, 68);
  });
});
