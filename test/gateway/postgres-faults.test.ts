/**
 * Several gateway processes on one PostgreSQL, and the faults between them and the database: each test ends with
 * every transaction the terminals made in the ledger exactly once and the books balanced. The database is a real
 * PostgreSQL started from Debian's packages (test/helpers/postgres.ts); without them these tests say they skipped.
 * The gateways are real `npm run gateway` processes (gateway/serve.ts) where a fault needs a process of its own.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer, connect } from "node:net";
import type { Server, Socket } from "node:net";
import { Gateway } from "../../gateway/gateway.ts";
import { Issuer } from "../../gateway/issuer.ts";
import { openPgStore } from "../../gateway/pg-store.ts";
import { openSqliteStore } from "../../gateway/sqlite-store.ts";
import { MovableClock } from "../../gateway/clock.ts";
import type { SmsMessage } from "../../gateway/sms.ts";
import { SoftTerminal, SoftWallet, overHttp } from "../helpers/soft-terminal.ts";
import type { TempPostgres } from "../helpers/postgres.ts";
import { SKIP_NO_POSTGRES, startPostgres } from "../helpers/postgres.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyDatabase } from "../../tools/gateway-copy.ts";
import { DAY, FakeWebhooks, T0, makeRig, merchantWithTerminals, newWallet } from "./helpers.ts";

const ADMIN = "adm_faults";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every txId exactly once in the ledger, nothing else there, the postings balanced, and the running balances and
 * allowances' sums what the postings and spends add up to (docs/gateway.md, "Ingest at the limit, fourth pass").
 */
function booksHold(gw: Gateway, txIds: string[]): void {
  const seen = new Map<string, number>();
  for (const l of gw.ledger()) if (l.txId) seen.set(l.txId, (seen.get(l.txId) ?? 0) + 1);
  assert.deepEqual([...seen.entries()].filter(([, n]) => n !== 1), [], "each txId once");
  assert.deepEqual([...seen.keys()].sort(), txIds.slice().sort(), "exactly the terminals' transactions");
  const b = gw.books();
  assert.deepEqual(b.unbalanced, []);
  for (const t of b.trial) assert.equal(t.debits, t.credits, "trial balance in " + t.currency);
  assert.deepEqual(gw.store.runningBalanceErrors(), [], "running balances equal the postings and spends");
}

interface Proc {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `npm run gateway` on `db` in a process of its own, on a free port. */
async function gatewayProcess(db: string, extra: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, ["--import", "tsx", "gateway/serve.ts", "--db", db, "--port", "0", "--admin-token", ADMIN, "--no-payouts", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"url": "([^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (c) => reject(new Error("gateway exited " + c + ": " + err.slice(-800))));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A merchant, terminals sending wherever `to()` says, and a wallet per terminal, registered on `admin`. */
function fleet(admin: Gateway, n: number, to: () => string) {
  const m = admin.registerMerchant({ name: "Faults", limits: { perTxMinor: 100000, unsyncedMinor: 10000000, perWalletMinor: 10000000 } });
  const terms: SoftTerminal[] = [];
  const wallets: SoftWallet[] = [];
  for (let i = 0; i < n; i++) {
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: admin.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const t = admin.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
    terms.push(new SoftTerminal({ terminalId: t.terminalId, privateKey: probe.privateKey, linkPublicKey: admin.linkPublicKey, send: (r) => overHttp(to())(r) }));
    const w = new SoftWallet();
    w.setAllowance(admin.registerWallet({ publicKey: w.publicKey, capMinor: 100000, phone: "+4915100000" + String(100 + i), balanceMinor: 200000 }).allowance);
    wallets.push(w);
  }
  return { merchantId: m.merchantId, terms, wallets };
}

/** `k` payments at each terminal; their txIds. */
function pay(terms: SoftTerminal[], wallets: SoftWallet[], k: number): string[] {
  const ids: string[] = [];
  terms.forEach((t, i) => {
    for (let j = 0; j < k; j++) ids.push(Buffer.from(t.record(t.walletPayment(wallets[i], 10 + j)).entry.subarray(1, 9)).toString("hex"));
  });
  return ids;
}

/** Each terminal uploads until nothing is pending, sending a failed batch again (as firmware/sync does). */
async function uploadUntilDone(terms: SoftTerminal[], batch = 8, deadlineMs = 90000): Promise<number> {
  let failures = 0;
  const until = Date.now() + deadlineMs;
  await Promise.all(
    terms.map(async (t) => {
      while (t.pending.length) {
        if (Date.now() > until) throw new Error("terminal " + t.terminalId + " still has " + t.pending.length + " pending");
        try {
          await t.uploadBatch(batch);
        } catch {
          failures++;
          await sleep(150);
        }
      }
    }),
  );
  return failures;
}

describe("gateway on PostgreSQL: several processes and faults", function () {
  this.timeout(180000);
  let pg: TempPostgres | null = null;
  const procs: Proc[] = [];
  const gateways: Gateway[] = [];

  before(async function () {
    pg = await startPostgres();
    if (!pg) {
      console.log("    " + SKIP_NO_POSTGRES);
      this.skip();
    }
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
    for (const g of gateways.splice(0)) g.close();
  });
  after(async () => {
    if (pg) await pg.stop();
  });

  function adminOn(db: string): Gateway {
    const g = new Gateway({ store: openPgStore(db), issuer: Issuer.generate(1), adminToken: ADMIN, autoFlush: false });
    gateways.push(g);
    return g;
  }

  it("npm run gateway:copy moves a SQLite gateway to PostgreSQL: the same ledger, books and keys, and it goes on there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-copy-"));
    try {
      // the source is a SQLite file, whichever database the rest of the suite runs on
      const rig = makeRig(":memory:", { store: openSqliteStore(join(dir, "gw.db")) });
      const { terms } = merchantWithTerminals(rig, "Copy", 2);
      const w = newWallet(rig);
      for (const t of terms) for (let i = 0; i < 5; i++) t.record(t.walletPayment(w, 30 + i));
      for (const t of terms) await t.uploadAll();
      rig.clock.advance(4 * DAY);
      rig.gw.tick();
      const before = { ledger: rig.gw.ledger(), books: rig.gw.books(), activity: rig.gw.activity().length, link: rig.gw.linkPublicKey };
      rig.gw.close();
      const db = await pg!.freshDatabase();
      const counts = copyDatabase(join(dir, "gw.db"), db);
      assert.equal(counts.ledger, 10);
      const g = new Gateway({ store: openPgStore(db), clock: rig.clock, issuer: rig.issuer, autoFlush: false });
      gateways.push(g);
      assert.deepEqual(g.ledger(), before.ledger);
      assert.deepEqual(g.books(), before.books);
      assert.equal(g.activity().length, before.activity);
      assert.deepEqual(g.linkPublicKey, before.link);
      assert.equal(g.adminToken, "admin-test");
      // the terminals carry on against the copy: new rows take new IDs after the copied ones
      for (const t of terms) t.send = (r) => g.handle({ method: "POST", path: r.path, headers: {}, body: r.body });
      const more = terms.map((t) => Buffer.from(t.record(t.walletPayment(w, 41)).entry.subarray(1, 9)).toString("hex"));
      for (const t of terms) await t.uploadAll();
      booksHold(g, [...before.ledger.map((l) => l.txId), ...more]);
      await assert.rejects(async () => copyDatabase(join(dir, "gw.db"), db), /not empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two processes flushing the same outboxes send each SMS and each webhook once", async () => {
    const db = await pg!.freshDatabase();
    const clock = new MovableClock(T0);
    const issuer = Issuer.generate(1);
    const sent: number[] = [];
    const slowSms = { send: async (m: SmsMessage) => {
      await sleep(3);
      sent.push(m.id as number);
    } };
    class SlowHooks extends FakeWebhooks {
      override async post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
        await sleep(3);
        return super.post(url, headers, body);
      }
    }
    const hooks = [new SlowHooks(), new SlowHooks()];
    const [g1, g2] = [0, 1].map((i) => new Gateway({ store: openPgStore(db), clock, issuer, sms: slowSms, webhooks: hooks[i], autoFlush: false, adminToken: ADMIN }));
    gateways.push(g1, g2);
    const m = g1.registerMerchant({ name: "Hooks", webhookUrl: "https://shop.example/hook" });
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: g1.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
    const reg = g1.registerTerminal({ merchantId: m.merchantId, publicKey: probe.publicKey });
    const t = new SoftTerminal({ terminalId: reg.terminalId, privateKey: probe.privateKey, linkPublicKey: g1.linkPublicKey, send: (r) => g1.handle({ method: "POST", path: r.path, headers: {}, body: r.body }), now: () => Math.floor(clock.now() / 1000) });
    const w = new SoftWallet();
    w.setAllowance(g1.registerWallet({ publicKey: w.publicKey, capMinor: 10000, phone: "+4915100000001", balanceMinor: 50000 }).allowance);
    for (let i = 0; i < 12; i++) t.record(t.walletPayment(w, 20 + i));
    await t.uploadAll(4);
    const smsRows = g1.smsOutbox().length;
    const hookRows = g1.webhooks().filter((x) => x.status === "pending").length;
    assert.ok(smsRows >= 12 && hookRows >= 12, smsRows + " SMS, " + hookRows + " webhooks queued");
    await Promise.all([g1.flush(), g2.flush(), g1.flush(), g2.flush()]);
    assert.equal(sent.length, smsRows, "every SMS sent once");
    assert.equal(new Set(sent).size, smsRows);
    const deliveries = hooks.flatMap((h) => h.calls.map((c) => c.headers["x-gateway-delivery"]));
    assert.equal(deliveries.length, hookRows, "every webhook posted once");
    assert.equal(new Set(deliveries).size, hookRows);
    assert.ok(hooks[0].calls.length > 0 && hooks[1].calls.length > 0, "both processes took rows");
    assert.ok(g1.smsOutbox().every((x) => x.status === "sent"));
    assert.equal(g2.webhooks().filter((x) => x.status !== "delivered").length, 0);
  });

  it("one terminal's uploads racing on two gateway processes enter each txId once", async () => {
    const db = await pg!.freshDatabase();
    const admin = adminOn(db);
    const a = await gatewayProcess(db);
    procs.push(a);
    const b = await gatewayProcess(db);
    procs.push(b);
    let turn = 0;
    const { terms, wallets } = fleet(admin, 3, () => (turn++ % 2 ? a.url : b.url));
    const ids = pay(terms, wallets, 24);
    // every batch is sent twice at once, once to each process (two requests, consecutive link seqs)
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        terms.map((t) => {
          const records = t.pending.slice(0, 8).map((r) => ({ seq: r.seq, prev: r.prev, entry: Buffer.from(r.entry).toString("base64") }));
          return Promise.allSettled([t.call("upload", { records }), t.call("upload", { records })]).then((rs) => {
            for (const r of rs) if (r.status === "fulfilled") for (const rec of t.pending.slice(0, 8)) if ((r.value.acked as number[]).includes(rec.seq)) rec.acked = true;
          });
        }),
      );
    }
    await uploadUntilDone(terms);
    booksHold(admin, ids);
  });

  it("a gateway process killed with SIGKILL in the middle of a batch: the next process enters every transaction once", async () => {
    const db = await pg!.freshDatabase();
    const admin = adminOn(db);
    let current = await gatewayProcess(db);
    procs.push(current);
    const { terms, wallets } = fleet(admin, 8, () => current.url);
    const ids = pay(terms, wallets, 30);
    const uploading = uploadUntilDone(terms, 16);
    await sleep(400);
    current.child.kill("SIGKILL");
    await sleep(200);
    const before = admin.ledger().length;
    current = await gatewayProcess(db);
    procs.push(current);
    await uploading;
    assert.ok(before < ids.length, "the kill came before the uploads were done (" + before + " of " + ids.length + ")");
    booksHold(admin, ids);
  });

  it("PostgreSQL restarted in the middle of an upload: the terminals' retries enter every transaction once", async () => {
    const db = await pg!.freshDatabase();
    const admin = adminOn(db);
    const gw = await gatewayProcess(db);
    procs.push(gw);
    const { terms, wallets } = fleet(admin, 8, () => gw.url);
    const ids = pay(terms, wallets, 30);
    const uploading = uploadUntilDone(terms, 16);
    await sleep(400);
    await pg!.restart();
    const failures = await uploading;
    assert.ok(failures > 0, "some requests failed while the database was down");
    booksHold(admin, ids);
  });

  it("the network between gateway and database cut mid-upload (a TCP proxy closed): every transaction once", async () => {
    const db = await pg!.freshDatabase();
    const admin = adminOn(db);
    const socks = new Set<Socket>();
    let cut = false;
    const proxy: Server = createServer((c) => {
      if (cut) return c.destroy();
      const s = connect(pg!.port, "127.0.0.1");
      socks.add(c);
      socks.add(s);
      c.pipe(s).pipe(c);
      const end = () => {
        c.destroy();
        s.destroy();
        socks.delete(c);
        socks.delete(s);
      };
      c.on("error", end).on("close", end);
      s.on("error", end).on("close", end);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (proxy.address() as { port: number }).port;
      const gw = await gatewayProcess(db.replace(":" + pg!.port + "/", ":" + port + "/"));
      procs.push(gw);
      const { terms, wallets } = fleet(admin, 8, () => gw.url);
      const ids = pay(terms, wallets, 30);
      const uploading = uploadUntilDone(terms, 16);
      await sleep(400);
      cut = true;
      for (const s of socks) s.destroy();
      await sleep(1500);
      cut = false;
      const failures = await uploading;
      assert.ok(failures > 0, "some requests failed while the network was cut");
      booksHold(admin, ids);
    } finally {
      for (const s of socks) s.destroy();
      proxy.close();
    }
  });
});
