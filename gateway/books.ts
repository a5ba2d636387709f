/**
 * The issuer's books: double-entry postings over the store (docs/gateway.md, "The money model").
 *
 *   const books = new Books(store);
 *   books.move({ key: "topup:" + walletId + ":1", kind: "topup", ref: walletId, walletId, at },
 *              [books.leg(ISSUER_FUNDS, -1000, 978), books.leg(walletAvailable(walletId), +1000, 978)]);
 *   books.balance(walletAvailable(walletId));   // 1000
 *
 * Every movement of money is one movement: a set of postings whose debits equal its credits per currency, written
 * in the request's database transaction. A balance is credits - debits of an account's postings; a wallet
 * account's is also kept running beside them (keepsRunningBalance), in the same transaction, and a test recomputes it
 * from the postings. A movement's key makes it idempotent (the same key again moves nothing).
 *
 * Accounts (credits - debits; what the issuer owes is positive, what it holds or is owed is negative):
 *   wallet:<id>:available      the payer's money for online payments and new allowances
 *   wallet:<id>:purse:<n>      what allowance n reserved for offline payments and has not paid out yet
 *   wallet:<id>:debt           negative: what a wallet owes after spending beyond its purse (a double spend)
 *   wallet:<id>:disputed       payments the payer disputed, held for the issuer's review
 *   merchant:<id>:pending      offline payments held (3-day rule) until the payer's sync or auto-approval
 *   merchant:<id>:available    settled and not yet paid out (may go negative after a reversal: recovered from later sales)
 *   merchant:<id>:paidout      what payouts sent to the merchant's bank (grows; the bank side of the books)
 *   issuer:funds               negative: money the issuer holds for wallets (top-ups in)
 *   issuer:cards               negative: card and debit-card funds due from the card processor
 *   issuer:losses              negative: what the issuer bore (written-off debt)
 */
import type { GatewayStore, MovementRow, PostingRow, PostingView } from "./store.ts";

export const ISSUER_FUNDS = "issuer:funds";
export const ISSUER_CARDS = "issuer:cards";
export const ISSUER_LOSSES = "issuer:losses";

export const walletAvailable = (walletId: string) => "wallet:" + walletId + ":available";
export const walletPurse = (walletId: string, n: number) => "wallet:" + walletId + ":purse:" + n;
/** Prefix of all of a wallet's purses. */
export const walletPurses = (walletId: string) => "wallet:" + walletId + ":purse:";
export const walletDebt = (walletId: string) => "wallet:" + walletId + ":debt";
export const walletDisputed = (walletId: string) => "wallet:" + walletId + ":disputed";
/**
 * Accounts whose balance is also kept running, one row per currency beside the postings (docs/gateway.md, "Ingest at
 * the limit, fourth pass"): a wallet's, which an upload reads for every payment. A merchant's and the issuer's stay
 * sums of their postings: every payment of a merchant posts to its pending account, and one row updated by every
 * upload would make any two concurrent uploads of a merchant conflict under SERIALIZABLE. The range is the one
 * migration 10 backfilled ("wallet:" <= account < "wallet;").
 */
export const keepsRunningBalance = (account: string) => account.startsWith("wallet:");
export const merchantPending = (merchantId: number) => "merchant:" + merchantId + ":pending";
export const merchantAvailable = (merchantId: number) => "merchant:" + merchantId + ":available";
export const merchantPaidOut = (merchantId: number) => "merchant:" + merchantId + ":paidout";

/** One posting line: + credits the account, - debits it. */
export interface Leg {
  account: string;
  amount: number;
  currency: number;
}

export interface MerchantBalances {
  merchantId: number;
  currency: number;
  pending: number;
  available: number;
  paidOut: number;
}

export interface WalletBalances {
  walletId: string;
  currency: number;
  available: number;
  /** Sum of the purses of its allowances not yet released. */
  purse: number;
  debt: number;
  disputed: number;
}

export interface StatementAccount {
  account: string;
  opening: number;
  postings: { at: number; kind: string; ref: string; memo: string; debit: number; credit: number; balance: number }[];
  closing: number;
}

export interface Statement {
  merchantId: number;
  currency: number;
  from: number;
  to: number;
  accounts: StatementAccount[];
}

export class Books {
  constructor(private readonly store: GatewayStore) {}

  leg(account: string, amount: number, currency: number): Leg {
    return { account, amount, currency };
  }

  /**
   * Posts one movement. Legs of amount 0 are dropped; a movement whose legs are all 0 posts nothing (false). Throws
   * when the legs do not balance per currency, and when the key was posted already: callers decide by the state of
   * what they move (a payment is approved once), and a second posting under one key is a defect, never a no-op.
   */
  move(m: Omit<MovementRow, "id" | "memo" | "merchantId" | "walletId"> & Partial<Pick<MovementRow, "memo" | "merchantId" | "walletId">>, legs: Leg[]): boolean {
    if (this.store.movementByKey(m.key)) throw new Error("books: movement " + m.key + " was posted already");
    const lines: Omit<PostingRow, "movementId" | "id">[] = [];
    for (const l of legs) {
      if (!Number.isSafeInteger(l.amount)) throw new Error("books: amount " + l.amount + " is not an integer of minor units");
      if (l.amount === 0) continue;
      lines.push({ account: l.account, currency: l.currency, debit: l.amount < 0 ? -l.amount : 0, credit: l.amount > 0 ? l.amount : 0 });
    }
    if (!lines.length) return false;
    this.store.insertMovement({ memo: "", merchantId: 0, walletId: "", ...m }, lines);
    return true;
  }

  /** Moves `amount` from one account to another (debit `from`, credit `to`). */
  transfer(m: Parameters<Books["move"]>[0], from: string, to: string, amount: number, currency: number): boolean {
    return this.move(m, [this.leg(from, -amount, currency), this.leg(to, amount, currency)]);
  }

  balance(account: string, currency?: number, before?: number): number {
    return this.store.balance(account, currency, before);
  }

  merchant(merchantId: number, currency: number): MerchantBalances {
    return {
      merchantId,
      currency,
      pending: this.balance(merchantPending(merchantId), currency),
      available: this.balance(merchantAvailable(merchantId), currency),
      paidOut: this.balance(merchantPaidOut(merchantId), currency),
    };
  }

  wallet(walletId: string, currency: number): WalletBalances {
    return {
      walletId,
      currency,
      available: this.balance(walletAvailable(walletId), currency),
      purse: this.balance(walletPurses(walletId), currency),
      debt: this.balance(walletDebt(walletId), currency),
      disputed: this.balance(walletDisputed(walletId), currency),
    };
  }

  /**
   * A merchant's statement over [from, to): per account, the opening balance, every posting with the running
   * balance, and the closing balance; opening + postings = closing, by construction and checked.
   */
  statement(merchantId: number, currency: number, from: number, to: number): Statement {
    const accounts: StatementAccount[] = [];
    for (const account of [merchantPending(merchantId), merchantAvailable(merchantId), merchantPaidOut(merchantId)]) {
      const opening = this.balance(account, currency, from);
      let running = opening;
      const rows = this.store.postings(account, from, to).filter((p: PostingView) => p.account === account && p.currency === currency);
      const postings = rows.map((p) => {
        running += p.credit - p.debit;
        return { at: p.at, kind: p.kind, ref: p.ref, memo: p.memo, debit: p.debit, credit: p.credit, balance: running };
      });
      const closing = this.balance(account, currency, to);
      if (closing !== running) throw new Error("books: statement of " + account + " does not reconcile (" + opening + " + postings = " + running + ", closing " + closing + ")");
      accounts.push({ account, opening, postings, closing });
    }
    return { merchantId, currency, from, to, accounts };
  }
}

/** A statement as CSV (RFC 4180): one line per posting, with opening and closing lines per account. */
export function statementCsv(s: Statement): string {
  const q = (v: string | number) => {
    const t = String(v);
    return /[",\r\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  };
  const lines = ["account,time,kind,ref,memo,debit,credit,balance"];
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const a of s.accounts) {
    lines.push([a.account, iso(s.from), "opening", "", "", "", "", a.opening].map(q).join(","));
    for (const p of a.postings) lines.push([a.account, iso(p.at), p.kind, p.ref, p.memo, p.debit, p.credit, p.balance].map(q).join(","));
    lines.push([a.account, iso(s.to), "closing", "", "", "", "", a.closing].map(q).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}
