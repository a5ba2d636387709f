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

export const keyOf = { k2, k3 };
