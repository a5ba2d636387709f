/**
 * The reference gateway's storage, as an interface a production database can take (gateway/sqlite-store.ts is
 * the embedded SQLite implementation). Everything the gateway knows lives here; the Gateway class holds no state of
 * its own beyond caches, so a restart (close and reopen) loses nothing.
 *
 * Rules every implementation keeps:
 * - `transaction(fn)` runs fn atomically: all of its writes land, or none (the gateway wraps every request in one).
 *   Calls nest (an inner transaction joins the outer one).
 * - Merchant data is kept apart: every read of merchant data names the merchant (`merchantId`), and rows carry it.
 *   Terminals, ledger rows, records, invoices, flags, activity and webhooks all belong to exactly one merchant.
 *   Wallets and the deny list are the issuer's (a wallet pays at any merchant).
 * - `txId` is unique in the ledger (idempotency of uploads); `ref` is the ledger row's own key.
 * - Byte fields are Uint8Array (an implementation may hand back a Buffer, which is one).
 *
 * The interface is synchronous: the gateway handles a request in one synchronous transaction. SQLite answers in the
 * calling thread; PostgreSQL (gateway/pg-store.ts) runs its connection on a worker thread and the calling thread
 * waits for each answer (Atomics.wait), so a process runs one transaction at a time and several processes share the
 * database (docs/gateway.md, PostgreSQL and workers). Several processes on one database need three more calls:
 * `tryLock` (a job such as the 3-day rule runs in one process per period), and `claimSms` / `claimWebhooks` (an
 * outbox row is sent by one process).
 */
import type { UploadNeeds } from "./upload-reads.ts";

export interface MerchantRow {
  id: number;
  name: string;
  /** ISO 4217 numeric. */
  currency: number;
  /** SHA-256 hex of the merchant's API key (the key itself is shown once, at registration). */
  apiKeyHash: string;
  webhookUrl: string;
  /** HMAC key of the webhook signature header (hex). */
  webhookSecret: string;
  /** JSON of the merchant's offline risk limits (docs/sync.md, hello reply). */
  limits: string;
  /** Where payouts go (ISO 13616 IBAN, "" until set) and the bank's BIC ("" when the IBAN alone routes it). */
  iban: string;
  bic: string;
  /** Where the merchant's SMS go (E.164), "" for none. */
  phone: string;
  createdAt: number;
  /** When the API key stops working (ms); 0 never (schema 7). */
  apiKeyExpiresAt?: number;
  /** After a rotation: the previous key's hash, valid until prevKeyUntil (ms) so clients can switch over. */
  prevKeyHash?: string;
  prevKeyUntil?: number;
}

export interface TerminalRow {
  id: number;
  merchantId: number;
  /** Identity public key X||Y. */
  pub: Uint8Array;
  /** The issuer-signed TerminalCert (141 bytes). */
  cert: Uint8Array;
  /** Last link request seq accepted (replay protection). */
  linkSeq: number;
  fw: string;
  /** Journal head from the last hello. */
  headSeq: number;
  headHash: string;
  lastHelloAt: number;
  /** Terminal's own clock minus the gateway's at the last hello (ms). */
  drift: number;
  /** When its merchant or the issuer revoked it (ms); 0 while in service. A revoked terminal is refused on the link. */
  revokedAt: number;
  createdAt: number;
}

export interface WalletRow {
  /** First 8 bytes of SHA-256 of the public key, hex. */
  id: string;
  pub: Uint8Array;
  /** Where the payer's SMS go (E.164), "" for none. */
  phone: string;
  currency: number;
  /** Offline cap per allowance: what each allowance reserves from the available balance into its purse. */
  capMinor: number;
  /** The current allowance (140 bytes). */
  allowance: Uint8Array;
  startCounter: number;
  expiryDay: number;
  /** Highest `time` of a signed wallet request (replay protection). */
  lastReqTime: number;
  /** When the wallet last synced, 0 never. */
  syncedAt: number;
  createdAt: number;
}

export interface InvoiceRow {
  merchantId: number;
  terminalId: number;
  invoiceNo: number;
  amountMinor: number;
  currency: number;
  /** Unix seconds. */
  expires: number;
  /** The terminal-signed Invoice (84 bytes). */
  invoice: Uint8Array;
  orderRef: string;
  status: "open" | "paid";
  paidAt: number;
  /** 1 card, 2 debit card, 3 wallet; 0 while open. */
  method: number;
  paymentRef: string;
  /** For a card payment: "<brand> <last4> <processor reference>" (never the number); "" otherwise. */
  card: string;
  /** The PaidConfirmation (94 bytes), null while open. */
  paid: Uint8Array | null;
  /** 1 once the terminal has recorded the payment (its InvoicePaid entry arrived): the notice stops. */
  recorded: number;
  createdAt: number;
}

/** One uploaded journal record, entered or rejected (kept as evidence). */
export interface RecordRow {
  id?: number;
  merchantId: number;
  terminalId: number;
  seq: number;
  prev: string;
  entry: Uint8Array;
  txId: string;
  /** evidence: entered from the payer's receipt (seq 0) before any upload of it. */
  status: "entered" | "duplicate" | "rejected" | "evidence";
  code: string;
  message: string;
  receivedAt: number;
}

export type LedgerStatus = "held" | "approved" | "auto-approved" | "settled" | "disputed" | "reversed" | "recorded";

/** A transaction as the merchant's books hold it. */
export interface LedgerRow {
  /** The row's key: the terminal's txId (hex) for journal entries, "pay:" + paymentRef for invoices paid online. */
  ref: string;
  merchantId: number;
  terminalId: number;
  /** The terminal's transaction ID (hex), "" until the terminal recorded it (an invoice paid online). */
  txId: string;
  kind: "wallet" | "invoice" | "refund";
  /** Entry method (1 QR, 2 BLE, 3-5 paid invoice) or the online method (card, debit card, wallet as 11, 12, 13). */
  method: number;
  amountMinor: number;
  currency: number;
  walletId: string;
  counter: number;
  orderRef: string;
  status: LedgerStatus;
  /** When the transaction happened (ms). */
  txTime: number;
  /** For held rows: when the 3-day rule approves it (ms); 0 otherwise. */
  holdUntil: number;
  /** A refund: the ref of the transaction it refunds. */
  original: string;
  createdAt: number;
  updatedAt: number;
}

export interface SpendRow {
  walletId: string;
  counter: number;
  /** The allowance the payment spent under: "<expiryDay>:<startCounter>". */
  allowanceKey: string;
  capMinor: number;
  merchantId: number;
  terminalId: number;
  ref: string;
  amountMinor: number;
}

/** What a wallet said it paid (wallet sync), matched against terminals' uploads. */
export interface ReportRow {
  walletId: string;
  counter: number;
  terminalId: number;
  amountMinor: number;
  reportedAt: number;
}

export interface FlagRow {
  id?: number;
  merchantId: number;
  terminalId: number;
  walletId: string;
  txId: string;
  kind: string;
  detail: string;
  at: number;
}

export interface ActivityRow {
  id?: number;
  /** 0 for the issuer's own (wallets, deny list, updates). */
  merchantId: number;
  terminalId: number;
  kind: string;
  detail: string;
  at: number;
}

export interface ConnectionRow {
  id?: number;
  merchantId: number;
  terminalId: number;
  address: string;
  port: number;
  connectedAt: number;
  /** 0 while open. */
  disconnectedAt: number;
  requests: number;
}

export interface SmsRow {
  id?: number;
  /** E.164. */
  to: string;
  text: string;
  /** Which rule sent it: offline-received, auto-approved, reversed, dispute-reversed, paid-while-offline. */
  kind: string;
  /** The payer's wallet ("" for a merchant's SMS) or the merchant (0 for a payer's SMS). */
  walletId: string;
  merchantId: number;
  ref: string;
  /** queued (until the provider takes it), sent (the provider took it), failed (refused MAX_SMS_ATTEMPTS times). */
  status: "queued" | "sent" | "failed";
  /** Tries so far, and how many of them the provider refused (an unreachable provider is not a refusal). */
  attempts: number;
  refused: number;
  at: number;
  sentAt: number;
  /** When the next try is due (ms): backoff after a failed try. */
  nextAt: number;
  lastError: string;
  /** The secret in the delivery-report URL of this message (hex). */
  dlrToken: string;
  /** The last delivery report: "" none yet, submitted (the SMSC took it), buffered, delivered, failed; and when. */
  dlr: string;
  dlrAt: number;
}

/** An order's own callback URL, handed to a terminal in a pay-api link (docs/orders.md). */
export interface OrderCallbackRow {
  merchantId: number;
  orderRef: string;
  url: string;
  terminalId: number;
  amountMinor: number;
  currency: number;
  createdAt: number;
  /** When order.paid was queued to `url`; 0: not yet. */
  firedAt: number;
}

export interface WebhookRow {
  id?: number;
  merchantId: number;
  event: string;
  /** JSON. */
  payload: string;
  url: string;
  /** "none": the merchant has no webhook URL (the row is still its notification feed). */
  status: "pending" | "delivered" | "failed" | "none";
  attempts: number;
  nextAt: number;
  lastError: string;
  createdAt: number;
  deliveredAt: number;
}

export interface UpdateRow {
  version: string;
  size: number;
  sha256: string;
  sig: string;
  bundle: Uint8Array;
  createdAt: number;
  /** The board it is built for ("" on rows from before firmware keys: never offered). */
  board: string;
  /** The firmware key that signed it (-1 on rows from before firmware keys). */
  keyId: number;
}

/** An update as a hello offers it: everything but the bundle. */
export type UpdateInfo = Omit<UpdateRow, "bundle">;

/**
 * One movement of money: a set of postings whose debits equal its credits in each currency (docs/gateway.md, the
 * money model). `key` makes it idempotent: the same key is never posted twice.
 */
export interface MovementRow {
  id?: number;
  key: string;
  /** topup, reserve, release, payment, excess, approve, reverse, dispute, refund, online, payout, ... */
  kind: string;
  /** The ledger ref (or allowance, payout) it belongs to. */
  ref: string;
  merchantId: number;
  walletId: string;
  at: number;
  memo: string;
}

/** One side of a movement: `debit` or `credit` (the other 0), minor units. An account's balance is credits - debits. */
export interface PostingRow {
  id?: number;
  movementId: number;
  account: string;
  currency: number;
  debit: number;
  credit: number;
}

/** A posting with its movement's fields, as statements show it. */
export interface PostingView extends PostingRow {
  key: string;
  kind: string;
  ref: string;
  at: number;
  memo: string;
}

/** An allowance the issuer signed for a wallet, and the purse that reserves its cap. */
export interface AllowanceRow {
  walletId: string;
  /** 1, 2, ... per wallet: the purse account is wallet:<id>:purse:<n>. */
  n: number;
  /** "<expiryDay>:<startCounter>", as the payment carries it. */
  key: string;
  capMinor: number;
  currency: number;
  startCounter: number;
  expiryDay: number;
  issuedAt: number;
  /** live (the newest), replaced (a newer one was issued), released (its purse was returned to available). */
  status: "live" | "replaced" | "released";
  /** When what its purse still holds returns to available (ms): after its expiry, or after its replacement. */
  releaseAt: number;
  /** When a newer allowance replaced it (ms); 0 while live. A payment made under it after this is stale. */
  replacedAt: number;
}

/** A merchant's payout in a settlement run: its available balance sent to its bank (pain.001 credit transfer). */
export interface PayoutRow {
  id?: number;
  runId: number;
  merchantId: number;
  amountMinor: number;
  currency: number;
  iban: string;
  bic: string;
  name: string;
  /** The end-to-end ID in the payment file. */
  endToEndId: string;
  at: number;
}

/** A settlement run: one per period (day), with the payment file it wrote. */
export interface PayoutRunRow {
  id?: number;
  /** "YYYY-MM-DD" (UTC) the run settles. */
  period: string;
  at: number;
  count: number;
  controlSum: number;
  /** The ISO 20022 pain.001.001.09 XML. */
  file: string;
}

export interface GatewayStore {
  /** Runs fn as one transaction. A store may run fn again when the database asks (a serialization conflict). */
  transaction<T>(fn: () => T): T;
  /** Inside a transaction: takes the lock `name` until it ends; false when another process holds it (never waits). */
  tryLock(name: string): boolean;
  /** Due queued SMS (at most `limit`), claimed: their nextAt moves to `until`, so no other process takes them meanwhile. */
  claimSms(now: number, until: number, limit: number): SmsRow[];
  /** Due pending webhooks, claimed as claimSms does. */
  claimWebhooks(now: number, until: number, limit: number): WebhookRow[];
  close(): void;
  /** False once closed (outbox delivery running after a close stops quietly). */
  readonly open: boolean;

  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;

  insertMerchant(m: Omit<MerchantRow, "id"> & { id?: number }): number;
  listMerchants(): MerchantRow[];
  getMerchant(id: number): MerchantRow | undefined;
  merchantByKeyHash(apiKeyHash: string): MerchantRow | undefined;
  /** The merchant whose previous API key (before its rotation) has this hash. */
  merchantByPrevKeyHash(prevKeyHash: string): MerchantRow | undefined;
  updateMerchant(id: number, patch: Partial<Omit<MerchantRow, "id">>): void;

  insertTerminal(t: TerminalRow): void;
  /** By ID alone: only the link uses it (the terminal authenticates with its own keys right after). */
  getTerminal(id: number): TerminalRow | undefined;
  /** The terminal holding this identity key, if any (a key registers once). */
  terminalByPub(pub: Uint8Array): TerminalRow | undefined;
  updateTerminal(merchantId: number, id: number, patch: Partial<Omit<TerminalRow, "id" | "merchantId">>): void;
  listTerminals(merchantId: number): TerminalRow[];

  insertWallet(w: WalletRow): void;
  getWallet(id: string): WalletRow | undefined;
  updateWallet(id: string, patch: Partial<Omit<WalletRow, "id">>): void;

  insertInvoice(i: InvoiceRow): void;
  getInvoice(merchantId: number, terminalId: number, invoiceNo: number): InvoiceRow | undefined;
  updateInvoice(merchantId: number, terminalId: number, invoiceNo: number, patch: Partial<InvoiceRow>): void;
  listInvoices(merchantId: number): InvoiceRow[];
  /** Paid invoices of a terminal it has not recorded yet (sent with every hello until it does). */
  unrecordedPaid(merchantId: number, terminalId: number): InvoiceRow[];

  /**
   * Optional: loads in one query per table what an upload's transaction will read (gateway/upload-reads.ts); until
   * the transaction ends the store answers from it and writes the upload's rows in multi-row INSERTs.
   */
  loadUpload?(needs: UploadNeeds): void;
  /**
   * Optional: the terminal's row, read in the same round trip as loadUpload's reads for `needs` (an upload opened
   * before its turn: docs/gateway.md, "Ingest at the limit, fourth pass"). The caller drops the set (dropUpload)
   * when the row shows the needs were not this upload's.
   */
  terminalAndUpload?(terminalId: number, needs: UploadNeeds): TerminalRow | undefined;
  /** Optional: whether the running transaction holds an upload's loaded set. */
  uploadLoaded?(): boolean;
  /** Optional: forgets the running transaction's loaded set (the store asks the database again). */
  dropUpload?(): void;

  insertRecord(r: RecordRow): void;
  recordsAt(merchantId: number, terminalId: number, seq: number): RecordRow[];
  /** The entered record holding this txId. */
  recordOfTx(merchantId: number, terminalId: number, txId: string): RecordRow | undefined;
  maxRecordSeq(merchantId: number, terminalId: number): number;
  records(merchantId: number, terminalId?: number): RecordRow[];

  insertLedger(l: LedgerRow): void;
  ledgerByRef(merchantId: number, ref: string): LedgerRow | undefined;
  ledgerByTx(merchantId: number, txId: string): LedgerRow | undefined;
  /** Any merchant's row holding this txId (so a txId is never entered twice, whoever asks). */
  txIdTaken(txId: string): boolean;
  updateLedger(merchantId: number, ref: string, patch: Partial<Omit<LedgerRow, "ref" | "merchantId">>): void;
  ledger(merchantId?: number): LedgerRow[];
  /** What refunds of ledger row `ref` have paid back so far (a positive sum). */
  refundedOf(merchantId: number, ref: string): number;
  /** Held rows whose holdUntil is at or before `now`, every merchant (the 3-day rule). */
  heldDue(now: number): LedgerRow[];
  held(merchantId?: number): LedgerRow[];
  /** Wallet payments made by a wallet (every merchant: the payer's own view). */
  ledgerOfWallet(walletId: string): LedgerRow[];
  /** The merchant's paid rows (wallet payments and invoices) for an order reference, oldest first. */
  ledgerOfOrder(merchantId: number, orderRef: string): LedgerRow[];
  orderCallback(merchantId: number, orderRef: string): OrderCallbackRow | undefined;
  insertOrderCallback(o: OrderCallbackRow): void;
  updateOrderCallback(merchantId: number, orderRef: string, patch: Partial<Pick<OrderCallbackRow, "firedAt">>): void;

  insertSpend(s: SpendRow): void;
  spendsAt(walletId: string, counter: number): SpendRow[];
  spentUnder(walletId: string, allowanceKey: string): number;

  upsertReport(r: ReportRow): void;
  reportAt(walletId: string, counter: number): ReportRow | undefined;
  reportsOf(walletId: string): ReportRow[];

  /** Journal chain hashes the gateway has learnt (hello heads, records' prev): one per terminal and seq. */
  chainHash(merchantId: number, terminalId: number, seq: number): string | undefined;
  putChainHash(merchantId: number, terminalId: number, seq: number, hash: string): void;

  insertFlag(f: FlagRow): void;
  flags(merchantId?: number): FlagRow[];

  /** True when newly added. */
  denyAdd(walletId: string, reason: string, at: number): boolean;
  denyList(): string[];
  isDenied(walletId: string): boolean;

  insertActivity(a: ActivityRow): void;
  activity(merchantId?: number, limit?: number): ActivityRow[];

  insertConnection(c: ConnectionRow): number;
  touchConnection(id: number, terminalId: number, merchantId: number): void;
  closeConnection(id: number, at: number): void;
  connections(merchantId?: number): ConnectionRow[];

  insertSms(s: SmsRow): void;
  sms(): SmsRow[];
  /** Queued messages whose nextAt is at or before `now`, oldest first. */
  smsDue(now: number): SmsRow[];
  smsById(id: number): SmsRow | undefined;
  updateSms(id: number, patch: Partial<SmsRow>): void;

  insertWebhook(w: WebhookRow): void;
  webhooksDue(now: number): WebhookRow[];
  updateWebhook(id: number, patch: Partial<WebhookRow>): void;
  webhooks(merchantId?: number): WebhookRow[];

  /**
   * Posts a movement: throws unless its postings balance per currency; returns the movement's id (0 inside an
   * upload's set-wise transaction, loadUpload: the movement is written with the batch's rows before COMMIT).
   */
  insertMovement(m: MovementRow, postings: Omit<PostingRow, "movementId" | "id">[]): number;
  movementByKey(key: string): MovementRow | undefined;
  /** Credits - debits of an account (prefix match when the name ends with ":"), optionally of movements before `before`. */
  balance(account: string, currency?: number, before?: number): number;
  /** Balances of every account starting with `prefix`. */
  balances(prefix: string): { account: string; currency: number; balance: number }[];
  /** Postings to accounts starting with `prefix`, in [from, to) by movement time, in order. */
  postings(prefix: string, from?: number, to?: number): PostingView[];
  /** Sum of debits and of credits per currency over every posting (the books' trial balance). */
  trialBalance(): { currency: number; debits: number; credits: number }[];
  /**
   * Running balances (wallet accounts) and sums spent under allowances that differ from their postings and spends
   * (must be none; docs/gateway.md, "Ingest at the limit, fourth pass").
   */
  runningBalanceErrors(): string[];
  /** Movements whose postings do not balance (must be none). */
  unbalancedMovements(): number[];

  insertAllowance(a: AllowanceRow): void;
  allowances(walletId: string): AllowanceRow[];
  allowanceByKey(walletId: string, key: string): AllowanceRow | undefined;
  updateAllowance(walletId: string, n: number, patch: Partial<AllowanceRow>): void;
  /** Replaced or expired allowances whose purse is due to return to available. */
  allowancesToRelease(now: number): AllowanceRow[];

  insertPayoutRun(r: PayoutRunRow): number;
  updatePayoutRun(id: number, patch: Partial<PayoutRunRow>): void;
  payoutRun(period: string): PayoutRunRow | undefined;
  payoutRunById(id: number): PayoutRunRow | undefined;
  payoutRuns(): PayoutRunRow[];
  insertPayout(p: PayoutRow): number;
  payouts(merchantId?: number, runId?: number): PayoutRow[];

  insertUpdate(u: UpdateRow): void;
  /** The newest update's description, without its bundle (every hello asks). */
  latestUpdate(): UpdateInfo | undefined;
  /** `length` bytes of an update's bundle from `offset` (fewer at its end, none past it), read alone. */
  updateChunk(version: string, offset: number, length: number): Uint8Array | undefined;
}
