/**
 * Load benchmark of the reference gateway (issue 6): N terminals x M pending journal records uploading at once over
 * real HTTP to a real server (gateway/server.ts on SQLite in a temporary directory, in this process; or, with
 * --url, any gateway serving docs/gateway-api.yaml, registered through its admin API).
 *
 *   npm run bench:gateway -- [--terminals 200] [--records 500] [--batch 32] [--db file] [--keep]
 *   npm run bench:gateway -- --url http://127.0.0.1:8080 --admin-token adm_…   (a gateway started elsewhere)
 *   npm run bench:gateway -- --db pg-temp --workers 2     (a throwaway PostgreSQL, two gateway processes)
 *   npm run bench:gateway -- --db postgres://gw@127.0.0.1/bench [--workers N]
 *
 * --db: a SQLite file, a postgres:// URL, or pg-temp (the bench starts PostgreSQL from Debian's packages in a
 * temporary folder: fsync on, synchronous_commit off, the durability of SQLite's WAL with synchronous=NORMAL that the
 * SQLite runs have; test/helpers/postgres.ts; --pred-locks N its max_pred_locks_per_transaction, 1,024 by default;
 * after the run it prints the transactions PostgreSQL committed and rolled back). --workers N (PostgreSQL): `npm run gateway -- --workers N` started
 * as a child process, registered through its admin API. Before the upload the bench measures this machine's ECDSA
 * P-256 verify rate on one core (node:crypto) and prints records/s against it: a record costs one verify (the
 * wallet's signature; the allowance's issuer signature is checked once per allowance, docs/gateway.md).
 *
 * Every record is a genuine wallet payment entry (316 bytes): a terminal-signed request and a wallet-signed payment
 * under an allowance the gateway issued, so the gateway runs its full checks (one ECDSA verify a record, the wallet's;
 * the allowance's once, the terminal's vouched for by the link: docs/gateway.md, what is verified at ingest). The
 * entries are signed before the clock starts; each terminal then says hello and uploads its records in batches,
 * oldest first, one request at a time, as firmware/sync/ does, all terminals at once. A failed request (network
 * error, non-200, reply failing authentication) is sent again under a new seq, as the terminal would.
 *
 * After the clock stops, every terminal sends its first batch again (as after a lost reply): all must be acked again.
 * Prints records/s, the timed requests' latency (p50/p99/max; the resends', all at once, on a line of their own),
 * the CPU the gateway, PostgreSQL and the bench's terminals used a record, why requests were sent again, and records
 * lost = records the terminals created that the ledger does not hold exactly once (must be 0). Exit status 1 when any
 * record is lost or entered twice.
 * BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p" passes node flags to the spawned gateway (--workers).
 * BENCH_DEBUG=1 adds the connect times, the longest silences (no request answered) and the latency of each
 * terminal's first requests apart from the rest. PG_STATEMENTS=1 (pg-temp) adds PostgreSQL's time per statement and
 * the rows a record writes, per table.
 */
import { spawn } from "node:child_process";
import { createECDH, createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concat, toHex } from "../protocol/codec/hex.ts";
import { encodeEntry } from "../protocol/entry.ts";
import { txId } from "../protocol/ids.ts";
import { decodeAllowance, encodePayment, encodeRequest, SIG, signedPart } from "../protocol/messages.ts";
import type { LinkKeys, LinkReply } from "../protocol/sync.ts";
import { isLinkError, linkKeys, linkPath, MAX_UPLOAD_RECORDS, openReply, sealRequest, toBase64 } from "../protocol/sync.ts";
import { nodeCrypto } from "../gateway/node-crypto.ts";
import { startGatewayServer } from "../gateway/server.ts";
import { isPgUrl } from "../gateway/pg-store.ts";
import type { TempPostgres } from "../test/helpers/postgres.ts";
import { SKIP_NO_POSTGRES, startPostgres } from "../test/helpers/postgres.ts";
import { treeCpu } from "./tree-cpu.ts";

const crypto = nodeCrypto();

// ---------------------------------------------------------------- flags

function flag(name: string, def: number): number {
  const i = process.argv.indexOf("--" + name);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`--${name} takes a positive integer (got ${process.argv[i + 1]})`);
    process.exit(2);
  }
  return v;
}
function strFlag(name: string): string | undefined {
  const i = process.argv.indexOf("--" + name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const TERMINALS = flag("terminals", 200);
const RECORDS = flag("records", 500);
const BATCH = Math.min(flag("batch", MAX_UPLOAD_RECORDS), MAX_UPLOAD_RECORDS);
const KEEP = process.argv.includes("--keep");
/** pg-temp's max_pred_locks_per_transaction (--pred-locks; PostgreSQL's default is 64). */
const PRED_LOCKS = String(flag("pred-locks", 1024));

// ---------------------------------------------------------------- keys

interface Key {
  priv: KeyObject;
  pub: Uint8Array;
  ecdh: ReturnType<typeof createECDH>;
}

function newKey(): Key {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const d = ecdh.getPrivateKey();
  const pub = new Uint8Array(ecdh.getPublicKey().subarray(1));
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const priv = createPrivateKey({ key: { kty: "EC", crv: "P-256", d: b64(d), x: b64(pub.subarray(0, 32)), y: b64(pub.subarray(32)) }, format: "jwk" });
  return { priv, pub, ecdh };
}

function signWith(k: Key, body: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign("sha256", body, { key: k.priv, dsaEncoding: "ieee-p1363" }));
}

/** The message with its trailing signature made by `k` over its signed part. */
function signed(k: Key, encoded: Uint8Array, over?: Uint8Array): Uint8Array {
  const out = new Uint8Array(encoded);
  out.set(signWith(k, over ?? signedPart(encoded)), out.length - SIG);
  return out;
}

// ---------------------------------------------------------------- HTTP

interface Target {
  url: URL;
  agent: http.Agent;
}

function post(t: Target, path: string, body: string): Promise<{ status: number; body: string }> {
  const mod = t.url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host: t.url.hostname, port: t.url.port, path, method: "POST", agent: t.agent, headers: { "content-type": "text/plain", "content-length": Buffer.byteLength(body) }, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("latin1") }));
        res.on("error", reject);
      },
    );
    if (process.env.BENCH_DEBUG) {
      const t0 = performance.now();
      req.on("socket", (sk) => {
        if ((sk as unknown as { connecting: boolean }).connecting) sk.once("connect", () => connectMs.push(performance.now() - t0));
      });
    }
    req.setTimeout(60000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- a terminal

interface Sim {
  /** The terminal's own connection, kept alive between its requests, as a device keeps its one socket. */
  target: Target;
  tid: number;
  keys: LinkKeys;
  seq: number;
  records: { seq: number; entry: string }[];
  txIds: string[];
}

const latencies: number[] = [];
const latByOp = new Map<string, number[]>();
const connectMs: number[] = [];
/** When each answer came (performance.now()), for BENCH_DEBUG's longest silence. */
const answeredAt: number[] = [];
let retries = 0;
/** Why requests were sent again (the first words of the reason), for the summary. */
const retryWhy = new Map<string, number>();
let rejectedTotal = 0;

async function call(t: Target, s: Sim, op: string, fields: Record<string, unknown>): Promise<LinkReply> {
  for (let attempt = 0; ; attempt++) {
    s.seq++;
    const nonce = toHex(new Uint8Array(randomBytes(8)));
    const body = sealRequest(crypto, s.keys, s.seq, { op, tid: s.tid, nonce, ...fields });
    const t0 = performance.now();
    let why = "";
    try {
      const res = await post(t, linkPath(s.tid, op), body);
      const ms = performance.now() - t0;
      latencies.push(ms);
      answeredAt.push(t0 + ms);
      const k = op + (s.seq <= 2 ? "#" + s.seq : "");
      if (!latByOp.has(k)) latByOp.set(k, []);
      latByOp.get(k)!.push(ms);
      if (res.status === 200) {
        const r = openReply(crypto, s.keys, res.body, { seq: s.seq, nonce });
        if (!isLinkError(r)) return r.msg;
        why = r.code;
      } else why = "HTTP " + res.status + " " + res.body.slice(0, 120);
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
    retries++;
    const k = why.replace(/[0-9]+/g, "N").slice(0, 160);
    retryWhy.set(k, (retryWhy.get(k) ?? 0) + 1);
    if (attempt >= 20) throw new Error(`terminal ${s.tid}: ${op} failed 20 times, last: ${why}`);
    await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
  }
}

async function runTerminal(t: Target, s: Sim): Promise<void> {
  const last = s.records.length ? s.records[s.records.length - 1].seq : 0;
  await call(t, s, "hello", { fw: "bench", time: Date.now(), head: { seq: last, hash: "00".repeat(16) }, pending: s.records.length, denyVersion: 0, anomalies: [] });
  let pending = s.records.slice();
  while (pending.length) {
    const batch = pending.slice(0, BATCH);
    const r = await call(t, s, "upload", { records: batch });
    const done = new Set<number>();
    for (const a of Array.isArray(r.acked) ? (r.acked as number[]) : []) done.add(a);
    for (const x of Array.isArray(r.rejected) ? (r.rejected as { seq: number; code: string; message: string }[]) : []) {
      rejectedTotal++;
      if (rejectedTotal <= 5) console.error(`terminal ${s.tid}: record ${x.seq} rejected: ${x.code} ${x.message}`);
      done.add(x.seq);
    }
    if (!batch.some((b) => done.has(b.seq))) throw new Error(`terminal ${s.tid}: the gateway took none of a batch`);
    pending = pending.filter((p) => !done.has(p.seq));
  }
}

// ---------------------------------------------------------------- main

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** What the bench needs of a gateway: the in-process server it starts, or any gateway over its admin HTTP API. */
interface Backend {
  url: string;
  describe: string;
  now(): Promise<number>;
  registerMerchant(): Promise<number>;
  registerTerminal(merchantId: number, pub: Uint8Array): Promise<{ terminalId: number; linkPublicKey: Uint8Array }>;
  registerWallet(pub: Uint8Array, capMinor: number): Promise<Uint8Array>;
  /** The txId of every ledger row of the merchant (a row per transaction; duplicates would show twice). */
  ledgerTxIds(merchantId: number): Promise<string[]>;
  close(): Promise<void>;
}

const BENCH_LIMITS = { perTxMinor: 1000000, unsyncedMinor: 100000000, perWalletMinor: 100000000 };

async function localBackend(db: string | undefined): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), "gateway-bench-"));
  const dbPath = db ?? join(dir, "gateway.db");
  const server = await startGatewayServer({ port: 0, host: "127.0.0.1", dbPath });
  const gw = server.gateway;
  return {
    url: server.url,
    describe: "in-process server, db " + (isPgUrl(dbPath) ? "PostgreSQL" : dbPath),
    now: async () => gw.now(),
    registerMerchant: async () => gw.registerMerchant({ name: "Bench merchant", limits: BENCH_LIMITS }).merchantId,
    async registerTerminal(merchantId, pub) {
      const r = gw.registerTerminal({ merchantId, publicKey: pub });
      return { terminalId: r.terminalId, linkPublicKey: r.linkPublicKey };
    },
    registerWallet: async (pub, capMinor) => gw.registerWallet({ publicKey: pub, capMinor, currency: 978, balanceMinor: capMinor }).allowance,
    ledgerTxIds: async (merchantId) => gw.ledger(merchantId).map((r) => r.txId),
    async close() {
      await server.close();
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A gateway elsewhere (`npm run gateway`), registered through its admin API (docs/gateway-api.yaml). */
function remoteBackend(url: string, token: string): Backend {
  const base = url.replace(/\/+$/, "");
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const r = await fetch(base + path, {
      method,
      headers: { authorization: "Bearer " + token, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status < 200 || r.status > 299) throw new Error(method + " " + path + ": HTTP " + r.status + " " + text.slice(0, 200));
    return JSON.parse(text) as Record<string, unknown>;
  };
  const bytes = (v: unknown): Uint8Array => {
    const t = String(v);
    return new Uint8Array(/^[0-9a-f]+$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64"));
  };
  return {
    url: base,
    describe: "gateway processes",
    now: async () => Number((await api("GET", "/v1/info")).time),
    registerMerchant: async () => Number((await api("POST", "/v1/merchants", { name: "Bench merchant", limits: BENCH_LIMITS })).merchantId),
    async registerTerminal(merchantId, pub) {
      const r = await api("POST", "/v1/merchants/" + merchantId + "/terminals", { publicKey: toHex(pub) });
      return { terminalId: Number(r.terminalId), linkPublicKey: bytes(r.linkPublicKey) };
    },
    registerWallet: async (pub, capMinor) => bytes((await api("POST", "/v1/wallets", { publicKey: toHex(pub), capMinor, currency: 978, balanceMinor: capMinor })).allowance),
    ledgerTxIds: async (merchantId) => ((await api("GET", "/v1/merchants/" + merchantId + "/ledger")).ledger as { txId: string }[]).map((r) => r.txId),
    close: async () => undefined,
  };
}

/** ECDSA P-256 verifies a second on one core of this machine (node:crypto, the gateway's own verifier), ~1 s. */
function verifyRate(): number {
  const k = newKey();
  const data = new Uint8Array(randomBytes(200));
  const sig = signWith(k, data);
  const pubKey = createPublicKey({ key: { kty: "EC", crv: "P-256", x: Buffer.from(k.pub.subarray(0, 32)).toString("base64url"), y: Buffer.from(k.pub.subarray(32)).toString("base64url") }, format: "jwk" });
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (let i = 0; i < 50; i++) if (nodeVerify("sha256", data, { key: pubKey, dsaEncoding: "ieee-p1363" }, sig)) n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** `npm run gateway -- --workers N` on `db`, as a child process; its URL and admin token. */
async function spawnGateway(db: string, workers: number): Promise<{ url: string; token: string; pid: number; stop(): Promise<void> }> {
  const token = "adm_bench_" + randomBytes(8).toString("hex");
  const child = spawn(process.execPath, [...(process.env.BENCH_GATEWAY_NODE_ARGS ?? "").split(" ").filter((x) => x), "--import", "tsx", "gateway/serve.ts", "--db", db, "--port", "0", "--workers", String(workers), "--admin-token", token, "--no-payouts"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"url": "([^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (c) => reject(new Error("the gateway exited (" + c + ") before it listened: " + out.slice(0, 500))));
  });
  return {
    url,
    token,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The bench's PostgreSQL: transactions committed and rolled back (serialization conflicts run again). */
async function pgStats(url: string): Promise<void> {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query("SELECT xact_commit, xact_rollback, conflicts FROM pg_stat_database WHERE datname = current_database()");
    const x = r.rows[0] as { xact_commit: string; xact_rollback: string };
    console.log(`PostgreSQL: ${x.xact_commit} transactions committed, ${x.xact_rollback} rolled back (conflicts run again, refusals)`);
    if (process.env.PG_STATEMENTS) {
      // PG_STATEMENTS=1 (pg-temp): the server's own time per statement, the twelve that took longest
      await c.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      const s = await c.query("SELECT query, calls, total_exec_time AS total FROM pg_stat_statements ORDER BY total DESC LIMIT 12");
      for (const r of s.rows as { query: string; calls: string; total: number }[]) console.log(`  ${Number(r.total).toFixed(0).padStart(7)} ms ${String(r.calls).padStart(7)} calls  ${r.query.replace(/\s+/g, " ").slice(0, 100)}`);
      // the rows written a record, per table, and the indexes each row write maintains
      const t = await c.query(
        "SELECT relname AS t, n_tup_ins AS ins, n_tup_upd AS upd, (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid) AS idx FROM pg_stat_user_tables s WHERE n_tup_ins + n_tup_upd > 0 ORDER BY n_tup_ins + n_tup_upd DESC",
      );
      const per = (n: string) => (Number(n) / (TERMINALS * RECORDS)).toFixed(2);
      console.log("  rows a record (inserted/updated, indexes): " + (t.rows as { t: string; ins: string; upd: string; idx: string }[]).map((r) => `${r.t} ${per(r.ins)}/${per(r.upd)} (${r.idx})`).join(", "));
    }
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const workers = flag("workers", 1);
  let db = strFlag("db");
  let tempPg: TempPostgres | null = null;
  if (db === "pg-temp") {
    // predicate locks: an upload's set-wise reads (IN lists of 32 keys) would pass PostgreSQL's default of 64 a
    // transaction and be promoted to whole-relation locks, so that concurrent uploads conflict (docs/gateway.md)
    tempPg = await startPostgres({ settings: { fsync: "on", synchronous_commit: "off", full_page_writes: "on", max_pred_locks_per_transaction: PRED_LOCKS, ...(process.env.PG_STATEMENTS ? { shared_preload_libraries: "pg_stat_statements" } : {}) } });
    if (!tempPg) {
      console.error("--db pg-temp: " + SKIP_NO_POSTGRES);
      process.exit(2);
    }
    db = await tempPg.freshDatabase();
  }
  if (workers > 1 && !(db && isPgUrl(db))) {
    console.error("--workers needs --db postgres://… or --db pg-temp");
    process.exit(2);
  }
  const rate = verifyRate();
  console.log(`ECDSA P-256 verify on one core of this machine (node:crypto): ${Math.round(rate)}/s`);
  let spawned: Awaited<ReturnType<typeof spawnGateway>> | null = null;
  if (workers > 1) spawned = await spawnGateway(db as string, workers);
  try {
    await run(spawned, rate, workers, db, tempPg ? tempPg.pid() : 0);
    if (tempPg && db) await pgStats(db);
  } finally {
    if (spawned) await spawned.stop();
    if (tempPg) await tempPg.stop();
  }
}

async function run(spawned: { url: string; token: string; pid: number } | null, rate: number, workers: number, db: string | undefined, pgPid: number): Promise<void> {
  const remote = spawned ? spawned.url : strFlag("url");
  const token = spawned ? spawned.token : (strFlag("admin-token") ?? process.env.GATEWAY_ADMIN_TOKEN ?? "");
  if (remote && !token) {
    console.error("--url needs --admin-token (or GATEWAY_ADMIN_TOKEN): the bench registers its merchant, terminals and wallets");
    process.exit(2);
  }
  const gw = remote ? remoteBackend(remote, token) : await localBackend(db);
  // one connection a terminal, kept alive, as each device keeps its own (not one pool whose sockets any terminal takes)
  const agents: http.Agent[] = [];
  const targetOf = (): Target => {
    const agent = new (gw.url.startsWith("https:") ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return { url: new URL(gw.url), agent };
  };
  try {
    console.log(`gateway bench: ${TERMINALS} terminals x ${RECORDS} records (batches of ${BATCH}) -> ${gw.url} (${gw.describe})`);
    const tPrep = performance.now();
    const merchantId = await gw.registerMerchant();
    const nowS = Math.floor((await gw.now()) / 1000);
    const sims: Sim[] = [];
    for (let i = 0; i < TERMINALS; i++) {
      const idKey = newKey();
      const reg = await gw.registerTerminal(merchantId, idKey.pub);
      const tid = reg.terminalId;
      const z = new Uint8Array(idKey.ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(reg.linkPublicKey)])));
      const keys = linkKeys(crypto, z);
      // one wallet per terminal: counters never repeat, the cap covers every record
      const wKey = newKey();
      const allowance = decodeAllowance(await gw.registerWallet(wKey.pub, RECORDS * 10));
      if (!allowance) throw new Error("the gateway issued a malformed allowance");
      const records: { seq: number; entry: string }[] = [];
      const txIds: string[] = [];
      for (let n = 1; n <= RECORDS; n++) {
        const request = signed(
          idKey,
          encodeRequest({ terminalId: tid, amountMinor: 1 + (n % 10), currency: 978, nonce: new Uint8Array(randomBytes(8)), time: nowS - RECORDS + n, terminalSig: new Uint8Array(SIG) }),
        );
        const unsignedPay = encodePayment({ allowance, counter: allowance.startCounter + n - 1, walletSig: new Uint8Array(SIG) });
        const payment = signed(wKey, unsignedPay, concat([signedPart(unsignedPay), request]));
        const id = txId(tid, n);
        txIds.push(toHex(id));
        records.push({ seq: n, entry: toBase64(encodeEntry({ kind: 1, txId: id, method: 1, request, payment, orderRef: "" })) });
      }
      sims.push({ target: targetOf(), tid, keys, seq: 0, records, txIds });
    }
    console.log(`prepared ${TERMINALS * RECORDS} signed entries in ${((performance.now() - tPrep) / 1000).toFixed(1)} s`);

    const gwPid = spawned ? spawned.pid : process.pid;
    const cpu0 = [treeCpu(gwPid), treeCpu(pgPid)];
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await Promise.allSettled(sims.map((s) => runTerminal(s.target, s)));
    const secs = (performance.now() - t0) / 1000;
    // the latencies are the timed upload's: the resends below come after the clock stopped
    const timed = latencies.length;
    const timedRetries = retries;
    const cpu = [treeCpu(gwPid) - cpu0[0], treeCpu(pgPid) - cpu0[1]];
    const own = process.cpuUsage(own0);
    const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    for (const f of failed.slice(0, 5)) console.error(String(f.reason instanceof Error ? f.reason.message : f.reason));

    // after the clock: every terminal sends its first batch again (a reply lost in transit); all must be acked again
    let resent = 0;
    let reacked = 0;
    const tResend = performance.now();
    await Promise.all(
      sims.map(async (s) => {
        const batch = s.records.slice(0, BATCH);
        resent += batch.length;
        const r = await call(s.target, s, "upload", { records: batch });
        reacked += Array.isArray(r.acked) ? r.acked.length : 0;
      }),
    );

    const resendSecs = (performance.now() - tResend) / 1000;
    const resendLat = latencies.slice(timed).sort((a, b) => a - b);

    // every record created must be in the ledger exactly once
    const counts = new Map<string, number>();
    for (const id of await gw.ledgerTxIds(merchantId)) counts.set(id, (counts.get(id) ?? 0) + 1);
    let lost = 0;
    let twice = 0;
    for (const s of sims) {
      for (const id of s.txIds) {
        const c = counts.get(id) ?? 0;
        if (c === 0) lost++;
        else if (c > 1) twice++;
      }
    }
    const total = TERMINALS * RECORDS;
    const sorted = latencies.slice(0, timed).sort((a, b) => a - b);
    console.log(`uploaded ${total} records in ${secs.toFixed(2)} s: ${Math.round(total / secs)} records/s` + (workers > 1 ? ` (${workers} workers)` : ""));
    console.log(`against the verify limit: ${((total / secs / rate) * 100).toFixed(1)} % of one core's ECDSA rate (${Math.round(rate)}/s; one verify a record)`);
    // the gateway's CPU is its processes' (in this process with no --workers: the bench's terminals too)
    if (cpu[0] > 0) console.log(`CPU during the upload: gateway ${cpu[0].toFixed(1)} s` + (spawned ? "" : " (with the bench's terminals)") + (pgPid ? `, PostgreSQL ${cpu[1].toFixed(1)} s` : "") + `: ${((cpu[0] * 1e6) / total).toFixed(0)}` + (pgPid ? ` + ${((cpu[1] * 1e6) / total).toFixed(0)}` : "") + ` µs a record`);
    // the terminals' side: sealing requests, opening replies, HTTP (the whole process when the gateway runs in it too)
    if (spawned) console.log(`CPU of the bench's terminals: ${((own.user + own.system) / 1e6).toFixed(1)} s: ${((own.user + own.system) / total).toFixed(0)} µs a record`);
    console.log(`requests: ${timed} (${timedRetries} retried), latency p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms, max ${pct(sorted, 100).toFixed(1)} ms`);
    if (process.env.BENCH_DEBUG) console.log(`  connects: ${connectMs.length}, max ${Math.max(0, ...connectMs).toFixed(0)} ms, over 500 ms: ${connectMs.filter((x) => x > 500).length}`);
    if (process.env.BENCH_DEBUG && answeredAt.length > 1) {
      // a stall of the whole gateway (or its database) shows as a silence: no request answered at all
      const at = answeredAt.filter((x) => x >= t0 && x <= t0 + secs * 1000).sort((a, b) => a - b);
      const gaps = at.slice(1).map((x, i) => ({ ms: x - at[i], from: (at[i] - t0) / 1000 })).sort((a, b) => b.ms - a.ms).slice(0, 3);
      console.log("  longest silences (no answer): " + gaps.map((g) => `${g.ms.toFixed(0)} ms from ${g.from.toFixed(1)} s`).join(", "));
    }
    // (by operation: the resends after the clock are among the uploads)
    if (process.env.BENCH_DEBUG) for (const [k, v] of latByOp) { const x = v.slice().sort((a, b) => a - b); console.log(`  ${k}: n ${x.length} p50 ${pct(x, 50).toFixed(0)} p99 ${pct(x, 99).toFixed(0)} max ${pct(x, 100).toFixed(0)}`); }
    if (retryWhy.size) console.log("  sent again because: " + [...retryWhy.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => n + " x " + k).join("; "));
    console.log(`re-sent ${resent} records already held: ${reacked} acked again, ${TERMINALS} requests at once in ${resendSecs.toFixed(2)} s (latency p50 ${pct(resendLat, 50).toFixed(0)} ms, max ${pct(resendLat, 100).toFixed(0)} ms)`);
    console.log(`records lost: ${lost}, entered twice: ${twice}, rejected: ${rejectedTotal}, terminals failed: ${failed.length}`);
    process.exitCode = lost || twice || failed.length || reacked !== resent ? 1 : 0;
  } finally {
    for (const a of agents) a.destroy();
    await gw.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
