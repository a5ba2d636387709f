/**
 * A PostgreSQL connection the calling thread uses synchronously: the `pg` client runs on a worker thread, the caller
 * posts a batch of statements and waits on a shared flag (Atomics.wait) until the worker has the answers, then takes
 * them off the port (receiveMessageOnPort). The gateway's store interface is synchronous (gateway/store.ts): a
 * request is one transaction run in one turn of the event loop, and this is how a client-server database joins it.
 *
 *   const c = new SyncPg({ url: "postgres://gw@127.0.0.1/gw" });
 *   c.batch([{ sql: "SELECT 1 AS x", params: [] }]);   // [{ rows: [{ x: 1 }], rowCount: 1 }]
 *   c.close();
 *
 * A batch runs its statements in order and stops at the first error (thrown here as a PgError with PostgreSQL's
 * SQLSTATE `code`). A lost connection (the database restarted, the network cut) is reported as code "CONN" and the
 * worker connects again on the next batch; an answer that takes longer than `timeoutMs` ends the worker (its
 * connection closes, so PostgreSQL rolls back what it had open) and a new one takes over.
 *
 * The worker is plain JavaScript (eval): it runs the same under tsx and node.
 */
import { createRequire } from "node:module";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";

export interface PgStatement {
  sql: string;
  params: unknown[];
  /** Prepare it once per connection under this name (a statement the store runs often). */
  name?: string;
}

export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** A database error: PostgreSQL's SQLSTATE, or "CONN" (connection lost or refused), "TIMEOUT". */
export class PgError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const WORKER = `
const { workerData } = require("node:worker_threads");
const pg = require(workerData.pgPath);
// 64-bit integers and sums (numeric) come back as JavaScript numbers: the gateway's are below 2^53 (ms, minor units)
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));
const { port, flag, url, connectMs } = workerData;
// a named statement's text crosses the thread once: after that it comes by name alone
const texts = new Map();
let client = null;
let ready = null;
function drop() {
  const c = client;
  client = null;
  ready = null;
  if (c) c.end().catch(() => undefined);
}
function connect() {
  if (ready) return ready;
  // custom plans always: a prepared statement's generic plan is fixed after five runs, on a new database while its
  // tables are empty (a sequential scan then looks cheapest), and kept as the tables grow; a sequential scan also
  // takes a predicate lock on the whole table, so concurrent uploads conflicted (docs/gateway.md, ingest at the limit)
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectMs, keepAlive: true, options: "-c plan_cache_mode=force_custom_plan" });
  c.on("error", () => { if (client === c) drop(); });
  client = c;
  ready = c.connect().then(() => c, (e) => { if (client === c) drop(); throw e; });
  return ready;
}
const connLost = (e) => !e || !e.code || /^(08|57P)/.test(e.code) || e.code === "ECONNREFUSED" || e.code === "ECONNRESET" || e.code === "EPIPE" || e.code === "ETIMEDOUT";
port.on("message", async (m) => {
  if (m.close) {
    drop();
    process.exit(0);
  }
  const results = [];
  let error = null;
  // every text first: a batch that stops at an error (or finds no connection) still leaves the texts it carried
  for (const q of m.qs) if (q.name && q.sql) texts.set(q.name, q.sql);
  try {
    const c = await connect();
    for (const q of m.qs) {
      if (q.name && !q.sql) q.sql = texts.get(q.name);
      // bytes cross the thread as Uint8Array: pg wants Buffers in, and its Buffers (slices of a pool) go out as copies
      const values = q.params.map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
      const r = await c.query(q.name ? { name: q.name, text: q.sql, values } : { text: q.sql, values });
      for (const row of r.rows) for (const k in row) if (Buffer.isBuffer(row[k])) row[k] = new Uint8Array(row[k]);
      results.push({ rows: r.rows, rowCount: r.rowCount === null ? 0 : r.rowCount });
    }
  } catch (e) {
    const lost = connLost(e);
    error = { code: lost ? "CONN" : e.code, message: String((e && e.message) || e) };
    if (lost) drop();
  }
  port.postMessage({ id: m.id, results, error });
  Atomics.store(flag, 0, m.id);
  Atomics.notify(flag, 0);
});
`;

export class SyncPg {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;
  private closed = false;
  /** Names of statements whose text the running worker holds (they cross the thread by name). */
  private sent = new Set<string>();
  private readonly pgPath = createRequire(import.meta.url).resolve("pg");

  constructor(private readonly o: { url: string; timeoutMs?: number; connectMs?: number }) {}

  private start(): MessagePort {
    if (this.port) return this.port;
    const ch = new MessageChannel();
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { port: ch.port2, flag: this.flag, url: this.o.url, pgPath: this.pgPath, connectMs: this.o.connectMs ?? 5000 },
      transferList: [ch.port2],
    });
    this.worker.unref();
    this.worker.on("error", () => this.reset());
    this.port = ch.port1;
    this.port.unref();
    return this.port;
  }

  /** Ends the worker (and with it the connection: PostgreSQL rolls back its open transaction). */
  private reset(): void {
    const w = this.worker;
    this.worker = null;
    this.sent = new Set();
    if (this.port) this.port.close();
    this.port = null;
    if (w) void w.terminate();
  }

  /** Runs the statements in order, waiting for the answers; throws PgError at the first that fails. */
  batch(qs: PgStatement[]): PgResult[] {
    if (this.closed) throw new PgError("CONN", "the database connection is closed");
    const port = this.start();
    const id = (this.seq = (this.seq % 0x7ffffffe) + 1);
    const timeout = this.o.timeoutMs ?? 30000;
    Atomics.store(this.flag, 0, 0);
    // a view into a larger buffer (a slice of Node's 8 KB pool, of a request body) would be copied whole to the
    // worker, buffer and all: it goes as a copy of its own bytes
    for (const q of qs) {
      for (let i = 0; i < q.params.length; i++) {
        const v = q.params[i];
        if (v instanceof Uint8Array && v.byteLength !== v.buffer.byteLength) q.params[i] = new Uint8Array(v);
      }
    }
    const out = qs.map((q) => {
      if (!q.name) return q;
      if (this.sent.has(q.name)) return { name: q.name, sql: "", params: q.params };
      this.sent.add(q.name);
      return q;
    });
    port.postMessage({ id, qs: out });
    if (Atomics.wait(this.flag, 0, 0, timeout) === "timed-out") {
      this.reset();
      throw new PgError("TIMEOUT", "the database did not answer within " + timeout + " ms");
    }
    const until = Date.now() + timeout;
    for (let spins = 0; ; ) {
      const got = receiveMessageOnPort(port);
      if (!got) {
        // the flag can be seen a moment before the message is on the port: look again, up to the batch's timeout
        // (the worker posted it before it set the flag; the 2 s looked for before ran out in two test runs on a
        // machine whose cores were all busy, failing a request whose answer was on its way)
        if (++spins > 100 && Date.now() > until) throw new PgError("CONN", "the database worker answered nothing");
        Atomics.wait(this.flag, 0, id, spins < 100 ? 0 : 1);
        continue;
      }
      const m = got.message as { id: number; results: PgResult[]; error: { code: string; message: string } | null };
      if (m.id !== id) continue;
      if (m.error) throw new PgError(m.error.code, m.error.message);
      return m.results;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.port) this.port.postMessage({ close: true });
    const w = this.worker;
    this.worker = null;
    this.port = null;
    if (w) setTimeout(() => void w.terminate(), 1000).unref();
  }
}
