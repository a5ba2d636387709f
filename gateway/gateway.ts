/**
 * The reference gateway: the issuer's online side. One class over a GatewayStore (SQLite by default), a clock (movable
 * in the simulator, for the 3-day rule), an SmsProvider and a webhook transport. docs/gateway.md describes it and
 * docs/gateway-api.yaml is its HTTP API.
 *
 *   const gw = new Gateway({ store: openSqliteStore("gateway.db"), clock: new MovableClock(), sms: new OutboxSmsProvider() });
 *   const m = gw.registerMerchant({ name: "Cafe Blue" });
 *   const t = gw.registerTerminal({ merchantId: m.merchantId, publicKey });     // t.cert: the TerminalCert
 *   const res = await gw.handle({ method: "POST", path: "/v1/t/7/hello", headers: {}, body });
 *
 * Every request runs in ONE store transaction: it lands whole or not at all. Outboxes (SMS, webhooks) are written in
 * that transaction and sent after it (flush()).
 */
import { createECDH, createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { PAY_PAGE } from "./pay-page.ts";
import type { CryptoBackend } from "../hal/crypto.ts";
import { concat, fromHex, toHex } from "../protocol/codec/hex.ts";
import type { Entry } from "../protocol/entry.ts";
import { decodeEntry, encodeEntry, entryWalletId } from "../protocol/entry.ts";
import { txParts, utr } from "../protocol/ids.ts";
import type { Allowance } from "../protocol/messages.ts";
import { decodeAllowance, decodeInvoice, decodePaid, decodePayment, decodeReceipt, decodeRefund, decodeRequest, signedPart } from "../protocol/messages.ts";
import { toQrText } from "../protocol/qr.ts";
import { HOLD_MS, walletIdOf } from "../protocol/rules.ts";
import type { LinkKeys, LinkReply, LinkRequest } from "../protocol/sync.ts";
import { isLinkError, linkKeys, MAX_CHUNK, MAX_UPLOAD_RECORDS, openRequest, sealReply, toBase64 } from "../protocol/sync.ts";
import type { GatewayClock } from "./clock.ts";
import { isMovable, systemClock } from "./clock.ts";
import { isPublicKey, Issuer, publicKeyOf, signBody } from "./issuer.ts";
import { issuerKeyBody, MAX_KEYS, revokeBody } from "../protocol/keys.ts";
import { firmwareBody, isLabel } from "../protocol/firmware.ts";
import { nodeCrypto } from "./node-crypto.ts";
import type { SmsProvider } from "./sms.ts";
import { autoApprovedText, isE164, offlineReceivedText, OutboxSmsProvider, paidWhileOfflineText, SmsOutbox, TERMINAL_OFFLINE_MS } from "./sms.ts";
import type {
  ActivityRow,
  AllowanceRow,
  PayoutRow,
  PayoutRunRow,
  ConnectionRow,
  FlagRow,
  GatewayStore,
  InvoiceRow,
  LedgerRow,
  MerchantRow,
  RecordRow,
  SmsRow,
  TerminalRow,
  WalletRow,
  WebhookRow,
} from "./store.ts";
import { Verifier } from "./verify.ts";
import type { CardDetails, CardProcessor, CardResult } from "./cards.ts";
import { CardInvalid, SandboxCardProcessor } from "./cards.ts";
import type { MerchantBalances, Statement, WalletBalances } from "./books.ts";
import { ISSUER_CARDS, ISSUER_FUNDS, ISSUER_LOSSES, merchantAvailable, statementCsv, walletAvailable } from "./books.ts";
import { Money, MoneyError, PURSE_GRACE_MS } from "./money.ts";
import type { Party } from "./payouts.ts";
import { isJsonMediaType } from "./media-type.ts";
import { pain001, validBic, validIban } from "./payouts.ts";
import type { SigCheck } from "./verify-pool.ts";
import { VerifyPool } from "./verify-pool.ts";
import type { WebhookTransport } from "./webhooks.ts";
import { deliveryError, fetchTransport, MAX_WEBHOOK_ATTEMPTS, retryDelay, webhookSignature, webhookUrlProblem } from "./webhooks.ts";

export const DAY_MS = 86400000;
export { HOLD_MS };
/** How long after a payment its payer may dispute it (as card schemes allow about 120 days). */
export const DISPUTE_WINDOW_MS = 120 * DAY_MS;
export const DEFAULT_LIMITS = { perTxMinor: 5000, unsyncedMinor: 50000, maxDaysOffline: 3, perWalletMinor: 10000 };
/** Label of the wallet request signature (starts with "o", never a protocol message's version byte). */
export const WALLET_API_LABEL = "offline-pay wallet-api v1";

// ---------------------------------------------------------------- HTTP shapes

export interface GatewayRequest {
  method: string;
  /** Path, optionally with a query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  remote?: { address: string; port: number };
  /** The HTTP server's connection this request came on (for the connection log); absent in-process. */
  connection?: number;
}

export interface GatewayResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** A refusal: HTTP status, a stable code and a message; the request's transaction is rolled back. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const bad = (code: string, message: string) => new GatewayError(400, code, message);

/** A revocation sent to terminals in the hello reply's `revoke`: `sig` by `by` over SHA-256(revokeBody(id)). */
export interface IssuerKeyRevocation {
  id: number;
  by: number;
  sig: string;
}

/** An issuer key announced to terminals in the hello reply's `keys` (hex; docs/protocol.md section 1). */
export interface IssuerKeyAnnouncement {
  id: number;
  pub: string;
  by: number;
  sig: string;
}

// ---------------------------------------------------------------- options and results

export interface GatewayOptions {
  store: GatewayStore;
  clock?: GatewayClock;
  sms?: SmsProvider;
  webhooks?: WebhookTransport;
  /** The issuer (signing key). Default: the one stored in the database, else a new one (then stored). */
  issuer?: Issuer;
  /** The link key's private scalar (32 bytes). Default: stored, else new. */
  linkPrivateKey?: Uint8Array;
  /** Bearer token of the admin API. Default: stored, else new. */
  adminToken?: string;
  /** Days an allowance is valid from its issue (default 30). */
  allowanceDays?: number;
  /** Run the daily settlement (payouts) from tick() once a day is over (default false; `npm run gateway` turns it on). */
  dailyPayouts?: boolean;
  /** Card and debit-card payments (default: the sandbox with its documented test cards, gateway/cards.ts). */
  cards?: CardProcessor;
  /** The issuer's own bank account, debtor of the payout files (default: stored by the admin API, else none). */
  payoutAccount?: Party;
  /** Deliver outboxes after each request (default true; tests turn it off and call flush()). */
  autoFlush?: boolean;
  /**
   * Worker threads that check uploads' signatures before their turn (preverify(); the HTTP server calls it). Default
   * 0: every check runs in the request.
   */
  verifyThreads?: number;
}

export interface MerchantSpec {
  name: string;
  /** ISO 4217 numeric (default 978, EUR). */
  currency?: number;
  webhookUrl?: string;
  limits?: Partial<typeof DEFAULT_LIMITS> & Record<string, unknown>;
  /** Ask for a particular merchant ID (default: the next free). */
  merchantId?: number;
  /** Where payouts go (IBAN, and BIC when the bank needs it). */
  iban?: string;
  bic?: string;
  /** Where the merchant's SMS go (E.164): an invoice paid online while its terminal is offline. */
  phone?: string;
}

export interface MerchantCreated {
  merchantId: number;
  /** Shown once: the merchant API's bearer token. */
  apiKey: string;
  webhookSecret: string;
}

export interface TerminalSpec {
  merchantId: number;
  /** The terminal's identity public key X||Y (from its secure element, slot 0). */
  publicKey: Uint8Array;
  terminalId?: number;
  /** Certificate expiry (days since 1970); default in 3 years. */
  expiryDay?: number;
}

export interface TerminalCreated {
  terminalId: number;
  merchantId: number;
  /** The issuer-signed TerminalCert (141 bytes). */
  cert: Uint8Array;
  /** The gateway's link public key X||Y: provisioning puts it in cfg.json. */
  linkPublicKey: Uint8Array;
  issuerKeyId: number;
  issuerPublicKey: Uint8Array;
}

export interface WalletSpec {
  publicKey: Uint8Array;
  phone?: string;
  /** Offline cap per allowance (u24): each allowance reserves it from the available balance. */
  capMinor: number;
  currency?: number;
  /** Money the wallet is opened with (a first top-up); it must cover the first allowance's cap. */
  balanceMinor?: number;
}

export interface WalletCreated {
  walletId: string;
  /** The issuer-signed Allowance (140 bytes). */
  allowance: Uint8Array;
}

export type { CardDetails } from "./cards.ts";

/** A card payment waiting for the customer's 3-D Secure answer (POST /v1/invoices/pay/3ds). */
export interface CardChallenge {
  challenge: true;
  challengeId: string;
  brand: string;
  last4: string;
}

export interface PayOnline {
  /** The terminal-signed Invoice (84 bytes). */
  invoice: Uint8Array;
  method: "card" | "debit" | "wallet";
  card?: CardDetails;
  /** For method "wallet": the paying wallet (already authenticated by the caller). */
  walletId?: string;
}

export interface PaidResult {
  /** The issuer-signed PaidConfirmation (94 bytes). */
  paid: Uint8Array;
  /** Its QR text ("C1…"), what the customer's phone shows to an offline terminal. */
  qr: string;
  paymentRef: string;
  terminalId: number;
  invoiceNo: number;
  amountMinor: number;
  currency: number;
}

/**
 * What a wallet reports at sync: the offline payments it made (counter, terminal, amount) and, as evidence, the
 * terminal-signed request, its own payment and the terminal-signed receipt (base64): a terminal lost before it
 * uploaded is paid from these.
 */
export interface WalletReport {
  /** What the next allowance should reserve (default, and at most, the wallet's cap). */
  capMinor?: number;
  spent: { counter: number; terminalId: number; amountMinor: number; request?: string; payment?: string; receipt?: string }[];
}

export interface WalletSynced {
  walletId: string;
  /** A fresh allowance; null when the wallet is on the deny list. */
  allowance: Uint8Array | null;
  denied: boolean;
  /** Ledger refs approved by this sync (held payments it matched). */
  matched: string[];
  /** Payments terminals uploaded that this report did not mention (flagged; the payer may claim fraud). */
  unreported: string[];
  /** Payments entered from the wallet's evidence (receipts of terminals that had not uploaded them). */
  evidenced: string[];
  /** Why no allowance came with the sync when the wallet is not denied ("INSUFFICIENT_FUNDS"), else "". */
  allowanceError: string;
  balances: WalletBalances;
}

export interface UploadRecord {
  seq: number;
  prev?: string;
  entry: string;
}

type Verdict = { ok: true } | { ok: false; code: string; message: string };

function toPosInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function isHex(v: unknown, bytes: number): v is string {
  return typeof v === "string" && v.length === bytes * 2 && /^[0-9a-f]*$/.test(v);
}

function header(req: GatewayRequest, name: string): string {
  const v = req.headers[name] ?? req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] || "" : v || "";
}

/**
 * Standard base64 in its one canonical form (padding, zero bits under it), else null: what the link codec's
 * fromBase64 accepts, at Node's speed (that one is written for the device).
 */
export function strictBase64(s: string): Uint8Array | null {
  if (typeof s !== "string" || s.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, "base64");
  if (b.toString("base64") !== s) return null;
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** "YYYY-MM-DD" of a Unix ms time, UTC. */
export function dayString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** An IBAN as stored: upper case, no spaces; "" for none; 400 when its check digits are wrong. */
function checkIban(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  const s = typeof v === "string" ? v.replace(/\s+/g, "").toUpperCase() : "";
  if (!validIban(s)) throw bad("BAD_IBAN", "iban: an IBAN (ISO 13616) with valid check digits");
  return s;
}

/** A phone number as stored: E.164, "" for none; 400 otherwise. */
function checkPhone(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  if (!isE164(v)) throw bad("BAD_PHONE", "phone: E.164, e.g. +4915112345678");
  return v;
}

function checkBic(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  const s = typeof v === "string" ? v.trim().toUpperCase() : "";
  if (!validBic(s)) throw bad("BAD_BIC", "bic: 8 or 11 characters (ISO 9362)");
  return s;
}

function sha256Hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function versionNewer(a: string, b: string): boolean {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "0";
    const y = pb[i] ?? "0";
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      if (nx !== ny) return nx > ny;
    } else if (x !== y) return x > y;
  }
  return false;
}

const CURRENCY: Record<number, string> = { 978: "EUR", 840: "USD", 826: "GBP", 756: "CHF", 752: "SEK", 985: "PLN" };

export function money(minor: number, currency: number): string {
  const sign = minor < 0 ? "-" : "";
  const a = Math.abs(minor);
  return sign + Math.floor(a / 100) + "." + String(a % 100).padStart(2, "0") + " " + (CURRENCY[currency] ?? String(currency));
}


/** The bytes a wallet signs for an API request: SHA-256 is taken over them (docs/gateway.md, wallet API). */
export function walletRequestBytes(method: string, path: string, body: string): Uint8Array {
  return new Uint8Array(Buffer.from(WALLET_API_LABEL + "\n" + method.toUpperCase() + "\n" + path + "\n" + body, "utf8"));
}

// ---------------------------------------------------------------- the gateway

export class Gateway {
  readonly store: GatewayStore;
  readonly clock: GatewayClock;
  readonly issuer: Issuer;
  readonly linkPublicKey: Uint8Array;
  readonly adminToken: string;
  readonly sms: SmsProvider;
  private readonly smsOut: SmsOutbox;
  private readonly webhookTransport: WebhookTransport;
  private readonly crypto: CryptoBackend = nodeCrypto();
  private readonly verifier = new Verifier();
  private readonly linkPrivate: Uint8Array;
  private readonly allowanceDays: number;
  private readonly autoFlush: boolean;
  private readonly dailyPayouts: boolean;
  private readonly money: Money;
  private readonly cards: CardProcessor;
  /** 3-D Secure challenges waiting for the customer (in memory: a restart asks the customer to pay again). */
  private challenges = new Map<string, { invoice: Uint8Array; at: number }>();
  private linkCache = new Map<number, { pub: string; keys: LinkKeys }>();
  private allowanceOk = new Set<string>();
  /** Open HTTP connections: where from, since when, and the connection log's row of each terminal that spoke on it. */
  private conns = new Map<number, { address: string; port: number; at: number; rows: Map<number, number> }>();
  private flushing: Promise<void> | null = null;
  private readonly pool: VerifyPool | null;
  private flushAgain = false;

  constructor(o: GatewayOptions) {
    this.store = o.store;
    this.clock = o.clock ?? systemClock;
    this.sms = o.sms ?? new OutboxSmsProvider({ now: () => this.clock.now() });
    this.smsOut = new SmsOutbox({ store: o.store, provider: this.sms, now: () => this.clock.now(), log: (kind, detail) => this.log(0, 0, kind, detail) });
    this.webhookTransport = o.webhooks ?? fetchTransport;
    this.allowanceDays = o.allowanceDays ?? 30;
    this.autoFlush = o.autoFlush ?? true;
    this.dailyPayouts = o.dailyPayouts ?? false;
    this.money = new Money(o.store, () => this.clock.now());
    this.cards = o.cards ?? new SandboxCardProcessor();
    this.pool = o.verifyThreads && o.verifyThreads > 0 ? new VerifyPool(o.verifyThreads) : null;
    const s = this.store;
    const got = s.transaction(() => {
      let issuer = o.issuer;
      if (issuer) {
        s.setMeta("issuerKeyId", String(issuer.keyId));
        s.setMeta("issuerPrivate", toHex(issuer.privateKey));
      } else {
        const id = s.getMeta("issuerKeyId");
        const priv = s.getMeta("issuerPrivate");
        issuer = id && priv ? new Issuer({ keyId: Number(id), privateKey: fromHex(priv) }) : Issuer.generate(1);
        s.setMeta("issuerKeyId", String(issuer.keyId));
        s.setMeta("issuerPrivate", toHex(issuer.privateKey));
      }
      let link = o.linkPrivateKey;
      if (!link) {
        const stored = s.getMeta("linkPrivate");
        link = stored ? (fromHex(stored) as Uint8Array) : new Uint8Array(randomBytes(32));
      }
      s.setMeta("linkPrivate", toHex(link));
      const token = o.adminToken ?? s.getMeta("adminToken") ?? "adm_" + randomBytes(18).toString("hex");
      s.setMeta("adminToken", token);
      if (!s.getMeta("denyVersion")) s.setMeta("denyVersion", "1");
      if (!s.getMeta("nextTerminalId")) s.setMeta("nextTerminalId", "1");
      if (o.payoutAccount) s.setMeta("payoutAccount", JSON.stringify(this.checkParty(o.payoutAccount)));
      return { issuer, link, token };
    });
    this.issuer = got.issuer;
    this.linkPrivate = got.link;
    this.linkPublicKey = publicKeyOf(got.link);
    this.adminToken = got.token;
  }

  now(): number {
    return this.clock.now();
  }

  close(): void {
    this.store.close();
    if (this.pool) void this.pool.close();
  }

  /** True for the requests preverify() can help (an upload on the terminal link, when there are workers). */
  wantsPreverify(req: { method: string; path: string }): boolean {
    return !!this.pool && (req.method || "").toUpperCase() === "POST" && /^\/v1\/t\/[0-9]{1,10}\/upload$/.test((req.path || "").split("?")[0]);
  }

  /**
   * Before an upload's turn: opens it (without acting on it) and has its entries' signatures checked on the worker
   * threads; what they verify is admitted to the Verifier, so the request's transaction only looks the answers up.
   * Never fails: anything it cannot do is simply checked in the request, as without workers.
   */
  async preverify(req: GatewayRequest): Promise<void> {
    if (!this.pool || !this.wantsPreverify(req) || !this.storeOpen()) return;
    try {
      const tid = Number((req.path || "").split("?")[0].split("/")[3]);
      const t = this.store.getTerminal(tid);
      if (!t) return;
      const r = openRequest(this.crypto, this.keysFor(t), req.body, { lastSeq: 0, op: "upload", tid });
      if (isLinkError(r) || !Array.isArray(r.msg.records)) return;
      const checks: SigCheck[] = [];
      for (const rec of (r.msg.records as UploadRecord[]).slice(0, MAX_UPLOAD_RECORDS)) {
        const bytes = rec && typeof rec.entry === "string" ? strictBase64(rec.entry) : null;
        const e = bytes ? decodeEntry(bytes) : null;
        if (e) this.sigChecks(t, e, checks);
      }
      if (!checks.length) return;
      const ok = await this.pool.verify(checks);
      for (let i = 0; i < checks.length; i++) if (ok[i]) this.verifier.admit(checks[i].pub, checks[i].data, checks[i].sig);
    } catch {
      // checked in the request instead
    }
  }

  /** The signatures verifyEntry() will check for an entry (the allowance's issuer signature is cached apart). */
  private sigChecks(t: TerminalRow, e: Entry, out: SigCheck[]): void {
    const tail = (m: Uint8Array) => m.subarray(m.length - 64);
    if (e.kind === 1) {
      if (e.request.length > 64) out.push({ pub: t.pub, data: signedPart(e.request), sig: tail(e.request) });
      const p = decodePayment(e.payment);
      if (!p) return;
      const whole = new Uint8Array(140);
      whole[0] = 1;
      whole[1] = 1;
      whole.set(e.payment.subarray(2, 140), 2);
      const a = decodeAllowance(whole);
      if (a) out.push({ pub: a.walletPub, data: concat([signedPart(e.payment), e.request]), sig: p.walletSig });
    } else if (e.kind === 3 && e.refund.length > 64) out.push({ pub: t.pub, data: signedPart(e.refund), sig: tail(e.refund) });
  }

  // ------------------------------------------------------------ books (in-process reads)

  ledger(merchantId?: number): LedgerRow[] {
    return this.store.ledger(merchantId);
  }
  holds(merchantId?: number): LedgerRow[] {
    return this.store.held(merchantId);
  }
  smsOutbox(): SmsRow[] {
    return this.store.sms();
  }
  flags(merchantId?: number): FlagRow[] {
    return this.store.flags(merchantId);
  }
  activity(merchantId?: number, limit?: number): ActivityRow[] {
    return this.store.activity(merchantId, limit);
  }
  connections(merchantId?: number): ConnectionRow[] {
    return this.store.connections(merchantId);
  }
  webhooks(merchantId?: number): WebhookRow[] {
    return this.store.webhooks(merchantId);
  }
  records(merchantId: number, terminalId?: number): RecordRow[] {
    return this.store.records(merchantId, terminalId);
  }
  invoices(merchantId: number): InvoiceRow[] {
    return this.store.listInvoices(merchantId);
  }
  denyList(): string[] {
    return this.store.denyList();
  }
  denyVersion(): number {
    return Number(this.store.getMeta("denyVersion") || "1");
  }
  terminal(terminalId: number): TerminalRow | undefined {
    return this.store.getTerminal(terminalId);
  }
  wallet(walletId: string): WalletRow | undefined {
    return this.store.getWallet(walletId);
  }

  // ------------------------------------------------------------ writes shared by the API and in-process callers

  private log(merchantId: number, terminalId: number, kind: string, detail: unknown): void {
    this.store.insertActivity({ merchantId, terminalId, kind, detail: typeof detail === "string" ? detail : JSON.stringify(detail), at: this.now() });
  }

  private flag(f: Omit<FlagRow, "at" | "id">): void {
    this.store.insertFlag({ ...f, at: this.now() });
    this.log(f.merchantId, f.terminalId, "flag", { kind: f.kind, walletId: f.walletId, txId: f.txId, detail: f.detail });
  }

  private deny(walletId: string, reason: string, merchantId: number, terminalId: number): void {
    if (this.store.denyAdd(walletId, reason, this.now())) {
      this.store.setMeta("denyVersion", String(this.denyVersion() + 1));
      this.log(0, 0, "deny", { walletId, reason, byMerchant: merchantId, byTerminal: terminalId });
    }
  }

  private event(merchantId: number, event: string, payload: Record<string, unknown>): void {
    const m = this.store.getMerchant(merchantId);
    if (!m) return;
    this.store.insertWebhook({
      merchantId,
      event,
      payload: JSON.stringify({ event, merchantId, at: this.now(), ...payload }),
      url: m.webhookUrl,
      status: m.webhookUrl ? "pending" : "none",
      attempts: 0,
      nextAt: this.now(),
      lastError: "",
      createdAt: this.now(),
      deliveredAt: 0,
    });
  }

  private queueSms(walletId: string, ref: string, text: string, kind: string): void {
    const w = this.store.getWallet(walletId);
    if (!w || !w.phone) return;
    this.smsOut.queue({ to: w.phone, text, kind, walletId, ref });
  }

  /** The merchant's SMS for an invoice paid online while its terminal is offline (TERMINAL_OFFLINE_MS, gateway/sms.ts). */
  private smsIfTerminalOffline(inv: InvoiceRow, method: string, ref: string): void {
    const m = this.store.getMerchant(inv.merchantId);
    const t = this.store.getTerminal(inv.terminalId);
    if (!m || !m.phone || !t || this.now() - t.lastHelloAt <= TERMINAL_OFFLINE_MS) return;
    const text = paidWhileOfflineText({ merchant: m.name, amount: money(inv.amountMinor, inv.currency), invoiceNo: inv.invoiceNo, terminalId: t.id, method: method === "debit" ? "debit card" : method });
    this.smsOut.queue({ to: m.phone, text, kind: "paid-while-offline", merchantId: m.id, ref });
  }

  /** A delivery report from the SMS gateway (its dlr-url callback): recorded on the message's row. */
  smsDeliveryReport(id: number, token: string, type: number): SmsRow {
    const r = this.store.transaction(() => this.smsOut.report(id, token, type));
    if (!r) throw new GatewayError(404, "UNKNOWN_SMS", "no such message, or a wrong token");
    return r;
  }

  private merchant(merchantId: number): MerchantRow {
    const m = this.store.getMerchant(merchantId);
    if (!m) throw new GatewayError(404, "UNKNOWN_MERCHANT", "no merchant " + merchantId);
    return m;
  }

  registerMerchant(spec: MerchantSpec): MerchantCreated {
    if (!spec || typeof spec.name !== "string" || !spec.name.trim() || spec.name.length > 64) throw bad("BAD_NAME", "name: 1 to 64 characters");
    const currency = spec.currency ?? 978;
    if (!toPosInt(currency) || currency > 999) throw bad("BAD_CURRENCY", "currency: ISO 4217 numeric code");
    const url = spec.webhookUrl ?? "";
    if (typeof url !== "string" || (url && webhookUrlProblem(url))) throw bad("BAD_WEBHOOK", "webhookUrl: " + (typeof url === "string" ? webhookUrlProblem(url) : "a string"));
    const limits = { ...DEFAULT_LIMITS, ...(spec.limits ?? {}) };
    for (const k of Object.keys(DEFAULT_LIMITS)) {
      if (!toPosInt((limits as Record<string, unknown>)[k])) throw bad("BAD_LIMITS", "limits." + k + ": a non-negative integer");
    }
    if (spec.merchantId !== undefined && (!toPosInt(spec.merchantId) || spec.merchantId < 1)) throw bad("BAD_MERCHANT_ID", "merchantId: a positive u32");
    const iban = checkIban(spec.iban);
    const bic = checkBic(spec.bic);
    const phone = checkPhone(spec.phone);
    return this.store.transaction(() => {
      if (spec.merchantId !== undefined && this.store.getMerchant(spec.merchantId)) throw new GatewayError(409, "MERCHANT_EXISTS", "merchant " + spec.merchantId + " exists");
      const apiKey = "mk_" + randomBytes(24).toString("hex");
      const webhookSecret = randomBytes(32).toString("hex");
      const id = this.store.insertMerchant({
        id: spec.merchantId,
        name: spec.name.trim(),
        currency,
        apiKeyHash: sha256Hex(apiKey),
        webhookUrl: url,
        webhookSecret,
        limits: JSON.stringify(limits),
        iban,
        bic,
        phone,
        createdAt: this.now(),
      });
      this.log(id, 0, "merchant-registered", { name: spec.name.trim(), currency, webhookUrl: url });
      return { merchantId: id, apiKey, webhookSecret };
    });
  }

  updateMerchant(merchantId: number, patch: { webhookUrl?: string; limits?: Record<string, unknown>; iban?: string; bic?: string; phone?: string }): MerchantRow {
    return this.store.transaction(() => {
      const m = this.merchant(merchantId);
      const p: Partial<MerchantRow> = {};
      if (patch.iban !== undefined) p.iban = checkIban(patch.iban);
      if (patch.bic !== undefined) p.bic = checkBic(patch.bic);
      if (patch.phone !== undefined) p.phone = checkPhone(patch.phone);
      if (patch.webhookUrl !== undefined) {
        if (typeof patch.webhookUrl !== "string" || (patch.webhookUrl && webhookUrlProblem(patch.webhookUrl))) throw bad("BAD_WEBHOOK", "webhookUrl: " + (typeof patch.webhookUrl === "string" ? webhookUrlProblem(patch.webhookUrl) : "a string"));
        p.webhookUrl = patch.webhookUrl;
      }
      if (patch.limits !== undefined) {
        if (!patch.limits || typeof patch.limits !== "object") throw bad("BAD_LIMITS", "limits: an object");
        const l = { ...JSON.parse(m.limits), ...patch.limits };
        for (const k of Object.keys(DEFAULT_LIMITS)) if (!toPosInt(l[k])) throw bad("BAD_LIMITS", "limits." + k + ": a non-negative integer");
        p.limits = JSON.stringify(l);
      }
      this.store.updateMerchant(merchantId, p);
      this.log(merchantId, 0, "merchant-updated", { ...patch, phone: patch.phone ? patch.phone.slice(0, 4) + "…" : patch.phone });
      return this.merchant(merchantId);
    });
  }

  registerTerminal(spec: TerminalSpec): TerminalCreated {
    if (!spec || !(spec.publicKey instanceof Uint8Array) || !this.verifier.validKey(spec.publicKey)) {
      throw bad("BAD_PUBLIC_KEY", "publicKey: the terminal's identity key, X||Y (64 bytes) on P-256");
    }
    if (spec.terminalId !== undefined && (!toPosInt(spec.terminalId) || spec.terminalId < 1 || spec.terminalId >= 2 ** 31)) {
      throw bad("BAD_TERMINAL_ID", "terminalId: 1 to 2^31-1");
    }
    const expiryDay = spec.expiryDay ?? Math.floor(this.now() / DAY_MS) + 3 * 365;
    if (!toPosInt(expiryDay) || expiryDay > 0xffff) throw bad("BAD_EXPIRY", "expiryDay: days since 1970 (u16)");
    return this.store.transaction(() => {
      this.merchant(spec.merchantId);
      let id = spec.terminalId;
      if (id === undefined) {
        id = Number(this.store.getMeta("nextTerminalId"));
        while (this.store.getTerminal(id)) id++;
      } else if (this.store.getTerminal(id)) throw new GatewayError(409, "TERMINAL_EXISTS", "terminal " + id + " is registered");
      const holder = this.store.terminalByPub(spec.publicKey);
      if (holder) throw new GatewayError(409, "KEY_REGISTERED", "this identity key is registered already (terminal " + (holder.merchantId === spec.merchantId ? holder.id : "of another merchant") + ")");
      this.store.setMeta("nextTerminalId", String(Math.max(Number(this.store.getMeta("nextTerminalId")), id + 1)));
      const cert = this.issuer.issueTerminalCert({ terminalId: id, merchantId: spec.merchantId, terminalPub: spec.publicKey, expiryDay });
      this.store.insertTerminal({
        id,
        merchantId: spec.merchantId,
        pub: new Uint8Array(spec.publicKey),
        cert,
        linkSeq: 0,
        fw: "",
        headSeq: 0,
        headHash: "",
        lastHelloAt: 0,
        drift: 0,
        revokedAt: 0,
        createdAt: this.now(),
      });
      this.log(spec.merchantId, id, "terminal-registered", { publicKey: toHex(spec.publicKey), expiryDay });
      return { terminalId: id, merchantId: spec.merchantId, cert, linkPublicKey: this.linkPublicKey, issuerKeyId: this.issuer.keyId, issuerPublicKey: this.issuer.publicKey };
    });
  }

  /**
   * Signs a new allowance for the wallet and reserves its cap from the available balance into a purse of its own
   * (402 INSUFFICIENT_FUNDS when the balance cannot cover it: nothing is issued). The wallet's previous live
   * allowance is replaced: its purse keeps what the payer reported spending under it and no terminal has uploaded
   * yet, until those arrive or PURSE_GRACE_MS passes; the rest returns to available at once.
   */
  private newAllowance(w: { id: string; pub: Uint8Array; capMinor: number; currency: number }, startCounter: number): { allowance: Uint8Array; expiryDay: number } {
    const now = this.now();
    const expiryDay = Math.floor(now / DAY_MS) + this.allowanceDays;
    const list = this.store.allowances(w.id);
    for (const old of list) {
      if (old.status !== "live") continue;
      const outstanding = this.reportedNotEntered(w.id, old);
      this.money.release(old, this.money.purse(old) - outstanding, "replaced");
      this.store.updateAllowance(w.id, old.n, { status: "replaced", releaseAt: Math.min(old.releaseAt, now + PURSE_GRACE_MS), replacedAt: now });
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
    this.store.insertAllowance(row);
    try {
      this.money.reserve(row);
    } catch (e) {
      throw e instanceof MoneyError ? new GatewayError(e.status, e.code, e.message) : e;
    }
    return { allowance: this.issuer.issueAllowance({ walletPub: w.pub, capMinor: w.capMinor, currency: w.currency, expiryDay, startCounter }), expiryDay };
  }

  /** What the wallet reported paying under an allowance that no terminal (nor its evidence) has entered yet. */
  private reportedNotEntered(walletId: string, a: AllowanceRow): number {
    let sum = 0;
    for (const r of this.store.reportsOf(walletId)) {
      if (r.counter < a.startCounter) continue;
      const spends = this.store.spendsAt(walletId, r.counter);
      if (!spends.length) sum += r.amountMinor;
    }
    return sum;
  }

  registerWallet(spec: WalletSpec): WalletCreated {
    if (!spec || !(spec.publicKey instanceof Uint8Array) || !this.verifier.validKey(spec.publicKey)) throw bad("BAD_PUBLIC_KEY", "publicKey: X||Y (64 bytes) on P-256");
    if (!toPosInt(spec.capMinor) || spec.capMinor > 0xffffff) throw bad("BAD_CAP", "capMinor: 0 to 16777215");
    const currency = spec.currency ?? 978;
    if (!toPosInt(currency) || currency > 999) throw bad("BAD_CURRENCY", "currency: ISO 4217 numeric code");
    const phone = checkPhone(spec.phone);
    const balance = spec.balanceMinor ?? 0;
    if (!toPosInt(balance) || !Number.isSafeInteger(balance)) throw bad("BAD_BALANCE", "balanceMinor: a non-negative integer");
    const walletId = walletIdOf(this.crypto, spec.publicKey);
    return this.store.transaction(() => {
      if (this.store.getWallet(walletId)) throw new GatewayError(409, "WALLET_EXISTS", "wallet " + walletId + " is registered");
      const pub = new Uint8Array(spec.publicKey);
      this.store.insertWallet({
        id: walletId,
        pub,
        phone,
        currency,
        capMinor: spec.capMinor,
        allowance: new Uint8Array(0),
        startCounter: 0,
        expiryDay: 0,
        lastReqTime: 0,
        syncedAt: 0,
        createdAt: this.now(),
      });
      if (balance > 0) this.money.topUp(walletId, balance, currency, "opening");
      const a = this.newAllowance({ id: walletId, pub, capMinor: spec.capMinor, currency }, 0);
      this.store.updateWallet(walletId, { allowance: a.allowance, expiryDay: a.expiryDay });
      this.log(0, 0, "wallet-registered", { walletId, capMinor: spec.capMinor, currency, phone: phone ? phone.slice(0, 4) + "…" : "" });
      return { walletId, allowance: a.allowance };
    });
  }

  /**
   * The issuer keys announced to terminals (docs/gateway.md, issuer key rotation), oldest first: each vouched for
   * by the issuer key `by` with `sig` = R||S over SHA-256(issuerKeyBody(id, pub)).
   */
  issuerKeys(): IssuerKeyAnnouncement[] {
    const raw = this.store.getMeta("issuerKeys");
    return raw ? (JSON.parse(raw) as IssuerKeyAnnouncement[]) : [];
  }

  /**
   * Announces a new issuer public key to every terminal at its next hello, signed by the current issuer key (or
   * with `sig` made offline by it, checked here). Key IDs are never reused: the current one and any announced
   * one are refused (409).
   */
  addIssuerKey(o: { keyId: number; publicKey: Uint8Array; sig?: Uint8Array }): IssuerKeyAnnouncement {
    if (!(Number.isInteger(o.keyId) && o.keyId >= 0 && o.keyId <= 255)) throw bad("BAD_KEYID", "keyId: an integer 0..255");
    if (!(o.publicKey instanceof Uint8Array) || !isPublicKey(o.publicKey)) throw bad("BAD_PUBLICKEY", "publicKey: X||Y of a P-256 point, 128 hex digits");
    const body = issuerKeyBody(o.keyId, o.publicKey);
    const sig = o.sig ?? signBody(this.issuer.privateKey, body);
    if (!this.verifier.body(this.issuer.publicKey, body, sig)) throw bad("BAD_SIGNATURE", "sig is not issuer key " + this.issuer.keyId + "'s signature over the key");
    return this.store.transaction(() => {
      const list = this.issuerKeys();
      if (o.keyId === this.issuer.keyId || list.some((k) => k.id === o.keyId) || this.issuerKeyRevocations().some((r) => r.id === o.keyId)) throw new GatewayError(409, "KEY_EXISTS", "issuer key " + o.keyId + " is already in use");
      const k: IssuerKeyAnnouncement = { id: o.keyId, pub: toHex(o.publicKey), by: this.issuer.keyId, sig: toHex(sig) };
      list.push(k);
      this.store.setMeta("issuerKeys", JSON.stringify(list));
      this.log(0, 0, "issuer-key-added", { id: k.id, by: k.by, pub: k.pub.slice(0, 16) });
      return k;
    });
  }

  /** Issuer key revocations sent to terminals that hold the key, oldest first. */
  issuerKeyRevocations(): IssuerKeyRevocation[] {
    const raw = this.store.getMeta("issuerKeyRevocations");
    return raw ? (JSON.parse(raw) as IssuerKeyRevocation[]) : [];
  }

  /**
   * Revokes issuer key `keyId` on every terminal that holds it (at its next hello), signed by the current issuer
   * key. The current key itself cannot be revoked (409 KEY_IN_USE); an announced key is no longer offered.
   */
  revokeIssuerKey(keyId: number): IssuerKeyRevocation {
    if (!(Number.isInteger(keyId) && keyId >= 0 && keyId <= 255)) throw bad("BAD_KEYID", "keyId: an integer 0..255");
    if (keyId === this.issuer.keyId) throw new GatewayError(409, "KEY_IN_USE", "issuer key " + keyId + " is the one this gateway signs with");
    return this.store.transaction(() => {
      const list = this.issuerKeyRevocations();
      const had = list.find((r) => r.id === keyId);
      if (had) return had;
      const r: IssuerKeyRevocation = { id: keyId, by: this.issuer.keyId, sig: toHex(signBody(this.issuer.privateKey, revokeBody(keyId))) };
      list.push(r);
      this.store.setMeta("issuerKeyRevocations", JSON.stringify(list));
      this.log(0, 0, "issuer-key-revoked", { id: r.id, by: r.by });
      return r;
    });
  }

  /**
   * Registers a firmware public key (X||Y) under `keyId` (0..255): the offline key updates are signed with, never
   * the issuer key. Only updates signed by a registered firmware key are accepted; the gateway signs none.
   */
  addFirmwareKey(keyId: number, pub: Uint8Array): { id: number; pub: string } {
    if (!(Number.isInteger(keyId) && keyId >= 0 && keyId <= 255)) throw bad("BAD_KEY_ID", "id: 0 to 255");
    if (!(pub instanceof Uint8Array) || !isPublicKey(pub)) throw bad("BAD_KEY", "pub: a P-256 public key X||Y, 64 bytes");
    if (toHex(pub) === toHex(this.issuer.publicKey) || this.issuerKeys().some((k) => k.pub === toHex(pub))) throw bad("ISSUER_KEY", "an issuer key is not a firmware key");
    return this.store.transaction(() => {
      const list = this.firmwareKeys().filter((k) => k.id !== keyId);
      const k = { id: keyId, pub: toHex(pub) };
      list.push(k);
      this.store.setMeta("firmwareKeys", JSON.stringify(list));
      this.log(0, 0, "firmware-key-added", k);
      return k;
    });
  }

  /** The registered firmware public keys. */
  firmwareKeys(): { id: number; pub: string }[] {
    const raw = this.store.getMeta("firmwareKeys");
    return raw ? (JSON.parse(raw) as { id: number; pub: string }[]) : [];
  }

  /**
   * Firmware offered to terminals at hello, as tools/sign-update.ts signed it offline: `sig` by the registered
   * firmware key `keyId` over protocol/firmware.ts's body (board, version, SHA-256 of the bundle). Never signed here.
   */
  offerUpdate(o: { version: string; board: string; keyId: number; bundle: Uint8Array; sig: Uint8Array }): { version: string; board: string; key: number; size: number; sha256: string; sig: string } {
    if (!isLabel(o.version)) throw bad("BAD_VERSION", "version: 1 to 32 printable ASCII characters");
    if (!isLabel(o.board)) throw bad("BAD_BOARD", "board: 1 to 32 printable ASCII characters");
    if (!(o.bundle instanceof Uint8Array) || !o.bundle.length) throw bad("BAD_BUNDLE", "bundle: the firmware bytes");
    if (!(o.sig instanceof Uint8Array) || o.sig.length !== 64) throw bad("BAD_SIGNATURE", "sig: the firmware key's signature (tools/sign-update.ts), 64 bytes");
    const key = this.firmwareKeys().find((k) => k.id === o.keyId);
    if (!key) throw bad("UNKNOWN_KEY", "key: " + o.keyId + " is not a registered firmware key");
    const sha = this.crypto.sha256(o.bundle);
    if (!this.verifier.body(fromHex(key.pub) as Uint8Array, firmwareBody(o.board, o.version, sha), o.sig)) {
      throw bad("BAD_SIGNATURE", "sig is not firmware key " + o.keyId + "'s signature over this bundle, board and version");
    }
    const row = { version: o.version, board: o.board, keyId: o.keyId, size: o.bundle.length, sha256: toHex(sha), sig: toHex(o.sig), bundle: new Uint8Array(o.bundle), createdAt: this.now() };
    this.store.transaction(() => {
      this.store.insertUpdate(row);
      this.log(0, 0, "update-offered", { version: row.version, board: row.board, key: row.keyId, size: row.size, sha256: row.sha256 });
    });
    return { version: row.version, board: row.board, key: row.keyId, size: row.size, sha256: row.sha256, sig: row.sig };
  }

  /** Takes a terminal out of service (lost, stolen, retired): its link requests are refused from now on. */
  revokeTerminal(merchantId: number, terminalId: number): TerminalRow {
    return this.store.transaction(() => {
      const t = this.store.getTerminal(terminalId);
      if (!t || t.merchantId !== merchantId) throw new GatewayError(404, "UNKNOWN_TERMINAL", "merchant " + merchantId + " has no terminal " + terminalId);
      if (!t.revokedAt) {
        this.store.updateTerminal(merchantId, terminalId, { revokedAt: this.now() });
        this.log(merchantId, terminalId, "terminal-revoked", {});
      }
      return this.store.getTerminal(terminalId)!;
    });
  }

  // ------------------------------------------------------------ invoices paid online

  private checkInvoice(bytes: Uint8Array): { inv: NonNullable<ReturnType<typeof decodeInvoice>>; t: TerminalRow } {
    const inv = bytes instanceof Uint8Array ? decodeInvoice(bytes) : null;
    if (!inv) throw bad("BAD_INVOICE", "invoice: an 84-byte Invoice message");
    const t = this.store.getTerminal(inv.terminalId);
    if (!t || !this.verifier.message(t.pub, bytes)) throw bad("INVOICE_SIGNATURE", "the invoice is not signed by a registered terminal");
    return { inv, t };
  }

  /**
   * Records a terminal's invoice (idempotent); the pay page does this when it opens. The order an invoice pays is
   * only ever what its terminal says (its InvoicePaid entry, authenticated on the link): a payer's client cannot
   * name one (security review 10), so none is taken here.
   */
  submitInvoice(bytes: Uint8Array): InvoiceRow {
    const orderRef = "";
    return this.store.transaction(() => {
      const { inv, t } = this.checkInvoice(bytes);
      const have = this.store.getInvoice(t.merchantId, t.id, inv.invoiceNo);
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
        createdAt: this.now(),
      };
      this.store.insertInvoice(row);
      this.log(t.merchantId, t.id, "invoice-opened", { invoiceNo: inv.invoiceNo, amountMinor: inv.amountMinor, orderRef });
      return row;
    });
  }

  /**
   * Pays an invoice online: by card or debit card through the card processor (which may ask for a 3-D Secure
   * challenge first: then a CardChallenge comes back, answered with completeCardChallenge()), or from a wallet's
   * available balance. Gives the PaidConfirmation and a notice for the terminal. A card number is never stored or
   * logged: the brand, the last four digits and the processor's reference are.
   */
  async payInvoice(p: PayOnline): Promise<PaidResult | CardChallenge> {
    if (p.method === "wallet") return this.recordOnlinePayment(p.invoice, 3, { walletId: p.walletId ?? "" });
    if (p.method !== "card" && p.method !== "debit") throw bad("BAD_METHOD", "method: card, debit or wallet");
    // the invoice must be payable before the processor is asked (nothing is written yet)
    const { inv } = this.store.transaction(() => this.payable(p.invoice));
    let r: CardResult;
    try {
      r = await this.cards.authorize({ amountMinor: inv.amountMinor, currency: inv.currency, card: p.card as CardDetails, reference: "invoice", now: this.now() });
    } catch (e) {
      if (e instanceof CardInvalid) throw bad("CARD_INVALID", e.message);
      throw new GatewayError(502, "PROCESSOR", "the card processor did not answer: " + (e instanceof Error ? e.message : String(e)).slice(0, 100));
    }
    return this.afterCard(p.invoice, r);
  }

  /** The customer's answer to a 3-D Secure challenge (the code the bank sent, or abandon). */
  async completeCardChallenge(challengeId: string, answer: { code?: string; abandon?: boolean }): Promise<PaidResult | CardChallenge> {
    const ch = typeof challengeId === "string" ? this.challenges.get(challengeId) : undefined;
    if (!ch) throw new GatewayError(404, "UNKNOWN_CHALLENGE", "no such 3-D Secure challenge (it expired or was answered)");
    let r: CardResult;
    try {
      r = await this.cards.complete(challengeId, answer);
    } catch (e) {
      this.challenges.delete(challengeId);
      if (e instanceof CardInvalid) throw new GatewayError(404, "UNKNOWN_CHALLENGE", e.message);
      throw e;
    }
    // a wrong code leaves the challenge open for another try (the processor decides how many)
    if (r.status === "approved" || answer.abandon) this.challenges.delete(challengeId);
    if (r.status === "declined") this.store.transaction(() => this.log(0, 0, "card-declined", { code: r.code, brand: r.brand, last4: r.last4, challenge: true }));
    return this.afterCard(ch.invoice, r);
  }

  private afterCard(invoice: Uint8Array, r: CardResult): PaidResult | CardChallenge {
    if (r.status === "declined") {
      if (r.code !== "AUTHENTICATION_FAILED") this.store.transaction(() => this.log(0, 0, "card-declined", { code: r.code, brand: r.brand, last4: r.last4 }));
      throw new GatewayError(402, r.code, r.message);
    }
    if (r.status === "challenge") {
      for (const [id, c] of this.challenges) if (c.at < this.now() - 600000) this.challenges.delete(id);
      this.challenges.set(r.challengeId, { invoice: new Uint8Array(invoice), at: this.now() });
      return { challenge: true, challengeId: r.challengeId, brand: r.brand, last4: r.last4 };
    }
    return this.recordOnlinePayment(invoice, r.funding === "debit" ? 2 : 1, { card: { brand: r.brand, last4: r.last4, processorRef: r.processorRef } });
  }

  /** An invoice that can be paid now (signed by a registered terminal, open, not expired), as stored or not yet. */
  private payable(bytes: Uint8Array): { inv: NonNullable<ReturnType<typeof decodeInvoice>>; t: TerminalRow } {
    const x = this.checkInvoice(bytes);
    const have = this.store.getInvoice(x.t.merchantId, x.t.id, x.inv.invoiceNo);
    if (have && toHex(have.invoice) !== toHex(bytes)) throw new GatewayError(409, "INVOICE_CONFLICT", "terminal " + x.t.id + " already issued invoice " + x.inv.invoiceNo + " with other terms");
    if (have && have.status === "paid") throw new GatewayError(409, "INVOICE_PAID", "invoice " + have.invoiceNo + " is already paid", { paid: have.paid ? toBase64(have.paid) : undefined });
    if (x.inv.expires * 1000 < this.now()) throw new GatewayError(409, "INVOICE_EXPIRED", "invoice " + x.inv.invoiceNo + " expired");
    return x;
  }

  /** Records a payment the processor approved, or a wallet's: the money, the confirmation, the notices. */
  private recordOnlinePayment(invoice: Uint8Array, method: number, by: { walletId?: string; card?: { brand: string; last4: string; processorRef: string } }): PaidResult {
    return this.store.transaction(() => {
      this.payable(invoice);
      const row = this.submitInvoice(invoice);
      const now = this.now();
      let payer = "";
      if (method === 3) {
        const w = by.walletId ? this.store.getWallet(by.walletId) : undefined;
        if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no such wallet");
        if (this.store.isDenied(w.id)) throw new GatewayError(403, "WALLET_DENIED", "the wallet is blocked");
        if (w.currency !== row.currency) throw new GatewayError(409, "CURRENCY", "the wallet holds another currency");
        payer = w.id;
      }
      const paymentRef = new Uint8Array(randomBytes(8));
      const paidAt = Math.floor(now / 1000);
      const paid = this.issuer.signPaid({ terminalId: row.terminalId, invoiceNo: row.invoiceNo, amountMinor: row.amountMinor, currency: row.currency, paidAt, method, paymentRef });
      const refHex = toHex(paymentRef);
      try {
        this.money.online("pay:" + refHex, row.merchantId, row.amountMinor, row.currency, method === 3 ? payer : "");
      } catch (e) {
        throw e instanceof MoneyError ? new GatewayError(e.status, e.code, e.message) : e;
      }
      const card = by.card ? by.card.brand + " " + by.card.last4 + " " + by.card.processorRef : "";
      this.store.updateInvoice(row.merchantId, row.terminalId, row.invoiceNo, { status: "paid", paidAt: now, method, paymentRef: refHex, paid, card });
      const ledgerRef = "pay:" + refHex;
      this.store.insertLedger({
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
      this.log(row.merchantId, row.terminalId, "invoice-paid", { invoiceNo: row.invoiceNo, method: methodName, paymentRef: refHex, amountMinor: row.amountMinor, card: by.card ? { brand: by.card.brand, last4: by.card.last4, processorRef: by.card.processorRef } : undefined });
      this.event(row.merchantId, "payment.confirmed", {
        ref: ledgerRef,
        terminalId: row.terminalId,
        invoiceNo: row.invoiceNo,
        amountMinor: row.amountMinor,
        currency: row.currency,
        method: methodName,
        orderRef: row.orderRef,
      });
      this.smsIfTerminalOffline(row, methodName, ledgerRef);
      return { paid, qr: toQrText(paid), paymentRef: refHex, terminalId: row.terminalId, invoiceNo: row.invoiceNo, amountMinor: row.amountMinor, currency: row.currency };
    });
  }

  // ------------------------------------------------------------ wallets: sync, claims

  /** A wallet's sync: its report matches held payments; it gets a new allowance (none when denied). */
  syncWallet(walletId: string, report: WalletReport): WalletSynced {
    if (!report || !Array.isArray(report.spent) || report.spent.length > 1000) throw bad("BAD_REPORT", "spent: an array of at most 1000 payments");
    if (report.capMinor !== undefined && (!toPosInt(report.capMinor) || report.capMinor > 0xffffff)) throw bad("BAD_CAP", "capMinor: 0 to the wallet's cap");
    const evidence = new Map<number, { request: Uint8Array; payment: Uint8Array; receipt: Uint8Array }>();
    for (const s of report.spent) {
      if (!s || !toPosInt(s.counter) || s.counter > 0xffff || !toPosInt(s.terminalId) || !toPosInt(s.amountMinor)) {
        throw bad("BAD_REPORT", "spent[]: {counter (u16), terminalId, amountMinor}");
      }
      if (s.request === undefined && s.payment === undefined && s.receipt === undefined) continue;
      const request = strictBase64(s.request as string);
      const payment = strictBase64(s.payment as string);
      const receipt = strictBase64(s.receipt as string);
      if (!request || !payment || !receipt || !decodeRequest(request) || !decodePayment(payment) || !decodeReceipt(receipt)) {
        throw bad("BAD_EVIDENCE", "spent[] counter " + s.counter + ": request, payment and receipt are the protocol messages in base64, all three or none");
      }
      evidence.set(s.counter, { request, payment, receipt });
    }
    return this.store.transaction(() => {
      const w = this.store.getWallet(walletId);
      if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no such wallet");
      const now = this.now();
      const matched: string[] = [];
      const evidenced: string[] = [];
      let top = w.startCounter - 1;
      for (const s of report.spent) {
        top = Math.max(top, s.counter);
        const ev = evidence.get(s.counter);
        if (ev) {
          const ref = this.enterEvidence(w, s, ev);
          if (ref) evidenced.push(ref);
        }
        this.store.upsertReport({ walletId, counter: s.counter, terminalId: s.terminalId, amountMinor: s.amountMinor, reportedAt: now });
        for (const sp of this.store.spendsAt(walletId, s.counter)) {
          const l = this.store.ledgerByRef(sp.merchantId, sp.ref);
          if (!l) continue;
          if (l.terminalId !== s.terminalId || l.amountMinor !== s.amountMinor) {
            this.flag({ merchantId: l.merchantId, terminalId: l.terminalId, walletId, txId: l.txId, kind: "wallet-mismatch", detail: "wallet reports counter " + s.counter + " at terminal " + s.terminalId + " for " + s.amountMinor });
            continue;
          }
          if (l.status === "held") {
            this.approve(l, "approved", "wallet-sync");
            matched.push(l.ref);
          }
        }
      }
      const reported = new Set(report.spent.map((s) => s.counter));
      const unreported: string[] = [];
      for (const l of this.store.ledgerOfWallet(walletId)) {
        if (l.kind !== "wallet") continue;
        top = Math.max(top, l.counter);
        if (l.status === "held" && !reported.has(l.counter)) {
          unreported.push(l.ref);
          this.flag({ merchantId: l.merchantId, terminalId: l.terminalId, walletId, txId: l.txId, kind: "unreported", detail: "the wallet synced without this payment (counter " + l.counter + ")" });
        }
      }
      const denied = this.store.isDenied(walletId);
      let allowance: Uint8Array | null = null;
      let allowanceError = "";
      const patch: Partial<WalletRow> = { syncedAt: now };
      if (!denied) {
        const cap = Math.min(w.capMinor, report.capMinor ?? w.capMinor);
        if (this.canIssue(w, cap)) {
          const start = Math.min(0xffff, top + 1);
          const a = this.newAllowance({ ...w, capMinor: cap }, start);
          allowance = a.allowance;
          patch.allowance = a.allowance;
          patch.startCounter = start;
          patch.expiryDay = a.expiryDay;
        } else allowanceError = "INSUFFICIENT_FUNDS";
      }
      this.store.updateWallet(walletId, patch);
      this.log(0, 0, "wallet-synced", { walletId, reported: report.spent.length, matched: matched.length, unreported: unreported.length, evidenced: evidenced.length, denied, allowanceError });
      return { walletId, allowance, denied, matched, unreported, evidenced, allowanceError, balances: this.money.books.wallet(walletId, w.currency) };
    });
  }

  /**
   * True when a new allowance's cap is covered: the available balance plus what replacing the live allowance
   * returns at once (its purse less what the payer reported and no terminal has entered).
   */
  private canIssue(w: WalletRow, cap: number): boolean {
    let can = this.money.books.balance(walletAvailable(w.id), w.currency);
    for (const a of this.store.allowances(w.id)) if (a.status === "live") can += Math.max(0, this.money.purse(a) - this.reportedNotEntered(w.id, a));
    return can >= cap;
  }

  /**
   * Loads the wallet's offline purse with a new allowance of `capMinor` (at most its cap), as a sync does without
   * a report: 402 INSUFFICIENT_FUNDS, and nothing issued, when the balance cannot cover it.
   */
  loadAllowance(walletId: string, capMinor?: number): { allowance: Uint8Array; balances: WalletBalances } {
    if (capMinor !== undefined && (!toPosInt(capMinor) || capMinor > 0xffffff)) throw bad("BAD_CAP", "capMinor: 0 to the wallet's cap");
    return this.store.transaction(() => {
      const w = this.store.getWallet(walletId);
      if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no such wallet");
      if (this.store.isDenied(walletId)) throw new GatewayError(403, "WALLET_DENIED", "the wallet is blocked");
      const cap = Math.min(w.capMinor, capMinor ?? w.capMinor);
      if (!this.canIssue(w, cap)) throw new GatewayError(402, "INSUFFICIENT_FUNDS", "the wallet's available balance cannot cover an allowance of " + cap);
      let top = w.startCounter - 1;
      for (const l of this.store.ledgerOfWallet(walletId)) if (l.kind === "wallet") top = Math.max(top, l.counter);
      for (const r of this.store.reportsOf(walletId)) top = Math.max(top, r.counter);
      const start = Math.min(0xffff, top + 1);
      const a = this.newAllowance({ ...w, capMinor: cap }, start);
      this.store.updateWallet(walletId, { allowance: a.allowance, startCounter: start, expiryDay: a.expiryDay });
      this.log(0, 0, "allowance-loaded", { walletId, capMinor: cap });
      return { allowance: a.allowance, balances: this.money.books.wallet(walletId, w.currency) };
    });
  }

  /**
   * A payment the wallet proves with the terminal's own receipt, entered when no terminal has uploaded it (a
   * terminal lost or broken before its upload): the same checks as an upload, plus the receipt's signature by the
   * terminal, its txId and its hash of the payment. Returns the ledger ref, or "" when the txId is entered already.
   */
  private enterEvidence(w: WalletRow, s: { counter: number; terminalId: number; amountMinor: number }, ev: { request: Uint8Array; payment: Uint8Array; receipt: Uint8Array }): string {
    const no = (why: string) => new GatewayError(400, "BAD_EVIDENCE", "spent[] counter " + s.counter + ": " + why);
    const q = decodeRequest(ev.request)!;
    const p = decodePayment(ev.payment)!;
    const rc = decodeReceipt(ev.receipt)!;
    const t = this.store.getTerminal(q.terminalId);
    if (!t) throw no("terminal " + q.terminalId + " is not registered");
    if (q.terminalId !== s.terminalId || q.amountMinor !== s.amountMinor || p.counter !== s.counter) throw no("the evidence is not the payment reported (terminal, amount or counter differ)");
    if (txParts(rc.txId).terminalId !== t.id) throw no("the receipt's transaction ID names another terminal");
    if (!this.verifier.message(t.pub, ev.receipt)) throw no("the receipt is not signed by terminal " + t.id);
    if (toHex(this.crypto.sha256(ev.payment).subarray(0, 8)) !== toHex(rc.paymentHash)) throw no("the receipt is for another payment");
    const e: Entry = { kind: 1, txId: rc.txId, method: 1, request: ev.request, payment: ev.payment, orderRef: "" };
    if (entryWalletId(this.crypto, e) !== w.id) throw no("the payment was made by another wallet");
    const txHex = toHex(rc.txId);
    if (this.store.txIdTaken(txHex) || this.samePayment(ev.request, ev.payment)) return "";
    const v = this.verifyEntry(t, e);
    if (!v.ok) throw no(v.code + ": " + v.message);
    this.store.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: 0, prev: "", entry: encodeEntry(e), txId: txHex, status: "evidence", code: "", message: "entered from the payer's receipt", receivedAt: this.now() });
    this.enter(t, e, txHex, true);
    this.log(t.merchantId, t.id, "evidence-entered", { ref: txHex, walletId: w.id, counter: s.counter, amountMinor: s.amountMinor });
    return txHex;
  }

  /** The payer claims fraud on one of its wallet payments: "dispute" freezes it, "reverse" takes it back. */
  claimFraud(walletId: string, txId: string, action: "dispute" | "reverse", reason = ""): LedgerRow {
    if (!isHex(txId, 8)) throw bad("BAD_TX_ID", "txId: 16 hex digits");
    if (action !== "dispute" && action !== "reverse") throw bad("BAD_ACTION", "action: dispute or reverse");
    if (typeof reason !== "string" || reason.length > 200) throw bad("BAD_REASON", "reason: at most 200 characters");
    return this.store.transaction(() => {
      const l = this.store.ledgerOfWallet(walletId).find((r) => r.txId === txId && r.kind === "wallet");
      if (!l) throw new GatewayError(404, "UNKNOWN_TRANSACTION", "this wallet made no payment " + txId);
      if (l.status === "reversed") throw new GatewayError(409, "ALREADY_REVERSED", "the payment was reversed already");
      if (action === "dispute" && (l.status === "disputed" || this.store.movementByKey("dispute:" + l.ref))) throw new GatewayError(409, "ALREADY_DISPUTED", "the payment is disputed already");
      // A reversal is the payer's own undo, only while the payment is held (before its payer confirmed it and before
      // the 3-day rule); after that, or once disputed, only the issuer's review (with the wallet-signed evidence) decides.
      if (action === "reverse" && (l.status !== "held" || this.now() >= l.holdUntil)) {
        throw new GatewayError(409, "NOT_REVERSIBLE", "the payment is " + l.status + ": only a held payment can be reversed; dispute it for the issuer's review");
      }
      if (action === "dispute" && this.now() > l.txTime + DISPUTE_WINDOW_MS) throw new GatewayError(409, "CLAIM_TOO_LATE", "disputes are taken within " + DISPUTE_WINDOW_MS / DAY_MS + " days of the payment");
      const status = action === "dispute" ? "disputed" : "reversed";
      if (action === "dispute") this.money.dispute(l);
      else this.money.reverse(l);
      this.store.updateLedger(l.merchantId, l.ref, { status, updatedAt: this.now() });
      this.log(l.merchantId, l.terminalId, "claim-" + action, { ref: l.ref, walletId, from: l.status, reason });
      this.event(l.merchantId, action === "dispute" ? "payment.disputed" : "payment.reversed", this.eventBody({ ...l, status }));
      if (action === "reverse") this.queueSms(walletId, l.ref, "Your payment of " + money(l.amountMinor, l.currency) + " (ref " + this.utrOf(l.txId) + ") was reversed at your request.", "reversed");
      return { ...l, status };
    });
  }

  /**
   * Disputed payments waiting for the issuer's review, each with its evidence: the terminal-signed request and the
   * wallet-signed payment as the terminal uploaded them (or the payer proved them), and whether each signature holds.
   */
  disputes(): (LedgerRow & { evidence: { request: string; payment: string; walletSignature: boolean; terminalSignature: boolean } | null })[] {
    return this.store.ledger().filter((l) => l.status === "disputed").map((l) => {
      const t = this.store.getTerminal(l.terminalId);
      const rec = this.store.recordOfTx(l.merchantId, l.terminalId, l.txId) ?? this.store.recordsAt(l.merchantId, l.terminalId, 0).find((r) => r.txId === l.txId && r.status === "evidence");
      const e = rec ? decodeEntry(rec.entry) : null;
      if (!t || !e || e.kind !== 1) return { ...l, evidence: null };
      const p = decodePayment(e.payment);
      const whole = new Uint8Array(140);
      whole[0] = 1;
      whole[1] = 1;
      whole.set(e.payment.subarray(2, 140), 2);
      const a = decodeAllowance(whole);
      const walletSignature = !!p && !!a && this.verifier.body(a.walletPub, concat([signedPart(e.payment), e.request]), p.walletSig);
      return { ...l, evidence: { request: toBase64(e.request), payment: toBase64(e.payment), walletSignature, terminalSignature: this.verifier.message(t.pub, e.request) } };
    });
  }

  /** The issuer's review of a disputed payment: for the payer (money back, reversed) or the merchant (approved). */
  resolveDispute(merchantId: number, ref: string, decision: "payer" | "merchant"): LedgerRow {
    if (decision !== "payer" && decision !== "merchant") throw bad("BAD_DECISION", "decision: payer or merchant");
    return this.store.transaction(() => {
      const l = this.store.ledgerByRef(merchantId, ref);
      if (!l) throw new GatewayError(404, "UNKNOWN_TRANSACTION", "no transaction " + ref + " at merchant " + merchantId);
      if (l.status !== "disputed") throw new GatewayError(409, "NOT_DISPUTED", "transaction " + ref + " is " + l.status + ", not disputed");
      this.money.resolveDispute(l, decision === "payer");
      const status = decision === "payer" ? "reversed" : "approved";
      this.store.updateLedger(merchantId, ref, { status, updatedAt: this.now() });
      this.log(merchantId, l.terminalId, "dispute-resolved", { ref, decision });
      if (decision === "payer") this.queueSms(l.walletId, l.ref, "Your payment of " + money(l.amountMinor, l.currency) + " (ref " + this.utrOf(l.txId) + ") was reversed after review of your dispute.", "dispute-reversed");
      this.event(merchantId, decision === "payer" ? "payment.reversed" : "payment.confirmed", this.eventBody({ ...l, status }));
      return { ...l, status };
    });
  }

  private utrOf(txIdHex: string): string {
    const b = fromHex(txIdHex);
    if (!b || b.length !== 8) return txIdHex;
    const p = txParts(b);
    return utr(p.terminalId, p.seq) || txIdHex;
  }

  private eventBody(l: LedgerRow): Record<string, unknown> {
    return {
      ref: l.ref,
      txId: l.txId,
      utr: l.txId ? this.utrOf(l.txId) : "",
      terminalId: l.terminalId,
      kind: l.kind,
      amountMinor: l.amountMinor,
      currency: l.currency,
      walletId: l.walletId,
      orderRef: l.orderRef,
      status: l.status,
    };
  }

  private approve(l: LedgerRow, status: "approved" | "auto-approved", why: string): void {
    this.money.approve(l);
    this.store.updateLedger(l.merchantId, l.ref, { status, updatedAt: this.now() });
    this.log(l.merchantId, l.terminalId, "hold-released", { ref: l.ref, status, why });
    this.event(l.merchantId, "payment.confirmed", this.eventBody({ ...l, status }));
  }

  /**
   * The 3-day rule: held payments whose payer has not synced are auto-approved, and the payer gets an SMS. Then the
   * outboxes are flushed (unless autoFlush is off), so a timer calling tick() also sends webhook retries when due.
   */
  tick(): { approved: string[] } {
    const approved = this.store.transaction(() => {
      const out: string[] = [];
      for (const l of this.store.heldDue(this.now())) {
        this.approve(l, "auto-approved", "3 days without the payer's sync");
        const m = this.store.getMerchant(l.merchantId);
        this.queueSms(
          l.walletId,
          l.ref,
          autoApprovedText({ amount: money(l.amountMinor, l.currency), merchant: m ? m.name : "merchant " + l.merchantId, utr: this.utrOf(l.txId) }),
          "auto-approved",
        );
        out.push(l.ref);
      }
      // purses whose payments can no longer arrive return to available
      for (const a of this.store.allowancesToRelease(this.now())) {
        const back = this.money.release(a, this.money.purse(a), "final");
        this.store.updateAllowance(a.walletId, a.n, { status: "released" });
        if (back) this.log(0, 0, "purse-released", { walletId: a.walletId, allowance: a.n, amountMinor: back });
      }
      return out;
    });
    if (this.dailyPayouts) {
      const period = dayString(this.now() - DAY_MS);
      if (!this.store.payoutRun(period) && this.payoutAccount()) this.runPayouts(period);
    }
    // also delivers what is due: SMS queued, webhook retries whose time has come
    this.kick();
    return { approved };
  }

  // ------------------------------------------------------------ money: balances, top-ups, statements, payouts

  /** Money in for a wallet (a bank transfer or card top-up the issuer received), once per reference. */
  topUp(walletId: string, amountMinor: number, reference: string): WalletBalances {
    if (typeof reference !== "string" || !/^[\x21-\x7e]{1,64}$/.test(reference)) throw bad("BAD_REFERENCE", "reference: 1 to 64 printable ASCII characters, unique per top-up");
    if (!toPosInt(amountMinor) || amountMinor < 1) throw bad("BAD_AMOUNT", "amountMinor: a positive integer");
    return this.store.transaction(() => {
      const w = this.store.getWallet(walletId);
      if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no wallet " + walletId);
      try {
        this.money.topUp(walletId, amountMinor, w.currency, reference);
      } catch (e) {
        throw e instanceof MoneyError ? new GatewayError(e.status, e.code, e.message) : e;
      }
      this.log(0, 0, "wallet-topup", { walletId, amountMinor, reference });
      return this.money.books.wallet(walletId, w.currency);
    });
  }

  /** A wallet's balances: available, purses of its allowances, debt and disputed (derived from the postings). */
  walletBalances(walletId: string): WalletBalances {
    const w = this.store.getWallet(walletId);
    if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no wallet " + walletId);
    return this.money.books.wallet(walletId, w.currency);
  }

  /** A merchant's balances: pending (held), available, paid out. */
  merchantBalances(merchantId: number): MerchantBalances {
    const m = this.merchant(merchantId);
    return this.money.books.merchant(merchantId, m.currency);
  }

  /** Every merchant's and wallet's balances and the issuer's accounts, with the trial balance (the page's panel). */
  books(): { merchants: (MerchantBalances & { name: string })[]; wallets: WalletBalances[]; issuer: { account: string; currency: number; balance: number }[]; trial: { currency: number; debits: number; credits: number }[]; unbalanced: number[] } {
    const merchants = this.store.listMerchants().map((m) => ({ name: m.name, ...this.money.books.merchant(m.id, m.currency) }));
    const seen = new Set<string>();
    const wallets: WalletBalances[] = [];
    for (const b of this.store.balances("wallet:")) {
      const id = b.account.split(":")[1];
      if (seen.has(id)) continue;
      seen.add(id);
      wallets.push(this.money.books.wallet(id, b.currency));
    }
    const issuer = [ISSUER_FUNDS, ISSUER_CARDS, ISSUER_LOSSES].flatMap((a) => this.store.balances(a).filter((b) => b.account === a));
    return { merchants, wallets, issuer, trial: this.store.trialBalance(), unbalanced: this.store.unbalancedMovements() };
  }

  /** A merchant's statement over [from, to) (ms): opening balance + postings = closing balance, per account. */
  statement(merchantId: number, from: number, to: number): Statement {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) throw bad("BAD_PERIOD", "from and to: Unix ms, from <= to");
    const m = this.merchant(merchantId);
    return this.money.books.statement(merchantId, m.currency, from, to);
  }

  private checkParty(p: Party): Party {
    if (!p || typeof p.name !== "string" || !p.name.trim() || p.name.length > 70) throw bad("BAD_NAME", "name: 1 to 70 characters");
    return { name: p.name.trim(), iban: checkIban(p.iban), bic: checkBic(p.bic) };
  }

  /** The issuer's own account, debtor of payout files; null until configured. */
  payoutAccount(): Party | null {
    const raw = this.store.getMeta("payoutAccount");
    return raw ? (JSON.parse(raw) as Party) : null;
  }

  setPayoutAccount(p: Party): Party {
    const party = this.checkParty(p);
    if (!party.iban) throw bad("BAD_IBAN", "iban: the issuer's account is required");
    this.store.transaction(() => {
      this.store.setMeta("payoutAccount", JSON.stringify(party));
      this.log(0, 0, "payout-account", { name: party.name, iban: party.iban.slice(0, 4) + "…" + party.iban.slice(-4) });
    });
    return party;
  }

  /**
   * The settlement run of one period (a UTC day, default yesterday), at most once: every merchant's positive
   * available balance moves to paid out, one credit transfer each in a pain.001 file for the issuer's bank.
   * Merchants with no IBAN are skipped (their money stays available) and listed. Running a period again returns it.
   */
  runPayouts(period?: string): { run: PayoutRunRow; payouts: PayoutRow[]; skipped: { merchantId: number; reason: string }[] } {
    const p = period ?? dayString(this.now() - DAY_MS);
    if (typeof p !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(p) || Number.isNaN(Date.parse(p + "T00:00:00Z"))) throw bad("BAD_PERIOD", "period: a day, YYYY-MM-DD");
    return this.store.transaction(() => {
      const had = this.store.payoutRun(p);
      if (had) return { run: had, payouts: this.store.payouts(undefined, had.id as number), skipped: [] };
      const debtor = this.payoutAccount();
      if (!debtor) throw new GatewayError(409, "NO_PAYOUT_ACCOUNT", "set the issuer's payout account first (PUT /v1/admin/payout-account)");
      const now = this.now();
      const runId = this.store.insertPayoutRun({ period: p, at: now, count: 0, controlSum: 0, file: "" });
      const payouts: PayoutRow[] = [];
      const skipped: { merchantId: number; reason: string }[] = [];
      for (const m of this.store.listMerchants()) {
        const amount = this.money.books.balance(merchantAvailable(m.id), m.currency);
        if (amount <= 0) continue;
        if (!m.iban) {
          skipped.push({ merchantId: m.id, reason: "no IBAN on file" });
          this.log(m.id, 0, "payout-skipped", { period: p, amountMinor: amount, reason: "no IBAN on file" });
          continue;
        }
        const row: PayoutRow = { runId, merchantId: m.id, amountMinor: amount, currency: m.currency, iban: m.iban, bic: m.bic, name: m.name, endToEndId: "PO" + runId + "M" + m.id, at: now };
        this.money.payout("payout:" + runId + ":" + m.id, m.id, amount, m.currency, "settlement " + p);
        row.id = this.store.insertPayout(row);
        payouts.push(row);
        this.log(m.id, 0, "payout", { period: p, runId, amountMinor: amount, endToEndId: row.endToEndId });
        this.event(m.id, "payout.sent", { period: p, runId, amountMinor: amount, currency: m.currency, endToEndId: row.endToEndId });
      }
      const file = pain001({
        msgId: "PO-" + p + "-" + runId,
        createdAt: now,
        executionDate: dayString(now),
        debtor,
        payments: payouts.map((x) => ({ endToEndId: x.endToEndId, amountMinor: x.amountMinor, currency: x.currency, creditor: { name: x.name, iban: x.iban, bic: x.bic }, remittance: "Settlement " + p + " merchant " + x.merchantId })),
      });
      const controlSum = payouts.reduce((a, x) => a + x.amountMinor, 0);
      this.store.updatePayoutRun(runId, { count: payouts.length, controlSum, file });
      this.log(0, 0, "payout-run", { period: p, runId, count: payouts.length, controlSum, skipped: skipped.length });
      return { run: { id: runId, period: p, at: now, count: payouts.length, controlSum, file }, payouts, skipped };
    });
  }

  /** The pain.001 file of a settlement run. */
  payoutFile(runId: number): string {
    const r = this.store.payoutRunById(runId);
    if (!r) throw new GatewayError(404, "UNKNOWN_RUN", "no payout run " + runId);
    return r.file;
  }

  // ------------------------------------------------------------ outboxes

  private kick(): void {
    if (!this.autoFlush) return;
    void this.flush().catch(() => undefined);
  }

  /** Sends queued SMS and due webhooks (one pass; concurrent calls join it and run once more after). */
  flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await this.flushOnce();
        } while (this.flushAgain);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (!this.storeOpen()) return;
    if (!(await this.smsOut.flush())) return;
    for (const w of this.store.webhooksDue(this.now())) {
      const m = this.store.getMerchant(w.merchantId);
      const t = this.now();
      const headers = {
        "content-type": "application/json",
        "x-gateway-event": w.event,
        "x-gateway-delivery": String(w.id),
        "x-gateway-signature": webhookSignature(m ? m.webhookSecret : "", t, w.payload),
      };
      let err = "";
      try {
        const r = await this.webhookTransport.post(w.url, headers, w.payload);
        if (r.status < 200 || r.status > 299) err = "HTTP " + r.status;
      } catch (e) {
        err = e instanceof Error ? e.message : String(e);
      }
      if (!this.storeOpen()) return;
      const attempts = w.attempts + 1;
      this.store.transaction(() => {
        if (!err) this.store.updateWebhook(w.id as number, { status: "delivered", attempts, deliveredAt: this.now(), lastError: "" });
        else this.store.updateWebhook(w.id as number, { attempts, lastError: deliveryError(err), status: attempts >= MAX_WEBHOOK_ATTEMPTS ? "failed" : "pending", nextAt: this.now() + retryDelay(attempts) });
        const kind = !err ? "webhook-delivered" : attempts >= MAX_WEBHOOK_ATTEMPTS ? "webhook-failed" : "webhook-retry";
        // the merchant sees its receiver's status or "unreachable"; the network's own words (hosts, addresses of
        // whatever the URL resolved to) stay in the issuer's log for its operators
        this.log(w.merchantId, 0, kind, { id: w.id, event: w.event, attempts, error: err ? deliveryError(err) : undefined });
        if (err && deliveryError(err) !== err) this.log(0, 0, "webhook-error", { merchantId: w.merchantId, id: w.id, error: err.slice(0, 200) });
      });
    }
  }

  private storeOpen(): boolean {
    return this.store.open;
  }

  // ------------------------------------------------------------ connections (the activity log of terminal links)

  /** The HTTP server tells of each TCP/TLS connection; a row is written once a terminal speaks on it. */
  connectionOpened(id: number, remote: { address: string; port: number }): void {
    this.conns.set(id, { address: remote.address, port: remote.port, at: this.now(), rows: new Map() });
  }

  connectionClosed(id: number): void {
    const c = this.conns.get(id);
    this.conns.delete(id);
    if (!c || !c.rows.size || !this.storeOpen()) return;
    try {
      this.store.transaction(() => {
        for (const rowId of c.rows.values()) this.store.closeConnection(rowId, this.now());
      });
    } catch {
      // the log is best effort
    }
  }

  /**
   * A request on the terminal link: its connection is logged in a transaction of its own, committed before the
   * request runs, so a refused request (bad authentication, replay) still leaves its address and port in the log.
   */
  private noteLink(req: GatewayRequest): void {
    const m = /^\/v1\/t\/([0-9]{1,10})\/[a-z-]+$/.exec((req.path || "").split("?")[0]);
    if (!m || (req.method || "").toUpperCase() !== "POST" || !this.storeOpen()) return;
    const c = req.connection !== undefined ? this.conns.get(req.connection) : undefined;
    if (c && c.rows.has(Number(m[1]))) return; // logged already: the request itself counts itself (linkOp)
    try {
      this.store.transaction(() => {
        const t = this.store.getTerminal(Number(m[1]));
        if (t) this.noteConnection(req, t);
      });
    } catch {
      // the log is best effort; the request itself still runs (and fails on its own if the store is down)
    }
  }

  private noteConnection(req: GatewayRequest, t: TerminalRow): void {
    const c = req.connection !== undefined ? this.conns.get(req.connection) : undefined;
    if (c) {
      // one row per terminal on the connection (a proxy may carry several terminals on one)
      if (!c.rows.get(t.id)) c.rows.set(t.id, this.store.insertConnection({ merchantId: t.merchantId, terminalId: t.id, address: c.address, port: c.port, connectedAt: c.at, disconnectedAt: 0, requests: 0 }));
      return;
    }
    // in-process (the simulator): one request is one connection
    const r = req.remote ?? { address: "in-process", port: 0 };
    this.store.insertConnection({ merchantId: t.merchantId, terminalId: t.id, address: r.address, port: r.port, connectedAt: this.now(), disconnectedAt: this.now(), requests: 1 });
  }

  // ------------------------------------------------------------ the terminal link

  private keysFor(t: TerminalRow): LinkKeys {
    const pubHex = toHex(t.pub);
    const c = this.linkCache.get(t.id);
    if (c && c.pub === pubHex) return c.keys;
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(this.linkPrivate));
    const z = new Uint8Array(ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(t.pub)])));
    const keys = linkKeys(this.crypto, z);
    this.linkCache.set(t.id, { pub: pubHex, keys });
    return keys;
  }

  private linkOp(req: GatewayRequest, tid: number, op: string): GatewayResponse {
    if (op !== "hello" && op !== "upload" && op !== "update-chunk") throw new GatewayError(404, "UNKNOWN_OP", "no link operation " + op);
    const t = this.store.getTerminal(tid);
    if (!t) throw new GatewayError(404, "UNKNOWN_TERMINAL", "terminal " + tid + " is not registered");
    if (t.revokedAt) throw new GatewayError(403, "TERMINAL_REVOKED", "terminal " + tid + " was revoked", { terminalId: t.id, merchantId: t.merchantId });
    const keys = this.keysFor(t);
    const r = openRequest(this.crypto, keys, req.body, { lastSeq: t.linkSeq, op, tid });
    // the connection log counts the terminal's authentic requests on each connection
    const conn = req.connection !== undefined ? this.conns.get(req.connection) : undefined;
    const connRow = conn ? conn.rows.get(t.id) : undefined;
    if (connRow && !isLinkError(r)) this.store.touchConnection(connRow, t.id, t.merchantId);
    if (isLinkError(r)) {
      // the refusal itself is logged outside the (rolled back) transaction, by handle()
      throw new GatewayError(r.status, r.code, r.message, { terminalId: t.id, merchantId: t.merchantId });
    }
    this.store.updateTerminal(t.merchantId, t.id, { linkSeq: r.seq });
    let reply: Record<string, unknown>;
    if (op === "hello") reply = this.hello(t, r.msg);
    else if (op === "upload") reply = this.upload(t, r.msg);
    else reply = this.chunk(t, r.msg);
    const out: LinkReply = { ...reply, nonce: r.msg.nonce };
    return { status: 200, headers: { "content-type": "text/plain" }, body: sealReply(this.crypto, keys, r.seq, out) };
  }

  private hello(t: TerminalRow, m: LinkRequest): Record<string, unknown> {
    const now = this.now();
    const patch: Partial<TerminalRow> = { lastHelloAt: now };
    if (typeof m.fw === "string" && m.fw.length <= 32) patch.fw = m.fw;
    if (typeof m.time === "number" && Number.isFinite(m.time)) patch.drift = Math.round(m.time - now);
    const head = m.head as { seq?: unknown; hash?: unknown } | undefined;
    if (head && toPosInt(head.seq) && isHex(head.hash, 16)) {
      patch.headSeq = head.seq;
      patch.headHash = head.hash;
      if (head.seq > 0) this.learnHash(t, head.seq, head.hash, "hello head");
      const max = this.store.maxRecordSeq(t.merchantId, t.id);
      if (head.seq < max) this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "chain", detail: "journal head " + head.seq + " is behind record " + max + " already uploaded (journal reset?)" });
    }
    const anomalies = Array.isArray(m.anomalies) ? m.anomalies.slice(0, 64) : [];
    for (const a of anomalies) {
      const x = a as { kind?: unknown; page?: unknown; offset?: unknown; seq?: unknown };
      const kind = typeof x.kind === "string" ? x.kind.slice(0, 16) : "unknown";
      this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "journal-" + kind, detail: JSON.stringify({ page: x.page, offset: x.offset, seq: x.seq }) });
    }
    this.store.updateTerminal(t.merchantId, t.id, patch);
    const heldKeys = Array.isArray(m.keys) ? (m.keys as unknown[]).slice(0, 256) : undefined;
    this.log(t.merchantId, t.id, "hello", { fw: patch.fw ?? t.fw, head: head ?? null, pending: m.pending, anomalies: anomalies.length, drift: patch.drift, keys: heldKeys });
    const m0 = this.merchant(t.merchantId);
    const dv = this.denyVersion();
    const reply: Record<string, unknown> = { time: now, denyVersion: dv, limits: JSON.parse(m0.limits) };
    if (m.denyVersion !== dv) reply.deny = this.store.denyList().join("");
    const u = this.store.latestUpdate();
    // only a firmware-signed update (rows from before firmware keys have no board) is offered
    if (u && u.board && typeof m.fw === "string" && versionNewer(u.version, m.fw)) reply.update = { version: u.version, board: u.board, key: u.keyId, size: u.size, sha256: u.sha256, sig: u.sig };
    // issuer keys the terminal says it lacks (only a terminal that says which it holds is offered any)
    if (heldKeys) {
      const revoked = this.issuerKeyRevocations();
      const lack = this.issuerKeys().filter((k) => heldKeys.indexOf(k.id) < 0 && !revoked.some((r) => r.id === k.id));
      if (lack.length) reply.keys = lack.slice(0, MAX_KEYS);
      const drop = revoked.filter((r) => heldKeys.indexOf(r.id) >= 0);
      if (drop.length) reply.revoke = drop.slice(0, MAX_KEYS);
    }
    const paid = this.store.unrecordedPaid(t.merchantId, t.id);
    if (paid.length) reply.paid = paid.slice(0, 16).map((i) => toBase64(i.paid as Uint8Array));
    return reply;
  }

  private chunk(_t: TerminalRow, m: LinkRequest): Record<string, unknown> {
    if (typeof m.version !== "string" || !toPosInt(m.offset) || !toPosInt(m.length) || m.length > MAX_CHUNK) {
      throw new GatewayError(400, "REQ_FORMAT", "update-chunk: version, offset, length (at most " + MAX_CHUNK + ")");
    }
    const u = this.store.getUpdate(m.version);
    if (!u) throw new GatewayError(404, "UNKNOWN_UPDATE", "no update " + m.version);
    return { data: toBase64(u.bundle.subarray(Math.min(m.offset, u.size), Math.min(m.offset + m.length, u.size))) };
  }

  /** A chain hash learnt for (terminal, seq); a different one already known is a fork of the journal. */
  private learnHash(t: TerminalRow, seq: number, hash: string, from: string): void {
    const known = this.store.chainHash(t.merchantId, t.id, seq);
    if (known === undefined) this.store.putChainHash(t.merchantId, t.id, seq, hash);
    else if (known !== hash) this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: "", kind: "chain", detail: "chain hash of record " + seq + " from " + from + " differs from the one known" });
  }

  private upload(t: TerminalRow, m: LinkRequest): Record<string, unknown> {
    const recs = m.records;
    if (!Array.isArray(recs)) throw new GatewayError(400, "REQ_FORMAT", "upload: records must be an array");
    if (recs.length > MAX_UPLOAD_RECORDS) throw new GatewayError(413, "TOO_MANY_RECORDS", "at most " + MAX_UPLOAD_RECORDS + " records per upload");
    let last = 0;
    for (const r of recs as UploadRecord[]) {
      if (!r || typeof r !== "object" || !toPosInt(r.seq) || r.seq < 1 || typeof r.entry !== "string" || (r.prev !== undefined && !isHex(r.prev, 16))) {
        throw new GatewayError(400, "REQ_FORMAT", "upload: each record is {seq (positive), prev (32 hex, optional), entry (base64)}");
      }
      if (r.seq <= last) throw new GatewayError(400, "REQ_FORMAT", "upload: records must be in increasing seq");
      last = r.seq;
    }
    const acked: number[] = [];
    const rejected: { seq: number; code: string; message: string }[] = [];
    let entered = 0;
    let dup = 0;
    for (const r of recs as UploadRecord[]) {
      const v = this.ingest(t, r);
      if (v === "entered" || v === "duplicate") {
        acked.push(r.seq);
        if (v === "entered") entered++;
        else dup++;
      } else rejected.push({ seq: r.seq, code: v.code, message: v.message });
    }
    this.log(t.merchantId, t.id, "upload", { records: recs.length, entered, duplicates: dup, rejected: rejected.length, first: recs.length ? (recs[0] as UploadRecord).seq : 0, last });
    return { acked, rejected };
  }

  private ingest(t: TerminalRow, r: UploadRecord): "entered" | "duplicate" | { code: string; message: string } {
    const s = this.store;
    const now = this.now();
    const bytes = strictBase64(r.entry);
    const e = bytes ? decodeEntry(bytes) : null;
    const txHex = e ? toHex(e.txId) : "";
    const prev = r.prev ?? "";
    // The same record again (a lost reply, a restart): acknowledged, never entered twice.
    const same = s.recordsAt(t.merchantId, t.id, r.seq);
    for (const x of same) {
      if (bytes && toHex(x.entry) === toHex(bytes)) {
        if (x.status === "rejected") return { code: x.code, message: x.message };
        return "duplicate";
      }
    }
    const reject = (code: string, message: string) => {
      s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes ?? new Uint8Array(0), txId: txHex, status: "rejected", code, message, receivedAt: now });
      this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: e ? entryWalletId(this.crypto, e) : "", txId: txHex, kind: "rejected", detail: code + ": " + message + " (record " + r.seq + ")" });
      return { code, message };
    };
    if (!bytes) return reject("E_ENTRY", "entry is not base64");
    if (!e) return reject("E_ENTRY", "entry is not a well-formed journal entry");
    if (txParts(e.txId).terminalId !== t.id) return reject("E_TXID", "transaction ID names terminal " + txParts(e.txId).terminalId + ", not this one");
    if (s.txIdTaken(txHex)) {
      // Held already under another record (the journal was re-uploaded from elsewhere, or reset): the same bytes are
      // a duplicate, other bytes a conflict.
      const rec = s.recordOfTx(t.merchantId, t.id, txHex);
      if (rec && toHex(rec.entry) === toHex(bytes)) {
        s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "duplicate", code: "", message: "same entry as record " + rec.seq, receivedAt: now });
        return "duplicate";
      }
      // Entered already from the payer's receipt: the same request and payment are this payment, uploaded at last.
      const ev = rec ? undefined : s.recordsAt(t.merchantId, t.id, 0).find((x) => x.txId === txHex && x.status === "evidence");
      const had = ev ? decodeEntry(ev.entry) : null;
      if (had && had.kind === 1 && e.kind === 1 && toHex(had.request) === toHex(e.request) && toHex(had.payment) === toHex(e.payment)) {
        s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "duplicate", code: "", message: "entered from the payer's receipt before this upload", receivedAt: now });
        s.updateLedger(t.merchantId, txHex, { method: e.method, orderRef: e.orderRef, updatedAt: now });
        if (prev && r.seq > 1) this.learnHash(t, r.seq - 1, prev, "record " + r.seq);
        this.log(t.merchantId, t.id, "evidence-uploaded", { ref: txHex, seq: r.seq });
        return "duplicate";
      }
      return reject("E_TXID_CONFLICT", "transaction " + txHex + " is held with other contents");
    }
    const v = this.verifyEntry(t, e);
    if (!v.ok) return reject(v.code, v.message);
    // The same signed request and payment journaled again under a new txId (an insider's replay, or a firmware
    // fault): the payment is the wallet's (wallet, allowance, counter) and its bytes, not the txId; it is booked once.
    const again = e.kind === 1 ? this.samePayment(e.request, e.payment) : null;
    if (again) {
      s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "duplicate", code: "", message: "the payment of " + again.ref + " journaled again", receivedAt: now });
      this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: again.walletId, txId: txHex, kind: "rejournaled", detail: "record " + r.seq + " holds the request and payment of " + again.ref + " under a new transaction ID" });
      if (prev && r.seq > 1) this.learnHash(t, r.seq - 1, prev, "record " + r.seq);
      return "duplicate";
    }
    // chain: seq continuity and prev hashes
    const max = s.maxRecordSeq(t.merchantId, t.id);
    if (r.seq > max + 1) this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: txHex, kind: "gap", detail: "records " + (max + 1) + ".." + (r.seq - 1) + " missing before " + r.seq });
    if (same.length) this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId: "", txId: txHex, kind: "chain", detail: "record " + r.seq + " arrived again with another entry (journal reset or forked)" });
    if (prev && r.seq > 1) this.learnHash(t, r.seq - 1, prev, "record " + r.seq);
    s.insertRecord({ merchantId: t.merchantId, terminalId: t.id, seq: r.seq, prev, entry: bytes, txId: txHex, status: "entered", code: "", message: "", receivedAt: now });
    this.enter(t, e, txHex);
    return "entered";
  }

  /** The ledger row of a wallet payment with exactly this request and payment (bytes), entered under any txId. */
  private samePayment(request: Uint8Array, payment: Uint8Array): LedgerRow | null {
    const p = decodePayment(payment);
    if (!p) return null;
    const walletId = walletIdOf(this.crypto, payment.subarray(2, 66));
    const reqHex = toHex(request);
    const payHex = toHex(payment);
    for (const sp of this.store.spendsAt(walletId, p.counter)) {
      const l = this.store.ledgerByRef(sp.merchantId, sp.ref);
      if (!l) continue;
      const rec = this.store.recordOfTx(sp.merchantId, sp.terminalId, l.txId) ?? this.store.recordsAt(sp.merchantId, sp.terminalId, 0).find((r) => r.txId === l.txId && r.status === "evidence");
      const had = rec ? decodeEntry(rec.entry) : null;
      if (had && had.kind === 1 && toHex(had.request) === reqHex && toHex(had.payment) === payHex) return l;
    }
    return null;
  }

  private allowanceValid(a: Allowance, bytes: Uint8Array): boolean {
    const id = toHex(bytes);
    if (this.allowanceOk.has(id)) return true;
    if (a.issuerKeyId !== this.issuer.keyId) return false;
    const ok = this.verifier.message(this.issuer.publicKey, bytes);
    if (ok) {
      if (this.allowanceOk.size > 50000) this.allowanceOk.clear();
      this.allowanceOk.add(id);
    }
    return ok;
  }

  private verifyEntry(t: TerminalRow, e: Entry): Verdict {
    const no = (code: string, message: string): Verdict => ({ ok: false, code, message });
    if (e.kind === 1) {
      const q = decodeRequest(e.request);
      const p = decodePayment(e.payment);
      if (!q || !p) return no("E_ENTRY", "request or payment malformed");
      if (q.terminalId !== t.id) return no("E_TERMINAL", "the request names terminal " + q.terminalId);
      if (!this.verifier.message(t.pub, e.request)) return no("E_SIG", "terminal signature on the request not valid");
      if (p.allowance.issuerKeyId !== this.issuer.keyId) return no("E_ISSUER", "allowance from an unknown issuer key " + p.allowance.issuerKeyId);
      const whole = new Uint8Array(140);
      whole[0] = 1;
      whole[1] = 1;
      whole.set(e.payment.subarray(2, 140), 2);
      const a = decodeAllowance(whole);
      if (!a || !this.allowanceValid(a, whole)) return no("E_SIG", "issuer signature on the allowance not valid");
      if (!this.verifier.body(a.walletPub, concat([signedPart(e.payment), e.request]), p.walletSig)) return no("E_SIG", "wallet signature not valid");
      if (a.currency !== q.currency) return no("E_CURRENCY", "allowance and request currencies differ");
      return { ok: true };
    }
    if (e.kind === 2) {
      const c = decodePaid(e.paid);
      if (!c) return no("E_ENTRY", "paid confirmation malformed");
      if (c.issuerKeyId !== this.issuer.keyId || !this.verifier.message(this.issuer.publicKey, e.paid)) return no("E_SIG", "issuer signature on the paid confirmation not valid");
      if (c.terminalId !== t.id) return no("E_TERMINAL", "the confirmation names terminal " + c.terminalId);
      const inv = this.store.getInvoice(t.merchantId, t.id, c.invoiceNo);
      if (!inv || inv.status !== "paid" || inv.paymentRef !== toHex(c.paymentRef)) return no("E_INVOICE", "no payment " + toHex(c.paymentRef) + " of invoice " + c.invoiceNo);
      const l = this.store.ledgerByRef(t.merchantId, "pay:" + inv.paymentRef);
      if (l && l.txId) return no("E_DUPLICATE", "invoice " + c.invoiceNo + " is recorded already as " + l.txId);
      return { ok: true };
    }
    const x = decodeRefund(e.refund);
    if (!x) return no("E_ENTRY", "refund malformed");
    if (!this.verifier.message(t.pub, e.refund)) return no("E_SIG", "terminal signature on the refund not valid");
    const orig = this.store.ledgerByTx(t.merchantId, toHex(x.txId));
    if (!orig || orig.kind === "refund") return no("E_REFUND_UNKNOWN", "refund of " + toHex(x.txId) + ", which this merchant's books do not hold");
    const left = orig.amountMinor - this.store.refundedOf(t.merchantId, orig.ref);
    if (x.amountMinor > left) return no("E_REFUND_OVER", "refund of " + x.amountMinor + " passes what remains of the original (" + left + " of " + orig.amountMinor + ")");
    if (x.currency !== orig.currency) return no("E_CURRENCY", "the refund's currency is not the original's");
    return { ok: true };
  }

  /** Enters one journal entry in the books; `fromPayer`: the payer's own evidence, not a terminal's upload. */
  private enter(t: TerminalRow, e: Entry, txHex: string, fromPayer = false): void {
    const s = this.store;
    const now = this.now();
    const base = { merchantId: t.merchantId, terminalId: t.id, txId: txHex, createdAt: now, updatedAt: now, original: "", holdUntil: 0, walletId: "", counter: 0 };
    if (e.kind === 1) {
      const q = decodeRequest(e.request)!;
      const p = decodePayment(e.payment)!;
      const a = p.allowance;
      const walletId = entryWalletId(this.crypto, e);
      const txTime = q.time * 1000;
      const row: LedgerRow = {
        ...base,
        ref: txHex,
        kind: "wallet",
        method: e.method,
        amountMinor: q.amountMinor,
        currency: q.currency,
        walletId,
        counter: p.counter,
        orderRef: e.orderRef,
        status: "held",
        txTime,
        holdUntil: txTime + HOLD_MS,
      };
      const flag = (kind: string, detail: string) => this.flag({ merchantId: t.merchantId, terminalId: t.id, walletId, txId: txHex, kind, detail });
      // double spending: the same counter twice, or more than the allowance's cap across terminals
      const allowanceKey = a.expiryDay + ":" + a.startCounter;
      const twice = s.spendsAt(walletId, p.counter);
      if (twice.length) {
        flag("double-spend", "counter " + p.counter + " also used at terminal " + twice[0].terminalId + " (" + twice[0].ref + ")");
        this.deny(walletId, "double spend: counter " + p.counter, t.merchantId, t.id);
      }
      const spent = s.spentUnder(walletId, allowanceKey) + q.amountMinor;
      if (spent > a.capMinor) {
        flag("allowance-exceeded", "spent " + spent + " under an allowance of " + a.capMinor);
        this.deny(walletId, "allowance exceeded: " + spent + " > " + a.capMinor, t.merchantId, t.id);
      }
      if (p.counter < a.startCounter) flag("counter-below-start", "counter " + p.counter + " below the allowance's start " + a.startCounter);
      if (Math.floor(q.time / 86400) > a.expiryDay) flag("allowance-expired", "paid on day " + Math.floor(q.time / 86400) + " after the allowance's expiry day " + a.expiryDay);
      s.insertSpend({ walletId, counter: p.counter, allowanceKey, capMinor: a.capMinor, merchantId: t.merchantId, terminalId: t.id, ref: txHex, amountMinor: q.amountMinor });
      // an allowance the wallet had already swapped for a newer one at a sync: its app always pays with the newest, so
      // spending an older one afterwards is a wallet replaying its allowances to spend several caps (security review 8)
      const issued = s.allowanceByKey(walletId, allowanceKey);
      if (issued && issued.replacedAt && txTime > issued.replacedAt) {
        flag("stale-allowance", "paid under allowance " + issued.n + ", replaced " + Math.round((txTime - issued.replacedAt) / 60000) + " min before the payment");
        this.deny(walletId, "paid with a replaced allowance", t.merchantId, t.id);
      }
      // the money: purse (then available, then debt) -> merchant pending; the issuer guarantees what the terminal took
      const drawn = this.money.offlinePayment({ ref: txHex, merchantId: t.merchantId, walletId, amountMinor: q.amountMinor, currency: q.currency, allowance: issued, memo: "counter " + p.counter });
      if (drawn.debt > 0) {
        flag("beyond-purse", "paid " + q.amountMinor + ": " + drawn.fromPurse + " from the purse, " + drawn.fromAvailable + " from available, " + drawn.debt + " became the wallet's debt");
        this.deny(walletId, "spent beyond its purse and balance: debt " + drawn.debt, t.merchantId, t.id);
      }
      // the payer synced first and reported this payment: matched at once
      const rep = s.reportAt(walletId, p.counter);
      const matched = !!rep && rep.terminalId === t.id && rep.amountMinor === q.amountMinor && !twice.length;
      if (rep && !matched) flag("wallet-mismatch", "the wallet reported counter " + p.counter + " at terminal " + rep.terminalId + " for " + rep.amountMinor);
      if (matched) {
        this.money.approve(row);
        row.status = "approved";
      }
      s.insertLedger(row);
      this.log(t.merchantId, t.id, "ledger-entered", { ref: txHex, kind: "wallet", amountMinor: row.amountMinor, walletId, counter: p.counter, status: row.status });
      // the payer hears that the issuer holds their payment (not when their own sync already confirmed it)
      if (!matched && !fromPayer) this.queueSms(walletId, txHex, offlineReceivedText({ amount: money(row.amountMinor, row.currency), merchant: this.merchant(t.merchantId).name, utr: this.utrOf(txHex), holdUntil: row.holdUntil }), "offline-received");
      this.event(t.merchantId, matched ? "payment.confirmed" : "payment.received", this.eventBody(row));
      if (e.orderRef) this.event(t.merchantId, "order.paid", this.eventBody(row));
      return;
    }
    if (e.kind === 2) {
      const c = decodePaid(e.paid)!;
      const inv = s.getInvoice(t.merchantId, t.id, c.invoiceNo)!;
      const ref = "pay:" + inv.paymentRef;
      const orderRef = e.orderRef || inv.orderRef;
      // the order callback went out when the invoice was paid online, unless only the terminal knew the order
      const orderNews = !!e.orderRef && !inv.orderRef;
      s.updateInvoice(t.merchantId, t.id, c.invoiceNo, { recorded: 1, orderRef });
      const l = s.ledgerByRef(t.merchantId, ref);
      if (l) s.updateLedger(t.merchantId, ref, { txId: txHex, method: e.method, orderRef, updatedAt: now });
      else {
        s.insertLedger({ ...base, ref, kind: "invoice", method: e.method, amountMinor: c.amountMinor, currency: c.currency, orderRef, status: "settled", txTime: c.paidAt * 1000 });
      }
      const row = s.ledgerByRef(t.merchantId, ref)!;
      this.log(t.merchantId, t.id, "invoice-recorded", { invoiceNo: c.invoiceNo, ref, txId: txHex, method: e.method });
      if (orderNews) this.event(t.merchantId, "order.paid", this.eventBody(row));
      return;
    }
    const x = decodeRefund(e.refund)!;
    // verifyEntry refused a refund of an original the books do not hold, or beyond what remains of it
    const orig = s.ledgerByTx(t.merchantId, toHex(x.txId)) as LedgerRow;
    const row: LedgerRow = {
      ...base,
      ref: txHex,
      kind: "refund",
      method: x.reason,
      amountMinor: -x.amountMinor,
      currency: x.currency,
      walletId: orig.walletId,
      orderRef: orig.orderRef,
      status: "settled",
      txTime: x.time * 1000,
      original: orig.ref,
    };
    s.insertLedger(row);
    this.money.refund(txHex, t.merchantId, x.amountMinor, x.currency, orig);
    this.log(t.merchantId, t.id, "ledger-entered", { ref: txHex, kind: "refund", amountMinor: row.amountMinor, original: row.original, status: row.status });
    this.event(t.merchantId, "refund.recorded", { ...this.eventBody(row), original: row.original, reason: x.reason === 1 ? "void" : "refund" });
  }

  // ------------------------------------------------------------ HTTP

  /** The whole HTTP API (docs/gateway-api.yaml). Never throws: refusals are 4xx JSON `{error, message}`. */
  async handle(req: GatewayRequest): Promise<GatewayResponse> {
    if (!this.needsAsync(req)) return this.handleSync(req);
    try {
      return await this.payByCard(req);
    } catch (e) {
      return this.errorResponse(e, req);
    } finally {
      this.kick();
    }
  }

  /**
   * Requests that wait on something outside the database (the card processor): served by handle(), each of its
   * database steps one transaction, not in one turn as the others (handleSync).
   */
  needsAsync(req: { method: string; path: string; body: string }): boolean {
    if ((req.method || "").toUpperCase() !== "POST") return false;
    const path = (req.path || "").split("?")[0];
    if (path === "/v1/invoices/pay/3ds") return true;
    if (path !== "/v1/invoices/pay") return false;
    try {
      const m = (JSON.parse(req.body) as { method?: unknown }).method;
      return m === "card" || m === "debit";
    } catch {
      return false;
    }
  }

  private async payByCard(req: GatewayRequest): Promise<GatewayResponse> {
    const b = body(req);
    const path = (req.path || "").split("?")[0];
    const r =
      path === "/v1/invoices/pay/3ds"
        ? await this.completeCardChallenge(typeof b.challengeId === "string" ? b.challengeId : "", { code: typeof b.code === "string" ? b.code : undefined, abandon: b.abandon === true })
        : await this.payInvoice({ invoice: bytesField(b.invoice, "invoice"), method: b.method as PayOnline["method"], card: b.card as CardDetails | undefined });
    if ("challenge" in r) return json(202, { status: "challenge", challengeId: r.challengeId, brand: r.brand, last4: r.last4 });
    return json(200, paidJson(r));
  }

  handleSync(req: GatewayRequest): GatewayResponse {
    let res: GatewayResponse;
    this.noteLink(req);
    try {
      res = this.store.transaction(() => this.route(req));
    } catch (e) {
      res = this.errorResponse(e, req);
    }
    this.kick();
    return res;
  }

  private errorResponse(e: unknown, req: GatewayRequest): GatewayResponse {
    if (e instanceof GatewayError) {
      const x = e.extra ?? {};
      if (typeof x.terminalId === "number" && typeof x.merchantId === "number") {
        // a link request refused (authentication, replay, format): logged on its own, the request changed nothing
        try {
          this.store.transaction(() => this.log(x.merchantId as number, x.terminalId as number, "link-refused", { code: e.code, message: e.message, remote: req.remote ?? null }));
        } catch {
          // the log is best effort
        }
        return json(e.status, { error: e.code, message: e.message });
      }
      return json(e.status, { error: e.code, message: e.message, ...x });
    }
    const msg = e instanceof Error ? e.message : String(e);
    return json(500, { error: "INTERNAL", message: "the gateway failed: " + msg.slice(0, 200) });
  }

  private route(req: GatewayRequest): GatewayResponse {
    const method = (req.method || "GET").toUpperCase();
    const path = (req.path || "/").split("?")[0];
    const parts = path.split("/").filter((x) => x);
    // the hosted pay page (what the invoice QR's URL opens) and the QR code library it draws the confirmation with
    if (parts[0] === "pay" && parts.length === 1) {
      if (method !== "GET") throw new GatewayError(405, "METHOD", path + " takes GET");
      return { status: 200, headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; style-src 'unsafe-inline'", "referrer-policy": "no-referrer" }, body: PAY_PAGE };
    }
    if (parts[0] === "pay" && parts[1] === "qrcode.js" && parts.length === 2) {
      if (method !== "GET") throw new GatewayError(405, "METHOD", path + " takes GET");
      return { status: 200, headers: { "content-type": "text/javascript; charset=utf-8" }, body: qrcodeLibrary() };
    }
    if (parts[0] !== "v1") throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
    const p = parts.slice(1);
    const need = (m: string) => {
      if (method !== m) throw new GatewayError(405, "METHOD", path + " takes " + m);
    };
    // the terminal link
    if (p[0] === "t" && p.length === 3) {
      need("POST");
      const tid = /^[0-9]{1,10}$/.test(p[1]) ? Number(p[1]) : -1;
      if (tid < 0) throw new GatewayError(404, "UNKNOWN_TERMINAL", "terminal IDs are decimal");
      return this.linkOp(req, tid, p[2]);
    }
    // the SMS gateway's delivery report (dlr-url): the message's own secret token authenticates it
    if (p[0] === "sms" && p.length === 3 && p[2] === "dlr") {
      if (method !== "GET" && method !== "POST") throw new GatewayError(405, "METHOD", path + " takes GET");
      const q = new URLSearchParams((req.path || "").split("?")[1] || "");
      const id = /^[0-9]{1,15}$/.test(p[1]) ? Number(p[1]) : -1;
      const type = /^[0-9]{1,3}$/.test(q.get("type") || "") ? Number(q.get("type")) : -1;
      if (type < 0) throw bad("BAD_DLR", "type: the delivery report type (Kannel's %d)");
      const r = this.smsDeliveryReport(id, q.get("token") || "", type);
      return json(200, { id: r.id, dlr: r.dlr, dlrAt: r.dlrAt });
    }
    if (p[0] === "health" && p.length === 1) {
      need("GET");
      return json(200, { ok: true, time: this.now() });
    }
    if (p[0] === "info" && p.length === 1) {
      need("GET");
      return json(200, { time: this.now(), issuerKeyId: this.issuer.keyId, issuerPublicKey: toHex(this.issuer.publicKey), linkPublicKey: toHex(this.linkPublicKey), denyVersion: this.denyVersion() });
    }
    // invoices: the pay page (anyone holding the invoice)
    if (p[0] === "invoices" && p.length === 1) {
      need("POST");
      const b = body(req);
      const row = this.submitInvoice(bytesField(b.invoice, "invoice"));
      const m = this.store.getMerchant(row.merchantId);
      return json(200, { ...invoiceJson(row), merchantName: m ? m.name : "", qr: row.paid ? toQrText(row.paid) : undefined });
    }
    if (p[0] === "invoices" && p[1] === "pay" && p.length === 2) {
      need("POST");
      const b = body(req);
      // card and debit card go to the processor, outside one database turn: handle() serves them (needsAsync)
      if (b.method !== "wallet") throw bad("BAD_METHOD", "method: card, debit or wallet");
      const walletId = typeof b.walletId === "string" ? b.walletId : "";
      this.walletAuth(req, walletId, b);
      return json(200, paidJson(this.recordOnlinePayment(bytesField(b.invoice, "invoice"), 3, { walletId })));
    }
    // wallets: the payer's own calls, signed by the wallet key
    if (p[0] === "wallets" && p.length === 3 && p[2] !== "topups") {
      need("POST");
      const walletId = p[1];
      const b = body(req);
      this.walletAuth(req, walletId, b);
      if (p[2] === "sync") {
        const r = this.syncWallet(walletId, { spent: b.spent as WalletReport["spent"], capMinor: b.capMinor as number | undefined });
        return json(200, { walletId, allowance: r.allowance ? toBase64(r.allowance) : null, allowanceError: r.allowanceError || undefined, denied: r.denied, matched: r.matched, unreported: r.unreported, evidenced: r.evidenced, balances: r.balances, time: this.now() });
      }
      if (p[2] === "balance") return json(200, this.walletBalances(walletId));
      if (p[2] === "allowance") {
        const r = this.loadAllowance(walletId, b.capMinor as number | undefined);
        return json(200, { allowance: toBase64(r.allowance), balances: r.balances });
      }
      if (p[2] === "claims") {
        const l = this.claimFraud(walletId, b.txId as string, b.action as "dispute", (b.reason as string) ?? "");
        return json(200, { txId: l.txId, status: l.status });
      }
      if (p[2] === "transactions") {
        return json(200, { transactions: this.store.ledgerOfWallet(walletId).map((l) => ({ ...this.eventBody(l), txTime: l.txTime, holdUntil: l.holdUntil })) });
      }
      throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
    }
    // admin
    if (p[0] === "wallets" && p.length === 3 && p[2] === "topups") {
      need("POST");
      this.adminAuth(req);
      const b = body(req);
      return json(201, this.topUp(p[1], b.amountMinor as number, b.reference as string));
    }
    if (p[0] === "admin" && p[1] === "payouts" && p.length === 4 && p[3] === "pain001") {
      need("GET");
      this.adminAuth(req);
      const id = /^[0-9]{1,10}$/.test(p[2]) ? Number(p[2]) : -1;
      return { status: 200, headers: { "content-type": "application/xml" }, body: this.payoutFile(id) };
    }
    if (p[0] === "wallets" && p.length === 1) {
      need("POST");
      this.adminAuth(req);
      const b = body(req);
      const r = this.registerWallet({
        publicKey: hexField(b.publicKey, "publicKey", 64),
        phone: optString(b.phone, "phone"),
        capMinor: b.capMinor as number,
        currency: b.currency as number | undefined,
        balanceMinor: b.balanceMinor as number | undefined,
      });
      return json(201, { walletId: r.walletId, allowance: toBase64(r.allowance) });
    }
    if (p[0] === "merchants" && p.length === 1) {
      need("POST");
      this.adminAuth(req);
      const b = body(req);
      const r = this.registerMerchant({ name: b.name as string, currency: b.currency as number | undefined, webhookUrl: b.webhookUrl as string | undefined, limits: b.limits as MerchantSpec["limits"], merchantId: b.merchantId as number | undefined, iban: b.iban as string | undefined, bic: b.bic as string | undefined, phone: b.phone as string | undefined });
      return json(201, r);
    }
    if (p[0] === "admin" && p.length === 2) {
      this.adminAuth(req);
      if (p[1] === "tick") {
        need("POST");
        return json(200, this.tick());
      }
      if (p[1] === "clock") {
        need("POST");
        const b = body(req);
        if (!isMovable(this.clock)) throw new GatewayError(409, "CLOCK_FIXED", "this gateway runs on the system clock");
        if (!toPosInt(b.advanceMs)) throw bad("BAD_ADVANCE", "advanceMs: a non-negative integer");
        this.clock.advance(b.advanceMs);
        this.log(0, 0, "clock-advanced", { advanceMs: b.advanceMs, time: this.now() });
        // the 3-day rule runs at once on the new time (the service's timer runs it every minute anyway)
        return json(200, { time: this.now(), approved: this.tick().approved });
      }
      if (p[1] === "updates") {
        need("POST");
        const b = body(req);
        if (typeof b.key !== "number") throw bad("UNKNOWN_KEY", "key: the ID of the firmware key that signed it (tools/sign-update.ts)");
        return json(201, this.offerUpdate({ version: b.version as string, board: b.board as string, keyId: b.key, bundle: bytesField(b.bundle, "bundle"), sig: hexField(b.sig, "sig", 64) }));
      }
      if (p[1] === "firmware-keys") {
        need("POST");
        const b = body(req);
        return json(201, this.addFirmwareKey(b.id as number, hexField(b.pub, "pub", 64)));
      }
      if (p[1] === "payouts" && method === "POST") {
        const b = req.body ? body(req) : {};
        const r = this.runPayouts(b.period === undefined ? undefined : (b.period as string));
        return json(200, { run: { ...r.run, file: undefined }, payouts: r.payouts, skipped: r.skipped });
      }
      if (p[1] === "payout-account" && method === "PUT") {
        const b = body(req);
        return json(200, this.setPayoutAccount({ name: b.name as string, iban: b.iban as string, bic: (b.bic as string) ?? "" }));
      }
      if (p[1] === "disputes" && method === "GET") return json(200, { disputes: this.disputes() });
      if (p[1] === "disputes" && method === "POST") {
        const b = body(req);
        const l = this.resolveDispute(b.merchantId as number, b.ref as string, b.decision as "payer");
        return json(200, { ref: l.ref, status: l.status });
      }
      if (p[1] === "issuer-key-revocations" && method === "POST") {
        return json(201, this.revokeIssuerKey(body(req).keyId as number));
      }
      if (p[1] === "issuer-keys" && method === "POST") {
        const b = body(req);
        const sig = b.sig === undefined ? undefined : hexField(b.sig, "sig", 64);
        return json(201, this.addIssuerKey({ keyId: b.keyId as number, publicKey: hexField(b.publicKey, "publicKey", 64), sig }));
      }
      need("GET");
      if (p[1] === "issuer-keys") return json(200, { issuerKeyId: this.issuer.keyId, keys: this.issuerKeys(), revoked: this.issuerKeyRevocations() });
      if (p[1] === "sms") return json(200, { sms: this.store.sms().map((x) => ({ ...x, dlrToken: undefined })) });
      if (p[1] === "deny") return json(200, { denyVersion: this.denyVersion(), deny: this.store.denyList() });
      if (p[1] === "flags") return json(200, { flags: this.store.flags() });
      if (p[1] === "activity") return json(200, { activity: this.store.activity(undefined, limitParam(req)) });
      if (p[1] === "connections") return json(200, { connections: this.store.connections() });
      if (p[1] === "ledger") return json(200, { ledger: this.store.ledger() });
      if (p[1] === "books") return json(200, this.books());
      if (p[1] === "payouts") return json(200, { runs: this.store.payoutRuns().map((r) => ({ ...r, file: undefined })) });
      if (p[1] === "payout-account") return json(200, this.payoutAccount() ?? {});
      throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
    }
    // a merchant's own books and terminals
    if (p[0] === "merchants" && p.length >= 3) {
      const mid = /^[0-9]{1,10}$/.test(p[1]) ? Number(p[1]) : -1;
      this.merchantAuth(req, mid);
      const what = p[2];
      if (what === "terminals" && p.length === 3 && method === "POST") {
        const b = body(req);
        const r = this.registerTerminal({ merchantId: mid, publicKey: hexField(b.publicKey, "publicKey", 64), terminalId: b.terminalId as number | undefined, expiryDay: b.expiryDay as number | undefined });
        return json(201, { terminalId: r.terminalId, merchantId: r.merchantId, cert: toHex(r.cert), linkPublicKey: toHex(r.linkPublicKey), issuerKeyId: r.issuerKeyId, issuerPublicKey: toHex(r.issuerPublicKey) });
      }
      if (what === "terminals" && p.length === 5 && p[4] === "revoke") {
        need("POST");
        const tid = /^[0-9]{1,10}$/.test(p[3]) ? Number(p[3]) : -1;
        return json(200, terminalJson(this.revokeTerminal(mid, tid)));
      }
      if (what === "settings" && p.length === 3 && method === "PUT") {
        const b = body(req);
        const m = this.updateMerchant(mid, { webhookUrl: b.webhookUrl as string | undefined, limits: b.limits as Record<string, unknown> | undefined, iban: b.iban as string | undefined, bic: b.bic as string | undefined, phone: b.phone as string | undefined });
        return json(200, merchantJson(m));
      }
      need("GET");
      if (p.length !== 3) throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
      if (what === "ledger") return json(200, { ledger: this.store.ledger(mid) });
      if (what === "holds") return json(200, { holds: this.store.held(mid) });
      if (what === "flags") return json(200, { flags: this.store.flags(mid) });
      if (what === "activity") return json(200, { activity: this.store.activity(mid, limitParam(req)) });
      if (what === "connections") return json(200, { connections: this.store.connections(mid) });
      if (what === "invoices") return json(200, { invoices: this.store.listInvoices(mid).map(invoiceJson) });
      if (what === "events") return json(200, { events: this.store.webhooks(mid).map((w) => ({ id: w.id, event: w.event, payload: JSON.parse(w.payload), status: w.status, attempts: w.attempts })) });
      if (what === "terminals") return json(200, { terminals: this.store.listTerminals(mid).map(terminalJson) });
      if (what === "records") return json(200, { records: this.store.records(mid).map((r) => ({ ...r, entry: toBase64(r.entry) })) });
      if (what === "settings") return json(200, merchantJson(this.merchant(mid)));
      if (what === "balances") return json(200, this.merchantBalances(mid));
      if (what === "payouts") return json(200, { payouts: this.store.payouts(mid) });
      if (what === "statement") {
        const q = new URLSearchParams((req.path || "").split("?")[1] || "");
        const num = (k: string, d: number) => (q.has(k) ? (/^[0-9]{1,15}$/.test(q.get(k) as string) ? Number(q.get(k)) : -1) : d);
        const st = this.statement(mid, num("from", 0), num("to", this.now() + 1));
        if (q.get("format") === "csv") return { status: 200, headers: { "content-type": "text/csv" }, body: statementCsv(st) };
        return json(200, st);
      }
      throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
    }
    throw new GatewayError(404, "NOT_FOUND", "no such path " + path);
  }

  private bearer(req: GatewayRequest): string {
    // the auth-scheme is case-insensitive (RFC 7235 section 2.1)
    const m = /^bearer[ \t]+(\S.*)$/i.exec(header(req, "authorization"));
    return m ? m[1].trim() : "";
  }

  private adminAuth(req: GatewayRequest): void {
    const tok = this.bearer(req);
    if (!tok) throw new GatewayError(401, "UNAUTHENTICATED", "an admin bearer token is required");
    if (sha256Hex(tok) !== sha256Hex(this.adminToken)) throw new GatewayError(403, "FORBIDDEN", "not the admin token");
  }

  /** The admin, or the merchant's own API key; another merchant's key gets 404 (it learns nothing). */
  private merchantAuth(req: GatewayRequest, merchantId: number): void {
    const tok = this.bearer(req);
    if (!tok) throw new GatewayError(401, "UNAUTHENTICATED", "a bearer token (merchant API key) is required");
    if (sha256Hex(tok) === sha256Hex(this.adminToken)) {
      this.merchant(merchantId);
      return;
    }
    const m = this.store.merchantByKeyHash(sha256Hex(tok));
    if (!m) throw new GatewayError(401, "UNAUTHENTICATED", "unknown API key");
    if (m.id !== merchantId) throw new GatewayError(404, "UNKNOWN_MERCHANT", "no merchant " + merchantId);
  }

  /**
   * A wallet's request: header `x-wallet-signature` = R||S (hex) by the wallet key over SHA-256 of
   * walletRequestBytes(method, path, body); the body's `time` (ms) must be above the last one accepted (no replay).
   */
  private walletAuth(req: GatewayRequest, walletId: string, b: Record<string, unknown>): void {
    const w = /^[0-9a-f]{16}$/.test(walletId) ? this.store.getWallet(walletId) : undefined;
    if (!w) throw new GatewayError(404, "UNKNOWN_WALLET", "no wallet " + walletId);
    const sigHex = header(req, "x-wallet-signature");
    const sig = /^[0-9a-f]{128}$/.test(sigHex) ? fromHex(sigHex) : undefined;
    if (!sig) throw new GatewayError(401, "UNAUTHENTICATED", "x-wallet-signature: 128 hex digits");
    const path = (req.path || "/").split("?")[0];
    if (!this.verifier.body(w.pub, walletRequestBytes(req.method, path, req.body), sig)) throw new GatewayError(401, "BAD_SIGNATURE", "the wallet signature does not verify");
    if (!toPosInt(b.time) && !(typeof b.time === "number" && Number.isSafeInteger(b.time) && b.time > 0)) throw bad("BAD_TIME", "time: the wallet's clock, Unix ms");
    if ((b.time as number) <= w.lastReqTime) throw new GatewayError(409, "REPLAY", "time " + b.time + " is not above the last request's");
    this.store.updateWallet(w.id, { lastReqTime: b.time as number });
  }
}

// ---------------------------------------------------------------- helpers for the HTTP layer

export function json(status: number, v: unknown): GatewayResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? toHex(x) : x)) };
}

function body(req: GatewayRequest): Record<string, unknown> {
  const type = header(req, "content-type");
  if (type && !isJsonMediaType(type)) throw new GatewayError(415, "UNSUPPORTED_MEDIA_TYPE", "the body is JSON: send it as application/json");
  let v: unknown;
  try {
    v = JSON.parse(req.body || "");
  } catch {
    throw bad("BAD_JSON", "the body must be a JSON object");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad("BAD_JSON", "the body must be a JSON object");
  return v as Record<string, unknown>;
}

function hexField(v: unknown, name: string, bytes: number): Uint8Array {
  const b = typeof v === "string" && v.length === bytes * 2 ? fromHex(v.toLowerCase()) : undefined;
  if (!b) throw bad("BAD_" + name.toUpperCase(), name + ": " + bytes * 2 + " hex digits");
  return b;
}

/** Bytes given as standard base64, base64url or hex. */
function bytesField(v: unknown, name: string): Uint8Array {
  if (typeof v === "string" && v) {
    if (/^[0-9a-fA-F]+$/.test(v) && v.length % 2 === 0) {
      const h = fromHex(v.toLowerCase());
      if (h) return h;
    }
    if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) return new Uint8Array(Buffer.from(v.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
  }
  throw bad("BAD_" + name.toUpperCase(), name + ": bytes as base64, base64url or hex");
}

function optString(v: unknown, name: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw bad("BAD_" + name.toUpperCase(), name + ": a string");
  return v;
}

function limitParam(req: GatewayRequest): number {
  const q = (req.path || "").split("?")[1] || "";
  const m = /(?:^|&)limit=([0-9]{1,6})(?:&|$)/.exec(q);
  return m ? Math.max(1, Number(m[1])) : 1000;
}

let qrcodeJs = "";
/** qrcode-generator's browser build (a dependency of the project), read once. */
function qrcodeLibrary(): string {
  if (!qrcodeJs) qrcodeJs = readFileSync(createRequire(import.meta.url).resolve("qrcode-generator"), "utf8");
  return qrcodeJs;
}

function paidJson(r: PaidResult): Record<string, unknown> {
  return { paid: toBase64(r.paid), qr: r.qr, paymentRef: r.paymentRef, terminalId: r.terminalId, invoiceNo: r.invoiceNo, amountMinor: r.amountMinor, currency: r.currency };
}

function invoiceJson(i: InvoiceRow): Record<string, unknown> {
  return {
    terminalId: i.terminalId,
    invoiceNo: i.invoiceNo,
    amountMinor: i.amountMinor,
    currency: i.currency,
    expires: i.expires,
    orderRef: i.orderRef,
    status: i.status,
    paidAt: i.paidAt,
    method: i.method,
    paymentRef: i.paymentRef,
    card: i.card || undefined,
    paid: i.paid ? toBase64(i.paid) : null,
    recorded: !!i.recorded,
  };
}

function terminalJson(t: TerminalRow): Record<string, unknown> {
  return { terminalId: t.id, merchantId: t.merchantId, publicKey: toHex(t.pub), cert: toHex(t.cert), fw: t.fw, headSeq: t.headSeq, lastHelloAt: t.lastHelloAt, drift: t.drift, revokedAt: t.revokedAt };
}

function merchantJson(m: MerchantRow): Record<string, unknown> {
  return { merchantId: m.id, name: m.name, currency: m.currency, webhookUrl: m.webhookUrl, limits: JSON.parse(m.limits), iban: m.iban, bic: m.bic, phone: m.phone };
}
