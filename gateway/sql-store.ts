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
  UpdateRow,
  WalletRow,
  WebhookRow,
} from "./store.ts";


export type Row = Record<string, unknown>;

/** Column names come only from this file's callers' row fields (code), never from requests; checked anyway. */
export function col(k: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(k)) throw new Error("store: bad column " + k);
  return '"' + k + '"';
}

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
    this.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", key, value);
  }

  insertMerchant(m: Omit<MerchantRow, "id"> & { id?: number }): number {
    return this.insert("merchants", m, true);
  }
  listMerchants(): MerchantRow[] {
    return this.all("SELECT * FROM merchants ORDER BY id");
  }
  getMerchant(id: number): MerchantRow | undefined {
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
  ledgerOfOrder(merchantId: number, orderRef: string): LedgerRow[] {
    return this.all("SELECT * FROM ledger WHERE merchantId=? AND orderRef=? AND kind<>'refund' ORDER BY createdAt, ref", merchantId, orderRef);
  }
  orderCallback(merchantId: number, orderRef: string): OrderCallbackRow | undefined {
    return this.get("SELECT * FROM order_callbacks WHERE merchantId=? AND orderRef=?", merchantId, orderRef);
  }
  insertOrderCallback(o: OrderCallbackRow): void {
    this.insert("order_callbacks", o);
  }
  updateOrderCallback(merchantId: number, orderRef: string, patch: Partial<Pick<OrderCallbackRow, "firedAt">>): void {
    this.update("order_callbacks", { merchantId, orderRef }, patch);
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
    this.exec("INSERT INTO chain (merchantId, terminalId, seq, hash) VALUES (?,?,?,?) ON CONFLICT(terminalId, seq) DO NOTHING", merchantId, terminalId, seq, hash);
  }

  insertFlag(f: FlagRow): void {
    this.insert("flags", f);
  }
  flags(merchantId?: number): FlagRow[] {
    if (merchantId === undefined) return this.all("SELECT * FROM flags ORDER BY id");
    return this.all("SELECT * FROM flags WHERE merchantId=? ORDER BY id", merchantId);
  }

  denyAdd(walletId: string, reason: string, at: number): boolean {
    return this.run("INSERT INTO deny (walletId, reason, at) VALUES (?,?,?) ON CONFLICT(walletId) DO NOTHING", walletId, reason, at) > 0;
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
    if (merchantId === undefined) return this.all("SELECT * FROM (SELECT * FROM activity ORDER BY id DESC LIMIT ?) AS a ORDER BY id", limit);
    return this.all("SELECT * FROM (SELECT * FROM activity WHERE merchantId=? ORDER BY id DESC LIMIT ?) AS a ORDER BY id", merchantId, limit);
  }

  insertConnection(c: ConnectionRow): number {
    return this.insert("connections", c, true);
  }
  touchConnection(id: number, terminalId: number, merchantId: number): void {
    this.exec("UPDATE connections SET terminalId=?, merchantId=?, requests=requests+1 WHERE id=?", terminalId, merchantId, id);
  }
  closeConnection(id: number, at: number): void {
    this.exec("UPDATE connections SET disconnectedAt=? WHERE id=? AND disconnectedAt=0", at, id);
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
    const id = this.insert("movements", m, true);
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
  latestUpdate(): UpdateRow | undefined {
    return this.get("SELECT * FROM updates ORDER BY createdAt DESC, version DESC LIMIT 1");
  }
  getUpdate(version: string): UpdateRow | undefined {
    return this.get("SELECT * FROM updates WHERE version=?", version);
  }
}
