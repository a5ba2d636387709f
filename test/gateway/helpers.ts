/** A gateway on an in-memory (or file) SQLite store with a movable clock, and software terminals and wallets. */
import http from "node:http";
import { MovableClock } from "../../gateway/clock.ts";
import { Gateway } from "../../gateway/gateway.ts";
import type { GatewayOptions, GatewayResponse } from "../../gateway/gateway.ts";
import { Issuer } from "../../gateway/issuer.ts";
import { OutboxSmsProvider } from "../../gateway/sms.ts";
import { SoftTerminal, SoftWallet, inProcess } from "../helpers/soft-terminal.ts";
import type { LinkSend } from "../helpers/soft-terminal.ts";
import { openSqliteStore } from "../../gateway/sqlite-store.ts";
import type { SqliteStore } from "../../gateway/sqlite-store.ts";
import { openPgStore } from "../../gateway/pg-store.ts";
import type { GatewayStore } from "../../gateway/store.ts";
import type { SqlStore } from "../../gateway/sql-store.ts";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { postgresBin, sharedPostgres, SKIP_NO_POSTGRES } from "../helpers/postgres.ts";
import type { TempPostgres } from "../helpers/postgres.ts";
import type { WebhookTransport } from "../../gateway/webhooks.ts";
import { installApiContractHook } from "../helpers/api-contract.ts";

// every answer the gateway suite gets is checked against docs/gateway-api.yaml (test/helpers/api-contract.ts)
installApiContractHook();

export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

/**
 * Which database the gateway suite runs on: SQLite, or PostgreSQL when GATEWAY_TEST_DB=postgres (npm run
 * test:gateway-pg; one throwaway server for the run, test/helpers/postgres.ts). Without PostgreSQL's binaries that
 * run says it skipped and ends.
 */
export const ON_POSTGRES = process.env.GATEWAY_TEST_DB === "postgres";
if (ON_POSTGRES && !postgresBin()) {
  // the PostgreSQL run of the suite (npm run test:gateway-pg) on a machine without the server: it says so and passes
  console.log("gateway suite on PostgreSQL " + SKIP_NO_POSTGRES);
  process.exit(0);
}

/**
 * The gateway's schema once, as a database the suite's new ones are copied from (CREATE DATABASE … TEMPLATE): a copy
 * costs about a third of a new database migrated on open (measured 0.25 s against 0.6 s), and a test opens hundreds.
 * Opening a copy finds its schema_version current and migrates nothing; the migration of an empty database runs
 * once, here (and in pg-sync, postgres-faults).
 */
let pgTemplate: string | null = null;
function freshPgDatabase(pg: TempPostgres): string {
  if (!pgTemplate) {
    const url = pg.freshDatabaseSync();
    openPgStore(url).close();
    pgTemplate = new URL(url).pathname.slice(1);
  }
  return pg.freshDatabaseSync(pgTemplate);
}

const pgNames = new Map<string, string>();
/**
 * The database a test names, on the suite's database: ":memory:" is a new one each time (on PostgreSQL the gateway's
 * tables, no rows: freshPgDatabase), a file path the same one each time (a restart reopens it). On SQLite the
 * argument itself.
 */
export function testDb(dbPath = ":memory:"): string {
  if (!ON_POSTGRES) return dbPath;
  const pg = sharedPostgres();
  if (!pg) throw new Error("GATEWAY_TEST_DB=postgres: " + "no PostgreSQL binaries (install Debian's postgresql package, or set PG_BIN)");
  if (dbPath === ":memory:") return freshPgDatabase(pg);
  const key = createHash("sha256").update(dbPath).digest("hex");
  let url = pgNames.get(key);
  if (!url) {
    url = freshPgDatabase(pg);
    pgNames.set(key, url);
  }
  return url;
}

/**
 * GATEWAY_STORE_CALLS=<file>: every store method the run called is written to the file at exit, and the methods it
 * never called are listed (how the PostgreSQL subset was checked to reach the whole store interface).
 */
const callsFile = process.env.GATEWAY_STORE_CALLS;
const called = new Set<string>();
const methods = new Set<string>();
if (callsFile) {
  process.on("exit", () => {
    const internal = new Set(["all", "get", "run", "exec", "insert", "update", "send", "stmt", "tr", "raw", "migrate", "migrateOn", "st", "select"]);
    const never = [...methods].filter((m) => !called.has(m) && !internal.has(m)).sort();
    writeFileSync(callsFile, JSON.stringify({ called: [...called].sort(), never }, null, 1));
  });
}
function counted(st: GatewayStore): GatewayStore {
  if (!callsFile) return st;
  for (let p = Object.getPrototypeOf(st); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== "constructor" && typeof (st as unknown as Record<string, unknown>)[k] === "function" && !k.startsWith("_")) methods.add(k);
  }
  return new Proxy(st, {
    get(target, k) {
      const v = Reflect.get(target, k, target);
      if (typeof v !== "function") return v;
      return (...a: unknown[]) => {
        called.add(String(k));
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
}

/**
 * The running balances checked after every test (docs/gateway.md, "Ingest at the limit, fourth pass"): each store
 * the suite opened (testStore, makeRig) is asked, before it closes and in a root afterEach hook while it is open,
 * whether its running balances and allowances' sums still equal its postings and spends; a write path that forgets
 * them fails the test that took it. A store none of whose methods ran since it was last asked is not asked again:
 * nothing changed it (most tests leave their rigs open; asking each after every later test made the PostgreSQL run
 * quadratic: 2,473 checks, 11 s of 48, in three files).
 */
const openedStores = new Set<GatewayStore>();
/** The open stores used since they were last checked. */
const usedStores = new Set<GatewayStore>();
const runningErrors: string[] = [];
function checkRunning(st: GatewayStore, when: string): void {
  let errs: string[];
  try {
    errs = st.runningBalanceErrors();
  } catch (e) {
    // a store whose database went away (the fault tests stop PostgreSQL) has nothing to ask; any other error counts
    if (!st.open) return;
    const m = e instanceof Error ? e.message : String(e);
    if (/connect|terminat|ECONNREFUSED|closed|timed out/i.test(m)) return;
    throw e;
  } finally {
    usedStores.delete(st);
  }
  for (const x of errs) runningErrors.push(when + ": " + x);
}
function tracked(st: GatewayStore): GatewayStore {
  openedStores.add(st);
  usedStores.add(st);
  // every method, the store's own calls among them, notes that the store was used (own properties over its class's)
  const self = st as unknown as Record<string, unknown>;
  for (let p = Object.getPrototypeOf(st); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const f = Object.getOwnPropertyDescriptor(p, k)?.value;
      if (k === "constructor" || k === "close" || typeof f !== "function" || Object.prototype.hasOwnProperty.call(self, k)) continue;
      self[k] = function (this: unknown, ...a: unknown[]) {
        usedStores.add(st);
        return (f as (...x: unknown[]) => unknown).apply(this, a);
      };
    }
  }
  const close = st.close.bind(st);
  st.close = () => {
    if (st.open && usedStores.has(st)) checkRunning(st, "at close");
    openedStores.delete(st);
    usedStores.delete(st);
    close();
  };
  return st;
}
afterEach(function () {
  // a store a describe's before hook opened stays checked after each of its tests that used it, until it closes
  for (const st of openedStores)
    if (!st.open) {
      openedStores.delete(st);
      usedStores.delete(st);
    } else if (usedStores.has(st)) checkRunning(st, "after the test");
  if (runningErrors.length) throw new Error("running balances differ from the postings and spends:\n  " + runningErrors.splice(0).join("\n  "));
});

/** A store on the suite's database (testDb). */
export function testStore(dbPath = ":memory:"): GatewayStore {
  const db = testDb(dbPath);
  return counted(tracked(ON_POSTGRES ? openPgStore(db) : openSqliteStore(db)));
}
export const DAY = 86400000;

/** A webhook receiver that records every POST and answers with `status` (changeable). */
export class FakeWebhooks implements WebhookTransport {
  calls: { url: string; headers: Record<string, string>; body: string }[] = [];
  status = 200;
  async post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
    this.calls.push({ url, headers, body });
    return { status: this.status };
  }
  events(): string[] {
    return this.calls.map((c) => JSON.parse(c.body).event);
  }
}

export interface Rig {
  gw: Gateway;
  clock: MovableClock;
  sms: OutboxSmsProvider;
  hooks: FakeWebhooks;
  issuer: Issuer;
  dbPath: string;
  /** Close and reopen the database (a gateway restart), keeping keys. */
  restart(): Gateway;
}

export function makeRig(dbPath = ":memory:", extra: Partial<GatewayOptions> = {}): Rig {
  const clock = new MovableClock(T0);
  const sms = new OutboxSmsProvider({ now: () => clock.now() });
  const hooks = new FakeWebhooks();
  const issuer = Issuer.generate(1);
  const db = testDb(dbPath);
  const make = () => new Gateway({ store: counted(tracked(ON_POSTGRES ? openPgStore(db) : openSqliteStore(db))), clock, sms, webhooks: hooks, issuer, autoFlush: false, adminToken: "admin-test", ...extra });
  const rig: Rig = {
    gw: make(),
    clock,
    sms,
    hooks,
    issuer,
    dbPath,
    restart() {
      rig.gw.close();
      rig.gw = make();
      return rig.gw;
    },
  };
  return rig;
}

/** A merchant with `n` registered software terminals talking to the rig's gateway in-process. */
export function merchantWithTerminals(rig: Rig, name: string, n: number, send?: (rig: Rig) => LinkSend) {
  const m = rig.gw.registerMerchant({ name, webhookUrl: "https://shop.example/" + name.replace(/\W/g, "") });
  const terms: SoftTerminal[] = [];
  for (let i = 0; i < n; i++) {
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: rig.gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const t = rig.gw.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
    const term = new SoftTerminal({
      terminalId: t.terminalId,
      privateKey: probe.privateKey,
      linkPublicKey: rig.gw.linkPublicKey,
      send: send ? send(rig) : (r) => inProcess(rig.gw)(r),
      now: () => Math.floor(rig.clock.now() / 1000),
    });
    terms.push(term);
  }
  return { merchant: m, terms };
}

/**
 * A registered wallet whose first allowance reserved `capMinor` into its purse and whose available balance is
 * `balanceMinor` (it is opened with both; by default 1,000.00 besides its purse, enough for new allowances).
 */
export function newWallet(rig: Rig, capMinor = 10000, phone = "+4915100000001", balanceMinor = 100000): SoftWallet {
  const w = new SoftWallet();
  w.setAllowance(rig.gw.registerWallet({ publicKey: w.publicKey, capMinor, phone, balanceMinor: balanceMinor + capMinor }).allowance);
  return w;
}

/**
 * Watches the store's reads (its `get` and `all`, on SQLite and PostgreSQL alike) until the returned function is
 * called: `seen` gets each statement, its arguments and what it answered.
 */
export function watchReads(rig: Rig, seen: (sql: string, args: unknown[], result: unknown) => void): () => void {
  const st = rig.gw.store as unknown as Record<"all" | "get", (sql: string, ...a: unknown[]) => unknown>;
  const orig = { all: st.all, get: st.get };
  for (const k of ["all", "get"] as const) {
    st[k] = function (this: unknown, sql: string, ...a: unknown[]) {
      const r = orig[k].call(this, sql, ...a);
      seen(sql, a, r);
      return r;
    };
  }
  return () => Object.assign(st, orig);
}

/** Ledger rows per txId (an exactly-once check). */
export function countByTx(gw: Gateway, merchantId?: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of gw.ledger(merchantId)) if (l.txId) m.set(l.txId, (m.get(l.txId) ?? 0) + 1);
  return m;
}

let walletTime = T0;
/** A wallet request time above every earlier one (the gateway refuses a time it has seen: replay). */
export function nextWalletTime(): number {
  return ++walletTime;
}

/** A wallet's signed API call, POST /v1/wallets/{id}/{op} (docs/gateway.md, wallet API). */
export async function walletCall(
  gw: Gateway,
  w: SoftWallet,
  op: string,
  fields: Record<string, unknown>,
  o: { time?: number; sigOf?: SoftWallet } = {},
): Promise<GatewayResponse & { json: Record<string, unknown> }> {
  const path = "/v1/wallets/" + w.walletId + "/" + op;
  const body = JSON.stringify({ time: o.time ?? nextWalletTime(), ...fields });
  const r = await gw.handle({ method: "POST", path, headers: { "x-wallet-signature": (o.sigOf ?? w).signRequest("POST", path, body) }, body });
  return { ...r, json: JSON.parse(r.body) };
}

/** One request to a gateway listening on loopback `port`: its status and body text. */
export function httpText(port: number, agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The terminal link over HTTP to a gateway on loopback `port()`, as a LinkSend. */
export function httpLink(port: () => number, agent: http.Agent): LinkSend {
  return (r) => httpText(port(), agent, "POST", r.path, { "content-type": "text/plain" }, r.body);
}

/**
 * Every row of every table of the rig's database, as text: what "changes nothing" compares. On PostgreSQL every base
 * table of the gateway's schema (schema_version included) by name, each table's rows ordered by all their columns
 * (PostgreSQL keeps no insertion order: an update moves a row), byte columns as hex as on SQLite. Its identity
 * sequences are not rows: a rolled-back insert moves them, and nothing a merchant could read.
 */
export function storeDump(rig: Rig): string {
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  const text = (tables: [string, unknown[]][]) => JSON.stringify(tables, (_k, v) => (v instanceof Uint8Array ? hex(v) : v));
  if (ON_POSTGRES) {
    const st = rig.gw.store as SqlStore;
    const cols = st.select<{ t: string; n: number }>(
      "SELECT table_name AS t, count(*)::int AS n FROM information_schema.columns c WHERE table_schema = current_schema() " +
        "AND EXISTS (SELECT 1 FROM information_schema.tables b WHERE b.table_schema = c.table_schema AND b.table_name = c.table_name AND b.table_type = 'BASE TABLE') " +
        "GROUP BY table_name ORDER BY table_name",
    );
    return text(cols.map((c) => [c.t, st.select('SELECT * FROM "' + c.t + '" ORDER BY ' + Array.from({ length: c.n }, (_x, i) => i + 1).join(", "))]));
  }
  const db = (rig.gw.store as SqliteStore).db;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  return text(tables.map((t) => [t.name, db.prepare('SELECT * FROM "' + t.name + '"').all()]));
}
