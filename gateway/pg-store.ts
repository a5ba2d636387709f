/**
 * GatewayStore on PostgreSQL: the same queries as SQLite (gateway/sql-store.ts), for one or several gateway processes
 * on one database (docs/gateway.md, PostgreSQL and workers).
 *
 *   const store = openPgStore("postgres://gw:secret@db.example/gateway");
 *   store.transaction(() => { store.insertMerchant(...); store.insertActivity(...); });
 *   store.close();
 *
 * - The connection runs on a worker thread and this thread waits for each answer (gateway/pg-sync.ts): the store
 *   interface stays synchronous and a request stays one transaction.
 * - Every transaction is SERIALIZABLE: whatever several processes run at once, the outcome is one of running them
 *   one after the other, as SQLite's single writer does. When PostgreSQL cannot promise that (SQLSTATE 40001), finds
 *   a deadlock (40P01) or a concurrent insert took the same key (23505: two processes entering one txId), the
 *   transaction is rolled back and run again from the start; the second run sees what the other committed (the
 *   upload is a duplicate). Nothing of a failed run stays: the function only writes through the store. (An outbox
 *   claim, one statement atomic on its own, runs outside any transaction: claimSms, claimWebhooks.)
 * - Statements whose answers nobody reads (inserts without an id, updates) travel with the next statement that is
 *   read, or with COMMIT: a transaction costs one round trip per read, and an error still rolls all of it back.
 * - Migrations: the same versioned steps as SQLite (gateway/migrations.ts), in table schema_version, one process at a
 *   time (an advisory lock).
 */
import { MIGRATIONS, pgDdl, pgQuote, SCHEMA_V6, statements } from "./migrations.ts";
import type { PgResult, PgStatement } from "./pg-sync.ts";
import { PgError, SyncPg } from "./pg-sync.ts";
import type { Query, Row } from "./sql-store.ts";
import { col, SqlStore } from "./sql-store.ts";
import type { PostingRow, SmsRow, SpendRow, WebhookRow } from "./store.ts";

/** SQLSTATEs after which the whole transaction runs again: serialization failure, deadlock, a key taken meanwhile. */
const RETRY = new Set(["40001", "40P01", "23505"]);
const MAX_RUNS = 12;
/** Statement shapes prepared per connection at most (then they are parsed each time). */
const MAX_PREPARED = 2000;
/** Tables whose id PostgreSQL numbers itself (AUTOINCREMENT in SQLite's schema). */
const IDENTITY = new Set(["records", "flags", "activity", "connections", "sms", "webhooks", "movements", "postings", "payout_runs", "payouts"]);
/** Advisory lock namespace of the gateway ("gw"), first key of the two-key form. */
const LOCK_SPACE = 0x6777;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Bytes as hex text (the JSON rows of unnestRows carry bytea columns as text); anything else as it is. */
function hex(v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") : v;
}

/**
 * Rows as the JSON text the writes send (unnestRows). A string with a lone UTF-16 surrogate comes out of
 * JSON.stringify as a `\udxxx` escape, which PostgreSQL's JSON refuses (the driver, sending text, made it U+FFFD):
 * such a text is made again with each lone surrogate as U+FFFD, so a row is stored as it was before, not refused.
 */
export function jsonRows(rows: unknown): string {
  const text = JSON.stringify(rows);
  if (!/\\u[dD][89a-fA-F]/.test(text)) return text;
  return JSON.stringify(rows, (_k, v) => (typeof v === "string" ? v.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd") : v));
}

/** FNV-1a of a lock name, as a signed 32-bit key. */
function lockKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

export interface PgStoreOptions {
  /** Longest wait for one batch of statements (ms, default 30 000): then the connection is dropped. */
  timeoutMs?: number;
}

export class PgStore extends SqlStore {
  private readonly c: SyncPg;
  private depth = 0;
  /** BEGIN sent (the transaction exists on the server). */
  private begun = false;
  private pending: PgStatement[] = [];
  /** The database's first error in the running transaction (the gateway may have caught and rethrown another). */
  private failure: PgError | null = null;
  private isOpen = true;
  private sql = new Map<string, { text: string; name?: string }>();
  /** Transactions run again after a conflict (for the bench and the operator's log). */
  retries = 0;

  constructor(
    readonly url: string,
    o: PgStoreOptions = {},
  ) {
    super();
    this.c = new SyncPg({ url, timeoutMs: o.timeoutMs });
    try {
      this.migrate();
      this.columnTypes();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private migrate(): void {
    this.transaction(() => {
      this.run("SELECT pg_advisory_xact_lock(" + LOCK_SPACE + ", 0)");
      this.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const r = this.get<{ version: number }>("SELECT version FROM schema_version");
      let v = r ? r.version : 0;
      if (!r) {
        for (const st of statements(SCHEMA_V6)) this.raw(pgDdl(st));
        this.run("INSERT INTO schema_version (version) VALUES (6)");
        v = 6;
      }
      for (const m of MIGRATIONS) {
        if (v >= m.version) continue;
        for (const st of statements(m.sql)) this.raw(pgDdl(st));
        this.run("UPDATE schema_version SET version=?", m.version);
        v = m.version;
      }
    });
  }

  /**
   * A statement as PostgreSQL reads it: $n placeholders, camelCase names quoted; prepared under a name (the first
   * MAX_PREPARED shapes: an upload's combined statements, allMany and execMany, take a shape per list length).
   */
  private tr(sql: string): { text: string; name?: string } {
    let t = this.sql.get(sql);
    if (!t) {
      let n = 0;
      const text = pgQuote(sql)
        .split(/('(?:[^']|'')*')/)
        .map((part, i) => (i % 2 ? part : part.replace(/\?/g, () => "$" + ++n)))
        .join("");
      if (this.sql.size >= MAX_PREPARED) return { text };
      t = { text, name: "g" + this.sql.size };
      this.sql.set(sql, t);
    }
    return t;
  }

  private stmt(sql: string, args: unknown[]): PgStatement {
    const t = this.tr(sql);
    return { sql: t.text, params: args, name: t.name };
  }

  /** Sends what waits and `q`; the answer to `q`. */
  private send(q?: PgStatement): PgResult {
    return this.sendAll(q ? [q] : [])[0] ?? { rows: [], rowCount: 0 };
  }

  /** Sends what waits and `qs` in one round trip; the answers to `qs`. */
  private sendAll(more: PgStatement[]): PgResult[] {
    const qs = this.pending;
    this.pending = [];
    qs.push(...more);
    if (!qs.length) return [];
    if (this.depth > 0) this.begun = true;
    try {
      const r = this.c.batch(qs);
      return r.slice(r.length - more.length);
    } catch (e) {
      if (e instanceof PgError && this.depth > 0 && !this.failure) this.failure = e;
      throw e;
    }
  }

  /** DDL as it is (migrations). */
  private raw(sql: string): void {
    this.send({ sql, params: [] });
  }

  protected all<T>(sql: string, ...args: unknown[]): T[] {
    this.before(false);
    return this.send(this.stmt(sql, args)).rows as T[];
  }

  protected get<T>(sql: string, ...args: unknown[]): T | undefined {
    return this.all<T>(sql, ...args)[0];
  }

  protected run(sql: string, ...args: unknown[]): number {
    this.before(true);
    return this.send(this.stmt(sql, args)).rowCount;
  }

  protected override exec(sql: string, ...args: unknown[]): void {
    this.before(true);
    if (this.depth > 0) this.pending.push(this.stmt(sql, args));
    else this.send(this.stmt(sql, args));
  }

  /**
   * The reads in one statement: each as a JSON array of its rows (json_agg), so they cost one exchange with the
   * server, not one each. BLOB columns come back from JSON as "\\x" + hex and are turned back into bytes.
   */
  protected override allMany(qs: Query[]): Row[][] {
    this.before(false);
    if (qs.length < 2) return this.sendAll(qs.map((q) => this.stmt(q.sql, q.args))).map((r) => r.rows);
    const sql = "SELECT " + qs.map((q, i) => "(SELECT COALESCE(json_agg(q), '[]') FROM (" + q.sql + ") AS q) AS r" + i).join(", ");
    const row = this.send(this.stmt(sql, qs.flatMap((q) => q.args))).rows[0];
    return qs.map((q, i) => {
      const rows = row["r" + i] as Row[];
      for (const b of q.bytes ?? []) for (const r of rows) if (typeof r[b] === "string") r[b] = new Uint8Array(Buffer.from((r[b] as string).slice(2), "hex"));
      return rows;
    });
  }

  /**
   * The writes as few statements: each table's rows one INSERT from one JSON text of its rows (unnestRows),
   * each INSERT a part of one WITH. The parts of a WITH run in no set order, so a table's second group (other
   * columns) goes in the next statement (rows keep their order, and so their ids); `then` after.
   */
  protected override execMany(first: Query[], then: Query[]): void {
    first = this.unnestRows(first);
    then = this.unnestRows(then);
    const joined = this.postingsJoined(first, then);
    if (joined) {
      first = joined;
      then = [];
    }
    for (const part of [first, then]) {
      const rounds: Query[][] = [];
      const seen = new Map<string, number>();
      for (const q of part) {
        const k = q.table ?? q.sql;
        const i = seen.has(k) ? (seen.get(k) as number) + 1 : 0;
        seen.set(k, i);
        (rounds[i] = rounds[i] ?? []).push(q);
      }
      for (const r of rounds) {
        if (r.length === 1) this.exec(r[0].sql, ...r[0].args);
        else this.pending.push(this.stmt("WITH " + r.map((q, i) => (q.cte ?? "w" + i) + " AS (" + q.sql + ")").join(", ") + " SELECT 1", r.flatMap((q) => q.args)));
      }
    }
  }

  /** Column types ("table.column" -> PostgreSQL's type name), read once from the catalog (unnestRows). */
  private types: Map<string, string> | null = null;

  private columnTypes(): Map<string, string> {
    if (!this.types) {
      const m = new Map<string, string>();
      for (const r of this.all<{ t: string; c: string; u: string }>("SELECT table_name AS t, column_name AS c, udt_name AS u FROM information_schema.columns WHERE table_schema = current_schema()")) m.set(r.t + "." + r.c, r.u);
      this.types = m;
    }
    return this.types;
  }

  /** The rows unnestRows writes: it makes their statement itself. */
  protected override rowsOnly(table: string, keys: string[]): boolean {
    const types = this.columnTypes();
    return table !== "postings" && keys.length > 0 && keys.every((k) => types.has(table + "." + k));
  }

  /**
   * Multi-row INSERTs as `INSERT … SELECT … FROM json_to_recordset(?::json) WITH ORDINALITY … ORDER BY ord`: the
   * rows as one JSON text, whatever their number, so a table's rows are one statement whose text does not depend on
   * their number (one prepared plan), and one string crosses to the connection's thread and goes to the server as
   * it is (an array a column, as before, had the driver quote and escape every element of every array, and the
   * thread hop copy each; docs/gateway.md, ingest at the limit, fifth pass). The
   * chunks of one table with the same columns and tail join again into one. Bytes go as hex text (decoded by the
   * server): no typed array crosses to the connection's thread. A row of a table or column the catalog does not
   * know, or a posting (its movement is named by key), stays as it was.
   */
  private unnestRows(qs: Query[]): Query[] {
    const types = this.columnTypes();
    const out: Query[] = [];
    const groups = new Map<string, { table: string; tail: string; keys: string[]; rows: Row[]; at: number }>();
    for (const q of qs) {
      const rows = q.rows;
      const keys = rows && rows.length ? Object.keys(rows[0]) : [];
      if (!q.table || !rows || !rows.length || q.table === "postings" || keys.some((k) => !types.has(q.table + "." + k))) {
        out.push(q);
        continue;
      }
      const gk = q.table + "\n" + (q.tail ?? "") + "\n" + keys.join(",");
      const g = groups.get(gk);
      if (g) g.rows.push(...rows);
      else {
        groups.set(gk, { table: q.table, tail: q.tail ?? "", keys, rows: rows.slice(), at: out.length });
        out.push(q); // its place: replaced below
      }
    }
    for (const g of groups.values()) {
      const cols = g.keys.map((k) => {
        const t = types.get(g.table + "." + k) as string;
        return { k, bytes: t === "bytea", t };
      });
      const bytes = cols.filter((c) => c.bytes).map((c) => c.k);
      const rows = bytes.length
        ? g.rows.map((r) => {
            const o: Row = { ...r };
            for (const k of bytes) o[k] = hex(o[k]);
            return o;
          })
        : g.rows;
      const sql =
        "INSERT INTO " + g.table + " (" + g.keys.map(col).join(",") + ") SELECT " +
        cols.map((c) => (c.bytes ? "decode(u." + col(c.k) + ", 'hex')" : "u." + col(c.k))).join(",") +
        " FROM ROWS FROM (json_to_recordset(?::json) AS (" + cols.map((c) => col(c.k) + " " + (c.bytes ? "text" : c.t)).join(",") + ")) WITH ORDINALITY AS u(" +
        cols.map((c) => col(c.k)).join(",") + ", ord) ORDER BY u.ord" + (g.tail ? " " + g.tail : "");
      out[g.at] = { sql, args: [jsonRows(rows)], table: g.table, rows: g.rows, tail: g.tail || undefined };
    }
    return out;
  }

  /**
   * The postings as part of the movements' own statement: `INSERT … RETURNING id, key` joined to the postings' rows
   * by key, in their order (so their ids follow it), instead of a sub-select of the movement's id for every posting
   * in a second statement. Only when all the movements are in one statement and every posting's movement is among
   * them (an upload's are); else null, and the postings go as before.
   */
  private postingsJoined(first: Query[], then: Query[]): Query[] | null {
    const moves = first.filter((q) => q.table === "movements");
    if (moves.length !== 1 || !then.length || then.some((q) => q.table !== "postings" || !q.rows)) return null;
    const m = moves[0];
    const keys = new Set((m.rows ?? []).map((r) => r.key));
    const posts = then.flatMap((q) => q.rows as Row[]);
    if (m.sql.indexOf(" ON CONFLICT") >= 0 || posts.some((p) => !keys.has(p.movementKey))) return null;
    const args = [jsonRows(posts.map((p) => ({ k: p.movementKey, a: p.account, c: p.currency, d: p.debit, r: p.credit })))];
    const sql =
      "INSERT INTO postings (movementId, account, currency, debit, credit) SELECT wm.id, v.a, v.c, v.d, v.r " +
      "FROM ROWS FROM (json_to_recordset(?::json) AS (k text, a text, c int8, d int8, r int8)) WITH ORDINALITY AS v(k, a, c, d, r, ord) JOIN wm ON wm.key = v.k ORDER BY v.ord";
    const out = first.filter((q) => q !== m);
    // the two are parts of one WITH (execMany): the postings' part reads the movements' by its name
    out.push({ ...m, sql: m.sql + " RETURNING id, key", cte: "wm" }, { sql, args, table: "postings", cte: "wp" });
    return out;
  }

  protected insert(table: string, row: object, wantId?: boolean): number {
    this.before(true);
    const keys = Object.keys(row).filter((k) => (row as Row)[k] !== undefined);
    const values = keys.map((k) => (row as Row)[k]);
    const marks = keys.map(() => "?");
    // merchants take the next free ID when none is asked for, as SQLite's INTEGER PRIMARY KEY does
    if (table === "merchants" && keys.indexOf("id") < 0) {
      keys.unshift("id");
      marks.unshift("(SELECT COALESCE(MAX(id), 0) + 1 FROM merchants)");
    }
    const sql = "INSERT INTO " + table + " (" + keys.map(col).join(",") + ") VALUES (" + marks.join(",") + ")";
    if (!wantId) {
      this.exec(sql, ...values);
      return 0;
    }
    const r = this.get<{ id: number }>(sql + " RETURNING id", ...values);
    return r ? r.id : 0;
  }

  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    for (let run = 1; ; run++) {
      this.depth = 1;
      this.begun = false;
      this.failure = null;
      this.pending = [{ sql: "BEGIN ISOLATION LEVEL SERIALIZABLE", params: [] }];
      try {
        const out = this.unit(fn);
        this.pending.push({ sql: "COMMIT", params: [] });
        this.send();
        this.depth = 0;
        return out;
      } catch (e) {
        const begun = this.begun;
        this.pending = [];
        this.depth = 0;
        const why = this.failure ?? (e instanceof PgError ? e : null);
        if (begun && (!why || why.code !== "CONN")) {
          try {
            this.c.batch([{ sql: "ROLLBACK", params: [] }]);
          } catch {
            // the connection went: the server rolls back on its own
          }
        }
        if (why && RETRY.has(why.code) && run < MAX_RUNS && this.isOpen) {
          this.retries++;
          sleepMs(Math.floor(Math.random() * 2 * run) + 1);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Rows copied from another database as they are, IDs included (tools/gateway-copy.ts, moving from SQLite), inside
   * the caller's transaction; then the table's ID sequence continues after the largest copied.
   */
  copyRows(table: string, rows: Row[]): void {
    for (const r of rows) this.insert(table, r);
    // the copied postings and spends add to the running balances, as every other write of them does
    if (table === "postings") this.running(rows as unknown as PostingRow[], []);
    if (table === "spends") this.running([], rows as unknown as SpendRow[]);
    if (rows.length && IDENTITY.has(table)) this.run("SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT COALESCE(MAX(id), 1) FROM " + table + "))", table);
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.c.close();
  }

  get open(): boolean {
    return this.isOpen;
  }

  tryLock(name: string): boolean {
    const r = this.get<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(" + LOCK_SPACE + ", ?) AS ok", lockKey(name));
    return !!r && r.ok;
  }

  /**
   * One statement, atomic on its own: outside a transaction it runs as its own (autocommit under READ COMMITTED: one
   * round trip, not BEGIN, statement and COMMIT in two); the row locks (FOR UPDATE SKIP LOCKED) keep two processes
   * from claiming one row, and a row another process claimed and committed meanwhile is checked again against
   * `nextAt<=now` before it is locked, so it is skipped.
   */
  private claim<T>(sql: string, until: number, now: number, limit: number): T[] {
    return this.all<T & { id?: number }>(sql, until, now, limit).sort((a, b) => (a.id as number) - (b.id as number));
  }

  claimSms(now: number, until: number, limit: number): SmsRow[] {
    return this.claim<SmsRow>("UPDATE sms SET nextAt=? WHERE id IN (SELECT id FROM sms WHERE status='queued' AND nextAt<=? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *", until, now, limit);
  }

  claimWebhooks(now: number, until: number, limit: number): WebhookRow[] {
    return this.claim<WebhookRow>("UPDATE webhooks SET nextAt=? WHERE id IN (SELECT id FROM webhooks WHERE status='pending' AND nextAt<=? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *", until, now, limit);
  }
}

export function openPgStore(url: string, o?: PgStoreOptions): PgStore {
  return new PgStore(url, o);
}

/** True for a database URL the PostgreSQL store takes (postgres:// or postgresql://). */
export function isPgUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}
