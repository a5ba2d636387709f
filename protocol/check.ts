/**
 * What the terminal checks, offline, before it accepts a customer's payment, in this order (cheap checks first,
 * the two signature checks on the secure element last, ~105 ms each on an ATECC608). The first failure decides
 * the reject code; docs/protocol.md lists them.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import type { SecureElement } from "../hal/secure-element.ts";
import { concat } from "./codec/hex.ts";
import { walletIdOf } from "./rules.ts";
import type { Payment, PaymentRequest } from "./messages.ts";
import { decodePayment, encodeAllowance, signedPart } from "./messages.ts";
import { fromQrText } from "./qr.ts";

export interface Reject {
  code: string;
  message: string;
}

/**
 * What each refusal code says (a function, not a constant: on the device the table stays in flash until a refusal
 * is shown, instead of ~70 JsVars for as long as the terminal runs).
 */
export function rejects(): { [code: string]: string } {
  return {
    R01: "Not a payment code, or damaged",
    R02: "Payment from a newer protocol version",
    R03: "No payment is open on this terminal",
    R04: "Wallet issued by an unknown issuer key",
    R05: "Wallet's offline allowance has expired",
    R06: "Payment currency differs from the request",
    R07: "Amount exceeds the wallet's offline allowance",
    R08: "Payment already used (counter replayed)",
    R09: "Wallet is blocked",
    R10: "Wallet allowance signature is not valid",
    R11: "Payment signature is not valid for this request",
    R12: "Secure element error",
  };
}

export function reject(code: string): Reject {
  return { code, message: rejects()[code] || code };
}

/** What the terminal remembers of wallets since its last sync, and what the gateway told it. */
export interface WalletLedger {
  denied(walletId: string): boolean;
  /** Highest counter seen from this wallet under this allowance, -1 when none. */
  lastCounter(walletId: string, allowanceDay: number): number;
  /** Amount accepted offline from this wallet under this allowance, minor units. */
  spentMinor(walletId: string, allowanceDay: number): number;
}

export interface CheckContext {
  /** The open request, encoded and signed, exactly as shown to the wallet; null when none is open. */
  request: Uint8Array | null;
  requestFields: PaymentRequest | null;
  /** Days since 1970 by the terminal's trusted (gateway-signed) time. */
  today: number;
  issuerKey(id: number): Uint8Array | null;
  ledger: WalletLedger;
  se: SecureElement;
  crypto: CryptoBackend;
  /**
   * The gateway is asked first (online authorization, docs/sync.md): R07, the allowance's cap as this terminal
   * counts it, is the gateway's to check across all terminals (A_CAP); the caller checks it itself before it takes
   * the payment offline. Every other check stays (they guard the terminal and its merchant whatever the gateway says).
   */
  online?: boolean;
}

export interface Accepted {
  payment: Payment;
  bytes: Uint8Array;
  walletId: string;
}

export { walletIdOf } from "./rules.ts";

export function checkPayment(ctx: CheckContext, text: string, done: (err: Reject | null, ok?: Accepted) => void): void {
  const parsed = fromQrText(text);
  if ("err" in parsed) return done(reject(parsed.err === "version" ? "R02" : "R01"));
  const p = decodePayment(parsed.msg);
  if (!p) return done(reject("R01"));
  const q = ctx.requestFields;
  if (!ctx.request || !q) return done(reject("R03"));
  const a = p.allowance;
  const issuer = ctx.issuerKey(a.issuerKeyId);
  if (!issuer) return done(reject("R04"));
  if (a.expiryDay < ctx.today) return done(reject("R05"));
  if (a.currency !== q.currency) return done(reject("R06"));
  const walletId = walletIdOf(ctx.crypto, a.walletPub);
  if (!ctx.online && q.amountMinor + ctx.ledger.spentMinor(walletId, a.expiryDay) > a.capMinor) return done(reject("R07"));
  if (p.counter < a.startCounter || p.counter <= ctx.ledger.lastCounter(walletId, a.expiryDay)) return done(reject("R08"));
  if (ctx.ledger.denied(walletId)) return done(reject("R09"));
  const c = ctx.crypto;
  const allowanceDigest = c.sha256(signedPart(encodeAllowance(a)));
  ctx.se.verify(allowanceDigest, a.issuerSig, issuer, (err, valid) => {
    if (err) return done(reject("R12"));
    if (!valid) return done(reject("R10"));
    const paymentDigest = c.sha256(concat([signedPart(parsed.msg), ctx.request as Uint8Array]));
    ctx.se.verify(paymentDigest, p.walletSig, a.walletPub, (err2, valid2) => {
      if (err2) return done(reject("R12"));
      if (!valid2) return done(reject("R11"));
      done(null, { payment: p, bytes: parsed.msg, walletId });
    });
  });
}
