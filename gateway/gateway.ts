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
 *
 * This file holds the class (its state, registration, issuer and firmware keys) and delegates each room to its own
 * file, as functions taking the gateway: routes.ts (the HTTP API), link.ts (the terminal link and its checks),
 * reconcile.ts (entering, matching, claims, approval, the 3-day rule), accounts.ts (allowances, top-ups, balances,
 * statements, payouts), online.ts (invoices paid online), outbox.ts (webhooks, SMS), fields.ts (shared checks).
 * Members without `private` that carry no comment are those files' internals, not API.
 */
import { randomBytes } from "node:crypto";
import type { CryptoBackend } from "../hal/crypto.ts";
import { fromHex } from "../protocol/codec/hex.ts";
import { toHex } from "./hex.ts";
import type { Entry } from "../protocol/entry.ts";
import type { Allowance } from "../protocol/messages.ts";
import { decodeInvoice } from "../protocol/messages.ts";
import { walletIdOf } from "../protocol/rules.ts";
import type { LinkKeys, LinkRequest } from "../protocol/sync.ts";
import type { GatewayClock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { isPublicKey, Issuer, publicKeyOf, signBody } from "./issuer.ts";
import { issuerKeyBody, revokeBody } from "../protocol/keys.ts";
import { firmwareBody, isLabel } from "../protocol/firmware.ts";
import { nodeCrypto } from "./node-crypto.ts";
import type { SmsProvider } from "./sms.ts";
import { OutboxSmsProvider, SmsOutbox } from "./sms.ts";
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
import { SandboxCardProcessor } from "./cards.ts";
import type { MerchantBalances, Statement, WalletBalances } from "./books.ts";
import { Money } from "./money.ts";
import type { Party } from "./payouts.ts";
import type { SigCheck } from "./verify-pool.ts";
import { VerifyPool } from "./verify-pool.ts";
import type { WebhookTransport } from "./webhooks.ts";
import { fetchTransport, webhookUrlProblem } from "./webhooks.ts";
import {
  DAY_MS,
  DEFAULT_LIMITS,
  GatewayError,
  type Verdict,
  bad,
  checkBic,
  checkIban,
  checkPhone,
  sha256Hex,
  toPosInt,
} from "./fields.ts";
import * as link from "./link.ts";
import * as reconcile from "./reconcile.ts";
import * as accounts from "./accounts.ts";
import * as outbox from "./outbox.ts";
import * as online from "./online.ts";
import * as routes from "./routes.ts";
export { HOLD_MS, DAY_MS, DISPUTE_WINDOW_MS, DEFAULT_LIMITS, WALLET_API_LABEL, GatewayError, strictBase64, dayString, money, walletRequestBytes, json } from "./fields.ts";
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

// ---------------------------------------------------------------- the gateway

export class Gateway {
  readonly store: GatewayStore;
  readonly clock: GatewayClock;
  readonly issuer: Issuer;
  readonly linkPublicKey: Uint8Array;
  /** The current admin token (it may be rotated: POST /v1/admin/token, gateway/tokens.ts). */
  get adminToken(): string {
    return this.store.getMeta("adminToken") ?? "";
  }
  readonly sms: SmsProvider;
  readonly smsOut: SmsOutbox;
  readonly webhookTransport: WebhookTransport;
  readonly crypto: CryptoBackend = nodeCrypto();
  readonly verifier = new Verifier();
  readonly linkPrivate: Uint8Array;
  readonly allowanceDays: number;
  readonly autoFlush: boolean;
  readonly dailyPayouts: boolean;
  readonly money: Money;
  readonly cards: CardProcessor;
  /** 3-D Secure challenges waiting for the customer (in memory: a restart asks the customer to pay again). */
  challenges = new Map<string, { invoice: Uint8Array; at: number }>();
  linkCache = new Map<number, { pub: string; keys: LinkKeys; merchantId?: number }>();
  allowanceOk = new Set<string>();
  /** Open HTTP connections: where from, since when, and the connection log's row of each terminal that spoke on it. */
  conns = new Map<number, { address: string; port: number; at: number; rows: Map<number, number> }>();
  flushing: Promise<void> | null = null;
  readonly pool: VerifyPool | null;
  flushAgain = false;
  /**
   * A request queued something to send (a webhook with a URL, an SMS): the outboxes are flushed after it. A request
   * that queued nothing leaves them to the timer (tick) and to the next request that does: two claim statements a
   * request fewer (docs/gateway.md, ingest at the limit).
   */
  outboxQueued = false;

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
  preverify(req: GatewayRequest): Promise<void> {
    return link.preverify(this, req);
  }

  /** The signatures verifyEntry() will check for an entry (the allowance's issuer signature is cached apart). */
  sigChecks(e: Entry, out: SigCheck[]): void {
    return link.sigChecks(this, e, out);
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

  log(merchantId: number, terminalId: number, kind: string, detail: unknown): void {
    this.store.insertActivity({ merchantId, terminalId, kind, detail: typeof detail === "string" ? detail : JSON.stringify(detail), at: this.now() });
  }

  flag(f: Omit<FlagRow, "at" | "id">): void {
    this.store.insertFlag({ ...f, at: this.now() });
    this.log(f.merchantId, f.terminalId, "flag", { kind: f.kind, walletId: f.walletId, txId: f.txId, detail: f.detail });
  }

  deny(walletId: string, reason: string, merchantId: number, terminalId: number): void {
    if (this.store.denyAdd(walletId, reason, this.now())) {
      this.store.setMeta("denyVersion", String(this.denyVersion() + 1));
      this.log(0, 0, "deny", { walletId, reason, byMerchant: merchantId, byTerminal: terminalId });
    }
  }

  event(merchantId: number, event: string, payload: Record<string, unknown>, url?: string): void {
    return outbox.event(this, merchantId, event, payload, url);
  }

  queueSms(walletId: string, ref: string, text: string, kind: string): void {
    return outbox.queueSms(this, walletId, ref, text, kind);
  }

  /** The merchant's SMS for an invoice paid online while its terminal is offline (TERMINAL_OFFLINE_MS, gateway/sms.ts). */
  smsIfTerminalOffline(inv: InvoiceRow, method: string, ref: string): void {
    return outbox.smsIfTerminalOffline(this, inv, method, ref);
  }

  /** A delivery report from the SMS gateway (its dlr-url callback): recorded on the message's row. */
  smsDeliveryReport(id: number, token: string, type: number): SmsRow {
    const r = this.store.transaction(() => this.smsOut.report(id, token, type));
    if (!r) throw new GatewayError(404, "UNKNOWN_SMS", "no such message, or a wrong token");
    return r;
  }

  merchant(merchantId: number): MerchantRow {
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
  newAllowance(w: { id: string; pub: Uint8Array; capMinor: number; currency: number }, startCounter: number): { allowance: Uint8Array; expiryDay: number } {
    return accounts.newAllowance(this, w, startCounter);
  }

  /** What the wallet reported paying under an allowance that no terminal (nor its evidence) has entered yet. */
  reportedNotEntered(walletId: string, a: AllowanceRow): number {
    return reconcile.reportedNotEntered(this, walletId, a);
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

  checkInvoice(bytes: Uint8Array): { inv: NonNullable<ReturnType<typeof decodeInvoice>>; t: TerminalRow } {
    return online.checkInvoice(this, bytes);
  }

  /**
   * Records a terminal's invoice (idempotent); the pay page does this when it opens. The order an invoice pays is
   * only ever what its terminal says (its InvoicePaid entry, authenticated on the link): a payer's client cannot
   * name one (security review 10), so none is taken here.
   */
  submitInvoice(bytes: Uint8Array): InvoiceRow {
    return online.submitInvoice(this, bytes);
  }

  /**
   * Pays an invoice online: by card or debit card through the card processor (which may ask for a 3-D Secure
   * challenge first: then a CardChallenge comes back, answered with completeCardChallenge()), or from a wallet's
   * available balance. Gives the PaidConfirmation and a notice for the terminal. A card number is never stored or
   * logged: the brand, the last four digits and the processor's reference are.
   */
  payInvoice(p: PayOnline): Promise<PaidResult | CardChallenge> {
    return online.payInvoice(this, p);
  }

  /** The customer's answer to a 3-D Secure challenge (the code the bank sent, or abandon). */
  completeCardChallenge(challengeId: string, answer: { code?: string; abandon?: boolean }): Promise<PaidResult | CardChallenge> {
    return online.completeCardChallenge(this, challengeId, answer);
  }

  afterCard(invoice: Uint8Array, r: CardResult): PaidResult | CardChallenge {
    return online.afterCard(this, invoice, r);
  }

  /** An invoice that can be paid now (signed by a registered terminal, open, not expired), as stored or not yet. */
  payable(bytes: Uint8Array): { inv: NonNullable<ReturnType<typeof decodeInvoice>>; t: TerminalRow } {
    return online.payable(this, bytes);
  }

  /** Records a payment the processor approved, or a wallet's: the money, the confirmation, the notices. */
  recordOnlinePayment(invoice: Uint8Array, method: number, by: { walletId?: string; card?: { brand: string; last4: string; processorRef: string } }): PaidResult {
    return online.recordOnlinePayment(this, invoice, method, by);
  }

  // ------------------------------------------------------------ wallets: sync, claims

  /** A wallet's sync: its report matches held payments; it gets a new allowance (none when denied). */
  syncWallet(walletId: string, report: WalletReport): WalletSynced {
    return reconcile.syncWallet(this, walletId, report);
  }

  /**
   * True when a new allowance's cap is covered: the available balance plus what replacing the live allowance
   * returns at once (its purse less what the payer reported and no terminal has entered).
   */
  canIssue(w: WalletRow, cap: number): boolean {
    return reconcile.canIssue(this, w, cap);
  }

  /**
   * Loads the wallet's offline purse with a new allowance of `capMinor` (at most its cap), as a sync does without
   * a report: 402 INSUFFICIENT_FUNDS, and nothing issued, when the balance cannot cover it.
   */
  loadAllowance(walletId: string, capMinor?: number): { allowance: Uint8Array; balances: WalletBalances } {
    return accounts.loadAllowance(this, walletId, capMinor);
  }

  /**
   * A payment the wallet proves with the terminal's own receipt, entered when no terminal has uploaded it (a
   * terminal lost or broken before its upload): the same checks as an upload, plus the receipt's signature by the
   * terminal, its txId and its hash of the payment. Returns the ledger ref, or "" when the txId is entered already.
   */
  enterEvidence(w: WalletRow, s: { counter: number; terminalId: number; amountMinor: number }, ev: { request: Uint8Array; payment: Uint8Array; receipt: Uint8Array }): string {
    return reconcile.enterEvidence(this, w, s, ev);
  }

  /** The payer claims fraud on one of its wallet payments: "dispute" freezes it, "reverse" takes it back. */
  claimFraud(walletId: string, txId: string, action: "dispute" | "reverse", reason = ""): LedgerRow {
    return reconcile.claimFraud(this, walletId, txId, action, reason);
  }

  /**
   * Disputed payments waiting for the issuer's review, each with its evidence: the terminal-signed request and the
   * wallet-signed payment as the terminal uploaded them (or the payer proved them), and whether each signature holds.
   */
  disputes(): (LedgerRow & { evidence: { request: string; payment: string; walletSignature: boolean; terminalSignature: boolean } | null })[] {
    return reconcile.disputes(this);
  }

  /** The issuer's review of a disputed payment: for the payer (money back, reversed) or the merchant (approved). */
  resolveDispute(merchantId: number, ref: string, decision: "payer" | "merchant"): LedgerRow {
    return reconcile.resolveDispute(this, merchantId, ref, decision);
  }

  utrOf(txIdHex: string): string {
    return reconcile.utrOf(this, txIdHex);
  }

  eventBody(l: LedgerRow): Record<string, unknown> {
    return reconcile.eventBody(this, l);
  }

  approve(l: LedgerRow, status: "approved" | "auto-approved", why: string): void {
    return reconcile.approve(this, l, status, why);
  }

  /**
   * The 3-day rule: held payments whose payer has not synced are auto-approved, and the payer gets an SMS. Then the
   * outboxes are flushed (unless autoFlush is off), so a timer calling tick() also sends webhook retries when due.
   */
  tick(): { approved: string[] } {
    return reconcile.tick(this);
  }

  // ------------------------------------------------------------ money: balances, top-ups, statements, payouts

  /** Money in for a wallet (a bank transfer or card top-up the issuer received), once per reference. */
  topUp(walletId: string, amountMinor: number, reference: string): WalletBalances {
    return accounts.topUp(this, walletId, amountMinor, reference);
  }

  /** A wallet's balances: available, purses of its allowances, debt and disputed (derived from the postings). */
  walletBalances(walletId: string): WalletBalances {
    return accounts.walletBalances(this, walletId);
  }

  /** A merchant's balances: pending (held), available, paid out. */
  merchantBalances(merchantId: number): MerchantBalances {
    return accounts.merchantBalances(this, merchantId);
  }

  /** Every merchant's and wallet's balances and the issuer's accounts, with the trial balance (the page's panel). */
  books(): { merchants: (MerchantBalances & { name: string })[]; wallets: WalletBalances[]; issuer: { account: string; currency: number; balance: number }[]; trial: { currency: number; debits: number; credits: number }[]; unbalanced: number[] } {
    return accounts.books(this);
  }

  /** A merchant's statement over [from, to) (ms): opening balance + postings = closing balance, per account. */
  statement(merchantId: number, from: number, to: number): Statement {
    return accounts.statement(this, merchantId, from, to);
  }

  checkParty(p: Party): Party {
    return accounts.checkParty(this, p);
  }

  /** The issuer's own account, debtor of payout files; null until configured. */
  payoutAccount(): Party | null {
    return accounts.payoutAccount(this);
  }

  setPayoutAccount(p: Party): Party {
    return accounts.setPayoutAccount(this, p);
  }

  /**
   * The settlement run of one period (a UTC day, default yesterday), at most once: every merchant's positive
   * available balance moves to paid out, one credit transfer each in a pain.001 file for the issuer's bank.
   * Merchants with no IBAN are skipped (their money stays available) and listed. Running a period again returns it.
   */
  runPayouts(period?: string): { run: PayoutRunRow; payouts: PayoutRow[]; skipped: { merchantId: number; reason: string }[] } {
    return accounts.runPayouts(this, period);
  }

  /** The pain.001 file of a settlement run. */
  payoutFile(runId: number): string {
    return accounts.payoutFile(this, runId);
  }

  // ------------------------------------------------------------ outboxes

  kick(): void {
    return outbox.kick(this);
  }

  /** Sends queued SMS and due webhooks (one pass; concurrent calls join it and run once more after). */
  flush(): Promise<void> {
    return outbox.flush(this);
  }

  flushOnce(): Promise<void> {
    return outbox.flushOnce(this);
  }

  storeOpen(): boolean {
    return this.store.open;
  }

  // ------------------------------------------------------------ connections (the activity log of terminal links)

  /** The HTTP server tells of each TCP/TLS connection; a row is written once a terminal speaks on it. */
  connectionOpened(id: number, remote: { address: string; port: number }): void {
    return link.connectionOpened(this, id, remote);
  }

  connectionClosed(id: number): void {
    return link.connectionClosed(this, id);
  }

  /**
   * A request on the terminal link: its connection is logged in a transaction of its own, committed before the
   * request runs, so a refused request (bad authentication, replay) still leaves its address and port in the log.
   */
  noteLink(req: GatewayRequest): void {
    return link.noteLink(this, req);
  }

  noteConnection(req: GatewayRequest, t: TerminalRow): void {
    return link.noteConnection(this, req, t);
  }

  // ------------------------------------------------------------ the terminal link

  keysFor(t: TerminalRow): LinkKeys {
    return link.keysFor(this, t);
  }

  linkOp(req: GatewayRequest, tid: number, op: string): GatewayResponse {
    return link.linkOp(this, req, tid, op);
  }

  hello(t: TerminalRow, m: LinkRequest): Record<string, unknown> {
    return link.hello(this, t, m);
  }

  chunk(_t: TerminalRow, m: LinkRequest): Record<string, unknown> {
    return link.chunk(this, _t, m);
  }

  /** A chain hash learnt for (terminal, seq); a different one already known is a fork of the journal. */
  learnHash(t: TerminalRow, seq: number, hash: string, from: string): void {
    return link.learnHash(this, t, seq, hash, from);
  }

  upload(t: TerminalRow, m: LinkRequest): Record<string, unknown> {
    return link.upload(this, t, m);
  }

  ingest(t: TerminalRow, r: UploadRecord): "entered" | "duplicate" | { code: string; message: string } {
    return link.ingest(this, t, r);
  }

  /** The ledger row of a wallet payment with exactly this request and payment (bytes), entered under any txId. */
  samePayment(request: Uint8Array, payment: Uint8Array): LedgerRow | null {
    return reconcile.samePayment(this, request, payment);
  }

  allowanceValid(a: Allowance, bytes: Uint8Array): boolean {
    return link.allowanceValid(this, a, bytes);
  }

  verifyEntry(t: TerminalRow, e: Entry, linkVouches = false): Verdict {
    return link.verifyEntry(this, t, e, linkVouches);
  }

  /** Enters one journal entry in the books; `fromPayer`: the payer's own evidence, not a terminal's upload. */
  enter(t: TerminalRow, e: Entry, txHex: string, fromPayer = false): void {
    return reconcile.enter(this, t, e, txHex, fromPayer);
  }

  // ------------------------------------------------------------ HTTP

  /** The whole HTTP API (docs/gateway-api.yaml). Never throws: refusals are 4xx JSON `{error, message}`. */
  handle(req: GatewayRequest): Promise<GatewayResponse> {
    return routes.handle(this, req);
  }

  /**
   * Requests that wait on something outside the database (the card processor): served by handle(), each of its
   * database steps one transaction, not in one turn as the others (handleSync).
   */
  needsAsync(req: { method: string; path: string; body: string }): boolean {
    return routes.needsAsync(this, req);
  }

  payByCard(req: GatewayRequest): Promise<GatewayResponse> {
    return routes.payByCard(this, req);
  }

  handleSync(req: GatewayRequest): GatewayResponse {
    return routes.handleSync(this, req);
  }

  errorResponse(e: unknown, req: GatewayRequest): GatewayResponse {
    return routes.errorResponse(this, e, req);
  }

  route(req: GatewayRequest): GatewayResponse {
    return routes.route(this, req);
  }

  bearer(req: GatewayRequest): string {
    return routes.bearer(this, req);
  }

  adminAuth(req: GatewayRequest): void {
    return routes.adminAuth(this, req);
  }

  /** The admin, or the merchant's own API key; another merchant's key gets 404 (it learns nothing). */
  merchantAuth(req: GatewayRequest, merchantId: number): void {
    return routes.merchantAuth(this, req, merchantId);
  }

  /**
   * A wallet's request: header `x-wallet-signature` = R||S (hex) by the wallet key over SHA-256 of
   * walletRequestBytes(method, path, body); the body's `time` (ms) must be above the last one accepted (no replay).
   */
  walletAuth(req: GatewayRequest, walletId: string, b: Record<string, unknown>): void {
    return routes.walletAuth(this, req, walletId, b);
  }
}
