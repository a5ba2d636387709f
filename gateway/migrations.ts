/**
 * The gateway's schema and its versioned migrations, run by both stores (gateway/sqlite-store.ts, gateway/pg-store.ts).
 *
 * SCHEMA_V6 is the schema as of version 6 (what the SQLite store's own steps 1-6 reach, written in SQLite's dialect);
 * MIGRATIONS are the steps after it, each one transaction, in portable SQL: the PostgreSQL store runs SCHEMA_V6 and
 * every step through pgDdl() (types, quoting of the camelCase column names), the SQLite store runs them as they are.
 * A step is never edited once released: a change is a new step.
 */

export const SCHEMA_V6 = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS merchants (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, currency INTEGER NOT NULL, apiKeyHash TEXT NOT NULL UNIQUE,
  webhookUrl TEXT NOT NULL, webhookSecret TEXT NOT NULL, limits TEXT NOT NULL, iban TEXT NOT NULL DEFAULT '',
  bic TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', createdAt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS terminals (
  id INTEGER PRIMARY KEY, merchantId INTEGER NOT NULL REFERENCES merchants(id), pub BLOB NOT NULL, cert BLOB NOT NULL,
  linkSeq INTEGER NOT NULL, fw TEXT NOT NULL, headSeq INTEGER NOT NULL, headHash TEXT NOT NULL,
  lastHelloAt INTEGER NOT NULL, drift INTEGER NOT NULL, revokedAt INTEGER NOT NULL DEFAULT 0, createdAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS terminals_merchant ON terminals(merchantId);
CREATE TABLE IF NOT EXISTS wallets (
  id TEXT PRIMARY KEY, pub BLOB NOT NULL, phone TEXT NOT NULL, currency INTEGER NOT NULL, capMinor INTEGER NOT NULL,
  allowance BLOB NOT NULL, startCounter INTEGER NOT NULL, expiryDay INTEGER NOT NULL,
  lastReqTime INTEGER NOT NULL, syncedAt INTEGER NOT NULL, createdAt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
  merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, invoiceNo INTEGER NOT NULL, amountMinor INTEGER NOT NULL,
  currency INTEGER NOT NULL, expires INTEGER NOT NULL, invoice BLOB NOT NULL, orderRef TEXT NOT NULL,
  status TEXT NOT NULL, paidAt INTEGER NOT NULL, method INTEGER NOT NULL, paymentRef TEXT NOT NULL, card TEXT NOT NULL DEFAULT '', paid BLOB,
  recorded INTEGER NOT NULL, createdAt INTEGER NOT NULL, PRIMARY KEY (terminalId, invoiceNo));
CREATE INDEX IF NOT EXISTS invoices_merchant ON invoices(merchantId);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, seq INTEGER NOT NULL,
  prev TEXT NOT NULL, entry BLOB NOT NULL, txId TEXT NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL,
  message TEXT NOT NULL, receivedAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_terminal ON records(merchantId, terminalId, seq);
CREATE INDEX IF NOT EXISTS records_tx ON records(merchantId, terminalId, txId);
CREATE TABLE IF NOT EXISTS ledger (
  ref TEXT PRIMARY KEY, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, txId TEXT NOT NULL, kind TEXT NOT NULL,
  method INTEGER NOT NULL, amountMinor INTEGER NOT NULL, currency INTEGER NOT NULL, walletId TEXT NOT NULL,
  counter INTEGER NOT NULL, orderRef TEXT NOT NULL, status TEXT NOT NULL, txTime INTEGER NOT NULL,
  holdUntil INTEGER NOT NULL, original TEXT NOT NULL, createdAt INTEGER NOT NULL, updatedAt INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_tx ON ledger(txId) WHERE txId <> '';
CREATE INDEX IF NOT EXISTS ledger_merchant ON ledger(merchantId);
CREATE INDEX IF NOT EXISTS ledger_held ON ledger(status, holdUntil);
CREATE INDEX IF NOT EXISTS ledger_wallet ON ledger(walletId);
CREATE INDEX IF NOT EXISTS ledger_original ON ledger(merchantId, original);
CREATE TABLE IF NOT EXISTS spends (
  walletId TEXT NOT NULL, counter INTEGER NOT NULL, allowanceKey TEXT NOT NULL, capMinor INTEGER NOT NULL,
  merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, ref TEXT NOT NULL, amountMinor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS spends_counter ON spends(walletId, counter);
CREATE INDEX IF NOT EXISTS spends_allowance ON spends(walletId, allowanceKey);
CREATE TABLE IF NOT EXISTS reports (
  walletId TEXT NOT NULL, counter INTEGER NOT NULL, terminalId INTEGER NOT NULL, amountMinor INTEGER NOT NULL,
  reportedAt INTEGER NOT NULL, PRIMARY KEY (walletId, counter));
CREATE TABLE IF NOT EXISTS chain (
  merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (terminalId, seq));
CREATE TABLE IF NOT EXISTS flags (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, walletId TEXT NOT NULL,
  txId TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS flags_merchant ON flags(merchantId);
CREATE TABLE IF NOT EXISTS deny (walletId TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS activity (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, kind TEXT NOT NULL,
  detail TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS activity_merchant ON activity(merchantId);
CREATE TABLE IF NOT EXISTS connections (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, terminalId INTEGER NOT NULL, address TEXT NOT NULL,
  port INTEGER NOT NULL, connectedAt INTEGER NOT NULL, disconnectedAt INTEGER NOT NULL, requests INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS connections_merchant ON connections(merchantId);
CREATE TABLE IF NOT EXISTS sms (
  id INTEGER PRIMARY KEY AUTOINCREMENT, "to" TEXT NOT NULL, text TEXT NOT NULL, walletId TEXT NOT NULL, ref TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL, at INTEGER NOT NULL, sentAt INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT '', merchantId INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
  nextAt INTEGER NOT NULL DEFAULT 0, lastError TEXT NOT NULL DEFAULT '', dlrToken TEXT NOT NULL DEFAULT '',
  dlr TEXT NOT NULL DEFAULT '', dlrAt INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, merchantId INTEGER NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL,
  url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, nextAt INTEGER NOT NULL, lastError TEXT NOT NULL,
  createdAt INTEGER NOT NULL, deliveredAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhooks(status, nextAt);
CREATE TABLE IF NOT EXISTS movements (
  id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, ref TEXT NOT NULL,
  merchantId INTEGER NOT NULL, walletId TEXT NOT NULL, at INTEGER NOT NULL, memo TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS movements_ref ON movements(ref);
CREATE TABLE IF NOT EXISTS postings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, movementId INTEGER NOT NULL REFERENCES movements(id), account TEXT NOT NULL,
  currency INTEGER NOT NULL, debit INTEGER NOT NULL CHECK (debit >= 0), credit INTEGER NOT NULL CHECK (credit >= 0),
  CHECK ((debit = 0) <> (credit = 0)));
CREATE INDEX IF NOT EXISTS postings_account ON postings(account, movementId);
CREATE INDEX IF NOT EXISTS postings_movement ON postings(movementId);
CREATE TABLE IF NOT EXISTS allowances (
  walletId TEXT NOT NULL, n INTEGER NOT NULL, key TEXT NOT NULL, capMinor INTEGER NOT NULL, currency INTEGER NOT NULL,
  startCounter INTEGER NOT NULL, expiryDay INTEGER NOT NULL, issuedAt INTEGER NOT NULL, status TEXT NOT NULL,
  releaseAt INTEGER NOT NULL, replacedAt INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (walletId, n));
CREATE INDEX IF NOT EXISTS allowances_key ON allowances(walletId, key);
CREATE INDEX IF NOT EXISTS allowances_release ON allowances(status, releaseAt);
CREATE TABLE IF NOT EXISTS payout_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, period TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, count INTEGER NOT NULL,
  controlSum INTEGER NOT NULL, file TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payouts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, runId INTEGER NOT NULL REFERENCES payout_runs(id), merchantId INTEGER NOT NULL,
  amountMinor INTEGER NOT NULL, currency INTEGER NOT NULL, iban TEXT NOT NULL, bic TEXT NOT NULL, name TEXT NOT NULL,
  endToEndId TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS payouts_merchant ON payouts(merchantId);
CREATE TABLE IF NOT EXISTS updates (
  version TEXT PRIMARY KEY, size INTEGER NOT NULL, sha256 TEXT NOT NULL, sig TEXT NOT NULL, bundle BLOB NOT NULL,
  createdAt INTEGER NOT NULL, board TEXT NOT NULL DEFAULT '', keyId INTEGER NOT NULL DEFAULT -1);
`;


export interface Migration {
  version: number;
  /** What the step changes (for the operator's log). */
  what: string;
  /** Portable DDL: statements separated by ";" at line ends. */
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 7,
    what: "merchant API keys expire and rotate (the previous key stays valid until prevKeyUntil); the SMS outbox's due index",
    sql: `ALTER TABLE merchants ADD COLUMN apiKeyExpiresAt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE merchants ADD COLUMN prevKeyHash TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN prevKeyUntil INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS merchants_prev_key ON merchants(prevKeyHash);
CREATE INDEX IF NOT EXISTS sms_due ON sms(status, nextAt);`,
  },
  {
    version: 8,
    what: "orders handed to a terminal with a callback URL of their own (pay-api links, docs/orders.md)",
    sql: `CREATE TABLE IF NOT EXISTS order_callbacks (
  merchantId INTEGER NOT NULL, orderRef TEXT NOT NULL, url TEXT NOT NULL, terminalId INTEGER NOT NULL,
  amountMinor INTEGER NOT NULL, currency INTEGER NOT NULL, createdAt INTEGER NOT NULL, firedAt INTEGER NOT NULL,
  PRIMARY KEY (merchantId, orderRef));
CREATE INDEX IF NOT EXISTS ledger_order ON ledger(merchantId, orderRef);`,
  },
  {
    version: 9,
    what: "fewer index writes a payment: the outboxes' due indexes hold only the rows still to send; ledger_merchant goes (ledger_original and ledger_order lead with merchantId)",
    sql: `CREATE INDEX IF NOT EXISTS webhooks_pending ON webhooks(id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS sms_queued ON sms(id) WHERE status = 'queued';
DROP INDEX IF EXISTS webhooks_due;
DROP INDEX IF EXISTS sms_due;
DROP INDEX IF EXISTS ledger_merchant;`,
  },
  {
    version: 10,
    what: "running balances beside the postings: a wallet account's balance per currency and the sum spent under each allowance, one row each, kept in the transaction that writes the postings or spends (backfilled from them)",
    sql: `CREATE TABLE IF NOT EXISTS account_balances (
  account TEXT NOT NULL, currency INTEGER NOT NULL, balance INTEGER NOT NULL, PRIMARY KEY (account, currency));
INSERT INTO account_balances (account, currency, balance) SELECT account, currency, SUM(credit - debit) FROM postings WHERE account >= 'wallet:' AND account < 'wallet;' GROUP BY account, currency;
CREATE TABLE IF NOT EXISTS allowance_spent (
  walletId TEXT NOT NULL, allowanceKey TEXT NOT NULL, amountMinor INTEGER NOT NULL, PRIMARY KEY (walletId, allowanceKey));
INSERT INTO allowance_spent (walletId, allowanceKey, amountMinor) SELECT walletId, allowanceKey, SUM(amountMinor) FROM spends GROUP BY walletId, allowanceKey;`,
  },
];

/** The newest schema version. */
export const SCHEMA_VERSION = MIGRATIONS.length ? MIGRATIONS[MIGRATIONS.length - 1].version : 6;

/** Splits a script at the ";" that end its lines. */
export function statements(sql: string): string[] {
  return sql.split(/;\s*\n/).map((x) => x.replace(/;\s*$/, "").trim()).filter((x) => x);
}

/**
 * Quotes the camelCase identifiers of a statement (PostgreSQL folds unquoted names to lower case; the rows' field
 * names are camelCase) and leaves string literals alone.
 */
export function pgQuote(sql: string): string {
  return sql
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 ? part : part.replace(/(?<!["\w])([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)(?!["\w])/g, '"$1"')))
    .join("");
}

/**
 * Portable (SQLite-dialect) DDL as PostgreSQL: 64-bit integers (times are ms), identity keys, bytea, text compared
 * byte by byte (COLLATE "C", as SQLite's BINARY: the stores' prefix ranges rely on it).
 */
export function pgDdl(sql: string): string {
  return pgQuote(sql)
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    .replace(/\bINTEGER\b/g, "BIGINT")
    .replace(/\bBLOB\b/g, "BYTEA")
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"')
    .replace(/\bADD COLUMN\b/g, "ADD COLUMN IF NOT EXISTS");
}
