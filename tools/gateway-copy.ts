/**
 * npm run gateway:copy -- --from gateway.db --to postgres://gw@db.example/gateway
 *
 * Moves a gateway's database from SQLite to PostgreSQL (docs/gateway.md, Operations): both are opened (each runs
 * the migrations to the newest schema, gateway/migrations.ts), every table is copied as it is, IDs included, in one
 * PostgreSQL transaction, and the copy is checked: the same row count in every table, the same trial balance. The
 * target must be empty (a fresh database); the gateway must be stopped while it runs (the file does not change).
 */
import { existsSync } from "node:fs";
import { isPgUrl, openPgStore } from "../gateway/pg-store.ts";
import type { Row } from "../gateway/sql-store.ts";
import { openSqliteStore } from "../gateway/sqlite-store.ts";

/** Every table, parents before children (foreign keys). */
export const TABLES = ["meta", "merchants", "terminals", "wallets", "invoices", "records", "ledger", "spends", "reports", "chain", "flags", "deny", "activity", "connections", "sms", "webhooks", "movements", "postings", "allowances", "payout_runs", "payouts", "updates"];

export function copyDatabase(from: string, to: string, log: (s: string) => void = () => undefined): Record<string, number> {
  if (!existsSync(from)) throw new Error("--from: no SQLite file " + from);
  if (!isPgUrl(to)) throw new Error("--to: a postgres:// URL");
  const src = openSqliteStore(from);
  const dst = openPgStore(to);
  try {
    const counts: Record<string, number> = {};
    dst.transaction(() => {
      for (const t of TABLES) {
        const n = Number(dst.select<{ n: number }>("SELECT count(*) AS n FROM " + t)[0].n);
        if (n) throw new Error("--to: the target database is not empty (" + t + " has " + n + " rows)");
      }
      for (const t of TABLES) {
        const rows = src.select<Row>("SELECT * FROM " + t + " ORDER BY rowid");
        dst.copyRows(t, rows);
        counts[t] = rows.length;
        log(t + ": " + rows.length);
      }
      for (const t of TABLES) {
        const n = Number(dst.select<{ n: number }>("SELECT count(*) AS n FROM " + t)[0].n);
        if (n !== counts[t]) throw new Error("copy check: " + t + " has " + n + " rows, the source " + counts[t]);
      }
      const a = JSON.stringify(src.trialBalance());
      const b = JSON.stringify(dst.trialBalance());
      if (a !== b) throw new Error("copy check: trial balance " + b + " differs from the source's " + a);
    });
    return counts;
  } finally {
    src.close();
    dst.close();
  }
}

function main(): void {
  const arg = (k: string) => {
    const i = process.argv.indexOf("--" + k);
    return i < 0 ? "" : process.argv[i + 1] ?? "";
  };
  const from = arg("from");
  const to = arg("to");
  if (!from || !to) {
    process.stderr.write("usage: npm run gateway:copy -- --from gateway.db --to postgres://user@host/db\n");
    process.exit(2);
  }
  const counts = copyDatabase(from, to, (s) => process.stdout.write(s + "\n"));
  process.stdout.write("copied " + Object.values(counts).reduce((a, b) => a + b, 0) + " rows; counts and trial balance match\n");
}

if (process.argv[1] && /gateway-copy\.ts$/.test(process.argv[1])) {
  try {
    main();
  } catch (e) {
    process.stderr.write("gateway:copy: " + (e instanceof Error ? e.message : String(e)) + "\n");
    process.exit(1);
  }
}
