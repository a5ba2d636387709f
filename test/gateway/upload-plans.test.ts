/**
 * The requests every terminal and wallet make (uploads, hellos, syncs, online authorizations) look rows up by index, whatever the tables
 * hold: none of their statements reads a whole table that grows with the business (records, ledger, spends,
 * postings, …). A scan costs nothing in a test's empty database and everything on a gateway with a year of payments: an upload of records the gateway already holds (a
 * terminal whose reply was lost sends them again) read every record ever uploaded, some 60 ms at 100,000 records in
 * `npm run bench:gateway`, and under PostgreSQL's SERIALIZABLE a scan locks the whole table against every other
 * upload's writes.
 *
 * Each statement the requests ran is explained with its own arguments: on SQLite `EXPLAIN QUERY PLAN` (a full scan
 * reads "SCAN <table>"); on PostgreSQL `EXPLAIN` with sequential scans priced out (`enable_seqscan = off`), so a
 * "Seq Scan" left in the plan is one no index can serve.
 */
import assert from "node:assert/strict";
import { encodeEntry } from "../../protocol/entry.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { SyncPg } from "../../gateway/pg-sync.ts";
import type { PgStatement } from "../../gateway/pg-sync.ts";
import type { SqliteStore } from "../../gateway/sqlite-store.ts";
import { makeRig, merchantWithTerminals, newWallet, ON_POSTGRES, walletCall, watchReads } from "./helpers.ts";
import type { Rig } from "./helpers.ts";

/** Tables whose rows grow with payments, terminals or wallets: never read whole by an upload. */
const GROWING = ["records", "ledger", "spends", "postings", "movements", "chain", "activity", "webhooks", "sms", "flags", "reports", "connections", "account_balances", "allowance_spent", "allowances", "wallets", "terminals", "invoices", "order_callbacks"];
// not here: deny, the deny list a hello hands whole to a terminal that is behind it (docs/sync.md)

interface Ran {
  sql: string;
  args: unknown[];
}

/** Records every read the store runs from now on (SQLite: its statements; PostgreSQL: its batches). */
function recordReads(rig: Rig): { ran: Ran[]; explain(r: Ran): string; leading(index: string): string; stop(): void } {
  const ran: Ran[] = [];
  const isRead = (sql: string) => /^\s*(SELECT|WITH)\b/i.test(sql) && !/^\s*WITH\b[\s\S]*\bINSERT\b/i.test(sql);
  if (ON_POSTGRES) {
    const orig = SyncPg.prototype.batch;
    let conn: SyncPg | null = null;
    SyncPg.prototype.batch = function (this: SyncPg, qs: PgStatement[]) {
      conn = this;
      for (const q of qs) if (isRead(q.sql)) ran.push({ sql: q.sql, args: q.params });
      return orig.call(this, qs);
    };
    return {
      ran,
      explain(r) {
        const res = orig.call(conn as SyncPg, [
          { sql: "BEGIN", params: [] },
          { sql: "SET LOCAL enable_seqscan = off", params: [] },
          { sql: "EXPLAIN " + r.sql, params: r.args },
          { sql: "ROLLBACK", params: [] },
        ]);
        return (res[2].rows as Record<string, string>[]).map((x) => x["QUERY PLAN"]).join("\n");
      },
      leading(index) {
        const res = orig.call(conn as SyncPg, [
          { sql: "SELECT a.attname AS c FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indexrelid = $1::regclass", params: [index] },
        ]);
        return String((res[0].rows[0] as { c: string }).c);
      },
      stop: () => (SyncPg.prototype.batch = orig),
    };
  }
  const stop = watchReads(rig, (sql, args) => {
    if (isRead(sql)) ran.push({ sql, args });
  });
  const db = (rig.gw.store as SqliteStore).db;
  return {
    ran,
    explain(r) {
      const args = r.args.map((x) => (x instanceof Uint8Array ? Buffer.from(x) : typeof x === "boolean" ? (x ? 1 : 0) : x));
      return (db.prepare("EXPLAIN QUERY PLAN " + r.sql).all(...args) as { detail: string }[]).map((x) => x.detail).join("\n");
    },
    leading: () => "",
    stop,
  };
}

/**
 * The growing tables a plan reads whole. SQLite: "SCAN <table>" (with or without an index: a full pass either way).
 * PostgreSQL: a sequential scan, or an index scan whose index condition leaves the index's first column open
 * (PostgreSQL then walks all of the index: it calls that an index condition too).
 */
function scans(plan: string, leading: (index: string) => string): string[] {
  const out = new Set<string>();
  if (!ON_POSTGRES) {
    for (const t of GROWING) if (new RegExp("\\bSCAN " + t + "\\b").test(plan)) out.add(t);
    return [...out];
  }
  const lines = plan.split("\n");
  const indent = (l: string) => l.length - l.trimStart().replace(/^->\s+/, "").length;
  lines.forEach((line, i) => {
    const m = /(Seq Scan|Bitmap Index Scan|Index Scan|Index Only Scan)(?: Backward)?(?: using (\S+))? on "?(\w+)"?/.exec(line);
    if (!m) return;
    if (m[1] === "Seq Scan") {
      if (GROWING.indexOf(m[3]) >= 0) out.add(m[3]);
      return;
    }
    // a bitmap index scan names its index alone ("on <index>"); its table is the bitmap heap scan's above it
    const index = m[1] === "Bitmap Index Scan" ? m[3] : (m[2] as string);
    const table = m[1] === "Bitmap Index Scan" ? (/on "?(\w+)"?/.exec(lines.slice(0, i).reverse().find((l) => /Bitmap Heap Scan/.test(l)) ?? "") ?? [])[1] : m[3];
    if (!table || GROWING.indexOf(table) < 0) return;
    // the node's own detail lines: deeper than it, up to the next node
    let cond = "";
    for (let j = i + 1; j < lines.length && indent(lines[j]) > indent(line) && !/^\s*->/.test(lines[j]); j++) if (/Index Cond:/.test(lines[j])) cond = lines[j];
    const first = leading(index);
    // the first column bound: equal to a value or a list, or within a range
    if (!new RegExp('\\(+"?' + first + '"? (=|>=|>|<=|<) ').test(cond)) out.add(table + " (" + index + ")");
  });
  return [...out];
}

/** Fails naming each read `rec` recorded that reads a growing table whole (each statement text explained once). */
function assertByIndex(rec: ReturnType<typeof recordReads>, what: string): void {
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const r of rec.ran) {
    if (seen.has(r.sql)) continue;
    seen.add(r.sql);
    const plan = rec.explain(r);
    if (process.env.PLANS) console.log(r.sql.slice(0, 100) + "\n" + plan);
    const s = scans(plan, (i) => rec.leading(i));
    if (s.length) bad.push(s.join(", ") + " read whole by: " + r.sql.replace(/\s+/g, " ").slice(0, 160));
  }
  assert.ok(seen.size >= 5, "the " + what + "' reads were recorded (" + seen.size + ")");
  assert.deepEqual(bad, []);
}

describe("gateway: the terminals' and wallets' requests read by index" + (ON_POSTGRES ? " (PostgreSQL)" : ""), () => {
  it("uploads of new payments, the same batch again (a lost reply), and a counter spent at a second terminal read no growing table whole", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Plans", 2);
    const [a, b] = terms;
    const w = newWallet(rig);
    await a.hello();
    await b.hello();
    const rec = recordReads(rig);
    try {
      // new payments
      const first = [a.walletPayment(w, 120), a.walletPayment(w, 130), a.walletPayment(w, 140)];
      for (const e of first) a.record(e);
      await a.uploadAll(8);
      const fresh = rec.ran.length;
      // the reply was lost: the same records again, as the terminal sends them (acknowledged as held)
      for (const r of (a as unknown as { journal: { acked: boolean }[] }).journal) r.acked = false;
      const again = await a.uploadBatch(8);
      assert.deepEqual(again.acked.length, 3, "the records sent again are acknowledged");
      // the wallet spends counter of its first payment again at terminal b: a double spend found across terminals
      const counter = w.spent[0].counter;
      b.record(b.walletPayment(w, 150, { counter }));
      await b.uploadAll(8);
      assert.ok(rec.ran.length > fresh, "the later uploads ran reads of their own");
    } finally {
      rec.stop();
    }
    assertByIndex(rec, "uploads");
  });

  it("a terminal's hello and a wallet's sync (payments uploaded and not yet uploaded) read no growing table whole", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Plans", 1);
    const [a] = terms;
    const w = newWallet(rig);
    await a.hello();
    a.record(a.walletPayment(w, 120));
    a.record(a.walletPayment(w, 130));
    await a.uploadAll(8);
    // paid, not uploaded yet: the sync reports it before any terminal does
    a.record(a.walletPayment(w, 140));
    const rec = recordReads(rig);
    try {
      await a.hello();
      const s = await walletCall(rig.gw, w, "sync", { spent: w.spent });
      assert.equal(s.status, 200, s.body);
      await a.uploadAll(8);
    } finally {
      rec.stop();
    }
    assertByIndex(rec, "requests");
  });

  it("an online authorization, and the terminal's later upload of the same payment, read no growing table whole", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "Plans", 2);
    const [a, b] = terms;
    const w = newWallet(rig);
    await a.hello();
    a.record(a.walletPayment(w, 120));
    await a.uploadAll(8);
    const rec = recordReads(rig);
    try {
      const e = b.walletPayment(w, 300);
      const r = await b.call("authorize", { entry: toBase64(encodeEntry(e)) });
      assert.equal(r.result, "approved", JSON.stringify(r));
      b.record(e);
      await b.uploadAll(8);
    } finally {
      rec.stop();
    }
    assertByIndex(rec, "requests");
  });
});
