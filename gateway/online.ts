/**
 * Invoices paid online: submitted by the terminal, paid on the pay page by card (with 3-D Secure) or wallet.
 */
import { randomBytes } from "node:crypto";
import { toHex } from "./hex.ts";
import { decodeInvoice } from "../protocol/messages.ts";
import { toQrText } from "../protocol/qr.ts";
import { toBase64 } from "../protocol/sync.ts";
import type { InvoiceRow, TerminalRow } from "./store.ts";
import type { CardDetails, CardResult } from "./cards.ts";
import { CardInvalid } from "./cards.ts";
import { MoneyError } from "./money.ts";
import type { Gateway, CardChallenge, PaidResult, PayOnline } from "./gateway.ts";
import {  GatewayError, bad } from "./fields.ts";

export function checkInvoice(g: Gateway, bytes: Uint8Array): { inv: NonNullable<ReturnType<typeof decodeInvoice>>; t: TerminalRow } {
  const inv = bytes instanceof Uint8Array ? decodeInvoice(bytes) : null;
  if (!inv) throw bad("BAD_INVOICE", "invoice: an 84-byte Invoice message");
  const t = g.store.getTerminal(inv.terminalId);
  if (!t || !g.verifier.message(t.pub, bytes)) throw bad("INVOICE_SIGNATURE", "the invoice is not signed by a registered terminal");
  return { inv, t };
}

/**
 * Records a terminal's invoice (idempotent); the pay page does this when it opens. The order an invoice pays is
 * only ever what its terminal says (its InvoicePaid entry, authenticated on the link): a payer's client cannot
 * name one (security review 10), so none is taken here.
 */
export function submitInvoice(g: Gateway, bytes: Uint8Array): InvoiceRow {
  const orderRef = "";
  return g.store.transaction(() => {
    const { inv, t } = g.checkInvoice(bytes);
    const have = g.store.getInvoice(t.merchantId, t.id, inv.invoiceNo);
    if (have) {
      if (toHex(have.invoice) !== toHex(bytes)) throw new GatewayError(409, "INVOICE_CONFLICT", "terminal " + t.id + " already issued invoice " + inv.invoiceNo + " with other terms");
      return have;
    }
    const row: InvoiceRow = {
      merchantId: t.merchantId,
      terminalId: t.id,
      invoiceNo: inv.invoiceNo,
      amountMinor: inv.amountMinor,
      currency: inv.currency,
      expires: inv.expires,
      invoice: new Uint8Array(bytes),
      orderRef,
      status: "open",
      paidAt: 0,
      method: 0,
      paymentRef: "",
      card: "",
      paid: null,
      recorded: 0,
      createdAt: g.now(),
    };
    g.store.insertInvoice(row);
    g.log(t.merchantId, t.id, "invoice-opened", { invoiceNo: inv.invoiceNo, amountMinor: inv.amountMinor, orderRef });
    return row;
  });
}

/**
 * Pays an invoice online: by card or debit card through the card processor (which may ask for a 3-D Secure
 * challenge first: then a CardChallenge comes back, answered with completeCardChallenge()), or from a wallet's
 * available balance. Gives the PaidConfirmation and a notice for the terminal. A card number is never stored or
 * logged: the brand, the last four digits and the processor's reference are.
 */
export async function payInvoice(g: Gateway, p: PayOnline): Promise<PaidResult | CardChallenge> {
  if (p.method === "wallet") return g.recordOnlinePayment(p.invoice, 3, { walletId: p.walletId ?? "" });
  if (p.method !== "card" && p.method !== "debit") throw bad("BAD_METHOD", "method: card, debit or wallet");
  // the invoice must be payable before the processor is asked (nothing is written yet)
  const { inv } = g.store.transaction(() => g.payable(p.invoice));
  let r: CardResult;
  try {
    r = await g.cards.authorize({ amountMinor: inv.amountMinor, currency: inv.currency, card: p.card as CardDetails, reference: "invoice", now: g.now() });
  } catch (e) {
    if (e instanceof CardInvalid) throw bad("CARD_INVALID", e.message);
    throw new GatewayError(502, "PROCESSOR", "the card processor did not answer: " + (e instanceof Error ? e.message : String(e)).slice(0, 100));
  }
  return g.afterCard(p.invoice, r);
}

/** The customer's answer to a 3-D Secure challenge (the code the bank sent, or abandon). */
export async function completeCardChallenge(g: Gateway, challengeId: string, answer: { code?: string; abandon?: boolean }): Promise<PaidResult | CardChallenge> {
  const ch = typeof challengeId === "string" ? g.challenges.get(challengeId) : undefined;
  if (!ch) throw new GatewayError(404, "UNKNOWN_CHALLENGE", "no such 3-D Secure challenge (it expired or was answered)");
  let r: CardResult;
  try {
    r = await g.cards.complete(challengeId, answer);
  } catch (e) {
    g.challenges.delete(challengeId);
    if (e instanceof CardInvalid) throw new GatewayError(404, "UNKNOWN_CHALLENGE", e.message);
    throw e;
  }
  // a wrong code leaves the challenge open for another try (the processor decides how many)
  if (r.status === "approved" || answer.abandon) g.challenges.delete(challengeId);
  if (r.status === "declined") g.store.transaction(() => g.log(0, 0, "card-declined", { code: r.code, brand: r.brand, last4: r.last4, challenge: true }));
  return g.afterCard(ch.invoice, r);
}

export function afterCard(g: Gateway, invoice: Uint8Array, r: CardResult): PaidResult | CardChallenge {
  if (r.status === "declined") {
    if (r.code !== "AUTHENTICATION_FAILED") g.store.transaction(() => g.log(0, 0, "card-declined", { code: r.code, brand: r.brand, last4: r.last4 }));
    throw new GatewayError(402, r.code, r.message);
  }
  if (r.status === "challenge") {
    for (const [id, c] of g.challenges) if (c.at < g.now() - 600000) g.challenges.delete(id);
    g.challenges.set(r.challengeId, { invoice: new Uint8Array(invoice), at: g.now() });
    return { challenge: true, challengeId: r.challengeId, brand: r.brand, last4: r.last4 };
  }
  return g.recordOnlinePayment(invoice, r.funding === "debit" ? 2 : 1, { card: { brand: r.brand, last4: r.last4, processorRef: r.processorRef } });
}

/** An invoice that can be paid now (signed by a registered terminal, open, not expired), as stored or not yet. */
export function payable(g: Gateway, bytes: Uint8Array): { inv: NonNullable<ReturnType<typeof decodeInvoice>>; t: TerminalRow } {
  const x = g.checkInvoice(bytes);
  const have = g.store.getInvoice(x.t.merchantId, x.t.id, x.inv.invoiceNo);
  if (have && toHex(have.invoice) !== toHex(bytes)) throw new GatewayError(409, "INVOICE_CONFLICT", "terminal " + x.t.id + " already issued invoice " + x.inv.invoiceNo + " with other terms");
  if (have && have.status === "paid") throw new GatewayError(409, "INVOICE_PAID", "invoice " + have.invoiceNo + " is already paid", { paid: have.paid ? toBase64(have.paid) : undefined });
  if (x.inv.expires * 1000 < g.now()) throw new GatewayError(409, "INVOICE_EXPIRED", "invoice " + x.inv.invoiceNo + " expired");
  return x;
}

/** Records a payment the processor approved, or a wallet's: the money, the confirmation, the notices. */
export function recordOnlinePayment(g: Gateway, invoice: Uint8Array, method: number, by: { walletId?: string; card?: { brand: string; last4: string; processorRef: string } }): PaidResult {
  return g.store.transaction(() => {
    g.payable(invoice);
    const row = g.submitInvoice(invoice);
    const now = g.now();
    let payer = "";
    if (method === 3) {
      const w = by.walletId ? g.store.getWallet(by.walletId) : undefined;
      if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no such wallet");
      if (g.store.isDenied(w.id)) throw new GatewayError(403, "WALLET_DENIED", "the wallet is blocked");
      if (w.currency !== row.currency) throw new GatewayError(409, "CURRENCY", "the wallet holds another currency");
      payer = w.id;
    }
    const paymentRef = new Uint8Array(randomBytes(8));
    const paidAt = Math.floor(now / 1000);
    const paid = g.issuer.signPaid({ terminalId: row.terminalId, invoiceNo: row.invoiceNo, amountMinor: row.amountMinor, currency: row.currency, paidAt, method, paymentRef });
    const refHex = toHex(paymentRef);
    try {
      g.money.online("pay:" + refHex, row.merchantId, row.amountMinor, row.currency, method === 3 ? payer : "");
    } catch (e) {
      throw e instanceof MoneyError ? new GatewayError(e.status, e.code, e.message) : e;
    }
    const card = by.card ? by.card.brand + " " + by.card.last4 + " " + by.card.processorRef : "";
    g.store.updateInvoice(row.merchantId, row.terminalId, row.invoiceNo, { status: "paid", paidAt: now, method, paymentRef: refHex, paid, card });
    const ledgerRef = "pay:" + refHex;
    g.store.insertLedger({
      ref: ledgerRef,
      merchantId: row.merchantId,
      terminalId: row.terminalId,
      txId: "",
      kind: "invoice",
      method: 10 + method,
      amountMinor: row.amountMinor,
      currency: row.currency,
      walletId: method === 3 ? payer : "",
      counter: 0,
      orderRef: row.orderRef,
      status: "settled",
      txTime: now,
      holdUntil: 0,
      original: "",
      createdAt: now,
      updatedAt: now,
    });
    const methodName = method === 1 ? "card" : method === 2 ? "debit" : "wallet";
    g.log(row.merchantId, row.terminalId, "invoice-paid", { invoiceNo: row.invoiceNo, method: methodName, paymentRef: refHex, amountMinor: row.amountMinor, card: by.card ? { brand: by.card.brand, last4: by.card.last4, processorRef: by.card.processorRef } : undefined });
    g.event(row.merchantId, "payment.confirmed", {
      ref: ledgerRef,
      terminalId: row.terminalId,
      invoiceNo: row.invoiceNo,
      amountMinor: row.amountMinor,
      currency: row.currency,
      method: methodName,
      orderRef: row.orderRef,
    });
    g.smsIfTerminalOffline(row, methodName, ledgerRef);
    return { paid, qr: toQrText(paid), paymentRef: refHex, terminalId: row.terminalId, invoiceNo: row.invoiceNo, amountMinor: row.amountMinor, currency: row.currency };
  });
}
