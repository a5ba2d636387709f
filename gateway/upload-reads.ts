/**
 * Set-wise ingest (docs/gateway.md, ingest at the limit): what one upload's transaction reads, loaded up front in
 * one query per table (SqlStore.loadUpload, IN lists), then answered from memory and kept exact by the writes the
 * same transaction makes through the store. The per-record checks (gateway/link.ts, reconcile.ts) run unchanged on
 * top: they ask the store as before, and a question this set holds costs no query.
 *
 * The rule that keeps it exact: every entry of a map is "covered", i.e. it holds what the database would answer
 * for that key, given the rows the transaction wrote so far. Keys not in a map are not covered: the store asks the
 * database (after writing what it holds back). A write the store does not apply here drops the whole set.
 */
import { keepsRunningBalance, walletPurse } from "./books.ts";
import type { Query, Row } from "./sql-store.ts";
import type { AllowanceRow, LedgerRow, MerchantRow, MovementRow, OrderCallbackRow, PostingRow, RecordRow, ReportRow, SpendRow, WalletRow } from "./store.ts";

/** What a batch of records will ask of the store: the gateway says, the store loads (gateway/link.ts, upload). */
export interface UploadNeeds {
  merchantId: number;
  terminalId: number;
  /** The records' seqs (recordsAt; seq 0, the payer's evidence, is loaded too). */
  seqs: number[];
  /** Seqs whose chain hash the batch may read or learn (seq - 1 of each record). */
  chainSeqs: number[];
  /** The entries' txIds, and the originals' txIds of refunds. */
  txIds: string[];
  /** Wallets paying in the batch, their counters and allowance keys ("<expiryDay>:<startCounter>"). */
  wallets: string[];
  counters: number[];
  allowanceKeys: string[];
  /** Balances the batch reads (wallets' available accounts; the store adds the purses of the allowances). */
  accounts: string[];
  /** Movement keys the batch may post (a key posted twice is refused: the books look each up first). */
  movementKeys: string[];
  orderRefs: string[];
}

const k2 = (a: unknown, b: unknown) => a + "|" + b;
const k3 = (a: unknown, b: unknown, c: unknown) => a + "|" + b + "|" + c;
const copy = <T>(r: T): T => ({ ...r });

export class UploadReads {
  /** mid|tid|seq -> the records at that seq, in id order. */
  readonly recordsAt = new Map<string, RecordRow[]>();
  /** mid|tid|txId -> the first entered record holding it. */
  readonly recordOfTx = new Map<string, RecordRow | null>();
  /** mid|tid -> the largest seq uploaded. */
  readonly maxSeq = new Map<string, number>();
  /** txId -> the ledger row holding it (any merchant). */
  readonly ledgerByTx = new Map<string, LedgerRow | null>();
  /** ref -> the ledger row. */
  readonly ledgerByRef = new Map<string, LedgerRow | null>();
  /** tid|seq -> the chain hash known (and the merchant it was learnt under). */
  readonly chain = new Map<string, { merchantId: number; hash: string } | null>();
  /** walletId|counter -> spends. */
  readonly spendsAt = new Map<string, SpendRow[]>();
  /** walletId|allowanceKey -> the sum spent under it. */
  readonly spentUnder = new Map<string, number>();
  /** walletId -> its allowances in n order. */
  readonly allowances = new Map<string, AllowanceRow[]>();
  readonly reportAt = new Map<string, ReportRow | null>();
  readonly denied = new Map<string, boolean>();
  readonly wallets = new Map<string, WalletRow | null>();
  readonly merchants = new Map<number, MerchantRow | null>();
  readonly movements = new Map<string, MovementRow | null>();
  readonly orderCallbacks = new Map<string, OrderCallbackRow | null>();
  /** account -> currency -> credits - debits. */
  readonly balances = new Map<string, Map<number, number>>();

  /** The answer when covered; `undefined` = ask the database. (Rows are copies: a caller may change its own.) */
  getRecordsAt(mid: number, tid: number, seq: number): RecordRow[] | undefined {
    const v = this.recordsAt.get(k3(mid, tid, seq));
    return v && v.map(copy);
  }
  getRecordOfTx(mid: number, tid: number, txId: string): RecordRow | null | undefined {
    const v = this.recordOfTx.get(k3(mid, tid, txId));
    return v ? copy(v) : v;
  }
  getMaxSeq(mid: number, tid: number): number | undefined {
    return this.maxSeq.get(k2(mid, tid));
  }
  /** Covered: the row (or null) holding txId at any merchant. */
  getLedgerByTx(txId: string): LedgerRow | null | undefined {
    if (!txId) return undefined;
    const v = this.ledgerByTx.get(txId);
    return v ? copy(v) : v;
  }
  getLedgerByRef(ref: string): LedgerRow | null | undefined {
    const v = this.ledgerByRef.get(ref);
    return v ? copy(v) : v;
  }
  getChain(mid: number, tid: number, seq: number): string | null | undefined {
    const v = this.chain.get(k2(tid, seq));
    if (v === undefined) return undefined;
    return v && v.merchantId === mid ? v.hash : null;
  }
  getSpendsAt(walletId: string, counter: number): SpendRow[] | undefined {
    const v = this.spendsAt.get(k2(walletId, counter));
    return v && v.map(copy);
  }
  getSpentUnder(walletId: string, key: string): number | undefined {
    return this.spentUnder.get(k2(walletId, key));
  }
  getAllowanceByKey(walletId: string, key: string): AllowanceRow | null | undefined {
    const v = this.allowances.get(walletId);
    if (!v) return undefined;
    let best: AllowanceRow | null = null;
    for (const a of v) if (a.key === key && (!best || a.n > best.n)) best = a;
    return best ? copy(best) : null;
  }
  getReportAt(walletId: string, counter: number): ReportRow | null | undefined {
    const v = this.reportAt.get(k2(walletId, counter));
    return v ? copy(v) : v;
  }
  getWallet(id: string): WalletRow | null | undefined {
    const v = this.wallets.get(id);
    return v ? copy(v) : v;
  }
  getMerchant(id: number): MerchantRow | null | undefined {
    const v = this.merchants.get(id);
    return v ? copy(v) : v;
  }
  getMovement(key: string): MovementRow | null | undefined {
    const v = this.movements.get(key);
    return v ? copy(v) : v;
  }
  getOrderCallback(mid: number, orderRef: string): OrderCallbackRow | null | undefined {
    const v = this.orderCallbacks.get(k2(mid, orderRef));
    return v ? copy(v) : v;
  }
  getBalance(account: string, currency?: number, before?: number): number | undefined {
    if (currency === undefined || before !== undefined) return undefined;
    const v = this.balances.get(account);
    return v ? (v.get(currency) ?? 0) : undefined;
  }

  // ------------------------------------------------------------ the transaction's own writes

  wroteRecord(r: RecordRow): void {
    const at = this.recordsAt.get(k3(r.merchantId, r.terminalId, r.seq));
    if (at) at.push(copy(r));
    const kt = k3(r.merchantId, r.terminalId, r.txId);
    if (r.status === "entered" && this.recordOfTx.get(kt) === null) this.recordOfTx.set(kt, copy(r));
    const km = k2(r.merchantId, r.terminalId);
    const m = this.maxSeq.get(km);
    if (m !== undefined && r.seq > m) this.maxSeq.set(km, r.seq);
  }
  wroteLedger(l: LedgerRow): void {
    if (l.txId && this.ledgerByTx.has(l.txId)) this.ledgerByTx.set(l.txId, copy(l));
    if (this.ledgerByRef.has(l.ref)) this.ledgerByRef.set(l.ref, copy(l));
  }
  /** True when the insert would add the row (the key is free); undefined when not covered. */
  wroteChain(mid: number, tid: number, seq: number, hash: string): boolean | undefined {
    const k = k2(tid, seq);
    const v = this.chain.get(k);
    if (v === undefined) return undefined;
    if (v) return false;
    this.chain.set(k, { merchantId: mid, hash });
    return true;
  }
  wroteSpend(s: SpendRow): void {
    const at = this.spendsAt.get(k2(s.walletId, s.counter));
    if (at) at.push(copy(s));
    const ku = k2(s.walletId, s.allowanceKey);
    const u = this.spentUnder.get(ku);
    if (u !== undefined) this.spentUnder.set(ku, u + s.amountMinor);
  }
  wroteMovement(m: MovementRow, postings: Omit<PostingRow, "movementId" | "id">[]): void {
    if (this.movements.has(m.key)) this.movements.set(m.key, copy(m));
    for (const p of postings) {
      const b = this.balances.get(p.account);
      if (b) b.set(p.currency, (b.get(p.currency) ?? 0) + p.credit - p.debit);
    }
  }
  /** True when newly denied, false when already; undefined when not covered. */
  wroteDeny(walletId: string): boolean | undefined {
    const v = this.denied.get(walletId);
    if (v === undefined) return undefined;
    if (v) return false;
    this.denied.set(walletId, true);
    return true;
  }
  wroteOrderCallback(mid: number, orderRef: string, patch: Partial<OrderCallbackRow>, row?: OrderCallbackRow): void {
    const k = k2(mid, orderRef);
    if (!this.orderCallbacks.has(k)) return;
    const v = this.orderCallbacks.get(k);
    if (row) this.orderCallbacks.set(k, copy(row));
    else if (v) this.orderCallbacks.set(k, { ...v, ...patch });
  }
}

const keyOf = { k2, k3 };

/** `list` padded to a power-of-two length with its last value (an IN list of few shapes: prepared once each). */
function padded<T>(list: T[]): T[] {
  let n = 1;
  while (n < list.length) n *= 2;
  const out = list.slice();
  while (out.length < n) out.push(list[list.length - 1]);
  return out;
}
const marks = (list: unknown[]) => list.map(() => "?").join(",");
const uniq = <T>(list: T[]): T[] => [...new Set(list)];

/**
 * Reads, in one query per table and one round, a second only when spends were found (`allMany`: a round's reads
 * together, in SQLite's dialect), what an upload's transaction will ask (gateway/link.ts says what, `n`): the set the store answers from.
 */
export function loadUploadReads(n: UploadNeeds, allMany: (qs: Query[]) => Row[][]): UploadReads {
  const r = new UploadReads();
  const { k2, k3 } = keyOf;
  const M = n.merchantId;
  const T = n.terminalId;
  const seqs = uniq([0, ...n.seqs]);
  const txIds = uniq(n.txIds.filter((x) => x));
  const chainSeqs = uniq(n.chainSeqs);
  const wallets = uniq(n.wallets);
  const counters = uniq(n.counters);
  const akeys = uniq(n.allowanceKeys);
  const mkeys = uniq(n.movementKeys);
  const orefs = uniq(n.orderRefs.filter((x) => x));
  const qs: (Query & { take: (rows: Row[]) => void })[] = [];
  // rows come in no promised order (allMany): those read in order are sorted here
  const byId = (rows: Row[]) => rows.sort((a, b) => Number(a.id) - Number(b.id));
  const q = (sql: string, args: unknown[], take: (rows: Row[]) => void, bytes?: string[]) => qs.push({ sql, args, take, bytes });
  const ps = padded(seqs);
  q("SELECT * FROM records WHERE merchantId=? AND terminalId=? AND seq IN (" + marks(ps) + ")", [M, T, ...ps], (rows) => {
    for (const s of seqs) r.recordsAt.set(k3(M, T, s), []);
    for (const x of byId(rows)) r.recordsAt.get(k3(M, T, x.seq))?.push(x as unknown as RecordRow);
  }, ["entry"]);
  q("SELECT MAX(seq) AS m FROM records WHERE merchantId=? AND terminalId=?", [M, T], (rows) => r.maxSeq.set(k2(M, T), rows[0] && rows[0].m !== null ? Number(rows[0].m) : 0));
  if (txIds.length) {
    const pt = padded(txIds);
    q("SELECT * FROM records WHERE merchantId=? AND terminalId=? AND txId IN (" + marks(pt) + ") AND status='entered'", [M, T, ...pt], (rows) => {
      for (const t of txIds) r.recordOfTx.set(k3(M, T, t), null);
      for (const x of byId(rows)) if (r.recordOfTx.get(k3(M, T, x.txId)) === null) r.recordOfTx.set(k3(M, T, x.txId), x as unknown as RecordRow);
    }, ["entry"]);
    q("SELECT * FROM ledger WHERE txId IN (" + marks(pt) + ") AND txId<>''", pt, (rows) => {
      for (const t of txIds) r.ledgerByTx.set(t, null);
      for (const x of rows) r.ledgerByTx.set(x.txId as string, x as unknown as LedgerRow);
    });
  }
  if (chainSeqs.length) {
    const pc = padded(chainSeqs);
    q("SELECT * FROM chain WHERE terminalId=? AND seq IN (" + marks(pc) + ")", [T, ...pc], (rows) => {
      for (const s of chainSeqs) r.chain.set(k2(T, s), null);
      for (const x of rows) r.chain.set(k2(T, x.seq), { merchantId: x.merchantId as number, hash: x.hash as string });
    });
  }
  let spends: SpendRow[] = [];
  if (wallets.length) {
    const pw = padded(wallets);
    if (counters.length) {
      const pn = padded(counters);
      q("SELECT * FROM spends WHERE walletId IN (" + marks(pw) + ") AND counter IN (" + marks(pn) + ")", [...pw, ...pn], (rows) => {
        for (const w of wallets) for (const c of counters) r.spendsAt.set(k2(w, c), []);
        for (const x of rows) r.spendsAt.get(k2(x.walletId, x.counter))?.push(x as unknown as SpendRow);
        spends = rows as unknown as SpendRow[];
      });
      q("SELECT * FROM reports WHERE walletId IN (" + marks(pw) + ") AND counter IN (" + marks(pn) + ")", [...pw, ...pn], (rows) => {
        for (const w of wallets) for (const c of counters) r.reportAt.set(k2(w, c), null);
        for (const x of rows) r.reportAt.set(k2(x.walletId, x.counter), x as unknown as ReportRow);
      });
    }
    if (akeys.length) {
      const pk = padded(akeys);
      // the running sum (one row an allowance), not the allowance's spends summed
      q("SELECT walletId, allowanceKey, amountMinor AS s FROM allowance_spent WHERE walletId IN (" + marks(pw) + ") AND allowanceKey IN (" + marks(pk) + ")", [...pw, ...pk], (rows) => {
        for (const w of wallets) for (const k of akeys) r.spentUnder.set(k2(w, k), 0);
        for (const x of rows) r.spentUnder.set(k2(x.walletId, x.allowanceKey), Number(x.s));
      });
    }
    q("SELECT * FROM allowances WHERE walletId IN (" + marks(pw) + ")", pw, (rows) => {
      for (const w of wallets) r.allowances.set(w, []);
      for (const x of rows.sort((a, b) => Number(a.n) - Number(b.n))) r.allowances.get(x.walletId as string)?.push(x as unknown as AllowanceRow);
    });
    q("SELECT walletId FROM deny WHERE walletId IN (" + marks(pw) + ")", pw, (rows) => {
      for (const w of wallets) r.denied.set(w, false);
      for (const x of rows) r.denied.set(x.walletId as string, true);
    });
    q("SELECT * FROM wallets WHERE id IN (" + marks(pw) + ")", pw, (rows) => {
      for (const w of wallets) r.wallets.set(w, null);
      for (const x of rows) r.wallets.set(x.id as string, x as unknown as WalletRow);
    }, ["pub", "allowance"]);
  }
  q("SELECT * FROM merchants WHERE id=?", [M], (rows) => r.merchants.set(M, (rows[0] as unknown as MerchantRow) ?? null));
  if (mkeys.length) {
    const pm = padded(mkeys);
    q("SELECT * FROM movements WHERE key IN (" + marks(pm) + ")", pm, (rows) => {
      for (const k of mkeys) r.movements.set(k, null);
      for (const x of rows) r.movements.set(x.key as string, x as unknown as MovementRow);
    });
  }
  if (orefs.length) {
    const po = padded(orefs);
    q("SELECT * FROM order_callbacks WHERE merchantId=? AND orderRef IN (" + marks(po) + ")", [M, ...po], (rows) => {
      for (const o of orefs) r.orderCallbacks.set(k2(M, o), null);
      for (const x of rows) r.orderCallbacks.set(k2(M, x.orderRef), x as unknown as OrderCallbackRow);
    });
  }
  // balances: the accounts asked, and the purses of the batch's allowances (found by a join in the same round, so
  // the set costs one round trip, not two); an account both asked and a purse comes twice with the same sum. A
  // wallet's account is its running balance, one row a currency (keepsRunningBalance); any other is summed from its
  // postings
  const asked = uniq(n.accounts);
  const kept = asked.filter(keepsRunningBalance);
  const summed = asked.filter((a) => !keepsRunningBalance(a));
  let sums: Row[] = [];
  if (asked.length || (wallets.length && akeys.length)) {
    const parts: string[] = [];
    const args: unknown[] = [];
    if (kept.length) {
      const pa = padded(kept);
      parts.push("SELECT account, currency, balance AS b FROM account_balances WHERE account IN (" + marks(pa) + ")");
      args.push(...pa);
    }
    if (summed.length) {
      const pa = padded(summed);
      parts.push("SELECT account, currency, SUM(credit - debit) AS b FROM postings WHERE account IN (" + marks(pa) + ") GROUP BY account, currency");
      args.push(...pa);
    }
    if (wallets.length && akeys.length) {
      const pw = padded(wallets);
      const pk = padded(akeys);
      parts.push(
        "SELECT b.account, b.currency, b.balance AS b FROM allowances a JOIN account_balances b ON b.account = 'wallet:' || a.walletId || ':purse:' || a.n WHERE a.walletId IN (" +
          marks(pw) + ") AND a.key IN (" + marks(pk) + ")",
      );
      args.push(...pw, ...pk);
    }
    q(parts.join(" UNION ALL "), args, (rows) => (sums = rows));
  }
  const run = () => {
    const answers = allMany(qs);
    qs.forEach((x, i) => x.take(answers[i]));
    qs.length = 0;
  };
  run();
  const accounts = uniq([...asked, ...wallets.flatMap((w) => (r.allowances.get(w) ?? []).filter((a) => akeys.indexOf(a.key) >= 0).map((a) => walletPurse(w, a.n)))]);
  for (const a of accounts) r.balances.set(a, new Map());
  for (const x of sums) r.balances.get(x.account as string)?.set(Number(x.currency), Number(x.b));
  // second, only when spends were found (a payment seen before): what samePayment() reads of them
  const refs = uniq(spends.map((x) => x.ref));
  if (refs.length) {
    const pr = padded(refs);
    q("SELECT * FROM ledger WHERE ref IN (" + marks(pr) + ")", pr, (rows) => {
      for (const f of refs) r.ledgerByRef.set(f, null);
      for (const x of rows) r.ledgerByRef.set(x.ref as string, x as unknown as LedgerRow);
    });
    // by the index's own columns (records_tx: merchant, terminal, txId): txId alone would read every record held
    const pm = padded(uniq(spends.map((x) => x.merchantId)));
    const pts = padded(uniq(spends.map((x) => x.terminalId)));
    q("SELECT * FROM records WHERE merchantId IN (" + marks(pm) + ") AND terminalId IN (" + marks(pts) + ") AND txId IN (" + marks(pr) + ") AND status='entered'", [...pm, ...pts, ...pr], (rows) => {
      byId(rows);
      // the keys this query answers (a key of the batch's own terminal is answered already)
      const fresh = new Set(spends.map((x) => k3(x.merchantId, x.terminalId, x.ref)).filter((k) => !r.recordOfTx.has(k)));
      for (const k of fresh) r.recordOfTx.set(k, null);
      for (const x of rows) {
        const k = k3(x.merchantId, x.terminalId, x.txId);
        if (fresh.has(k) && r.recordOfTx.get(k) === null) r.recordOfTx.set(k, x as unknown as RecordRow);
      }
    }, ["entry"]);
    const others = spends.filter((x) => x.terminalId !== T);
    if (others.length) {
      // records_terminal: merchant, terminal, seq
      const pom = padded(uniq(others.map((x) => x.merchantId)));
      const pt = padded(uniq(others.map((x) => x.terminalId)));
      q("SELECT * FROM records WHERE merchantId IN (" + marks(pom) + ") AND terminalId IN (" + marks(pt) + ") AND seq=0", [...pom, ...pt], (rows) => {
        for (const x of others) r.recordsAt.set(k3(x.merchantId, x.terminalId, 0), []);
        for (const x of byId(rows)) r.recordsAt.get(k3(x.merchantId, x.terminalId, 0))?.push(x as unknown as RecordRow);
      }, ["entry"]);
    }
  }
  if (qs.length) run();
  return r;
}
