/**
 * The GatewayStore's queries, shared by the SQLite and PostgreSQL stores: each store supplies its driver (all, get,
 * run, insert, transaction) and its few dialect-specific statements (claims of outbox rows, locks). Column names are
 * the rows' field names, so rows map one to one. Written in SQLite's dialect; the PostgreSQL store translates
 * placeholders and quotes the camelCase names (migrations.ts, pgQuote).
 */
import type {
  ActivityRow,
  AllowanceRow,
  MovementRow,
  OrderCallbackRow,
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
  UpdateInfo,
  UpdateRow,
  WalletRow,
  WebhookRow,
} from "./store.ts";
import { keepsRunningBalance } from "./books.ts";
import type { UploadNeeds, UploadReads } from "./upload-reads.ts";
import { loadUploadReads } from "./upload-reads.ts";

export type Row = Record<string, unknown>;

/** Column names come only from this file's callers' row fields (code), never from requests; checked anyway. */
export function col(k: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(k)) throw new Error("store: bad column " + k);
  return '"' + k + '"';
}

/** A row the transaction writes later, in one multi-row INSERT per table (set-wise ingest). */
interface Pending {
  table: string;
  row: Row;
  /** The statement's tail: ON CONFLICT ... DO NOTHING. */
  tail?: string;
  /** Its columns, comma-separated, when the writer knew them (before() groups rows by table, tail and columns). */
  cols?: string;
}

/** A statement and its arguments. */
export interface Query {
  sql: string;
  args: unknown[];
  bytes?: string[];
  /** The table an INSERT writes (its chunks keep their order). */
  table?: string;
  /** A multi-row INSERT's rows (a store may write them another way: PostgreSQL joins postings to their movements). */
  rows?: Row[];
  /** A multi-row INSERT's tail (ON CONFLICT ... DO NOTHING). */
  tail?: string;
  /** Its name as a part of a WITH (PostgreSQL's combined writes; another part reads what it returns). */
  cte?: string;
}

/** The running balances' upserts: an amount adds to the row (docs/gateway.md, "Ingest at the limit, fourth pass"). */
const ADD_BALANCE = "ON CONFLICT(account, currency) DO UPDATE SET balance = account_balances.balance + excluded.balance";
const ADD_SPENT = "ON CONFLICT(walletId, allowanceKey) DO UPDATE SET amountMinor = allowance_spent.amountMinor + excluded.amountMinor";

/** Most rows one multi-row INSERT carries; batches go in power-of-two sizes, so a table has few statement shapes. */
const MAX_ROWS = 64;

export abstract class SqlStore implements GatewayStore {
  abstract transaction<T>(fn: () => T): T;
  abstract close(): void;
  abstract readonly open: boolean;
  /** Takes a lock named `name` until the transaction ends; false when another process holds it (never waits). */
  abstract tryLock(name: string): boolean;
  /** Due queued SMS (at most `limit`), claimed: their nextAt moves to `until`, so no other process sends them meanwhile. */
  abstract claimSms(now: number, until: number, limit: number): SmsRow[];
  /** Due pending webhooks, claimed as claimSms does. */
  abstract claimWebhooks(now: number, until: number, limit: number): WebhookRow[];

  protected abstract all<T>(sql: string, ...args: unknown[]): T[];
  protected abstract get<T>(sql: string, ...args: unknown[]): T | undefined;
  /** Runs a statement; the number of rows it changed. */
  protected abstract run(sql: string, ...args: unknown[]): number;
  /** Inserts a row; its id when `wantId` (a table with an id column). */
  protected abstract insert(table: string, row: object, wantId?: boolean): number;
  /** A statement whose answer nobody reads (a store may send it with the next one that is read). */
  protected exec(sql: string, ...args: unknown[]): void {
    this.run(sql, ...args);
  }
  /**
   * Reads sent together (one statement where the store has round trips); their answers in order, rows in no
   * promised order. `bytes`: the query's BLOB columns (a store that carries rows as text turns them back to bytes).
   */
  protected allMany(qs: Query[]): Row[][] {
    return qs.map((q) => this.all<Row>(q.sql, ...q.args));
  }
  /** Writes whose answers nobody reads, in order; `then` after `first` (they may read what `first` wrote). */
  protected execMany(first: Query[], then: Query[]): void {
    for (const q of [...first, ...then]) this.exec(q.sql, ...q.args);
  }

  // ------------------------------------------------------------ set-wise ingest (gateway/upload-reads.ts)

  /** What the running transaction loaded for an upload; null outside one, or once a write it cannot follow ran. */
  private reads: UploadReads | null = null;
  /** Rows written later, in multi-row INSERTs: before the next statement, at the latest before COMMIT. */
  private later: Pending[] = [];
  private inUnit = false;
  private writing = false;
  /** Running balances' and allowances' sums still to add (key -> row), written with the next statement (running). */
  private balanceDeltas = new Map<string, Pending>();
  private keep = false;

  /**
   * Each transaction's body runs through this (the stores' transaction()): what it wrote later goes to the database
   * before COMMIT; what it loaded ends with it (and with a run rolled back and run again).
   */
  protected unit<T>(fn: () => T): T {
    this.reads = null;
    this.later = [];
    this.balanceDeltas.clear();
    this.inUnit = true;
    try {
      const out = fn();
      this.before(false);
      return out;
    } finally {
      this.inUnit = false;
      this.reads = null;
      this.later = [];
      this.balanceDeltas.clear();
    }
  }

  /**
   * Every statement the store sends goes through here first: rows written later go before it, in order; a write
   * (`write`) that the loaded set does not follow ends the set (what it holds could be stale after).
   */
  protected before(write: boolean): void {
    if (this.writing) return;
    if (write && !this.keep) this.reads = null;
    if (this.balanceDeltas.size) {
      // one row per key, in key order (two transactions lock the rows they share in the same order)
      const keys = [...this.balanceDeltas.keys()].sort();
      for (const k of keys) this.later.push(this.balanceDeltas.get(k) as Pending);
      this.balanceDeltas.clear();
    }
    if (!this.later.length) return;
    const rows = this.later;
    this.later = [];
    this.writing = true;
    try {
      const tables: string[] = [];
      const by = new Map<string, Pending[]>();
      for (const p of rows) {
        const k = p.table + "\n" + (p.tail ?? "") + "\n" + (p.cols ?? Object.keys(p.row).join(","));
        let l = by.get(k);
        if (!l) {
          by.set(k, (l = []));
          tables.push(k);
        }
        l.push(p);
      }
      const first: Query[] = [];
      const then: Query[] = [];
      for (const k of tables) {
        const l = by.get(k) as Pending[];
        for (let i = 0; i < l.length; ) {
          let n = 1;
          while (n * 2 <= Math.min(l.length - i, MAX_ROWS)) n *= 2;
          // postings find their movement's id by its key: after the movements
          (l[0].table === "postings" ? then : first).push(this.insertRows(l.slice(i, i + n)));
          i += n;
        }
      }
      this.execMany(first, then);
    } finally {
      this.writing = false;
    }
  }

  /** One multi-row INSERT (rows of one table with the same columns). */
  private insertRows(rows: Pending[]): Query {
    const { table, tail } = rows[0];
    const keys = Object.keys(rows[0].row);
    if (this.rowsOnly(table, keys)) return { sql: "", args: [], table, rows: rows.map((p) => p.row), tail };
    const args: unknown[] = [];
    // a posting names its movement by key: the movement went in just before, in the same transaction
    const cell = (k: string) => (table === "postings" && k === "movementKey" ? "(SELECT id FROM movements WHERE key=?)" : "?");
    const one = "(" + keys.map(cell).join(",") + ")";
    for (const p of rows) for (const k of keys) args.push(p.row[k]);
    const cols = keys.map((k) => (table === "postings" && k === "movementKey" ? col("movementId") : col(k)));
    return { sql: "INSERT INTO " + table + " (" + cols.join(",") + ") VALUES " + rows.map(() => one).join(",") + (tail ? " " + tail : ""), args, table, rows: rows.map((p) => p.row), tail };
  }

  /**
   * True when execMany writes this table's rows (with these columns) from `rows` alone, so insertRows leaves the
   * multi-row INSERT's text and arguments unmade (PostgreSQL's writes from JSON rows; SQLite runs the text).
   */
  protected rowsOnly(_table: string, _keys: string[]): boolean {
    return false;
  }

  /** A row to write later (with the loaded set only: without one a row goes at once, as before). */
  private writeLater(table: string, row: object, tail?: string): void {
    const r: Row = {};
    let cols = "";
    for (const k in row) {
      const v = (row as Row)[k];
      if (v === undefined || !Object.prototype.hasOwnProperty.call(row, k)) continue;
      r[k] = v;
      cols = cols ? cols + "," + k : k;
    }
    this.later.push({ table, row: r, tail, cols });
  }

  /**
   * The running balances (docs/gateway.md, "Ingest at the limit, fourth pass"): every write of postings or spends,
   * whatever the path (a movement, an upload's later rows, a spend, a copy of another database's rows), goes through
   * here, so the row of each wallet account (keepsRunningBalance) and the sum spent under each allowance stay what
   * their postings and spends add up to, in the same transaction. The amounts are summed per row and written as one
   * upsert per table before the next statement (with an upload's rows, at the latest before COMMIT); outside a loaded
   * set, at once. A test recomputes them (runningBalanceErrors).
   */
  protected running(postings: readonly { account: string; currency: number; debit: number; credit: number }[], spends: readonly { walletId: string; allowanceKey: string; amountMinor: number }[]): void {
    const add = (k: string, table: string, row: Row, field: string, amount: number, tail: string) => {
      const p = this.balanceDeltas.get(k);
      if (p) (p.row as Row)[field] = (p.row[field] as number) + amount;
      else this.balanceDeltas.set(k, { table, row: { ...row, [field]: amount }, tail });
    };
    for (const p of postings) {
      if (keepsRunningBalance(p.account)) add("b\n" + p.account + "\n" + p.currency, "account_balances", { account: p.account, currency: p.currency }, "balance", p.credit - p.debit, ADD_BALANCE);
    }
    for (const x of spends) add("s\n" + x.walletId + "\n" + x.allowanceKey, "allowance_spent", { walletId: x.walletId, allowanceKey: x.allowanceKey }, "amountMinor", x.amountMinor, ADD_SPENT);
    if (!this.reads) this.before(false);
  }

  /**
   * The running balances and allowances' sums that differ from their postings and spends (must be none): each as
   * "what: kept K, sum S". The books' own checks (trialBalance, unbalancedMovements) read only the postings.
   */
  runningBalanceErrors(): string[] {
    const out: string[] = [];
    const cmp = (what: string, kept: Map<string, number>, sums: Map<string, number>) => {
      for (const k of new Set([...kept.keys(), ...sums.keys()])) {
        const a = kept.get(k);
        const b = sums.get(k) ?? 0;
        if (a !== b) out.push(what + " " + k.replace("\n", " ") + ": kept " + (a === undefined ? "no row" : a) + ", sum " + b);
      }
    };
    const map = (rows: Row[], a: string, b: string, v: string) => new Map(rows.map((r) => [r[a] + "\n" + r[b], Number(r[v])]));
    cmp(
      "balance",
      map(this.all<Row>("SELECT account, currency, balance FROM account_balances"), "account", "currency", "balance"),
      map(this.all<Row>("SELECT account, currency, SUM(credit - debit) AS b FROM postings WHERE account >= 'wallet:' AND account < 'wallet;' GROUP BY account, currency"), "account", "currency", "b"),
    );
    cmp(
      "spent",
      map(this.all<Row>("SELECT walletId, allowanceKey, amountMinor FROM allowance_spent"), "walletId", "allowanceKey", "amountMinor"),
      map(this.all<Row>("SELECT walletId, allowanceKey, SUM(amountMinor) AS s FROM spends GROUP BY walletId, allowanceKey"), "walletId", "allowanceKey", "s"),
    );
    return out.sort();
  }

  /** A write the loaded set follows itself: it does not end the set. */
  private keeping<T>(f: () => T): T {
    this.keep = true;
    try {
      return f();
    } finally {
      this.keep = false;
    }
  }

  /**
   * Loads, in one query per table (two round trips at most), what the running transaction's upload will read
   * (gateway/link.ts says what): until the transaction ends the store answers those questions from memory and
   * writes the upload's rows in multi-row INSERTs. Outside a transaction it does nothing.
   */
  loadUpload(n: UploadNeeds): void {
    if (!this.inUnit) return;
    this.before(false);
    this.reads = loadUploadReads(n, (qs) => this.allMany(qs));
  }

  /**
   * loadUpload, with the terminal's row read in the same round (one round trip fewer an upload): the row, or
   * undefined when there is no such terminal. Outside a transaction: the row alone.
   */
  terminalAndUpload(terminalId: number, n: UploadNeeds): TerminalRow | undefined {
    if (!this.inUnit) return this.getTerminal(terminalId);
    this.before(false);
    let t: TerminalRow | undefined;
    let first = true;
    this.reads = loadUploadReads(n, (qs) => {
      if (!first) return this.allMany(qs);
      first = false;
      const rows = this.allMany([...qs, { sql: "SELECT * FROM terminals WHERE id=?", args: [terminalId], bytes: ["pub", "cert"] }]);
      t = (rows.pop() as Row[])[0] as unknown as TerminalRow | undefined;
      return rows;
    });
    return t;
  }
  uploadLoaded(): boolean {
    return this.reads !== null;
  }
  dropUpload(): void {
    this.reads = null;
  }

  /** A read of the operator's own (counts, checks; tests): runs in the current transaction, if any. */
  select<T>(sql: string, ...args: unknown[]): T[] {
    return this.all<T>(sql, ...args);
  }

  protected update(table: string, where: Record<string, unknown>, patch: object): void {
    const keys = Object.keys(patch).filter((k) => (patch as Row)[k] !== undefined);
    if (!keys.length) return;
    const wk = Object.keys(where);
    const sql = "UPDATE " + table + " SET " + keys.map((k) => col(k) + "=?").join(",") + " WHERE " + wk.map((k) => col(k) + "=?").join(" AND ");
    this.exec(sql, ...keys.map((k) => (patch as Row)[k]), ...wk.map((k) => where[k]));
  }

  getMeta(key: string): string | undefined {
    const r = this.get<{ value: string }>("SELECT value FROM meta WHERE key=?", key);
    return r ? r.value : undefined;
  }
  setMeta(key: string, value: string): void {
    // meta is not in an upload's loaded set: the set stays (a deny list's new version during an upload)
    this.keeping(() => this.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", key, value));
  }

  insertMerchant(m: Omit<MerchantRow, "id"> & { id?: number }): number {
    return this.insert("merchants", m, true);
  }
  listMerchants(): MerchantRow[] {
    return this.all("SELECT * FROM merchants ORDER BY id");
  }
  getMerchant(id: number): MerchantRow | undefined {
    const c = this.reads?.getMerchant(id);
    if (c !== undefined) return c ?? undefined;
    return this.get("SELECT * FROM merchants WHERE id=?", id);
  }
  merchantByPrevKeyHash(h: string): MerchantRow | undefined {
    return h ? this.get("SELECT * FROM merchants WHERE prevKeyHash=?", h) : undefined;
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
    return this.get("SELECT * FROM terminals WHERE pub=?", (pub));
  }
  updateTerminal(merchantId: number, id: number, patch: Partial<Omit<TerminalRow, "id" | "merchantId">>): void {
    // terminals are not in an upload's loaded set: the set stays (the link's seq, written after the set is loaded)
    this.keeping(() => this.update("terminals", { merchantId, id }, patch));
  }
  listTerminals(merchantId: number): TerminalRow[] {
    return this.all("SELECT * FROM terminals WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertWallet(w: WalletRow): void {
    this.insert("wallets", w);
  }
  getWallet(id: string): WalletRow | undefined {
    const c = this.reads?.getWallet(id);
    if (c !== undefined) return c ?? undefined;
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
    if (!this.reads) return void this.insert("records", r);
    this.reads.wroteRecord(r);
    this.writeLater("records", r);
  }
  recordsAt(merchantId: number, terminalId: number, seq: number): RecordRow[] {
    const c = this.reads?.getRecordsAt(merchantId, terminalId, seq);
    if (c) return c;
    return this.all("SELECT * FROM records WHERE merchantId=? AND terminalId=? AND seq=? ORDER BY id", merchantId, terminalId, seq);
  }
  recordOfTx(merchantId: number, terminalId: number, txId: string): RecordRow | undefined {
    const c = this.reads?.getRecordOfTx(merchantId, terminalId, txId);
    if (c !== undefined) return c ?? undefined;
    return this.get("SELECT * FROM records WHERE merchantId=? AND terminalId=? AND txId=? AND status='entered' ORDER BY id LIMIT 1", merchantId, terminalId, txId);
  }
  maxRecordSeq(merchantId: number, terminalId: number): number {
    const c = this.reads?.getMaxSeq(merchantId, terminalId);
    if (c !== undefined) return c;
    const r = this.get<{ m: number | null }>("SELECT MAX(seq) AS m FROM records WHERE merchantId=? AND terminalId=?", merchantId, terminalId);
    return r && r.m !== null ? r.m : 0;
  }
  records(merchantId: number, terminalId?: number): RecordRow[] {
    if (terminalId === undefined) return this.all("SELECT * FROM records WHERE merchantId=? ORDER BY id", merchantId);
    return this.all("SELECT * FROM records WHERE merchantId=? AND terminalId=? ORDER BY id", merchantId, terminalId);
  }

  insertLedger(l: LedgerRow): void {
    if (!this.reads) return void this.insert("ledger", l);
    this.reads.wroteLedger(l);
    this.writeLater("ledger", l);
  }
  ledgerByRef(merchantId: number, ref: string): LedgerRow | undefined {
    const c = this.reads?.getLedgerByRef(ref);
    if (c !== undefined) return c && c.merchantId === merchantId ? c : undefined;
    return this.get("SELECT * FROM ledger WHERE merchantId=? AND ref=?", merchantId, ref);
  }
  // "txId<>''" lets SQLite use the partial unique index ledger_tx (it cannot prove it for a bound parameter)
  ledgerByTx(merchantId: number, txId: string): LedgerRow | undefined {
    const c = this.reads?.getLedgerByTx(txId);
    if (c !== undefined) return c && c.merchantId === merchantId ? c : undefined;
    return this.get("SELECT * FROM ledger WHERE merchantId=? AND txId=? AND txId<>''", merchantId, txId);
  }
  txIdTaken(txId: string): boolean {
    const c = this.reads?.getLedgerByTx(txId);
    if (c !== undefined) return !!c;
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
  ledgerOfOrder(merchantId: number, orderRef: string): LedgerRow[] {
    return this.all("SELECT * FROM ledger WHERE merchantId=? AND orderRef=? AND kind<>'refund' ORDER BY createdAt, ref", merchantId, orderRef);
  }
  orderCallback(merchantId: number, orderRef: string): OrderCallbackRow | undefined {
    const c = this.reads?.getOrderCallback(merchantId, orderRef);
    if (c !== undefined) return c ?? undefined;
    return this.get("SELECT * FROM order_callbacks WHERE merchantId=? AND orderRef=?", merchantId, orderRef);
  }
  insertOrderCallback(o: OrderCallbackRow): void {
    this.keeping(() => this.insert("order_callbacks", o));
    this.reads?.wroteOrderCallback(o.merchantId, o.orderRef, {}, o);
  }
  updateOrderCallback(merchantId: number, orderRef: string, patch: Partial<Pick<OrderCallbackRow, "firedAt">>): void {
    this.keeping(() => this.update("order_callbacks", { merchantId, orderRef }, patch));
    this.reads?.wroteOrderCallback(merchantId, orderRef, patch);
  }

  insertSpend(s: SpendRow): void {
    if (!this.reads) this.insert("spends", s);
    else {
      this.reads.wroteSpend(s);
      this.writeLater("spends", s);
    }
    this.running([], [s]);
  }
  spendsAt(walletId: string, counter: number): SpendRow[] {
    const c = this.reads?.getSpendsAt(walletId, counter);
    if (c) return c;
    return this.all("SELECT * FROM spends WHERE walletId=? AND counter=?", walletId, counter);
  }
  spentUnder(walletId: string, allowanceKey: string): number {
    const c = this.reads?.getSpentUnder(walletId, allowanceKey);
    if (c !== undefined) return c;
    const r = this.get<{ s: number }>("SELECT amountMinor AS s FROM allowance_spent WHERE walletId=? AND allowanceKey=?", walletId, allowanceKey);
    return r ? Number(r.s) : 0;
  }

  upsertReport(r: ReportRow): void {
    this.exec(
      "INSERT INTO reports (walletId, counter, terminalId, amountMinor, reportedAt) VALUES (?,?,?,?,?) ON CONFLICT(walletId, counter) DO NOTHING",
      r.walletId,
      r.counter,
      r.terminalId,
      r.amountMinor,
      r.reportedAt,
    );
  }
  reportAt(walletId: string, counter: number): ReportRow | undefined {
    const c = this.reads?.getReportAt(walletId, counter);
    if (c !== undefined) return c ?? undefined;
    return this.get("SELECT * FROM reports WHERE walletId=? AND counter=?", walletId, counter);
  }

  reportsOf(walletId: string): ReportRow[] {
    return this.all("SELECT * FROM reports WHERE walletId=? ORDER BY counter", walletId);
  }

  chainHash(merchantId: number, terminalId: number, seq: number): string | undefined {
    const c = this.reads?.getChain(merchantId, terminalId, seq);
    if (c !== undefined) return c ?? undefined;
    const r = this.get<{ hash: string }>("SELECT hash FROM chain WHERE merchantId=? AND terminalId=? AND seq=?", merchantId, terminalId, seq);
    return r ? r.hash : undefined;
  }
  putChainHash(merchantId: number, terminalId: number, seq: number, hash: string): void {
    if (this.reads) {
      // not known here: written all the same (the database keeps the first), and the set does not claim to know
      if (this.reads.wroteChain(merchantId, terminalId, seq, hash) !== false) this.writeLater("chain", { merchantId, terminalId, seq, hash }, "ON CONFLICT(terminalId, seq) DO NOTHING");
      return;
    }
    this.exec("INSERT INTO chain (merchantId, terminalId, seq, hash) VALUES (?,?,?,?) ON CONFLICT(terminalId, seq) DO NOTHING", merchantId, terminalId, seq, hash);
  }

  insertFlag(f: FlagRow): void {
    if (this.reads) this.writeLater("flags", f);
    else this.insert("flags", f);
  }
  flags(merchantId?: number): FlagRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM flags ORDER BY id");
    return this.all("SELECT * FROM flags WHERE merchantId=? ORDER BY id", merchantId);
  }

  denyAdd(walletId: string, reason: string, at: number): boolean {
    const c = this.reads?.wroteDeny(walletId);
    if (c !== undefined) {
      if (c) this.writeLater("deny", { walletId, reason, at }, "ON CONFLICT(walletId) DO NOTHING");
      return c;
    }
    if (this.reads) return this.keeping(() => this.run("INSERT INTO deny (walletId, reason, at) VALUES (?,?,?) ON CONFLICT(walletId) DO NOTHING", walletId, reason, at) > 0);
    return this.run("INSERT INTO deny (walletId, reason, at) VALUES (?,?,?) ON CONFLICT(walletId) DO NOTHING", walletId, reason, at) > 0;
  }
  denyList(): string[] {
    return this.all<{ walletId: string }>("SELECT walletId FROM deny ORDER BY walletId").map((r) => r.walletId);
  }
  isDenied(walletId: string): boolean {
    const c = this.reads?.denied.get(walletId);
    if (c !== undefined) return c;
    return !!this.get("SELECT 1 AS x FROM deny WHERE walletId=?", walletId);
  }

  insertActivity(a: ActivityRow): void {
    if (this.reads) this.writeLater("activity", a);
    else this.insert("activity", a);
  }
  activity(merchantId?: number, limit = 1000): ActivityRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM (SELECT * FROM activity ORDER BY id DESC LIMIT ?) AS a ORDER BY id", limit);
    return this.all("SELECT * FROM (SELECT * FROM activity WHERE merchantId=? ORDER BY id DESC LIMIT ?) AS a ORDER BY id", merchantId, limit);
  }

  insertConnection(c: ConnectionRow): number {
    return this.insert("connections", c, true);
  }
  touchConnection(id: number, terminalId: number, merchantId: number): void {
    // nor are connections
    this.keeping(() => this.exec("UPDATE connections SET terminalId=?, merchantId=?, requests=requests+1 WHERE id=?", terminalId, merchantId, id));
  }
  closeConnection(id: number, at: number): void {
    this.exec("UPDATE connections SET disconnectedAt=? WHERE id=? AND disconnectedAt=0", at, id);
  }
  connections(merchantId?: number): ConnectionRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM connections ORDER BY id");
    return this.all("SELECT * FROM connections WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertSms(s: SmsRow): void {
    if (this.reads) this.writeLater("sms", s);
    else this.insert("sms", s);
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
    if (this.reads) this.writeLater("webhooks", w);
    else this.insert("webhooks", w);
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
    if (this.reads) {
      // written later: its postings find its id by its (unique) key; no id to return yet
      this.reads.wroteMovement(m, postings);
      this.writeLater("movements", m);
      for (const p of postings) this.writeLater("postings", { movementKey: m.key, account: p.account, currency: p.currency, debit: p.debit, credit: p.credit });
      this.running(postings, []);
      return 0;
    }
    const id = this.insert("movements", m, true);
    for (const p of postings) this.insert("postings", { ...p, movementId: id });
    this.running(postings, []);
    return id;
  }
  movementByKey(key: string): MovementRow | undefined {
    const c = this.reads?.getMovement(key);
    if (c !== undefined) return c ?? undefined;
    return this.get("SELECT * FROM movements WHERE key=?", key);
  }
  balance(account: string, currency?: number, before?: number): number {
    const c = this.reads?.getBalance(account, currency, before);
    if (c !== undefined) return c;
    const like = account.endsWith(":");
    if (before === undefined && keepsRunningBalance(account)) {
      // the running balance: one row (a prefix: one row per account under it)
      const w = (like ? "account >= ? AND account < ?" : "account = ?") + (currency === undefined ? "" : " AND currency = ?");
      const a: unknown[] = like ? [account, account.slice(0, -1) + ";"] : [account];
      if (currency !== undefined) a.push(currency);
      const r = this.get<{ b: number | null }>("SELECT SUM(balance) AS b FROM account_balances WHERE " + w, ...a);
      return r && r.b !== null ? Number(r.b) : 0;
    }
    const where = (like ? "p.account >= ? AND p.account < ?" : "p.account = ?") + (currency === undefined ? "" : " AND p.currency = ?") + (before === undefined ? "" : " AND m.at < ?");
    const args: unknown[] = like ? [account, account.slice(0, -1) + ";"] : [account];
    if (currency !== undefined) args.push(currency);
    if (before !== undefined) args.push(before);
    const join = before === undefined ? "" : " JOIN movements m ON m.id = p.movementId";
    const r = this.get<{ b: number | null }>("SELECT SUM(p.credit - p.debit) AS b FROM postings p" + join + " WHERE " + where, ...args);
    return r && r.b !== null ? r.b : 0;
  }
  balances(prefix: string): { account: string; currency: number; balance: number }[] {
    if (keepsRunningBalance(prefix)) return this.all("SELECT account, currency, balance FROM account_balances WHERE account >= ? AND account < ? ORDER BY account, currency", prefix, prefix + "\uffff");
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
    const c = this.reads?.allowances.get(walletId);
    if (c) return c.map((a) => ({ ...a }));
    return this.all("SELECT * FROM allowances WHERE walletId=? ORDER BY n", walletId);
  }
  allowanceByKey(walletId: string, key: string): AllowanceRow | undefined {
    const c = this.reads?.getAllowanceByKey(walletId, key);
    if (c !== undefined) return c ?? undefined;
    return this.get("SELECT * FROM allowances WHERE walletId=? AND key=? ORDER BY n DESC LIMIT 1", walletId, key);
  }
  updateAllowance(walletId: string, n: number, patch: Partial<AllowanceRow>): void {
    this.update("allowances", { walletId, n }, patch);
  }
  allowancesToRelease(now: number): AllowanceRow[] {
    return this.all("SELECT * FROM allowances WHERE status<>'released' AND releaseAt<=? ORDER BY releaseAt, walletId, n", now);
  }

  insertPayoutRun(r: PayoutRunRow): number {
    return this.insert("payout_runs", r, true);
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
    return this.insert("payouts", p, true);
  }
  payouts(merchantId?: number, runId?: number): PayoutRow[] {
    if (runId !== undefined) return this.all("SELECT * FROM payouts WHERE runId=? ORDER BY id", runId);
    if (merchantId === undefined) return this.all("SELECT * FROM payouts ORDER BY id");
    return this.all("SELECT * FROM payouts WHERE merchantId=? ORDER BY id", merchantId);
  }

  insertUpdate(u: UpdateRow): void {
    this.exec(
      "INSERT INTO updates (version, size, sha256, sig, bundle, createdAt, board, keyId) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(version) DO UPDATE SET size=excluded.size, sha256=excluded.sha256, sig=excluded.sig, bundle=excluded.bundle, createdAt=excluded.createdAt, board=excluded.board, keyId=excluded.keyId",
      u.version, u.size, u.sha256, u.sig, u.bundle, u.createdAt, u.board, u.keyId,
    );
  }
  latestUpdate(): UpdateInfo | undefined {
    return this.get("SELECT version, size, sha256, sig, createdAt, board, keyId FROM updates ORDER BY createdAt DESC, version DESC LIMIT 1");
  }
  updateChunk(version: string, offset: number, length: number): Uint8Array | undefined {
    // the chunk alone leaves the database, not the whole bundle for each 4 KB a terminal asks for (substr counts from 1)
    const r = this.get<{ data: Uint8Array }>("SELECT substr(bundle, CAST(? AS INTEGER), CAST(? AS INTEGER)) AS data FROM updates WHERE version=?", offset + 1, length, version);
    return r ? r.data : undefined;
  }
}
