/**
 * PostgreSQL's own floor for ingest (issue 17): what the database alone spends on the rows an uploaded payment
 * writes, with no gateway in the way. A throwaway PostgreSQL (test/helpers/postgres.ts, the settings bench/gateway.ts
 * gives it: fsync on, synchronous_commit off) gets the gateway's schema through its own migrations
 * (gateway/pg-store.ts), then `pgbench` (C, from Debian's postgresql-client) runs uploads of 32 records as one
 * transaction each from N connections: the reads an upload makes (the records at its seqs, the ledger rows of its
 * txIds, the wallet's spends at its counters, the running balances), then per record the rows
 * `npm run bench:gateway` counts (PG_STATEMENTS=1): a record, a ledger row, a spend, a movement with its two
 * postings, an activity row and an event, and per upload the running balances, the allowance's sum spent, the
 * terminal's link seq and the connection's request count. Isolation SERIALIZABLE as the gateway's, or --isolation.
 *
 *   npm run bench:pg-floor -- [--clients 2] [--seconds 20] [--isolation "read committed"] [--only records,...] [--bare]
 *
 * `--only records,ledger` keeps those tables' writes alone (no reads, no updates), `--bare` drops every index that is
 * neither a primary key nor unique: what a leaner schema would cost. FLOOR_DEBUG=1 prints pgbench's time a statement
 * and the reads' plans.
 *
 * Prints records/s, the CPU PostgreSQL used a record, and what share that is of the CPU 10,000 records/s leave a
 * record on this machine. No signature is checked and no JSON is parsed: the rows are made by the server
 * (generate_series), so this is a floor the gateway's ingest on PostgreSQL cannot go under on this machine; what is
 * left of the cores is all the gateway and the terminals may spend (docs/gateway.md, "What 10,000 records/s would
 * take").
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { openPgStore } from "../gateway/pg-store.ts";
import { SKIP_NO_POSTGRES, startPostgres } from "../test/helpers/postgres.ts";
import { treeCpu } from "./tree-cpu.ts";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf("--" + name);
  return i < 0 ? def : process.argv[i + 1];
}
const CLIENTS = Number(arg("clients", "2"));
const SECONDS = Number(arg("seconds", "20"));
const ISOLATION = arg("isolation", "serializable").toUpperCase();
const RECORDS = 32;
/** --only records,ledger: those tables' writes alone (what a leaner schema would leave), no reads. */
const ONLY = arg("only", "");
/** --bare (with --only): every index that is neither a primary key nor unique dropped (a floor under any index design). */
const BARE = process.argv.includes("--bare");

/** One upload: the reads, then each table's rows for 32 records, as one transaction. */
function uploadScript(): string {
  const g = `generate_series(1, ${RECORDS}) AS g`;
  // keys: the client (a terminal), a random upload number, the record's index; txIds are 32 hex digits led by the
  // terminal, as the gateway's (protocol/ids.ts: terminal id, then its count)
  const txOf = (n: string) => `lpad(to_hex(:client_id), 8, '0') || lpad(to_hex(:u::bigint * 64 + ${n}), 24, '0')`;
  const tx = txOf("g");
  const wallet = `md5('w' || :client_id)`;
  // the keys an upload reads, as literal IN lists (the gateway's reads are IN lists: index conditions whatever the
  // planner's statistics say)
  const list = (f: (i: number) => string) => "(" + Array.from({ length: RECORDS }, (_x, i) => f(i + 1)).join(", ") + ")";
  const seqs = list((i) => `:u::bigint * 64 + ${i}`);
  const txs = list((i) => txOf(String(i)));
  return only(`\\set u random(1, 1000000000000)
\\set mid 1
BEGIN ISOLATION LEVEL ${ISOLATION};
UPDATE terminals SET "linkSeq" = "linkSeq" + 1 WHERE "merchantId" = :mid AND id = :client_id;
UPDATE connections SET requests = requests + 1 WHERE id = :client_id;
SELECT count(*) FROM records WHERE "merchantId" = :mid AND "terminalId" = :client_id AND seq IN ${seqs};
SELECT count(*) FROM ledger WHERE "txId" <> '' AND "txId" IN ${txs};
SELECT count(*) FROM spends WHERE "walletId" = ${wallet} AND counter IN ${seqs};
SELECT balance FROM account_balances WHERE account = 'wallet:' || ${wallet} || ':purse:1' AND currency = 978;
SELECT "amountMinor" FROM allowance_spent WHERE "walletId" = ${wallet} AND "allowanceKey" = md5('a' || :client_id);
INSERT INTO records ("merchantId", "terminalId", seq, prev, entry, "txId", status, code, message, "receivedAt")
  SELECT :mid, :client_id, :u::bigint * 64 + g, md5(g::text), convert_to(repeat(md5(:u || '-' || g), 10), 'UTF8'), ${tx}, 'entered', '', '', 1700000000000 FROM ${g};
INSERT INTO ledger (ref, "merchantId", "terminalId", "txId", kind, method, "amountMinor", currency, "walletId", counter, "orderRef", status, "txTime", "holdUntil", original, "createdAt", "updatedAt")
  SELECT ${tx}, :mid, :client_id, ${tx}, 'payment', 1, g, 978, ${wallet}, :u::bigint * 64 + g, '', 'held', 1700000000, 1700259200000, '', 1700000000000, 1700000000000 FROM ${g};
INSERT INTO spends ("walletId", counter, "allowanceKey", "capMinor", "merchantId", "terminalId", ref, "amountMinor")
  SELECT ${wallet}, :u::bigint * 64 + g, md5('a' || :client_id), 100000, :mid, :client_id, ${tx}, g FROM ${g};
WITH m AS (INSERT INTO movements (key, kind, ref, "merchantId", "walletId", at, memo)
  SELECT 'payment:' || ${tx}, 'payment', ${tx}, :mid, ${wallet}, 1700000000000, '' FROM ${g} RETURNING id)
INSERT INTO postings ("movementId", account, currency, debit, credit)
  SELECT m.id, a.account || CASE WHEN a.d THEN ${wallet} || ':purse:1' ELSE ':pending' END, 978, CASE WHEN a.d THEN 5 ELSE 0 END, CASE WHEN a.d THEN 0 ELSE 5 END
  FROM m, (VALUES ('wallet:', true), ('merchant:1', false)) AS a(account, d);
INSERT INTO activity ("merchantId", "terminalId", kind, detail, at)
  SELECT :mid, :client_id, 'record', '{"seq":' || g || ',"txId":"' || ${tx} || '","status":"entered"}', 1700000000000 FROM ${g};
INSERT INTO webhooks ("merchantId", event, payload, url, status, attempts, "nextAt", "lastError", "createdAt", "deliveredAt")
  SELECT :mid, 'payment.received', '{"event":"payment.received","merchantId":1,"at":1700000000000,"txId":"' || ${tx} || '","terminalId":' || :client_id || ',"amountMinor":' || g || ',"currency":978,"method":"wallet","status":"held","holdUntil":1700259200000,"orderRef":""}', '', 'none', 0, 1700000000000, '', 1700000000000, 0 FROM ${g};
INSERT INTO account_balances (account, currency, balance) VALUES ('wallet:' || ${wallet} || ':purse:1', 978, -528)
  ON CONFLICT (account, currency) DO UPDATE SET balance = account_balances.balance + excluded.balance;
INSERT INTO allowance_spent ("walletId", "allowanceKey", "amountMinor") VALUES (${wallet}, md5('a' || :client_id), 528)
  ON CONFLICT ("walletId", "allowanceKey") DO UPDATE SET "amountMinor" = allowance_spent."amountMinor" + excluded."amountMinor";
COMMIT;
`);
}

/** The script with only the writes of the tables --only names (and BEGIN, COMMIT). */
function only(script: string): string {
  if (!ONLY) return script;
  const keep = ONLY.split(",");
  return script
    .split(/;\n/)
    // the meta-commands, BEGIN and COMMIT stay; of the statements, the INSERTs (a WITH holds one) into a named table
    .filter((st) => !/^(SELECT|UPDATE|INSERT|WITH)/.test(st) || keep.some((t) => st.includes("INSERT INTO " + t + " (")))
    .join(";\n");
}

async function main(): Promise<void> {
  if (BARE && !ONLY) {
    // the reads need the indexes: without them they scan, and the figure would say nothing
    console.error("--bare goes with --only (the writes alone): the upload's reads need the secondary indexes");
    process.exit(2);
  }
  const pgbench = spawnSync("pgbench", ["--version"], { encoding: "utf8" });
  if (pgbench.status !== 0) {
    console.log("skipped: no pgbench (install Debian's postgresql-client)");
    return;
  }
  const pg = await startPostgres({ settings: { fsync: "on", synchronous_commit: "off", full_page_writes: "on", max_pred_locks_per_transaction: "1024" } });
  if (!pg) {
    console.log(SKIP_NO_POSTGRES);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "pg-floor-"));
  try {
    const url = await pg.freshDatabase();
    // the gateway's schema, by its own migrations
    openPgStore(url).close();
    const db = new URL(url);
    const psql = (sql: string) => {
      const r = spawnSync("psql", ["-v", "ON_ERROR_STOP=1", "-q", "-h", db.hostname, "-p", db.port, "-U", db.username, "-c", sql, db.pathname.slice(1)], { encoding: "utf8" });
      if (r.status !== 0) throw new Error("psql: " + r.stderr);
      return r.stdout;
    };
    // a merchant, and a terminal and a connection per client
    const setup = [`INSERT INTO merchants (id, name, currency, "apiKeyHash", "webhookUrl", "webhookSecret", limits, "createdAt") VALUES (1, 'floor', 978, 'h', '', '', '{}', 0)`];
    for (let c = 0; c < CLIENTS; c++) {
      setup.push(`INSERT INTO terminals (id, "merchantId", pub, cert, "linkSeq", fw, "headSeq", "headHash", "lastHelloAt", drift, "createdAt") VALUES (${c}, 1, '\\x00', '\\x00', 0, '', 0, '', 0, 0, 0)`);
      setup.push(`INSERT INTO connections (id, "merchantId", "terminalId", address, port, "connectedAt", "disconnectedAt", requests) VALUES (${c}, 1, ${c}, '127.0.0.1', 1, 0, 0, 0)`);
    }
    psql(setup.join(";\n"));
    if (BARE) {
      psql(`DO $$ DECLARE x record; BEGIN FOR x IN SELECT indexrelid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT i.indisunique AND NOT i.indisprimary LOOP EXECUTE 'DROP INDEX ' || x.name; END LOOP; END $$`);
    }
    const script = join(dir, "upload.sql");
    writeFileSync(script, uploadScript());
    const bench = (secs: number) =>
      spawnSync("pgbench", ["-n", "--max-tries", "100", "-r", "-c", String(CLIENTS), "-j", String(CLIENTS), "-T", String(secs), "-h", db.hostname, "-p", db.port, "-U", db.username, "-f", script, db.pathname.slice(1)], {
        encoding: "utf8",
      });
    // a warm-up that fills the tables, then fresh statistics (as autovacuum keeps them on a running gateway):
    // the planner of an empty table's statistics scans a terminal's records instead of looking its seqs up
    bench(3);
    psql("ANALYZE");
    const pgCpu = () => treeCpu(pg.pid());
    const c0 = pgCpu();
    const r = bench(SECONDS);
    // the connections' processes end as pgbench closes them: their time reaches the postmaster once it reaps them
    await new Promise((res) => setTimeout(res, 1000));
    const pgSecs = pgCpu() - c0;
    if (r.status !== 0) throw new Error("pgbench failed: " + r.stderr + r.stdout);
    if (process.env.FLOOR_DEBUG) {
      console.log(r.stdout);
      const q = uploadScript().split("\n").filter((l) => l.startsWith("SELECT")).map((l) => "EXPLAIN ANALYZE " + l.replace(/:client_id/g, "1").replace(/:u\b/g, "5").replace(/:mid/g, "1")).join("\n");
      console.log(psql(q));
    }
    const tps = Number(/tps = ([0-9.]+)/.exec(r.stdout)?.[1] ?? NaN);
    const failed = /number of failed transactions: ([0-9]+)/.exec(r.stdout)?.[1] ?? "0";
    const retried = /number of transactions retried: ([0-9]+)/.exec(r.stdout)?.[1] ?? "0";
    const done = Number(/number of transactions actually processed: ([0-9]+)/.exec(r.stdout)?.[1] ?? NaN);
    const records = done * RECORDS;
    console.log(`PostgreSQL floor: uploads of ${RECORDS} records, ${CLIENTS} connections, ${ISOLATION}, ${SECONDS} s` + (ONLY ? ", writes to " + ONLY + " alone" : "") + (BARE ? ", no secondary indexes" : ""));
    const perRecord = (pgSecs * 1e6) / records;
    console.log(`  ${Math.round(tps * RECORDS)} records/s (${tps.toFixed(0)} uploads/s; ${retried} run again after a serialization failure, ${failed} failed)`);
    console.log(`  PostgreSQL CPU ${pgSecs.toFixed(1)} s: ${perRecord.toFixed(0)} µs a record`);
    // issue 17's target: 10,000 records/s on this machine's cores, gateway, database and terminals together
    const budget = (availableParallelism() * 1e6) / 10000;
    console.log(`  10,000 records/s on this machine's ${availableParallelism()} cores leave ${budget.toFixed(0)} µs of CPU a record for everything; this floor takes ${((perRecord / budget) * 100).toFixed(0)} % of it`);
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
