/**
 * A real PostgreSQL for tests and benches, from Debian's packages (`postgresql`: /usr/lib/postgresql/<v>/bin): initdb
 * into a temporary folder, the server on a free loopback port, torn down after. `PG_BIN` names another bin folder.
 *
 *   const pg = await startPostgres();            // null when the binaries are absent: the caller says it skipped
 *   const url = await pg.freshDatabase();        // postgres://gw@127.0.0.1:<port>/gw_3
 *   await pg.restart();                          // the same data, the same port (a database restart mid-test)
 *   await pg.stop();
 *
 * PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` user the package creates.
 * The tests' servers run with fsync off (a test's data never outlives it); benches pass their own settings.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SyncPg } from "../../gateway/pg-sync.ts";

export const SKIP_NO_POSTGRES = "skipped: no PostgreSQL binaries (install Debian's postgresql package, or set PG_BIN)";

/** The folder holding initdb and postgres, newest version first; null when none. */
export function postgresBin(): string | null {
  const env = process.env.PG_BIN;
  if (env) return existsSync(join(env, "initdb")) ? env : null;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^[0-9]+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb")) && existsSync(join(root, v, "bin", "postgres"))) return join(root, v, "bin");
  return null;
}

/** A free loopback port, found without waiting on the event loop (a child process binds and reports it). */
export function freePortSync(): number {
  const r = spawnSync(process.execPath, ["-e", "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();})"], { encoding: "utf8" });
  const p = Number(r.stdout);
  if (!p) throw new Error("no free port: " + r.stderr);
  return p;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface TempPostgres {
  port: number;
  /** postgres://gw@127.0.0.1:<port>/<db> */
  url(db?: string): string;
  /** A new, empty database (or a copy of database `template`, which nobody may be connected to); its URL. */
  freshDatabase(template?: string): Promise<string>;
  freshDatabaseSync(template?: string): string;
  /** Fast shutdown and start again on the same port and data. */
  restart(): Promise<void>;
  /** The server's process ID (a test may signal it). */
  pid(): number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** As root: the postgres user's uid and gid (the server is spawned as that user); else nothing to change. */
function runAs(): { uid?: number; gid?: number } {
  if (!process.getuid || process.getuid() !== 0) return {};
  const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (id.status !== 0) throw new Error("running as root and there is no postgres user to run PostgreSQL as");
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits (blocking) until the server at `url` answers. */
function waitUp(url: string, p: ChildProcess, log: string): void {
  const until = Date.now() + 30000;
  const c = new SyncPg({ url, connectMs: 1000, timeoutMs: 5000 });
  try {
    for (;;) {
      try {
        c.batch([{ sql: "SELECT 1", params: [] }]);
        return;
      } catch {
        if (p.exitCode !== null || Date.now() > until) throw new Error("PostgreSQL did not start: " + (existsSync(log) ? readFileSync(log, "utf8").slice(-1500) : ""));
        sleepMs(100);
      }
    }
  } finally {
    c.close();
  }
}

/** Starts a throwaway server; null when no binaries are installed. `settings` are extra `-c name=value`. */
export async function startPostgres(o: { settings?: Record<string, string> } = {}): Promise<TempPostgres | null> {
  return startPostgresSync(o);
}

/** startPostgres, blocking the thread until the server answers (for synchronous test helpers). */
export function startPostgresSync(o: { settings?: Record<string, string> } = {}): TempPostgres | null {
  const bin = postgresBin();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), "gw-pg-"));
  dirs.add(dir);
  const data = join(dir, "data");
  const user = runAs();
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid as number);
  chmodSync(dir, 0o700);
  const init = spawnSync(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "gw", "-E", "UTF8", "--locale=C", "--no-sync"], { encoding: "utf8", ...user });
  if (init.status !== 0) throw new Error("initdb failed: " + init.stderr);
  const port = freePortSync();
  const settings: Record<string, string> = { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "200", ...(o.settings ?? {}) };
  let proc: ChildProcess | null = null;
  let dbs = 0;
  const url = (db = "postgres") => "postgres://gw@127.0.0.1:" + port + "/" + db;

  const log = join(dir, "server.log");
  const start = () => {
    const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"];
    for (const [k, v] of Object.entries(settings)) args.push("-c", k + "=" + v);
    const fd = openSync(log, "a");
    const p = spawn(join(bin, "postgres"), args, { stdio: ["ignore", fd, fd], ...user });
    closeSync(fd);
    // the server never keeps the test process alive: it is killed when the process exits
    p.unref();
    live.add(p);
    p.once("exit", () => live.delete(p));
    proc = p;
    waitUp(url(), p, log);
  };
  const halt = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise<void>((r) => p.once("exit", () => r()));
    // SIGINT: a fast shutdown (open transactions are rolled back, connections closed)
    p.kill("SIGINT");
    const t = setTimeout(() => p.kill("SIGKILL"), 10000);
    await gone;
    clearTimeout(t);
  };
  start();
  const admin = new SyncPg({ url: url() });
  return {
    port,
    url,
    async freshDatabase(template?: string) {
      return this.freshDatabaseSync(template);
    },
    freshDatabaseSync(template?: string) {
      const name = "gw_" + ++dbs;
      admin.batch([{ sql: "CREATE DATABASE " + name + (template ? " TEMPLATE " + template : ""), params: [] }]);
      return url(name);
    },
    async restart() {
      await halt();
      start();
    },
    pid() {
      return proc && proc.pid ? proc.pid : 0;
    },
    async stop() {
      admin.close();
      await halt();
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

let shared: TempPostgres | null | undefined;
/**
 * One server for the whole test process, started on first use and stopped when the process exits (the gateway
 * suite's PostgreSQL run: GATEWAY_TEST_DB=postgres). Null without binaries.
 */
export function sharedPostgres(): TempPostgres | null {
  if (shared === undefined) shared = startPostgresSync();
  return shared;
}
