/**
 * Text messages to payers and merchants, through an SmsProvider: a production gateway plugs in its SMS gateway
 * (gateway/kannel.ts speaks Kannel's HTTP sendsms interface); the simulator's OutboxSmsProvider keeps what it was
 * asked to send in memory and, when given a path, appends it to a JSON-lines file anyone can read.
 *
 * The gateway first queues each message in its database (the `sms` table, inside the transaction that decided to
 * send it), then SmsOutbox.flush() hands it to the provider after the commit: a crash never loses or invents one.
 * A provider that cannot be reached (SmsError "SMS_UNAVAILABLE") leaves the message queued, retried with backoff
 * for as long as it takes; a message the provider refuses is retried up to MAX_SMS_ATTEMPTS times, then "failed".
 * Delivery reports (Kannel's dlr-url callback) are recorded on the row by SmsOutbox.report().
 *
 *   const out = new SmsOutbox({ store, provider, now: () => clock.now(), log: (kind, detail) => ... });
 *   out.queue({ to: "+4915112345678", text, kind: "offline-received", walletId, ref });   // inside a transaction
 *   await out.flush();                                                                       // after the commit
 */
import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import { appendFileSync } from "node:fs";
import type { GatewayStore, SmsRow } from "./store.ts";
import { retryDelay } from "./webhooks.ts";

export interface SmsMessage {
  to: string;
  text: string;
  /** The outbox row's ID and its delivery-report token (a provider that can ask for delivery reports uses them). */
  id?: number;
  token?: string;
}

export interface SmsProvider {
  /**
   * Sends one message; throws (or rejects) when it was not taken: an SmsError "SMS_UNAVAILABLE" when the provider
   * could not be reached (kept queued, never given up), any other error when it refused the message (counted).
   */
  send(m: SmsMessage): void | Promise<void>;
}

export type SmsErrorCode = "SMS_UNAVAILABLE" | "SMS_REFUSED";

/** Why a provider did not take a message: unavailable (network, 5xx, its own queue full) or refused (4xx). */
export class SmsError extends Error {
  constructor(
    readonly code: SmsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Refusals a message gets before it is "failed" (tries at an unreachable provider do not count). */
export const MAX_SMS_ATTEMPTS = 5;

/**
 * A terminal is offline for the merchant's SMS when it has not said hello for more than 10 minutes: terminals say
 * hello every 5 minutes (firmware/sync/sync.ts, intervalMs) and retry within 5 minutes at most, so 10 minutes is
 * one missed hello and its retry.
 */
export const TERMINAL_OFFLINE_MS = 10 * 60000;

/** A phone number in E.164 (a "+", then 6 to 15 digits), as wallets and merchants give it. */
export function isE164(v: unknown): v is string {
  return typeof v === "string" && /^\+[0-9]{6,15}$/.test(v);
}

/** Delay before attempt `attempts + 1` (ms): as webhooks, 30 s, 1, 2, 4 … minutes, at most 1 h. */
export function smsRetryDelay(attempts: number): number {
  return retryDelay(attempts);
}

/**
 * What no SMS may carry: a card number (12 to 19 digits, spaces or dashes allowed between them) keeps its last 4
 * digits; a wallet ID or any other run of 16 or more hex digits keeps its first 4. Applied to every text queued, so
 * a merchant name or a future message cannot leak one either.
 */
export function redactSms(text: string): string {
  return text
    .replace(/[0-9](?:[ -]?[0-9]){11,18}/g, (m) => "****" + m.replace(/[^0-9]/g, "").slice(-4))
    .replace(/[0-9A-Fa-f]{16,}/g, (m) => m.slice(0, 4) + "...");
}

/** The GSM 7-bit default alphabet (3GPP TS 23.038, 6.2.1) and its extension table's characters (2 septets each). */
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXT = "^{}\\[~]|€";

/** Septets of a text in the GSM 7-bit alphabet (extension characters cost 2), or -1 when it needs UCS-2. */
export function gsmLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const septets = c < 128 ? GSM_ASCII[c] : (GSM_OTHER.get(c) ?? 0);
    if (!septets) return -1;
    n += septets;
  }
  return n;
}

/**
 * Septets a character code costs (0: not in the alphabet): the ASCII codes by table, the others by map; a payer's
 * SMS is measured for every payment entered, and searching the alphabet's text for each character was a tenth of
 * entering one. Both alphabets are single UTF-16 code units, so a code unit outside them (a surrogate too) is -1.
 */
const GSM_ASCII = new Uint8Array(128);
const GSM_OTHER = new Map<number, number>();
for (const [chars, septets] of [[GSM_EXT, 2], [GSM_BASIC, 1]] as const) {
  for (let i = 0; i < chars.length; i++) {
    const c = chars.charCodeAt(i);
    if (c < 128) GSM_ASCII[c] = septets;
    else GSM_OTHER.set(c, septets);
  }
}

/** One SMS segment: 160 GSM 7-bit septets (3GPP TS 23.038), or 70 UCS-2 characters. */
export function oneSegment(text: string): boolean {
  const g = gsmLength(text);
  return g >= 0 ? g <= 160 : text.length <= 70;
}

/**
 * `make(name)` with the merchant's name shortened ("...") until the text fits one segment; names are kept to at
 * least 8 characters (a longer text, two segments, rather than an unrecognisable name). Characters outside the GSM
 * alphabet in the name become "?" so the text stays 7-bit.
 */
function fitName(name: string, make: (n: string) => string): string {
  const clean = Array.from(redactSms(name), (ch) => (gsmLength(ch) < 0 ? "?" : ch)).join("");
  let text = make(clean);
  for (let keep = clean.length - 1; !oneSegment(text) && keep >= 8; keep--) text = make(clean.slice(0, keep).trimEnd() + "...");
  return text;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "8 Dec 12:00 UTC": short, and unambiguous within a hold of a few days. */
export function smsTime(ms: number): string {
  const d = new Date(ms);
  const hm = d.toISOString().slice(11, 16);
  return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + hm + " UTC";
}

/** The payer's SMS when a terminal's upload of their offline payment reached the issuer (the payment is held). */
export function offlineReceivedText(o: { amount: string; merchant: string; utr: string; holdUntil: number }): string {
  return fitName(o.merchant, (n) => "Offline payment " + o.amount + " to " + n + " received by the issuer, ref " + o.utr + ". Held until " + smsTime(o.holdUntil) + " unless you confirm it in your app.");
}

/** The payer's SMS when the 3-day rule approved their held payment. */
export function autoApprovedText(o: { amount: string; merchant: string; utr: string }): string {
  return fitName(o.merchant, (n) => "Offline payment of " + o.amount + " to " + n + " (ref " + o.utr + ") was approved. Not you? Claim fraud in your wallet app.");
}

/** The merchant's SMS when an invoice of an offline terminal was paid online. */
export function paidWhileOfflineText(o: { merchant: string; amount: string; invoiceNo: number; terminalId: number; method: string }): string {
  return fitName(o.merchant, (n) => n + ": invoice " + o.invoiceNo + " of " + o.amount + " paid online (" + o.method + "). Terminal " + o.terminalId + " is offline; it shows the payment at its next sync.");
}

/**
 * Kannel's delivery report types (the `%d` of dlr-url; Kannel user's guide, "Delivery reports"): 1 delivered to the
 * phone, 2 not delivered, 4 buffered, 8 accepted by the SMSC, 16 rejected by the SMSC.
 */
export const DLR_MASK = 1 | 2 | 4 | 8 | 16;
export type DlrStatus = "delivered" | "failed" | "buffered" | "submitted";

export function dlrStatus(type: number): DlrStatus | "" {
  if (type === 1) return "delivered";
  if (type === 2 || type === 16) return "failed";
  if (type === 4) return "buffered";
  if (type === 8) return "submitted";
  return "";
}

/**
 * How long a process holds an outbox row it claimed (SMS, webhook) while it sends it: another process takes the row
 * only after this (the sender died). Longer than any provider's or receiver's timeout.
 */
export const SEND_LEASE_MS = 120000;

/** Final reports are never overwritten by an intermediate one that arrives after them (callbacks may cross). */
function dlrRank(s: string): number {
  return s === "delivered" || s === "failed" ? 2 : s ? 1 : 0;
}

export interface SmsQueued {
  to: string;
  text: string;
  /** Which rule sent it: offline-received, auto-approved, reversed, dispute-reversed, paid-while-offline. */
  kind: string;
  walletId?: string;
  merchantId?: number;
  ref: string;
}

/** The `sms` table's queue: queue (in a transaction), flush (after it), delivery reports. */
export class SmsOutbox {
  constructor(
    private readonly o: {
      store: GatewayStore;
      provider: SmsProvider;
      now: () => number;
      /** The activity log (issuer's own: merchant 0). */
      log: (kind: string, detail: Record<string, unknown>) => void;
    },
  ) {}

  /** Queues one message (call inside the transaction that decided it); a text is redacted first. */
  queue(m: SmsQueued): void {
    if (!isE164(m.to)) return;
    const now = this.o.now();
    this.o.store.insertSms({
      to: m.to,
      text: redactSms(m.text),
      kind: m.kind,
      walletId: m.walletId ?? "",
      merchantId: m.merchantId ?? 0,
      ref: m.ref,
      status: "queued",
      attempts: 0,
      refused: 0,
      at: now,
      sentAt: 0,
      nextAt: now,
      lastError: "",
      dlrToken: randomBytes(16).toString("hex"),
      dlr: "",
      dlrAt: 0,
    });
  }

  /**
   * Hands every due message to the provider, one at a time; false when the store closed meanwhile. Once the
   * provider is unavailable the pass ends: the rest wait for the next one (a provider that hangs until its timeout
   * would otherwise hold up the webhooks behind every queued message).
   */
  async flush(): Promise<boolean> {
    const s = this.o.store;
    if (!s.open) return false;
    let down = false;
    // one message at a time, claimed first: another process on the same database never sends the same row meanwhile
    while (!down) {
      if (!s.open) return false;
      const claimed = s.claimSms(this.o.now(), this.o.now() + SEND_LEASE_MS, 1);
      if (!claimed.length) break;
      const row = claimed[0];
      const id = row.id as number;
      let err: unknown = null;
      try {
        await this.o.provider.send({ to: row.to, text: row.text, id, token: row.dlrToken });
      } catch (e) {
        err = e;
      }
      if (!s.open) return false;
      const who = { id, kind: row.kind, walletId: row.walletId || undefined, merchantId: row.merchantId || undefined, ref: row.ref };
      s.transaction(() => {
        const now = this.o.now();
        if (!err) {
          s.updateSms(id, { status: "sent", sentAt: now, attempts: row.attempts + 1, lastError: "" });
          this.o.log("sms-sent", who);
          return;
        }
        const message = (err instanceof Error ? err.message : String(err)).slice(0, 200);
        const attempts = row.attempts + 1;
        if (err instanceof SmsError && err.code === "SMS_UNAVAILABLE") {
          // not the message's fault: it stays queued, retried with backoff, never given up (refusals untouched)
          s.updateSms(id, { attempts, nextAt: now + smsRetryDelay(attempts), lastError: message });
          this.o.log("sms-retry", { ...who, error: message, attempts, unavailable: true });
          down = true;
          return;
        }
        const refused = row.refused + 1;
        const failed = refused >= MAX_SMS_ATTEMPTS;
        s.updateSms(id, { attempts, refused, status: failed ? "failed" : "queued", nextAt: now + smsRetryDelay(attempts), lastError: message });
        this.o.log(failed ? "sms-failed" : "sms-retry", { ...who, error: message, attempts });
      });
    }
    return true;
  }

  /**
   * A delivery report for message `id`, authenticated by its token (from the dlr-url the provider was given).
   * Returns the row, or null when the ID or token is wrong (the caller answers 404: nothing is learnt).
   */
  report(id: number, token: string, type: number): SmsRow | null {
    const s = this.o.store;
    const row = Number.isSafeInteger(id) && id > 0 ? s.smsById(id) : undefined;
    if (!row || !row.dlrToken || typeof token !== "string" || !sameSecret(row.dlrToken, token)) return null;
    const st = dlrStatus(type);
    if (!st) return row;
    if (dlrRank(st) < dlrRank(row.dlr)) return row;
    const now = this.o.now();
    s.updateSms(id, { dlr: st, dlrAt: now });
    this.o.log("sms-dlr", { id, kind: row.kind, dlr: st, type });
    return { ...row, dlr: st, dlrAt: now };
  }
}

function sameSecret(a: string, b: string): boolean {
  const h = (x: string) => createHash("sha256").update(x).digest();
  return timingSafeEqual(h(a), h(b));
}

/** The simulator's provider: an outbox you can read (`sent`), optionally mirrored to a JSON-lines file. */
export class OutboxSmsProvider implements SmsProvider {
  readonly sent: (SmsMessage & { at: number })[] = [];
  constructor(private readonly o: { file?: string; now?: () => number } = {}) {}
  send(m: SmsMessage): void {
    const row = { to: m.to, text: m.text, at: this.o.now ? this.o.now() : Date.now() };
    this.sent.push(row);
    if (this.o.file) appendFileSync(this.o.file, JSON.stringify(row) + "\n");
  }
}
