/**
 * End to end over real HTTP (issue 6, proof): two merchants, three software terminals and four wallets go offline
 * and online over several days; a reply is lost mid-batch, the gateway restarts mid-upload, a cloned wallet spends a
 * counter twice, a payer never syncs, another claims fraud; the clock moves past the 3-day rule. Webhooks go to a
 * real HTTP receiver that refuses each delivery's first attempt. At the end every transaction is in its merchant's
 * ledger exactly once, with the status the rules give it.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBase64 } from "../../protocol/sync.ts";
import { MovableClock } from "../../gateway/clock.ts";
import { startGatewayServer } from "../../gateway/server.ts";
import type { GatewayServer } from "../../gateway/server.ts";
import { OutboxSmsProvider } from "../../gateway/sms.ts";
import { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";
import type { LinkSend } from "../helpers/soft-terminal.ts";
import { DAY, T0, httpLink, httpText, nextWalletTime, testDb } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ADMIN = "adm-e2e";

interface Hook {
  name: string;
  delivery: string;
  event: string;
  body: Record<string, unknown>;
  sigOk: (secret: string) => boolean;
}

describe("gateway end to end: terminals and wallets offline and online across the 3-day rule", function () {
  this.timeout(120000);

  it("ends with every transaction in its merchant's ledger exactly once, held, approved, auto-approved, reversed or flagged as the rules say", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-e2e-"));
    const dbPath = join(dir, "gateway.db");
    const clock = new MovableClock(T0);
    const sms = new OutboxSmsProvider({ file: join(dir, "sms.jsonl"), now: () => clock.now() });

    // the merchants' webhook receiver: refuses the first attempt of every delivery
    const hooks: Hook[] = [];
    const tried = new Set<string>();
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const delivery = String(req.headers["x-gateway-delivery"]);
        if (!tried.has(delivery)) {
          tried.add(delivery);
          res.writeHead(503).end();
          return;
        }
        const sig = /^t=([0-9]+),v1=([0-9a-f]+)$/.exec(String(req.headers["x-gateway-signature"]));
        hooks.push({
          name: (req.url ?? "").split("/").pop() ?? "",
          delivery,
          event: String(req.headers["x-gateway-event"]),
          body: JSON.parse(raw),
          sigOk: (secret) => !!sig && createHmac("sha256", Buffer.from(secret, "hex")).update(sig[1] + "." + raw).digest("hex") === sig[2],
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    const hookUrl = "http://127.0.0.1:" + (receiver.address() as AddressInfo).port + "/hooks/";

    let port = 0;
    let s: GatewayServer = null as unknown as GatewayServer;
    const start = async () => {
      s = await startGatewayServer({ port, host: "127.0.0.1", dbPath: testDb(dbPath), clock, gateway: { adminToken: ADMIN, autoFlush: false, sms } });
      port = Number(new URL(s.url).port);
    };
    await start();
    const agent = new http.Agent({ keepAlive: true });

    const api = async (method: string, path: string, body?: unknown, token = ADMIN, headers: Record<string, string> = {}) => {
      const r = await httpText(port, agent, method, path, { authorization: "Bearer " + token, "content-type": "application/json", ...headers }, body === undefined ? undefined : JSON.stringify(body));
      return { status: r.status, json: JSON.parse(r.body || "{}") as Record<string, unknown> };
    };
    const link: LinkSend = httpLink(() => port, agent);
    const walletApi = async (w: SoftWallet, op: string, fields: Record<string, unknown>) => {
      const path = "/v1/wallets/" + w.walletId + "/" + op;
      const body = JSON.stringify({ time: nextWalletTime(), ...fields });
      const r = await httpText(port, agent, "POST", path, { "content-type": "application/json", "x-wallet-signature": w.signRequest("POST", path, body) }, body);
      return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
    };

    try {
      // ---- set-up through the admin and merchant APIs
      const merchant = async (name: string) => {
        const r = await api("POST", "/v1/merchants", { name, webhookUrl: hookUrl + name });
        assert.equal(r.status, 201);
        return r.json as { merchantId: number; apiKey: string; webhookSecret: string };
      };
      const A = await merchant("A");
      const B = await merchant("B");
      const info = (await api("GET", "/v1/info")).json;
      const terminal = async (m: { merchantId: number; apiKey: string }) => {
        const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: Buffer.from(info.linkPublicKey as string, "hex"), send: link });
        const r = await api("POST", "/v1/merchants/" + m.merchantId + "/terminals", { publicKey: hexOf(probe.publicKey) }, m.apiKey);
        assert.equal(r.status, 201);
        return new SoftTerminal({ terminalId: r.json.terminalId as number, privateKey: probe.privateKey, linkPublicKey: Buffer.from(info.linkPublicKey as string, "hex"), send: link, now: () => Math.floor(clock.now() / 1000) });
      };
      const a1 = await terminal(A);
      const a2 = await terminal(A);
      const b1 = await terminal(B);
      const wallet = async (phone: string) => {
        const w = new SoftWallet();
        const r = await api("POST", "/v1/wallets", { publicKey: hexOf(w.publicKey), capMinor: 10000, phone, balanceMinor: 100000 });
        assert.equal(r.status, 201);
        w.setAllowance(fromBase64(r.json.allowance as string)!);
        return w;
      };
      const w1 = await wallet("+4915100000001");
      const w2 = await wallet("+4915100000002");
      const w3 = await wallet("+4915100000003");
      const w4 = await wallet("+4915100000004");

      // ---- day 0, everyone offline: payments pile up in the terminals' journals and the wallets' reports
      const pay = (t: SoftTerminal, w: SoftWallet, amount: number, o: { orderRef?: string; counter?: number } = {}) => hexOf(t.record(t.walletPayment(w, amount, o)).entry.subarray(1, 9));
      const tx = {
        a1w1: pay(a1, w1, 200),
        a1w3: pay(a1, w3, 300),
        a1w2: pay(a1, w2, 150, { orderRef: "ORD-1" }),
        a2w2: pay(a2, w2, 250),
        b1w1: pay(b1, w1, 400),
        b1w4a: pay(b1, w4, 500),
        b1w4b: pay(b1, w4, 600),
      };

      // ---- hour 1: a1 comes online; the reply to its first batch is lost (connection dropped)
      clock.advance(3600000);
      let drop = true;
      a1.send = async (r) => {
        const res = await link(r);
        if (drop && r.path.endsWith("/upload")) {
          drop = false;
          throw new Error("ECONNRESET");
        }
        return res;
      };
      await a1.hello();
      await assert.rejects(a1.uploadBatch(2), /ECONNRESET/);
      await a1.uploadAll(2);
      // w1 comes online and reports both its payments: a1's is approved, b1's is not uploaded yet
      let r = await walletApi(w1, "sync", { spent: w1.spent });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.matched, [tx.a1w1]);

      // ---- hour 2: b1 comes online; the gateway restarts after taking a batch but before answering it
      clock.advance(3600000);
      let crash = true;
      b1.send = async (r) => {
        const res = await link(r);
        if (crash && r.path.endsWith("/upload")) {
          crash = false;
          await s.close();
          await start();
          throw new Error("socket hang up");
        }
        return res;
      };
      await b1.hello();
      await assert.rejects(b1.uploadBatch(2), /hang up/);
      await b1.uploadAll(2);

      // ---- day 1: w2 syncs before a2 uploads; a2 comes online and its payment is approved at once
      clock.advance(DAY);
      r = await walletApi(w2, "sync", { spent: w2.spent });
      assert.deepEqual(r.json.matched, [tx.a1w2]);
      await a2.hello();
      await a2.uploadAll();

      // ---- a clone of w2 spends counter 0 again at b1: flagged, w2 denied, the deny list reaches every terminal
      const clone = new SoftWallet(w2.privateKey);
      clone.setAllowance(w2.allowance);
      const cloneTx = pay(b1, clone, 90, { counter: 0 });
      await b1.uploadAll();
      const flags = (await api("GET", "/v1/merchants/" + B.merchantId + "/flags", undefined, B.apiKey)).json.flags as { kind: string; walletId: string }[];
      assert.ok(flags.some((f) => f.kind === "double-spend" && f.walletId === w2.walletId));
      const h = await a2.hello();
      assert.ok(String(h.deny).includes(w2.walletId), "a terminal of another merchant gets the deny list");
      r = await walletApi(w2, "sync", { spent: w2.spent });
      assert.equal(r.json.denied, true);
      assert.equal(r.json.allowance, null);

      // ---- 3 days after day 0's payments: w3 and w4 never synced: their payments are auto-approved, they get an SMS
      assert.equal(clock.now(), T0 + DAY + 2 * 3600000);
      r = await api("POST", "/v1/admin/clock", { advanceMs: DAY + 20 * 3600000 });
      assert.deepEqual(r.json.approved, [], "2 days 22 hours: still held");
      r = await api("POST", "/v1/admin/clock", { advanceMs: 3 * 3600000 });
      assert.deepEqual((r.json.approved as string[]).slice().sort(), [tx.a1w3, tx.b1w4a, tx.b1w4b].sort());
      r = await api("POST", "/v1/admin/clock", { advanceMs: DAY + 2 * 3600000 });
      assert.deepEqual(r.json.approved, [cloneTx], "the clone's payment, uploaded a day later, waits its own 3 days");

      // ---- w4 does not recognise 6.00, auto-approved already: it disputes it, and the issuer's review reverses it
      r = await walletApi(w4, "claims", { txId: tx.b1w4b, action: "reverse", reason: "not me" });
      assert.equal(r.json.error, "NOT_REVERSIBLE", "an approved payment is not the payer's to take back");
      r = await walletApi(w4, "claims", { txId: tx.b1w4b, action: "dispute", reason: "not me" });
      assert.deepEqual(r.json, { txId: tx.b1w4b, status: "disputed" });
      r = await api("POST", "/v1/admin/disputes", { merchantId: B.merchantId, ref: tx.b1w4b, decision: "payer" });
      assert.deepEqual(r.json, { ref: tx.b1w4b, status: "reversed" });

      // ---- outboxes: every webhook refused once, retried after the backoff, then delivered
      await s.gateway.flush();
      clock.advance(30000);
      await s.gateway.flush();
      const pending = s.gateway.webhooks().filter((x) => x.status !== "delivered");
      assert.deepEqual(pending, []);

      // ---- the books
      const ledger = async (m: { merchantId: number; apiKey: string }) => (await api("GET", "/v1/merchants/" + m.merchantId + "/ledger", undefined, m.apiKey)).json.ledger as { txId: string; status: string; walletId: string }[];
      const la = await ledger(A);
      const lb = await ledger(B);
      const statusOf = new Map<string, string>();
      const seen = new Map<string, number>();
      for (const l of [...la, ...lb]) {
        seen.set(l.txId, (seen.get(l.txId) ?? 0) + 1);
        statusOf.set(l.txId, l.status);
      }
      const all = [...Object.values(tx), cloneTx];
      for (const id of all) assert.equal(seen.get(id), 1, id + " exactly once");
      assert.equal(la.length + lb.length, all.length, "nothing else");
      assert.deepEqual(la.map((l) => l.txId).sort(), [tx.a1w1, tx.a1w3, tx.a1w2, tx.a2w2].sort(), "A holds only its own");
      assert.deepEqual(
        Object.fromEntries(Object.entries(tx).map(([k, id]) => [k, statusOf.get(id)])),
        { a1w1: "approved", a1w3: "auto-approved", a1w2: "approved", a2w2: "approved", b1w1: "approved", b1w4a: "auto-approved", b1w4b: "reversed" },
      );
      assert.equal(statusOf.get(cloneTx), "auto-approved");
      assert.equal((await api("GET", "/v1/merchants/" + A.merchantId + "/ledger", undefined, B.apiKey)).status, 404);

      // ---- the payers' SMS (the outbox file anyone can read)
      const texts = sms.sent.map((m) => m.to + " " + m.text);
      assert.equal(texts.filter((t) => t.startsWith("+4915100000003") && /3\.00 EUR.*approved/.test(t)).length, 1);
      assert.equal(texts.filter((t) => t.startsWith("+4915100000004") && /approved/.test(t)).length, 2);
      assert.equal(texts.filter((t) => t.startsWith("+4915100000004") && /6\.00 EUR.*reversed/.test(t)).length, 1);
      // a payer who synced hears only that the issuer received their payments, nothing of an approval
      const w1Texts = texts.filter((t) => t.startsWith("+4915100000001"));
      assert.ok(w1Texts.length > 0 && w1Texts.every((t) => / received by the issuer, ref .* Held until /.test(t)), "a payer who synced gets no other SMS: " + JSON.stringify(w1Texts));
      assert.ok(!w1Texts.some((t) => /approved|reversed/.test(t)));

      // ---- the merchants' webhooks: signed with their own secret, to their own URL, each delivery once
      const byName = (n: string) => hooks.filter((x) => x.name === n);
      assert.ok(byName("A").every((x) => x.sigOk(A.webhookSecret) && x.body.merchantId === A.merchantId));
      assert.ok(byName("B").every((x) => x.sigOk(B.webhookSecret) && x.body.merchantId === B.merchantId));
      assert.equal(new Set(hooks.map((x) => x.delivery)).size, hooks.length);
      const confirmedA = byName("A").filter((x) => x.event === "payment.confirmed").map((x) => x.body.txId);
      assert.deepEqual(confirmedA.sort(), [tx.a1w1, tx.a1w3, tx.a1w2, tx.a2w2].sort());
      assert.deepEqual(byName("A").filter((x) => x.event === "order.paid").map((x) => x.body.orderRef), ["ORD-1"]);
      assert.deepEqual(byName("B").filter((x) => x.event === "payment.reversed").map((x) => x.body.txId), [tx.b1w4b]);

      // ---- the connection log: every terminal's links, with address and port, closed ones with their end
      const conns = (await api("GET", "/v1/admin/connections")).json.connections as { terminalId: number; address: string; port: number; connectedAt: number; disconnectedAt: number }[];
      for (const t of [a1, a2, b1]) assert.ok(conns.some((c) => c.terminalId === t.terminalId && c.address === "127.0.0.1" && c.port > 0), "terminal " + t.terminalId);
      assert.ok(conns.some((c) => c.disconnectedAt >= c.connectedAt && c.disconnectedAt > 0), "the restart closed connections and logged it");
    } finally {
      agent.destroy();
      await s.close();
      await new Promise<void>((r) => receiver.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
