/**
 * Money calls: allowances issued against the available balance, top-ups, balances, statements, the payout runs.
 */
import type { AllowanceRow, PayoutRow, PayoutRunRow } from "./store.ts";
import type { MerchantBalances, Statement, WalletBalances } from "./books.ts";
import { ISSUER_CARDS, ISSUER_FUNDS, ISSUER_LOSSES, merchantAvailable } from "./books.ts";
import {  MoneyError, PURSE_GRACE_MS } from "./money.ts";
import type { Party } from "./payouts.ts";
import { pain001 } from "./payouts.ts";
import type { Gateway } from "./gateway.ts";
import { DAY_MS, GatewayError, bad, checkBic, checkIban, dayString,  toPosInt } from "./fields.ts";

/** Money in for a wallet (a bank transfer or card top-up the issuer received), once per reference. */
export function topUp(g: Gateway, walletId: string, amountMinor: number, reference: string): WalletBalances {
  if (typeof reference !== "string" || !/^[\x21-\x7e]{1,64}$/.test(reference)) throw bad("BAD_REFERENCE", "reference: 1 to 64 printable ASCII characters, unique per top-up");
  if (!toPosInt(amountMinor) || amountMinor < 1) throw bad("BAD_AMOUNT", "amountMinor: a positive integer");
  return g.store.transaction(() => {
    const w = g.store.getWallet(walletId);
    if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no wallet " + walletId);
    try {
      g.money.topUp(walletId, amountMinor, w.currency, reference);
    } catch (e) {
      throw e instanceof MoneyError ? new GatewayError(e.status, e.code, e.message) : e;
    }
    g.log(0, 0, "wallet-topup", { walletId, amountMinor, reference });
    return g.money.books.wallet(walletId, w.currency);
  });
}

/** A wallet's balances: available, purses of its allowances, debt and disputed (derived from the postings). */
export function walletBalances(g: Gateway, walletId: string): WalletBalances {
  const w = g.store.getWallet(walletId);
  if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no wallet " + walletId);
  return g.money.books.wallet(walletId, w.currency);
}

/** A merchant's balances: pending (held), available, paid out. */
export function merchantBalances(g: Gateway, merchantId: number): MerchantBalances {
  const m = g.merchant(merchantId);
  return g.money.books.merchant(merchantId, m.currency);
}

/** Every merchant's and wallet's balances and the issuer's accounts, with the trial balance (the page's panel). */
export function books(g: Gateway): { merchants: (MerchantBalances & { name: string })[]; wallets: WalletBalances[]; issuer: { account: string; currency: number; balance: number }[]; trial: { currency: number; debits: number; credits: number }[]; unbalanced: number[] } {
  const merchants = g.store.listMerchants().map((m) => ({ name: m.name, ...g.money.books.merchant(m.id, m.currency) }));
  const seen = new Set<string>();
  const wallets: WalletBalances[] = [];
  for (const b of g.store.balances("wallet:")) {
    const id = b.account.split(":")[1];
    if (seen.has(id)) continue;
    seen.add(id);
    wallets.push(g.money.books.wallet(id, b.currency));
  }
  const issuer = [ISSUER_FUNDS, ISSUER_CARDS, ISSUER_LOSSES].flatMap((a) => g.store.balances(a).filter((b) => b.account === a));
  return { merchants, wallets, issuer, trial: g.store.trialBalance(), unbalanced: g.store.unbalancedMovements() };
}

/** A merchant's statement over [from, to) (ms): opening balance + postings = closing balance, per account. */
export function statement(g: Gateway, merchantId: number, from: number, to: number): Statement {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) throw bad("BAD_PERIOD", "from and to: Unix ms, from <= to");
  const m = g.merchant(merchantId);
  return g.money.books.statement(merchantId, m.currency, from, to);
}

export function checkParty(_g: Gateway, p: Party): Party {
  if (!p || typeof p.name !== "string" || !p.name.trim() || p.name.length > 70) throw bad("BAD_NAME", "name: 1 to 70 characters");
  return { name: p.name.trim(), iban: checkIban(p.iban), bic: checkBic(p.bic) };
}

/** The issuer's own account, debtor of payout files; null until configured. */
export function payoutAccount(g: Gateway): Party | null {
  const raw = g.store.getMeta("payoutAccount");
  return raw ? (JSON.parse(raw) as Party) : null;
}

export function setPayoutAccount(g: Gateway, p: Party): Party {
  const party = g.checkParty(p);
  if (!party.iban) throw bad("BAD_IBAN", "iban: the issuer's account is required");
  g.store.transaction(() => {
    g.store.setMeta("payoutAccount", JSON.stringify(party));
    g.log(0, 0, "payout-account", { name: party.name, iban: party.iban.slice(0, 4) + "…" + party.iban.slice(-4) });
  });
  return party;
}

/**
 * The settlement run of one period (a UTC day, default yesterday), at most once: every merchant's positive
 * available balance moves to paid out, one credit transfer each in a pain.001 file for the issuer's bank.
 * Merchants with no IBAN are skipped (their money stays available) and listed. Running a period again returns it.
 */
export function runPayouts(g: Gateway, period?: string): { run: PayoutRunRow; payouts: PayoutRow[]; skipped: { merchantId: number; reason: string }[] } {
  const p = period ?? dayString(g.now() - DAY_MS);
  if (typeof p !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(p) || Number.isNaN(Date.parse(p + "T00:00:00Z"))) throw bad("BAD_PERIOD", "period: a day, YYYY-MM-DD");
  return g.store.transaction(() => {
    const had = g.store.payoutRun(p);
    if (had) return { run: had, payouts: g.store.payouts(undefined, had.id as number), skipped: [] };
    const debtor = g.payoutAccount();
    if (!debtor) throw new GatewayError(409, "NO_PAYOUT_ACCOUNT", "set the issuer's payout account first (PUT /v1/admin/payout-account)");
    const now = g.now();
    const runId = g.store.insertPayoutRun({ period: p, at: now, count: 0, controlSum: 0, file: "" });
    const payouts: PayoutRow[] = [];
    const skipped: { merchantId: number; reason: string }[] = [];
    for (const m of g.store.listMerchants()) {
      const amount = g.money.books.balance(merchantAvailable(m.id), m.currency);
      if (amount <= 0) continue;
      if (!m.iban) {
        skipped.push({ merchantId: m.id, reason: "no IBAN on file" });
        g.log(m.id, 0, "payout-skipped", { period: p, amountMinor: amount, reason: "no IBAN on file" });
        continue;
      }
      const row: PayoutRow = { runId, merchantId: m.id, amountMinor: amount, currency: m.currency, iban: m.iban, bic: m.bic, name: m.name, endToEndId: "PO" + runId + "M" + m.id, at: now };
      g.money.payout("payout:" + runId + ":" + m.id, m.id, amount, m.currency, "settlement " + p);
      row.id = g.store.insertPayout(row);
      payouts.push(row);
      g.log(m.id, 0, "payout", { period: p, runId, amountMinor: amount, endToEndId: row.endToEndId });
      g.event(m.id, "payout.sent", { period: p, runId, amountMinor: amount, currency: m.currency, endToEndId: row.endToEndId });
    }
    const file = pain001({
      msgId: "PO-" + p + "-" + runId,
      createdAt: now,
      executionDate: dayString(now),
      debtor,
      payments: payouts.map((x) => ({ endToEndId: x.endToEndId, amountMinor: x.amountMinor, currency: x.currency, creditor: { name: x.name, iban: x.iban, bic: x.bic }, remittance: "Settlement " + p + " merchant " + x.merchantId })),
    });
    const controlSum = payouts.reduce((a, x) => a + x.amountMinor, 0);
    g.store.updatePayoutRun(runId, { count: payouts.length, controlSum, file });
    g.log(0, 0, "payout-run", { period: p, runId, count: payouts.length, controlSum, skipped: skipped.length });
    return { run: { id: runId, period: p, at: now, count: payouts.length, controlSum, file }, payouts, skipped };
  });
}

/** The pain.001 file of a settlement run. */
export function payoutFile(g: Gateway, runId: number): string {
  const r = g.store.payoutRunById(runId);
  if (!r) throw new GatewayError(404, "UNKNOWN_RUN", "no payout run " + runId);
  return r.file;
}

/**
 * Loads the wallet's offline purse with a new allowance of `capMinor` (at most its cap), as a sync does without
 * a report: 402 INSUFFICIENT_FUNDS, and nothing issued, when the balance cannot cover it.
 */
export function loadAllowance(g: Gateway, walletId: string, capMinor?: number): { allowance: Uint8Array; balances: WalletBalances } {
  if (capMinor !== undefined && (!toPosInt(capMinor) || capMinor > 0xffffff)) throw bad("BAD_CAP", "capMinor: 0 to the wallet's cap");
  return g.store.transaction(() => {
    const w = g.store.getWallet(walletId);
    if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no such wallet");
    if (g.store.isDenied(walletId)) throw new GatewayError(403, "WALLET_DENIED", "the wallet is blocked");
    const cap = Math.min(w.capMinor, capMinor ?? w.capMinor);
    if (!g.canIssue(w, cap)) throw new GatewayError(402, "INSUFFICIENT_FUNDS", "the wallet's available balance cannot cover an allowance of " + cap);
    let top = w.startCounter - 1;
    for (const l of g.store.ledgerOfWallet(walletId)) if (l.kind === "wallet") top = Math.max(top, l.counter);
    for (const r of g.store.reportsOf(walletId)) top = Math.max(top, r.counter);
    const start = Math.min(0xffff, top + 1);
    const a = g.newAllowance({ ...w, capMinor: cap }, start);
    g.store.updateWallet(walletId, { allowance: a.allowance, startCounter: start, expiryDay: a.expiryDay });
    g.log(0, 0, "allowance-loaded", { walletId, capMinor: cap });
    return { allowance: a.allowance, balances: g.money.books.wallet(walletId, w.currency) };
  });
}

/**
 * Signs a new allowance for the wallet and reserves its cap from the available balance into a purse of its own
 * (402 INSUFFICIENT_FUNDS when the balance cannot cover it: nothing is issued). The wallet's previous live
 * allowance is replaced: its purse keeps what the payer reported spending under it and no terminal has uploaded
 * yet, until those arrive or PURSE_GRACE_MS passes; the rest returns to available at once.
 */
export function newAllowance(g: Gateway, w: { id: string; pub: Uint8Array; capMinor: number; currency: number }, startCounter: number): { allowance: Uint8Array; expiryDay: number } {
  const now = g.now();
  const expiryDay = Math.floor(now / DAY_MS) + g.allowanceDays;
  const list = g.store.allowances(w.id);
  for (const old of list) {
    if (old.status !== "live") continue;
    const outstanding = g.reportedNotEntered(w.id, old);
    g.money.release(old, g.money.purse(old) - outstanding, "replaced");
    g.store.updateAllowance(w.id, old.n, { status: "replaced", releaseAt: Math.min(old.releaseAt, now + PURSE_GRACE_MS), replacedAt: now });
  }
  const row: AllowanceRow = {
    walletId: w.id,
    n: list.length ? list[list.length - 1].n + 1 : 1,
    key: expiryDay + ":" + startCounter,
    capMinor: w.capMinor,
    currency: w.currency,
    startCounter,
    expiryDay,
    issuedAt: now,
    status: "live",
    releaseAt: (expiryDay + 1) * DAY_MS + PURSE_GRACE_MS,
    replacedAt: 0,
  };
  g.store.insertAllowance(row);
  try {
    g.money.reserve(row);
  } catch (e) {
    throw e instanceof MoneyError ? new GatewayError(e.status, e.code, e.message) : e;
  }
  return { allowance: g.issuer.issueAllowance({ walletPub: w.pub, capMinor: w.capMinor, currency: w.currency, expiryDay, startCounter }), expiryDay };
}
