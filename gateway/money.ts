/**
 * How money moves at the gateway (docs/gateway.md, "The money model"): each function posts one movement through the
 * books, inside the caller's store transaction, keyed so a retry moves nothing twice.
 *
 *   const money = new Money(store, () => clock.now());
 *   money.topUp(walletId, 20000, 978, "bank-ref-1");        // issuer:funds -> wallet available
 *   money.reserve(allowanceRow);                             // wallet available -> purse n (402 when short)
 *   money.offlinePayment({ ... });                           // purse n (then available, then debt) -> merchant pending
 *   money.approve(ledgerRow);                                // merchant pending -> merchant available
 *   money.authorized({ ..., fromPurse });                    // purse n, then available -> merchant available (online)
 */
import { Books, ISSUER_CARDS, ISSUER_FUNDS, merchantAvailable, merchantPaidOut, merchantPending, walletAvailable, walletDebt, walletDisputed, walletPurse } from "./books.ts";
import type { AllowanceRow, GatewayStore, LedgerRow } from "./store.ts";

/**
 * How long a replaced allowance's purse keeps what the payer reported spending but no terminal has uploaded yet,
 * and how long after its expiry day an allowance that was never replaced keeps its purse: terminals stop taking
 * offline payments after `maxDaysOffline` (3 days by default) without a sync and upload as soon as they are online;
 * 7 days leaves 4 more for a shop whose Wi-Fi is down. A payment that arrives later still pays the merchant (the
 * issuer guarantees what a terminal accepted under the rules): it is drawn from the wallet's available balance,
 * and beyond it becomes the wallet's debt.
 */
export const PURSE_GRACE_MS = 7 * 86400000;

/** A refusal the HTTP layer turns into a status (402 for money the wallet does not have). */
export class MoneyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The merchant account a payment's money sits in before a reversal or dispute takes it: pending while held, else
 * available. (The gateway reverses and disputes only from those states; the dispute hold has its own moves.)
 */
export function heldIn(l: Pick<LedgerRow, "status" | "merchantId">): string {
  return l.status === "held" ? merchantPending(l.merchantId) : merchantAvailable(l.merchantId);
}

export interface OfflinePayment {
  ref: string;
  merchantId: number;
  walletId: string;
  amountMinor: number;
  currency: number;
  /** The allowance the payment spent under, if the gateway issued it (else the purse is skipped). */
  allowance: AllowanceRow | undefined;
  memo: string;
}

export interface Drawn {
  fromPurse: number;
  fromAvailable: number;
  /** What the wallet now owes: spent beyond its purse and its balance (a double spend or an allowance overrun). */
  debt: number;
}

export class Money {
  readonly books: Books;

  constructor(
    private readonly store: GatewayStore,
    private readonly now: () => number,
  ) {
    this.books = new Books(store);
  }

  /** Money in: the issuer received `amount` for the wallet (a bank transfer, a card top-up). */
  topUp(walletId: string, amount: number, currency: number, reference: string): void {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new MoneyError(400, "BAD_AMOUNT", "amountMinor: a positive integer");
    const key = "topup:" + walletId + ":" + reference;
    if (this.store.movementByKey(key)) throw new MoneyError(409, "TOPUP_EXISTS", "top-up " + reference + " was booked already");
    this.books.transfer({ key, kind: "topup", ref: walletId, walletId, at: this.now(), memo: reference }, ISSUER_FUNDS, walletAvailable(walletId), amount, currency);
  }

  /** Issuing an allowance reserves its cap from the wallet's available balance into its purse; 402 when short. */
  reserve(a: AllowanceRow): void {
    const available = this.books.balance(walletAvailable(a.walletId), a.currency);
    if (a.capMinor > available) {
      throw new MoneyError(402, "INSUFFICIENT_FUNDS", "the wallet's available balance (" + available + ") cannot cover an allowance of " + a.capMinor);
    }
    this.books.transfer({ key: "reserve:" + a.walletId + ":" + a.n, kind: "reserve", ref: "allowance:" + a.n, walletId: a.walletId, at: this.now() }, walletAvailable(a.walletId), walletPurse(a.walletId, a.n), a.capMinor, a.currency);
  }

  /** What allowance n's purse still holds. */
  purse(a: AllowanceRow): number {
    return this.books.balance(walletPurse(a.walletId, a.n), a.currency);
  }

  /** Returns `amount` (at most what the purse holds) from allowance n's purse to available. */
  release(a: AllowanceRow, amount: number, why: string): number {
    const left = this.purse(a);
    const x = Math.min(left, Math.max(0, amount));
    if (x <= 0) return 0;
    const tag = why === "final" ? "release:" + a.walletId + ":" + a.n : "release:" + a.walletId + ":" + a.n + ":" + why;
    this.books.transfer({ key: tag, kind: "release", ref: "allowance:" + a.n, walletId: a.walletId, at: this.now(), memo: why }, walletPurse(a.walletId, a.n), walletAvailable(a.walletId), x, a.currency);
    return x;
  }

  /**
   * An offline payment a terminal accepted: the merchant's pending account is credited in full (the issuer
   * guarantees it); the money comes from the allowance's purse, then the wallet's available balance, and what is
   * left becomes the wallet's debt.
   */
  offlinePayment(p: OfflinePayment): Drawn {
    let need = p.amountMinor;
    const fromPurse = p.allowance ? Math.min(need, Math.max(0, this.purse(p.allowance))) : 0;
    need -= fromPurse;
    const fromAvailable = Math.min(need, Math.max(0, this.books.balance(walletAvailable(p.walletId), p.currency)));
    need -= fromAvailable;
    const legs = [this.books.leg(merchantPending(p.merchantId), p.amountMinor, p.currency), this.books.leg(walletAvailable(p.walletId), -fromAvailable, p.currency), this.books.leg(walletDebt(p.walletId), -need, p.currency)];
    if (p.allowance) legs.push(this.books.leg(walletPurse(p.walletId, p.allowance.n), -fromPurse, p.currency));
    this.books.move({ key: "payment:" + p.ref, kind: "payment", ref: p.ref, merchantId: p.merchantId, walletId: p.walletId, at: this.now(), memo: p.memo }, legs);
    return { fromPurse, fromAvailable, debt: need };
  }

  /**
   * A payment the gateway authorized online (gateway/authorize.ts): settled at once, `fromPurse` from the
   * allowance's purse and the rest from the wallet's available balance, straight to the merchant's available
   * account (no hold). The caller checked that both cover it: nothing becomes debt.
   */
  authorized(p: OfflinePayment & { fromPurse: number }): void {
    const fromAvailable = p.amountMinor - p.fromPurse;
    if (p.fromPurse < 0 || fromAvailable < 0 || (p.fromPurse > 0 && !p.allowance)) throw new MoneyError(400, "BAD_AMOUNT", "authorized: the purse's part is 0 to the amount");
    const legs = [this.books.leg(merchantAvailable(p.merchantId), p.amountMinor, p.currency), this.books.leg(walletAvailable(p.walletId), -fromAvailable, p.currency)];
    if (p.allowance) legs.push(this.books.leg(walletPurse(p.walletId, p.allowance.n), -p.fromPurse, p.currency));
    this.books.move({ key: "authorized:" + p.ref, kind: "authorized", ref: p.ref, merchantId: p.merchantId, walletId: p.walletId, at: this.now(), memo: p.memo }, legs);
  }

  /** A held payment is approved (the payer's sync, or the 3-day rule): merchant pending -> available. */
  approve(l: LedgerRow): void {
    this.books.transfer({ key: "approve:" + l.ref, kind: "approve", ref: l.ref, merchantId: l.merchantId, walletId: l.walletId, at: this.now() }, merchantPending(l.merchantId), merchantAvailable(l.merchantId), l.amountMinor, l.currency);
  }

  /** The payer takes a payment back: from wherever it sits (merchant or the dispute hold) to the wallet's available. */
  reverse(l: LedgerRow): void {
    this.books.transfer({ key: "reverse:" + l.ref, kind: "reverse", ref: l.ref, merchantId: l.merchantId, walletId: l.walletId, at: this.now() }, heldIn(l), walletAvailable(l.walletId), l.amountMinor, l.currency);
  }

  /** The payer disputes a payment: it leaves the merchant and waits, in the wallet's disputed account, for review. */
  dispute(l: LedgerRow): void {
    this.books.transfer({ key: "dispute:" + l.ref, kind: "dispute", ref: l.ref, merchantId: l.merchantId, walletId: l.walletId, at: this.now() }, heldIn(l), walletDisputed(l.walletId), l.amountMinor, l.currency);
  }

  /** The issuer's review of a dispute: back to the merchant's available, or to the payer's available. */
  resolveDispute(l: LedgerRow, forPayer: boolean): void {
    const to = forPayer ? walletAvailable(l.walletId) : merchantAvailable(l.merchantId);
    this.books.transfer({ key: "resolve:" + l.ref, kind: forPayer ? "dispute-upheld" : "dispute-rejected", ref: l.ref, merchantId: l.merchantId, walletId: l.walletId, at: this.now() }, walletDisputed(l.walletId), to, l.amountMinor, l.currency);
  }

  /**
   * A refund or void the terminal made (amount > 0) of a transaction in the books (the gateway refuses one of an
   * unknown original): from the merchant's available balance back to the payer, a wallet's available balance or
   * the card (issuer:cards). Always from available, even while the original is still held: pending is exactly the
   * held payments, and the original's approval later brings available back up (available may dip below zero).
   */
  refund(ref: string, merchantId: number, amount: number, currency: number, orig: Pick<LedgerRow, "ref" | "walletId">): void {
    const to = orig.walletId ? walletAvailable(orig.walletId) : ISSUER_CARDS;
    this.books.transfer({ key: "refund:" + ref, kind: "refund", ref, merchantId, walletId: orig.walletId, at: this.now(), memo: "of " + orig.ref }, merchantAvailable(merchantId), to, amount, currency);
  }

  /** An invoice paid online: by card or debit card (funds due from the processor) or from a wallet's available. */
  online(ref: string, merchantId: number, amount: number, currency: number, walletId: string): void {
    if (walletId) {
      const available = this.books.balance(walletAvailable(walletId), currency);
      if (amount > available) throw new MoneyError(402, "INSUFFICIENT_FUNDS", "the wallet's available balance is too low");
    }
    const from = walletId ? walletAvailable(walletId) : ISSUER_CARDS;
    this.books.transfer({ key: "online:" + ref, kind: "online", ref, merchantId, walletId, at: this.now() }, from, merchantAvailable(merchantId), amount, currency);
  }

  /** A payout: the merchant's available balance goes to its bank. */
  payout(key: string, merchantId: number, amount: number, currency: number, memo: string): void {
    this.books.transfer({ key, kind: "payout", ref: key, merchantId, at: this.now(), memo }, merchantAvailable(merchantId), merchantPaidOut(merchantId), amount, currency);
  }
}
