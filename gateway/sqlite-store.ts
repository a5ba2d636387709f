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
import type {
  ActivityRow,
  AllowanceRow,
  MovementRow,
  PayoutRow,
  PayoutRunRow,
  PostingRow,
  PostingView,
  ConnectionRow,
  FlagRow,
  GatewayStore,
  InvoiceRow,
  LedgerRow,
  MerchantRow,
  RecordRow,
  ReportRow,
  SmsRow,
  SpendRow,
  TerminalRow,
  UpdateRow,
  WalletRow,
  WebhookRow,
} from "./store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS merchants (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, currency INTEGER NOT NULL, apiKeyHash TEXT NOT NULL UNIQUE,
  webhookUrl TEXT NOT NULL, webhookSecret TEXT NOT NULL, limits TEXT NOT NULL, iban TEXT NOT NULL DEFAULT '',
  bic TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', createdAt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS terminals (
  id INTEGER PRIMARY KEY, merchantId INTEGER NOT NULL REFERENCES merchants(id), pub BLOB NOT NULL, cert BLOB NOT NULL,
  linkSeq INTEGER NOT NULL, fw TEXT NOT NULL, headSeq INTEGER NOT NULL, headHash TEXT NOT NULL,
  lastHelloAt INTEGER NOT NULL, drift INTEGER NOT NULL, revokedAt INTEGER NOT NULL DEFAULT 0, createdAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS terminals_merchant ON terminals(merchantId);
CREATE TABLE IF NOT EXISTS wallets (
  id TEXT PRIMARY KEY, pub BLOB NOT NULL, phone TEXT NOT NULL, currency INTEGER NOT NULL, capMinor INTEGER NOT NULL,
  allowance BLOB NOT NULL, startCounter INTEGER NOT NULL, expiryDay INTEGER NOT NULL,
  lastReqTime INTEGER NOT NULL, syncedAt INTEGER NOT NULL, createdAt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
  merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, invoiceNo INTEGER NOT NULL, amountMinor INTEGER NOT NULL,
  currency INTEGER NOT NULL, expires INTEGER NOT NULL, invoice BLOB NOT NULL, orderRef TEXT NOT NULL,
  status TEXT NOT NULL, paidAt INTEGER NOT NULL, method INTEGER NOT NULL, paymentRef TEXT NOT NULL, card TEXT NOT NULL DEFAULT '', paid BLOB,
  recorded INTEGER NOT NULL, createdAt INTEGER NOT NULL, PRIMARY KEY (terminalId, invoiceNo));
CREATE INDEX IF NOT EXISTS invoices_merchant ON invoices(merchantId);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, seq INTEGER NOT NULL,
  prev TEXT NOT NULL, entry BLOB NOT NULL, txId TEXT NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL,
  message TEXT NOT NULL, receivedAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_terminal ON records(merchantId, terminalId, seq);
CREATE INDEX IF NOT EXISTS records_tx ON records(merchantId, terminalId, txId);
CREATE TABLE IF NOT EXISTS ledger (
  ref TEXT PRIMARY KEY, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, txId TEXT NOT NULL, kind TEXT NOT NULL,
  method INTEGER NOT NULL, amountMinor INTEGER NOT NULL, currency INTEGER NOT NULL, walletId TEXT NOT NULL,
  counter INTEGER NOT NULL, orderRef TEXT NOT NULL, status TEXT NOT NULL, txTime INTEGER NOT NULL,
  holdUntil INTEGER NOT NULL, original TEXT NOT NULL, createdAt INTEGER NOT NULL, updatedAt INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_tx ON ledger(txId) WHERE txId <> '';
CREATE INDEX IF NOT EXISTS ledger_merchant ON ledger(merchantId);
CREATE INDEX IF NOT EXISTS ledger_held ON ledger(status, holdUntil);
CREATE INDEX IF NOT EXISTS ledger_wallet ON ledger(walletId);
CREATE INDEX IF NOT EXISTS ledger_original ON ledger(merchantId, original);
CREATE TABLE IF NOT EXISTS spends (
  walletId TEXT NOT NULL, counter INTEGER NOT NULL, allowanceKey TEXT NOT NULL, capMinor INTEGER NOT NULL,
  merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, ref TEXT NOT NULL, amountMinor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS spends_counter ON spends(walletId, counter);
CREATE INDEX IF NOT EXISTS spends_allowance ON spends(walletId, allowanceKey);
CREATE TABLE IF NOT EXISTS reports (
  walletId TEXT NOT NULL, counter INTEGER NOT NULL, terminalId INTEGER NOT NULL, amountMinor INTEGER NOT NULL,
  reportedAt INTEGER NOT NULL, PRIMARY KEY (walletId, counter));
CREATE TABLE IF NOT EXISTS chain (
  merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (terminalId, seq));
CREATE TABLE IF NOT EXISTS flags (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, walletId TEXT NOT NULL,
  txId TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS flags_merchant ON flags(merchantId);
CREATE TABLE IF NOT EXISTS deny (walletId TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS activity (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, kind TEXT NOT NULL,
  detail TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS activity_merchant ON activity(merchantId);
CREATE TABLE IF NOT EXISTS connections (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, address TEXT NOT NULL,
  port INTEGER NOT NULL, connectedAt INTEGER NOT NULL, disconnectedAt INTEGER NOT NULL, requests INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS connections_merchant ON connections(merchantId);
CREATE TABLE IF NOT EXISTS sms (
  id INTEGER PRIMARY KEY AUTOINCREMENT, "to" TEXT NOT NULL, text TEXT NOT NULL, walletId TEXT NOT NULL, ref TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL, at INTEGER NOT NULL, sentAt INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT '', merchantId INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
  nextAt INTEGER NOT NULL DEFAULT 0, lastError TEXT NOT NULL DEFAULT '', dlrToken TEXT NOT NULL DEFAULT '',
  dlr TEXT NOT NULL DEFAULT '', dlrAt INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL,
  url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, nextAt INTEGER NOT NULL, lastError TEXT NOT NULL,
  createdAt INTEGER NOT NULL, deliveredAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhooks(status, nextAt);
CREATE TABLE IF NOT EXISTS movements (
  id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, ref TEXT NOT NULL,
  merchantId INTEGER NOT NULL, walletId TEXT NOT NULL, at INTEGER NOT NULL, memo TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS movements_ref ON movements(ref);
CREATE TABLE IF NOT EXISTS postings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, movementId INTEGER NOT NULL REFERENCES movements(id), account TEXT NOT NULL,
  currency INTEGER NOT NULL, debit INTEGER NOT NULL CHECK (debit >= 0), credit INTEGER NOT NULL CHECK (credit >= 0),
  CHECK ((debit = 0) <> (credit = 0)));
CREATE INDEX IF NOT EXISTS postings_account ON postings(account, movementId);
CREATE INDEX IF NOT EXISTS postings_movement ON postings(movementId);
CREATE TABLE IF NOT EXISTS allowances (
  walletId TEXT NOT NULL, n INTEGER NOT NULL, key TEXT NOT NULL, capMinor INTEGER NOT NULL, currency INTEGER NOT NULL,
  startCounter INTEGER NOT NULL, expiryDay INTEGER NOT NULL, issuedAt INTEGER NOT NULL, status TEXT NOT NULL,
  releaseAt INTEGER NOT NULL, replacedAt INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (walletId, n));
CREATE INDEX IF NOT EXISTS allowances_key ON allowances(walletId, key);
CREATE INDEX IF NOT EXISTS allowances_release ON allowances(status, releaseAt);
CREATE TABLE IF NOT EXISTS payout_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, period TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, count INTEGER NOT NULL,
  controlSum INTEGER NOT NULL, file TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payouts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, runId INTEGER NOT NULL REFERENCES payout_runs(id), merchantId INTEGER NOT NULL,
  amountMinor INTEGER NOT NULL, currency INTEGER NOT NULL, iban TEXT NOT NULL, bic TEXT NOT NULL, name TEXT NOT NULL,
  endToEndId TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS payouts_merchant ON payouts(merchantId);
CREATE TABLE IF NOT EXISTS updates (
  version TEXT PRIMARY KEY, size INTEGER NOT NULL, sha256 TEXT NOT NULL, sig TEXT NOT NULL, bundle BLOB NOT NULL,
  createdAt INTEGER NOT NULL, board TEXT NOT NULL DEFAULT '', keyId INTEGER NOT NULL DEFAULT -1);
`;

const SCHEMA_VERSION = 6;

type Row = Record<string, unknown>;

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

/** Column names come only from this file's callers' row fields (code), never from requests; checked anyway. */
function col(k: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(k)) throw new Error("sqlite-store: bad column " + k);
  return '"' + k + '"';
}

export class SqliteStore implements GatewayStore {
  readonly db: Database.Database;
  private stmts = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
  }

  /**
   * Versioned schema (PRAGMA user_version): 0 = empty, 1 = the transaction log, 2 = the books (movements, postings,
   * allowances, payouts; balances no longer kept in place), 3 = terminals can be revoked, allowances know when they
   * were replaced, 4 = invoices keep the card's brand, last four and processor reference, 5 = merchants' phone
   * numbers, the SMS outbox's backoff and delivery reports. Each step runs in one transaction.
   */
  private migrate(): void {
    const v = Number(this.db.pragma("user_version", { simple: true }));
    const hasWallets = !!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='wallets'").get();
    if (v >= SCHEMA_VERSION) return;
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
      this.db.pragma("user_version = " + SCHEMA_VERSION);
    })();
  }

  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private all<T>(sql: string, ...args: unknown[]): T[] {
    return (this.st(sql).all(...args) as unknown[]).map((r) => fix<T>(r));
  }

  private get<T>(sql: string, ...args: unknown[]): T | undefined {
    return fix<T>(this.st(sql).get(...args));
  }

  private run(sql: string, ...args: unknown[]): Database.RunResult {
    return this.st(sql).run(...args);
  }

  private insert(table: string, row: object): number {
    const keys = Object.keys(row).filter((k) => (row as Row)[k] !== undefined);
    const sql = "INSERT INTO " + table + " (" + keys.map(col).join(",") + ") VALUES (" + keys.map(() => "?").join(",") + ")";
    return Number(this.run(sql, ...keys.map((k) => toDb((row as Row)[k]))).lastInsertRowid);
  }

  private update(table: string, where: Record<string, unknown>, patch: object): void {
    const keys = Object.keys(patch).filter((k) => (patch as Row)[k] !== undefined);
    if (!keys.length) return;
    const wk = Object.keys(where);
    const sql = "UPDATE " + table + " SET " + keys.map((k) => col(k) + "=?").join(",") + " WHERE " + wk.map((k) => col(k) + "=?").join(" AND ");
    this.run(sql, ...keys.map((k) => toDb((patch as Row)[k])), ...wk.map((k) => where[k]));
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get open(): boolean {
    return this.db.open;
  }

  getMeta(key: string): string | undefined {
    const r = this.get<{ value: string }>("SELECT value FROM meta WHERE key=?", key);
    return r ? r.value : undefined;
  }
  setMeta(key: string, value: string): void {
    this.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", key, value);
  }

  insertMerchant(m: Omit<MerchantRow, "id"> & { id?: number }): number {
    return this.insert("merchants", m);
  }
  listMerchants(): MerchantRow[] {
    return this.all("SELECT * FROM merchants ORDER BY id");
  }
  getMerchant(id: number): MerchantRow | undefined {
    return this.get("SELECT * FROM merchants WHERE id=?", id);
  }
  merchantByKeyHash(h: string): MerchantRow | undefined {
    return this.get("SELECT * FROM merchants WHERE apiKeyHash=?", h);
  }
  updateMerchant(id: number, patch: Partial<Omit<MerchantRow, "id">>): void {
    this.update("merchants", { id }, patch);
  }

  insertTerminal(t: TerminalRow): void {
    this.insert("terminals", t);
  }
  getTerminal(id: number): TerminalRow | undefined {
    return this.get("SELECT * FROM terminals WHERE id=?", id);
  }
  terminalByPub(pub: Uint8Array): TerminalRow | undefined {
    return this.get("SELECT * FROM terminals WHERE pub=?", toDb(pub));
  }
  updateTerminal(merchantId: number, id: number, patch: Partial<Omit<TerminalRow, "id" | "merchantId">>): void {
    this.update("terminals", { merchantId, id }, patch);
  }
  listTerminals(merchantId: number): TerminalRow[] {
    return this.all("SELECT * FROM terminals WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertWallet(w: WalletRow): void {
    this.insert("wallets", w);
  }
  getWallet(id: string): WalletRow | undefined {
    return this.get("SELECT * FROM wallets WHERE id=?", id);
  }
  updateWallet(id: string, patch: Partial<Omit<WalletRow, "id">>): void {
    this.update("wallets", { id }, patch);
  }

  insertInvoice(i: InvoiceRow): void {
    this.insert("invoices", i);
  }
  getInvoice(merchantId: number, terminalId: number, invoiceNo: number): InvoiceRow | undefined {
    return this.get("SELECT * FROM invoices WHERE merchantId=? AND terminalId=? AND invoiceNo=?", merchantId, terminalId, invoiceNo);
  }
  updateInvoice(merchantId: number, terminalId: number, invoiceNo: number, patch: Partial<InvoiceRow>): void {
    this.update("invoices", { merchantId, terminalId, invoiceNo }, patch);
  }
  listInvoices(merchantId: number): InvoiceRow[] {
    return this.all("SELECT * FROM invoices WHERE merchantId=? ORDER BY createdAt, terminalId, invoiceNo", merchantId);
  }
  unrecordedPaid(merchantId: number, terminalId: number): InvoiceRow[] {
    return this.all("SELECT * FROM invoices WHERE merchantId=? AND terminalId=? AND status='paid' AND recorded=0 ORDER BY paidAt", merchantId, terminalId);
  }

  insertRecord(r: RecordRow): void {
    this.insert("records", r);
  }
  recordsAt(merchantId: number, terminalId: number, seq: number): RecordRow[] {
    return this.all("SELECT * FROM records WHERE merchantId=? AND terminalId=? AND seq=? ORDER BY id", merchantId, terminalId, seq);
  }
  recordOfTx(merchantId: number, terminalId: number, txId: string): RecordRow | undefined {
    return this.get("SELECT * FROM records WHERE merchantId=? AND terminalId=? AND txId=? AND status='entered' ORDER BY id LIMIT 1", merchantId, terminalId, txId);
  }
  maxRecordSeq(merchantId: number, terminalId: number): number {
    const r = this.get<{ m: number | null }>("SELECT MAX(seq) AS m FROM records WHERE merchantId=? AND terminalId=?", merchantId, terminalId);
    return r && r.m !== null ? r.m : 0;
  }
  records(merchantId: number, terminalId?: number): RecordRow[] {
    if (terminalId === undefined) return this.all("SELECT * FROM records WHERE merchantId=? ORDER BY id", merchantId);
    return this.all("SELECT * FROM records WHERE merchantId=? AND terminalId=? ORDER BY id", merchantId, terminalId);
  }

  insertLedger(l: LedgerRow): void {
    this.insert("ledger", l);
  }
  ledgerByRef(merchantId: number, ref: string): LedgerRow | undefined {
    return this.get("SELECT * FROM ledger WHERE merchantId=? AND ref=?", merchantId, ref);
  }
  // "txId<>''" lets SQLite use the partial unique index ledger_tx (it cannot prove it for a bound parameter)
  ledgerByTx(merchantId: number, txId: string): LedgerRow | undefined {
    return this.get("SELECT * FROM ledger WHERE merchantId=? AND txId=? AND txId<>''", merchantId, txId);
  }
  txIdTaken(txId: string): boolean {
    return !!this.get("SELECT 1 AS x FROM ledger WHERE txId=? AND txId<>''", txId);
  }
  updateLedger(merchantId: number, ref: string, patch: Partial<Omit<LedgerRow, "ref" | "merchantId">>): void {
    this.update("ledger", { merchantId, ref }, patch);
  }
  ledger(merchantId?: number): LedgerRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM ledger ORDER BY createdAt, ref");
    return this.all("SELECT * FROM ledger WHERE merchantId=? ORDER BY createdAt, ref", merchantId);
  }
  refundedOf(merchantId: number, ref: string): number {
    const r = this.get<{ s: number | null }>("SELECT -SUM(amountMinor) AS s FROM ledger WHERE merchantId=? AND original=? AND kind='refund'", merchantId, ref);
    return r && r.s !== null ? r.s : 0;
  }
  heldDue(now: number): LedgerRow[] {
    return this.all("SELECT * FROM ledger WHERE status='held' AND holdUntil<=? ORDER BY holdUntil, ref", now);
  }
  held(merchantId?: number): LedgerRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM ledger WHERE status='held' ORDER BY holdUntil, ref");
    return this.all("SELECT * FROM ledger WHERE status='held' AND merchantId=? ORDER BY holdUntil, ref", merchantId);
  }
  ledgerOfWallet(walletId: string): LedgerRow[] {
    return this.all("SELECT * FROM ledger WHERE walletId=? ORDER BY createdAt, ref", walletId);
  }

  insertSpend(s: SpendRow): void {
    this.insert("spends", s);
  }
  spendsAt(walletId: string, counter: number): SpendRow[] {
    return this.all("SELECT * FROM spends WHERE walletId=? AND counter=?", walletId, counter);
  }
  spentUnder(walletId: string, allowanceKey: string): number {
    const r = this.get<{ s: number | null }>("SELECT SUM(amountMinor) AS s FROM spends WHERE walletId=? AND allowanceKey=?", walletId, allowanceKey);
    return r && r.s !== null ? r.s : 0;
  }

  upsertReport(r: ReportRow): void {
    this.run(
      "INSERT INTO reports (walletId, counter, terminalId, amountMinor, reportedAt) VALUES (?,?,?,?,?) ON CONFLICT(walletId, counter) DO NOTHING",
      r.walletId,
      r.counter,
      r.terminalId,
      r.amountMinor,
      r.reportedAt,
    );
  }
  reportAt(walletId: string, counter: number): ReportRow | undefined {
    return this.get("SELECT * FROM reports WHERE walletId=? AND counter=?", walletId, counter);
  }

  reportsOf(walletId: string): ReportRow[] {
    return this.all("SELECT * FROM reports WHERE walletId=? ORDER BY counter", walletId);
  }

  chainHash(merchantId: number, terminalId: number, seq: number): string | undefined {
    const r = this.get<{ hash: string }>("SELECT hash FROM chain WHERE merchantId=? AND terminalId=? AND seq=?", merchantId, terminalId, seq);
    return r ? r.hash : undefined;
  }
  putChainHash(merchantId: number, terminalId: number, seq: number, hash: string): void {
    this.run("INSERT INTO chain (merchantId, terminalId, seq, hash) VALUES (?,?,?,?) ON CONFLICT(terminalId, seq) DO NOTHING", merchantId, terminalId, seq, hash);
  }

  insertFlag(f: FlagRow): void {
    this.insert("flags", f);
  }
  flags(merchantId?: number): FlagRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM flags ORDER BY id");
    return this.all("SELECT * FROM flags WHERE merchantId=? ORDER BY id", merchantId);
  }

  denyAdd(walletId: string, reason: string, at: number): boolean {
    return this.run("INSERT INTO deny (walletId, reason, at) VALUES (?,?,?) ON CONFLICT(walletId) DO NOTHING", walletId, reason, at).changes > 0;
  }
  denyList(): string[] {
    return this.all<{ walletId: string }>("SELECT walletId FROM deny ORDER BY walletId").map((r) => r.walletId);
  }
  isDenied(walletId: string): boolean {
    return !!this.get("SELECT 1 AS x FROM deny WHERE walletId=?", walletId);
  }

  insertActivity(a: ActivityRow): void {
    this.insert("activity", a);
  }
  activity(merchantId?: number, limit = 1000): ActivityRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM (SELECT * FROM activity ORDER BY id DESC LIMIT ?) ORDER BY id", limit);
    return this.all("SELECT * FROM (SELECT * FROM activity WHERE merchantId=? ORDER BY id DESC LIMIT ?) ORDER BY id", merchantId, limit);
  }

  insertConnection(c: ConnectionRow): number {
    return this.insert("connections", c);
  }
  touchConnection(id: number, terminalId: number, merchantId: number): void {
    this.run("UPDATE connections SET terminalId=?, merchantId=?, requests=requests+1 WHERE id=?", terminalId, merchantId, id);
  }
  closeConnection(id: number, at: number): void {
    this.run("UPDATE connections SET disconnectedAt=? WHERE id=? AND disconnectedAt=0", at, id);
  }
  connections(merchantId?: number): ConnectionRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM connections ORDER BY id");
    return this.all("SELECT * FROM connections WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertSms(s: SmsRow): void {
    this.insert("sms", s);
  }
  sms(): SmsRow[] {
    return this.all("SELECT * FROM sms ORDER BY id");
  }
  smsDue(now: number): SmsRow[] {
    return this.all("SELECT * FROM sms WHERE status='queued' AND nextAt<=? ORDER BY id", now);
  }
  smsById(id: number): SmsRow | undefined {
    return this.get("SELECT * FROM sms WHERE id=?", id);
  }
  updateSms(id: number, patch: Partial<SmsRow>): void {
    this.update("sms", { id }, patch);
  }

  insertWebhook(w: WebhookRow): void {
    this.insert("webhooks", w);
  }
  webhooksDue(now: number): WebhookRow[] {
    return this.all("SELECT * FROM webhooks WHERE status='pending' AND nextAt<=? ORDER BY id", now);
  }
  updateWebhook(id: number, patch: Partial<WebhookRow>): void {
    this.update("webhooks", { id }, patch);
  }
  webhooks(merchantId?: number): WebhookRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM webhooks ORDER BY id");
    return this.all("SELECT * FROM webhooks WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertMovement(m: MovementRow, postings: Omit<PostingRow, "movementId" | "id">[]): number {
    const sums = new Map<number, number>();
    for (const p of postings) {
      if (!Number.isSafeInteger(p.debit) || !Number.isSafeInteger(p.credit) || p.debit < 0 || p.credit < 0 || (p.debit === 0) === (p.credit === 0)) {
        throw new Error("books: a posting is a positive debit or a positive credit, not both (" + p.account + ")");
      }
      sums.set(p.currency, (sums.get(p.currency) ?? 0) + p.debit - p.credit);
    }
    for (const [cur, d] of sums) if (d !== 0) throw new Error("books: movement " + m.key + " does not balance in currency " + cur + " (debits - credits = " + d + ")");
    if (!postings.length) throw new Error("books: movement " + m.key + " has no postings");
    const id = this.insert("movements", m);
    for (const p of postings) this.insert("postings", { ...p, movementId: id });
    return id;
  }
  movementByKey(key: string): MovementRow | undefined {
    return this.get("SELECT * FROM movements WHERE key=?", key);
  }
  balance(account: string, currency?: number, before?: number): number {
    const like = account.endsWith(":");
    const where = (like ? "p.account >= ? AND p.account < ?" : "p.account = ?") + (currency === undefined ? "" : " AND p.currency = ?") + (before === undefined ? "" : " AND m.at < ?");
    const args: unknown[] = like ? [account, account.slice(0, -1) + ";"] : [account];
    if (currency !== undefined) args.push(currency);
    if (before !== undefined) args.push(before);
    const join = before === undefined ? "" : " JOIN movements m ON m.id = p.movementId";
    const r = this.get<{ b: number | null }>("SELECT SUM(p.credit - p.debit) AS b FROM postings p" + join + " WHERE " + where, ...args);
    return r && r.b !== null ? r.b : 0;
  }
  balances(prefix: string): { account: string; currency: number; balance: number }[] {
    return this.all("SELECT account, currency, SUM(credit - debit) AS balance FROM postings WHERE account >= ? AND account < ? GROUP BY account, currency ORDER BY account, currency", prefix, prefix + "\uffff");
  }
  postings(prefix: string, from = 0, to = Number.MAX_SAFE_INTEGER): PostingView[] {
    return this.all(
      "SELECT p.*, m.key, m.kind, m.ref, m.at, m.memo FROM postings p JOIN movements m ON m.id = p.movementId WHERE p.account >= ? AND p.account < ? AND m.at >= ? AND m.at < ? ORDER BY m.at, p.movementId, p.id",
      prefix,
      prefix + "\uffff",
      from,
      to,
    );
  }
  trialBalance(): { currency: number; debits: number; credits: number }[] {
    return this.all("SELECT currency, SUM(debit) AS debits, SUM(credit) AS credits FROM postings GROUP BY currency ORDER BY currency");
  }
  unbalancedMovements(): number[] {
    return this.all<{ movementId: number }>("SELECT movementId FROM postings GROUP BY movementId, currency HAVING SUM(debit) <> SUM(credit) ORDER BY movementId").map((r) => r.movementId);
  }

  insertAllowance(a: AllowanceRow): void {
    this.insert("allowances", a);
  }
  allowances(walletId: string): AllowanceRow[] {
    return this.all("SELECT * FROM allowances WHERE walletId=? ORDER BY n", walletId);
  }
  allowanceByKey(walletId: string, key: string): AllowanceRow | undefined {
    return this.get("SELECT * FROM allowances WHERE walletId=? AND key=? ORDER BY n DESC LIMIT 1", walletId, key);
  }
  updateAllowance(walletId: string, n: number, patch: Partial<AllowanceRow>): void {
    this.update("allowances", { walletId, n }, patch);
  }
  allowancesToRelease(now: number): AllowanceRow[] {
    return this.all("SELECT * FROM allowances WHERE status<>'released' AND releaseAt<=? ORDER BY releaseAt, walletId, n", now);
  }

  insertPayoutRun(r: PayoutRunRow): number {
    return this.insert("payout_runs", r);
  }
  updatePayoutRun(id: number, patch: Partial<PayoutRunRow>): void {
    this.update("payout_runs", { id }, patch);
  }
  payoutRun(period: string): PayoutRunRow | undefined {
    return this.get("SELECT * FROM payout_runs WHERE period=?", period);
  }
  payoutRunById(id: number): PayoutRunRow | undefined {
    return this.get("SELECT * FROM payout_runs WHERE id=?", id);
  }
  payoutRuns(): PayoutRunRow[] {
    return this.all("SELECT id, period, at, count, controlSum, '' AS file FROM payout_runs ORDER BY id");
  }
  insertPayout(p: PayoutRow): number {
    return this.insert("payouts", p);
  }
  payouts(merchantId?: number, runId?: number): PayoutRow[] {
    if (runId !== undefined) return this.all("SELECT * FROM payouts WHERE runId=? ORDER BY id", runId);
    if (merchantId === undefined) return this.all("SELECT * FROM payouts ORDER BY id");
    return this.all("SELECT * FROM payouts WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertUpdate(u: UpdateRow): void {
    this.run("INSERT OR REPLACE INTO updates (version, size, sha256, sig, bundle, createdAt, board, keyId) VALUES (?,?,?,?,?,?,?,?)", u.version, u.size, u.sha256, u.sig, toDb(u.bundle), u.createdAt, u.board, u.keyId);
  }
  latestUpdate(): UpdateRow | undefined {
    return this.get("SELECT * FROM updates ORDER BY createdAt DESC, version DESC LIMIT 1");
  }
  getUpdate(version: string): UpdateRow | undefined {
    return this.get("SELECT * FROM updates WHERE version=?", version);
  }
}

export function openSqliteStore(path: string): SqliteStore {
  return new SqliteStore(path);
}
