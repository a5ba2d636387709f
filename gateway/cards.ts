/**
 * Card and debit-card payments go through a `CardProcessor` (an acquirer's API in production). The gateway never
 * keeps a card number: it passes it to the processor and keeps the brand, the last four digits and the processor's
 * reference.
 *
 *   const cards = new SandboxCardProcessor();
 *   const r = await cards.authorize({ amountMinor: 1250, currency: 978, card: { number, expiry: "12/30", cvc: "123" }, reference: "inv-7-1" });
 *   if (r.status === "challenge") { ... the customer completes 3-D Secure ...; await cards.complete(r.challengeId, "1234") }
 *
 * The reference processor is a sandbox with documented test cards (docs/gateway.md, "Paying online"):
 *
 *   number               brand        funding  outcome
 *   4242 4242 4242 4242  visa         credit   approved
 *   5555 5555 5555 4444  mastercard   credit   approved
 *   4000 0566 5566 5556  visa         debit    approved
 *   5200 8282 8282 8210  mastercard   debit    approved
 *   4000 0000 0000 0002  visa         credit   declined (CARD_DECLINED)
 *   4000 0000 0000 9995  visa         debit    declined (INSUFFICIENT_FUNDS)
 *   4000 0000 0000 0069  visa         credit   declined (CARD_EXPIRED), whatever the expiry date says
 *   4000 0000 0000 3220  visa         credit   3-D Secure challenge: code 1234 approves, anything else fails it
 *
 * Any other number that passes the Luhn check is approved as a credit card of the brand its prefix names; an expiry
 * date in the past is CARD_EXPIRED.
 */
import { randomBytes } from "node:crypto";

export interface CardDetails {
  number: string;
  /** "MM/YY". */
  expiry: string;
  cvc: string;
}

export interface CardAuthorization {
  amountMinor: number;
  currency: number;
  card: CardDetails;
  /** The merchant's reference for it (shown on the customer's statement). */
  reference: string;
  /** Unix ms, for the expiry check. */
  now: number;
}

/** What the gateway keeps of a card: never its number. */
export interface CardSummary {
  brand: string;
  last4: string;
  funding: "credit" | "debit";
}

export type CardResult =
  | ({ status: "approved"; processorRef: string } & CardSummary)
  | ({ status: "declined"; code: "CARD_DECLINED" | "INSUFFICIENT_FUNDS" | "CARD_EXPIRED" | "AUTHENTICATION_FAILED"; message: string } & CardSummary)
  | ({ status: "challenge"; challengeId: string } & CardSummary);

/** A refusal before the processor is asked: the details are not a card (400). */
export class CardInvalid extends Error {
  readonly code = "CARD_INVALID";
}

export interface CardProcessor {
  /** Authorizes and captures a payment, or asks for a 3-D Secure challenge. */
  authorize(a: CardAuthorization): Promise<CardResult>;
  /** The customer's answer to a challenge; `abandon` ends it without a payment. */
  complete(challengeId: string, answer: { code?: string; abandon?: boolean }): Promise<CardResult>;
}

export function luhn(n: string): boolean {
  let sum = 0;
  for (let i = 0; i < n.length; i++) {
    let d = n.charCodeAt(n.length - 1 - i) - 48;
    if (i % 2) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The card's number with spaces and dashes removed, checked: 12-19 digits, Luhn; expiry MM/YY; CVC 3-4 digits. */
export function checkCard(c: unknown): { number: string; month: number; year: number; cvc: string } {
  const x = c as Partial<CardDetails> | null;
  if (!x || typeof x !== "object") throw new CardInvalid("card: {number, expiry, cvc}");
  const number = typeof x.number === "string" ? x.number.replace(/[\s-]/g, "") : "";
  if (!/^[0-9]{12,19}$/.test(number) || !luhn(number)) throw new CardInvalid("card.number: 12 to 19 digits with a valid check digit");
  const ex = typeof x.expiry === "string" ? /^(0[1-9]|1[0-2])\s*\/\s*([0-9]{2})$/.exec(x.expiry.trim()) : null;
  if (!ex) throw new CardInvalid("card.expiry: MM/YY");
  if (typeof x.cvc !== "string" || !/^[0-9]{3,4}$/.test(x.cvc)) throw new CardInvalid("card.cvc: 3 or 4 digits");
  return { number, month: Number(ex[1]), year: 2000 + Number(ex[2]), cvc: x.cvc };
}

export function brandOf(number: string): string {
  if (/^4/.test(number)) return "visa";
  if (/^(5[1-5]|2[2-7])/.test(number)) return "mastercard";
  if (/^3[47]/.test(number)) return "amex";
  if (/^(6011|65)/.test(number)) return "discover";
  return "card";
}

const TEST_CARDS: Record<string, { funding: "credit" | "debit"; outcome: "approve" | "decline" | "funds" | "expired" | "3ds" }> = {
  "4242424242424242": { funding: "credit", outcome: "approve" },
  "5555555555554444": { funding: "credit", outcome: "approve" },
  "4000056655665556": { funding: "debit", outcome: "approve" },
  "5200828282828210": { funding: "debit", outcome: "approve" },
  "4000000000000002": { funding: "credit", outcome: "decline" },
  "4000000000009995": { funding: "debit", outcome: "funds" },
  "4000000000000069": { funding: "credit", outcome: "expired" },
  "4000000000003220": { funding: "credit", outcome: "3ds" },
};

/** The sandbox's 3-D Secure one-time code (the "bank" shows it on its challenge page). */
export const SANDBOX_3DS_CODE = "1234";

/** The reference processor: the test cards above, challenges kept in memory (they last 10 minutes). */
export class SandboxCardProcessor implements CardProcessor {
  private challenges = new Map<string, { summary: CardSummary; at: number; tries: number }>();

  async authorize(a: CardAuthorization): Promise<CardResult> {
    const c = checkCard(a.card);
    const t = TEST_CARDS[c.number] ?? { funding: "credit" as const, outcome: "approve" as const };
    const summary: CardSummary = { brand: brandOf(c.number), last4: c.number.slice(-4), funding: t.funding };
    if (Date.UTC(c.year, c.month, 1) <= a.now || t.outcome === "expired") return { status: "declined", code: "CARD_EXPIRED", message: "the card has expired", ...summary };
    if (t.outcome === "decline") return { status: "declined", code: "CARD_DECLINED", message: "the card was declined", ...summary };
    if (t.outcome === "funds") return { status: "declined", code: "INSUFFICIENT_FUNDS", message: "the card's account has insufficient funds", ...summary };
    if (t.outcome === "3ds") {
      const challengeId = "ch_" + randomBytes(12).toString("hex");
      this.challenges.set(challengeId, { summary, at: a.now, tries: 0 });
      return { status: "challenge", challengeId, ...summary };
    }
    return { status: "approved", processorRef: "sbx_" + randomBytes(10).toString("hex"), ...summary };
  }

  async complete(challengeId: string, answer: { code?: string; abandon?: boolean }): Promise<CardResult> {
    const ch = this.challenges.get(challengeId);
    if (!ch) throw new CardInvalid("no such 3-D Secure challenge (it expired or was answered)");
    if (answer.abandon) {
      this.challenges.delete(challengeId);
      return { status: "declined", code: "AUTHENTICATION_FAILED", message: "3-D Secure was abandoned", ...ch.summary };
    }
    if (answer.code !== SANDBOX_3DS_CODE) {
      ch.tries++;
      if (ch.tries >= 3) this.challenges.delete(challengeId);
      return { status: "declined", code: "AUTHENTICATION_FAILED", message: "the 3-D Secure code is wrong", ...ch.summary };
    }
    this.challenges.delete(challengeId);
    return { status: "approved", processorRef: "sbx_" + randomBytes(10).toString("hex"), ...ch.summary };
  }
}
