/**
 * Where one upload spends its time (issue 17, ingest at the limit): a gateway in this process, one terminal, one
 * wallet, `--batches` uploads of `--batch` genuine wallet payments, each request timed and split into signature
 * checks (the Verifier), store calls (count and time) and, on PostgreSQL, round trips to the connection's worker
 * thread (SyncPg.batch).
 *
 *   npx tsx bench/ingest-profile.ts [--batches 20] [--batch 32]            (SQLite, in memory)
 *   GATEWAY_TEST_DB=postgres npx tsx bench/ingest-profile.ts               (a throwaway PostgreSQL)
 *   … --resend     the same uploads again after them (every reply lost), profiled alone: what a duplicate costs
 */
import { SyncPg } from "../gateway/pg-sync.ts";
import { Verifier } from "../gateway/verify.ts";
import { MovableClock } from "../gateway/clock.ts";
import { Gateway } from "../gateway/gateway.ts";
import { Issuer } from "../gateway/issuer.ts";
import { openPgStore } from "../gateway/pg-store.ts";
import { OutboxSmsProvider } from "../gateway/sms.ts";
import { openSqliteStore } from "../gateway/sqlite-store.ts";
import { inProcess, SoftTerminal, SoftWallet } from "../test/helpers/soft-terminal.ts";
import { startPostgres } from "../test/helpers/postgres.ts";

const ON_POSTGRES = process.env.GATEWAY_TEST_DB === "postgres";

function flag(name: string, def: number): number {
  const i = process.argv.indexOf("--" + name);
  return i < 0 ? def : Number(process.argv[i + 1]);
}
const BATCHES = flag("batches", 20);
const BATCH = flag("batch", 32);

const t = { verify: 0, verifies: 0, store: 0, storeCalls: 0, trips: 0, tripMs: 0 };
const byMethod = new Map<string, { n: number; ms: number }>();
const byTrip = new Map<string, { n: number; ms: number; statements: number }>();

// signatures
for (const m of ["body"] as const) {
  const orig = Verifier.prototype[m];
  Verifier.prototype[m] = function (this: Verifier, ...a: Parameters<Verifier["body"]>) {
    const t0 = performance.now();
    try {
      return orig.apply(this, a);
    } finally {
      t.verify += performance.now() - t0;
      t.verifies++;
    }
  };
}
// round trips to the PostgreSQL worker thread
const origBatch = SyncPg.prototype.batch;
SyncPg.prototype.batch = function (this: SyncPg, qs) {
  const t0 = performance.now();
  try {
    return origBatch.call(this, qs);
  } finally {
    t.trips++;
    const ms = performance.now() - t0;
    t.tripMs += ms;
    // a round trip named by its last statement (the one whose answer was awaited)
    const k = qs[qs.length - 1].sql.replace(/\s+/g, " ").slice(0, 60);
    const e = byTrip.get(k) ?? { n: 0, ms: 0, statements: 0 };
    e.n++;
    e.ms += ms;
    e.statements += qs.length;
    byTrip.set(k, e);
  }
};

async function main(): Promise<void> {
  const pg = ON_POSTGRES ? await startPostgres({ settings: { fsync: "on", synchronous_commit: "off", ...(process.env.PG_STATEMENTS ? { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track_planning": "on" } : {}) } }) : null;
  if (ON_POSTGRES && !pg) throw new Error("no PostgreSQL binaries");
  const clock = new MovableClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const store = pg ? openPgStore(await pg.freshDatabase()) : openSqliteStore(":memory:");
  const gw = new Gateway({ store, clock, sms: new OutboxSmsProvider({ now: () => clock.now() }), issuer: Issuer.generate(1), autoFlush: false, adminToken: "admin-profile" });
  const rig = { gw };
  const m = gw.registerMerchant({ name: "Profile", webhookUrl: "https://shop.example/p" });
  const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
  const reg = gw.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
  const term = new SoftTerminal({ terminalId: reg.terminalId, privateKey: probe.privateKey, linkPublicKey: gw.linkPublicKey, send: (r) => inProcess(gw)(r), now: () => Math.floor(clock.now() / 1000) });
  const w = new SoftWallet();
  const cap = BATCH * BATCHES * 10;
  w.setAllowance(gw.registerWallet({ publicKey: w.publicKey, capMinor: cap, phone: "+4915100000001", balanceMinor: cap + 1000 }).allowance);
  for (let i = 0; i < BATCH * BATCHES; i++) term.record(term.walletPayment(w, 1 + (i % 10)));
  await term.hello();
  // store calls, by public method (the store's own nested calls are counted once, at the outside)
  const st = rig.gw.store as unknown as Record<string, unknown>;
  let depth = 0;
  for (let p = Object.getPrototypeOf(st); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const f = st[k];
      if (k === "constructor" || typeof f !== "function" || Object.prototype.hasOwnProperty.call(st, k)) continue;
      if (k === "transaction" || ["all", "get", "run", "exec", "insert", "update", "send", "sendAll", "stmt", "tr", "st", "unit", "before", "allMany", "keeping", "writeLater", "insertRows"].includes(k)) continue;
      st[k] = function (this: unknown, ...a: unknown[]) {
        if (depth) return (f as (...x: unknown[]) => unknown).apply(st, a);
        depth++;
        const t0 = performance.now();
        try {
          return (f as (...x: unknown[]) => unknown).apply(st, a);
        } finally {
          depth--;
          const ms = performance.now() - t0;
          t.store += ms;
          t.storeCalls++;
          const e = byMethod.get(k) ?? { n: 0, ms: 0 };
          e.n++;
          e.ms += ms;
          byMethod.set(k, e);
        }
      };
    }
  }
  const reset = () => {
    Object.assign(t, { verify: 0, verifies: 0, store: 0, storeCalls: 0, trips: 0, tripMs: 0 });
    byMethod.clear();
    byTrip.clear();
  };
  reset();
  const uploads = async () => {
    let acked = 0;
    for (let b = 0; b < BATCHES; b++) acked += (await term.uploadBatch(BATCH)).acked.length;
    return acked;
  };
  let t0 = performance.now();
  let entered = await uploads();
  if (process.argv.includes("--resend")) {
    // the same batches again (every reply lost), profiled alone: all must be acked as already held
    for (const r of (term as unknown as { journal: { acked: boolean }[] }).journal) r.acked = false;
    reset();
    t0 = performance.now();
    entered = await uploads();
  }
  const ms = performance.now() - t0;
  const per = (x: number) => (x / BATCHES).toFixed(1);
  console.log(`${ON_POSTGRES ? "PostgreSQL" : "SQLite"}: ${BATCHES} uploads of ${BATCH} records (${entered} acked) in ${ms.toFixed(0)} ms: ${per(ms)} ms an upload, ${Math.round((entered / ms) * 1000)} records/s on one connection`);
  console.log(`  per upload: signatures ${per(t.verify)} ms (${per(t.verifies)} verifies), store calls ${per(t.storeCalls)} taking ${per(t.store)} ms, round trips to the PG worker ${per(t.trips)} taking ${per(t.tripMs)} ms`);
  const top = [...byMethod.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14);
  for (const [k, v] of top) console.log(`    ${k.padEnd(18)} ${per(v.n).padStart(6)} calls ${per(v.ms).padStart(7)} ms`);
  if (process.env.PG_STATEMENTS) {
    // PG_STATEMENTS=1: the server's own time per statement (pg_stat_statements), the ten that took longest
    const st = rig.gw.store as unknown as { select<T>(sql: string): T[] };
    st.select("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    const rows = st.select<{ query: string; calls: number; total: number; plan: number }>("SELECT query, calls, total_exec_time + total_plan_time AS total, total_plan_time AS plan FROM pg_stat_statements ORDER BY total DESC LIMIT 12");
    console.log("  server time by statement (whole run, setup included):");
    for (const r of rows) console.log(`    ${Number(r.total).toFixed(0).padStart(6)} ms (plan ${Number(r.plan).toFixed(0)}) ${String(r.calls).padStart(6)} calls  ${r.query.replace(/\s+/g, " ").slice(0, 90)}`);
  }
  if (byTrip.size) console.log("  round trips to the PG worker, by the statement awaited:");
  for (const [k, v] of [...byTrip.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10)) console.log(`    ${per(v.n).padStart(5)} trips ${per(v.ms).padStart(6)} ms ${per(v.statements).padStart(6)} statements  ${k}`);
  rig.gw.close();
  if (pg) await pg.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
