/**
 * GatewayStore on SQLite (better-sqlite3): the reference gateway's embedded database.
 *
 *   const store = openSqliteStore("gateway.db");   // or ":memory:"
 *   store.transaction(() => { store.insertMerchant(...); store.insertActivity(...); });
 *   store.close();
 *
 * WAL journal, synchronous=NORMAL: a committed transaction survives a crash of the process. Column names are the
 * rows' field names, so rows map one to one.
 */
import Database from "better-sqlite3";
import { MIGRATIONS, SCHEMA_V6 as SCHEMA, statements } from "./migrations.ts";
import type { Row } from "./sql-store.ts";
import { col, SqlStore } from "./sql-store.ts";
import type { SmsRow, WebhookRow } from "./store.ts";

/** Buffers back as plain Uint8Array views (same bytes), so rows compare equal to what was stored. */
function fix<T>(r: unknown): T {
  if (!r) return r as T;
  const o = r as Row;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (Buffer.isBuffer(v)) o[k] = new Uint8Array(v.buffer, v.byteOffset, v.length);
  }
  return o as T;
}

function toDb(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

export class SqliteStore extends SqlStore {
  readonly db: Database.Database;
  private stmts = new Map<string, Database.Statement>();

  constructor(path: string) {
    super();
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
    this.migrateOn();
  }

  /**
   * Versioned schema (PRAGMA user_version): 0 = empty, 1 = the transaction log, 2 = the books (movements, postings,
   * allowances, payouts; balances no longer kept in place), 3 = terminals can be revoked, allowances know when they
   * were replaced, 4 = invoices keep the card's brand, last four and processor reference, 5 = merchants' phone
   * numbers, the SMS outbox's backoff and delivery reports, 6 = updates know their board and firmware key; then
   * gateway/migrations.ts (migrateOn). Each step runs in one transaction.
   */
  private migrate(): void {
    const v = Number(this.db.pragma("user_version", { simple: true }));
    const hasWallets = !!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='wallets'").get();
    if (v >= 6) return;
    this.db.transaction(() => {
      if (hasWallets && v < 2) {
        // a version-1 database: wallets kept a balance in place; it becomes an opening top-up posting
        const cols = (this.db.prepare("PRAGMA table_info(merchants)").all() as { name: string }[]).map((c) => c.name);
        if (cols.indexOf("iban") < 0) this.db.exec("ALTER TABLE merchants ADD COLUMN iban TEXT NOT NULL DEFAULT ''; ALTER TABLE merchants ADD COLUMN bic TEXT NOT NULL DEFAULT ''");
        this.db.exec(SCHEMA);
        const wcols = (this.db.prepare("PRAGMA table_info(wallets)").all() as { name: string }[]).map((c) => c.name);
        if (wcols.indexOf("balanceMinor") >= 0) {
          const rows = this.db.prepare("SELECT id, currency, balanceMinor, createdAt FROM wallets WHERE balanceMinor > 0").all() as { id: string; currency: number; balanceMinor: number; createdAt: number }[];
          for (const r of rows) {
            const mid = Number(this.db.prepare("INSERT INTO movements (key, kind, ref, merchantId, walletId, at, memo) VALUES (?,?,?,?,?,?,?)").run("migrate:" + r.id, "topup", r.id, 0, r.id, r.createdAt, "balance carried from schema 1").lastInsertRowid);
            this.db.prepare("INSERT INTO postings (movementId, account, currency, debit, credit) VALUES (?,?,?,?,0)").run(mid, "issuer:funds", r.currency, r.balanceMinor);
            this.db.prepare("INSERT INTO postings (movementId, account, currency, debit, credit) VALUES (?,?,?,0,?)").run(mid, "wallet:" + r.id + ":available", r.currency, r.balanceMinor);
          }
          this.db.exec("ALTER TABLE wallets DROP COLUMN balanceMinor");
        }
      } else this.db.exec(SCHEMA);
      // version 3: columns added to tables a version-1 or -2 database already has
      const add = (table: string, column: string, decl: string) => {
        const cols = (this.db.prepare("PRAGMA table_info(" + table + ")").all() as { name: string }[]).map((c) => c.name);
        if (cols.indexOf(column) < 0) this.db.exec("ALTER TABLE " + table + " ADD COLUMN " + column + " " + decl);
      };
      add("terminals", "revokedAt", "INTEGER NOT NULL DEFAULT 0");
      add("allowances", "replacedAt", "INTEGER NOT NULL DEFAULT 0");
      // version 4: what an online card payment keeps of the card (brand, last four, processor reference)
      add("invoices", "card", "TEXT NOT NULL DEFAULT ''");
      // version 5: merchants' phone numbers; the SMS outbox's kind, backoff and delivery reports
      add("merchants", "phone", "TEXT NOT NULL DEFAULT ''");
      add("sms", "kind", "TEXT NOT NULL DEFAULT ''");
      add("sms", "merchantId", "INTEGER NOT NULL DEFAULT 0");
      add("sms", "refused", "INTEGER NOT NULL DEFAULT 0");
      add("sms", "nextAt", "INTEGER NOT NULL DEFAULT 0");
      add("sms", "lastError", "TEXT NOT NULL DEFAULT ''");
      add("sms", "dlrToken", "TEXT NOT NULL DEFAULT ''");
      add("sms", "dlr", "TEXT NOT NULL DEFAULT ''");
      add("sms", "dlrAt", "INTEGER NOT NULL DEFAULT 0");
      this.db.exec("CREATE INDEX IF NOT EXISTS sms_due ON sms(status, nextAt)");
      // version 6: an update's board and the firmware key that signed it (older rows: issuer-signed, never offered)
      add("updates", "board", "TEXT NOT NULL DEFAULT ''");
      add("updates", "keyId", "INTEGER NOT NULL DEFAULT -1");
      this.db.pragma("user_version = 6");
    })();
  }

  /** The steps after version 6 (gateway/migrations.ts, the same as PostgreSQL's), each in one transaction. */
  private migrateOn(): void {
    for (const m of MIGRATIONS) {
      if (Number(this.db.pragma("user_version", { simple: true })) >= m.version) continue;
      this.db.transaction(() => {
        for (const st of statements(m.sql)) {
          // SQLite has no ADD COLUMN IF NOT EXISTS: a column already there (a database rolled back by hand) is kept
          const add = /^ALTER TABLE (\w+) ADD COLUMN (\w+)/.exec(st);
          if (add && (this.db.prepare("PRAGMA table_info(" + add[1] + ")").all() as { name: string }[]).some((c) => c.name === add[2])) continue;
          this.db.exec(st);
        }
        this.db.pragma("user_version = " + m.version);
      })();
    }
  }

  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  protected all<T>(sql: string, ...args: unknown[]): T[] {
    this.before(false);
    return (this.st(sql).all(...args.map(toDb)) as unknown[]).map((r) => fix<T>(r));
  }

  protected get<T>(sql: string, ...args: unknown[]): T | undefined {
    this.before(false);
    return fix<T>(this.st(sql).get(...args.map(toDb)));
  }

  protected run(sql: string, ...args: unknown[]): number {
    this.before(true);
    return this.st(sql).run(...args.map(toDb)).changes;
  }

  protected insert(table: string, row: object, _wantId?: boolean): number {
    this.before(true);
    const keys = Object.keys(row).filter((k) => (row as Row)[k] !== undefined);
    const sql = "INSERT INTO " + table + " (" + keys.map(col).join(",") + ") VALUES (" + keys.map(() => "?").join(",") + ")";
    return Number(this.st(sql).run(...keys.map((k) => toDb((row as Row)[k]))).lastInsertRowid);
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(() => this.unit(fn)).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get open(): boolean {
    return this.db.open;
  }

  /** One process writes a SQLite file at a time (BEGIN IMMEDIATE): the lock is the transaction's own. */
  tryLock(_name: string): boolean {
    return true;
  }

  claimSms(now: number, until: number, limit: number): SmsRow[] {
    return this.transaction(() => {
      const rows = this.all<SmsRow>("SELECT * FROM sms WHERE status='queued' AND nextAt<=? ORDER BY id LIMIT ?", now, limit);
      for (const r of rows) this.run("UPDATE sms SET nextAt=? WHERE id=?", until, r.id);
      return rows.map((r) => ({ ...r, nextAt: until }));
    });
  }

  claimWebhooks(now: number, until: number, limit: number): WebhookRow[] {
    return this.transaction(() => {
      const rows = this.all<WebhookRow>("SELECT * FROM webhooks WHERE status='pending' AND nextAt<=? ORDER BY id LIMIT ?", now, limit);
      for (const r of rows) this.run("UPDATE webhooks SET nextAt=? WHERE id=?", until, r.id);
      return rows.map((r) => ({ ...r, nextAt: until }));
    });
  }
}

export function openSqliteStore(path: string): SqliteStore {
  return new SqliteStore(path);
}
