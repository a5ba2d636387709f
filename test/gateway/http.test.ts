/**
 * The gateway as a network service: HTTPS with a configured certificate (a throwaway self-signed one made with
 * openssl here), plain HTTP only on loopback, the connection log (address, port, connect and disconnect time) and
 * the activity log read through the API, and bad requests: a clear 4xx and nothing half-applied.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64 } from "../../protocol/sync.ts";
import { MovableClock } from "../../gateway/clock.ts";
import { Gateway } from "../../gateway/gateway.ts";
import { startGatewayServer } from "../../gateway/server.ts";
import type { GatewayServer } from "../../gateway/server.ts";
import { SoftTerminal, SoftWallet } from "../helpers/soft-terminal.ts";
import type { LinkSend } from "../helpers/soft-terminal.ts";
import type { GatewayStore } from "../../gateway/store.ts";
import { noteResponse } from "../helpers/api-contract.ts";
import type { SqlStore } from "../../gateway/sql-store.ts";
import { FakeWebhooks, T0, makeRig, merchantWithTerminals, newWallet, testDb, testStore } from "./helpers.ts";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

interface Reply {
  status: number;
  body: string;
  json: Record<string, unknown>;
}

function request(
  url: string,
  method: string,
  path: string,
  o: { body?: string; token?: string; agent?: http.Agent | false; ca?: Buffer; headers?: Record<string, string>; rejectUnauthorized?: boolean } = {},
): Promise<Reply> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method,
        agent: o.agent,
        ca: o.ca,
        ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
        headers: { ...(o.token ? { authorization: "Bearer " + o.token } : {}), ...(o.body !== undefined ? { "content-type": "application/json" } : {}), ...(o.headers ?? {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          // what the server itself answers (413, 431, 503) never passes Gateway.handle: checked here, as received
          noteResponse(method, path, { status: res.statusCode ?? 0, headers: { "content-type": String(res.headers["content-type"] ?? "") }, body });
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body);
          } catch {
            // the link's replies are not JSON
          }
          resolve({ status: res.statusCode ?? 0, body, json });
        });
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

function linkOver(url: string, agent: http.Agent, ca?: Buffer): LinkSend {
  return async (r) => {
    const res = await request(url, "POST", r.path, { body: r.body, agent, ca, headers: { "content-type": "text/plain" } });
    return { status: res.status, body: res.body };
  };
}

/** A terminal registered through the merchant API of a running server. */
async function remoteTerminal(s: GatewayServer, merchantId: number, apiKey: string, send: LinkSend, now: () => number, ca?: Buffer): Promise<SoftTerminal> {
  const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: s.gateway.linkPublicKey, send });
  const r = await request(s.url, "POST", "/v1/merchants/" + merchantId + "/terminals", { token: apiKey, ca, body: JSON.stringify({ publicKey: hexOf(probe.publicKey) }) });
  assert.equal(r.status, 201, r.body);
  return new SoftTerminal({ terminalId: r.json.terminalId as number, privateKey: probe.privateKey, linkPublicKey: Buffer.from(r.json.linkPublicKey as string, "hex"), send, now });
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
}

/** Row counts of every table but the logs (a refused request may log itself; it must change nothing else). */
function counts(gw: Gateway): Record<string, number> {
  const db = gw.store as SqlStore;
  const out: Record<string, number> = {};
  for (const t of ["meta", "merchants", "terminals", "wallets", "invoices", "records", "ledger", "spends", "reports", "chain", "flags", "deny", "sms", "webhooks", "updates", "movements", "postings", "allowances", "payout_runs", "payouts"]) {
    out[t] = Number(db.select<{ n: number }>("SELECT count(*) AS n FROM " + t)[0].n);
  }
  out.walletState = JSON.stringify(db.select("SELECT lastReqTime, startCounter, syncedAt FROM wallets ORDER BY id")).length;
  out.linkSeqs = Number(db.select<{ n: number }>("SELECT coalesce(sum(linkSeq), 0) AS n FROM terminals")[0].n);
  return out;
}

describe("gateway: HTTPS", function () {
  this.timeout(60000);
  let dir = "";
  let cert: Buffer;
  let key: Buffer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gw-tls-"));
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdio: "ignore" },
    );
    cert = readFileSync(join(dir, "cert.pem"));
    key = readFileSync(join(dir, "key.pem"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves the API and the terminal link over TLS with the configured certificate, and logs each terminal connection", async () => {
    const clock = new MovableClock(T0);
    const s = await startGatewayServer({ port: 0, host: "127.0.0.1", dbPath: testDb(), tls: { cert, key }, clock, gateway: { adminToken: "adm", autoFlush: false, webhooks: new FakeWebhooks() } });
    const agent = new https.Agent({ keepAlive: true, ca: cert });
    try {
      assert.match(s.url, /^https:\/\/127\.0\.0\.1:[0-9]+$/);
      // the client checks the chain against the throwaway CA: the server presents the configured certificate
      const h = await request(s.url, "GET", "/v1/health", { ca: cert });
      assert.equal(h.status, 200);
      assert.equal(h.json.ok, true);
      // a fresh connection (no agent's cached socket or session) from a client that checks against the system CAs
      await assert.rejects(request(s.url, "GET", "/v1/health", { agent: false, rejectUnauthorized: true }), /self.signed|certificate/i, "an unknown certificate is refused by a checking client");
      await assert.rejects(request(s.url.replace("https:", "http:"), "GET", "/v1/health"), "no plain HTTP on the TLS port");

      const m = await request(s.url, "POST", "/v1/merchants", { ca: cert, token: "adm", body: JSON.stringify({ name: "TLS shop" }) });
      assert.equal(m.status, 201, m.body);
      const t = await remoteTerminal(s, m.json.merchantId as number, m.json.apiKey as string, linkOver(s.url, agent, cert), () => Math.floor(clock.now() / 1000), cert);
      const w = new SoftWallet();
      w.setAllowance(s.gateway.registerWallet({ publicKey: w.publicKey, capMinor: 5000, balanceMinor: 5000 }).allowance);
      const ids = [120, 130].map((a) => hexOf(t.record(t.walletPayment(w, a)).entry.subarray(1, 9)));
      await t.hello();
      await t.uploadAll();
      assert.deepEqual(s.gateway.ledger().map((l) => l.txId), ids);

      const seen = await new Promise<number>((resolve, reject) => {
        const req = https.request({ host: "127.0.0.1", port: new URL(s.url).port, path: "/v1/health", agent }, (res) => {
          res.resume();
          resolve((req.socket as import("node:net").Socket).localPort ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
      const conns = async () => (await request(s.url, "GET", "/v1/merchants/" + m.json.merchantId + "/connections", { ca: cert, token: m.json.apiKey as string })).json.connections as Record<string, number | string>[];
      let c = await conns();
      assert.equal(c.length, 1, "one keep-alive connection carried hello and both uploads");
      assert.equal(c[0].terminalId, t.terminalId);
      assert.equal(c[0].address, "127.0.0.1");
      assert.equal(c[0].port, seen, "the client's own port");
      assert.equal(c[0].requests, 2, "hello and one upload of both records");
      assert.equal(c[0].connectedAt, T0);
      assert.equal(c[0].disconnectedAt, 0, "still open");
      clock.advance(5000);
      agent.destroy();
      await until("the disconnect is logged", () => s.gateway.connections()[0].disconnectedAt > 0);
      c = await conns();
      assert.equal(c[0].disconnectedAt, T0 + 5000);
    } finally {
      agent.destroy();
      await s.close();
    }
  });

  it("refuses plain HTTP on any address but loopback", async () => {
    await assert.rejects(startGatewayServer({ port: 0, host: "0.0.0.0", dbPath: ":memory:" }), /loopback only/);
  });
});

describe("gateway: activity log", () => {
  it("records every change the gateway makes and serves it through the API (merchant's own, and the admin's whole log)", async () => {
    const rig = makeRig();
    const { merchant, terms } = merchantWithTerminals(rig, "Logbook", 1);
    const w = newWallet(rig);
    const t = terms[0];
    t.record(t.walletPayment(w, 100));
    await t.hello();
    await t.uploadAll();
    rig.clock.advance(4 * 86400000);
    rig.gw.tick();
    await rig.gw.flush();
    const mine = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/activity", headers: { authorization: "Bearer " + merchant.apiKey }, body: "" });
    const kinds = (JSON.parse(mine.body).activity as { kind: string; at: number; merchantId: number }[]).map((a) => a.kind);
    for (const k of ["merchant-registered", "terminal-registered", "hello", "upload", "ledger-entered", "hold-released", "webhook-delivered"]) assert.ok(kinds.includes(k), k + " in " + kinds.join(","));
    assert.ok((JSON.parse(mine.body).activity as { merchantId: number }[]).every((a) => a.merchantId === merchant.merchantId), "only its own");
    const all = await rig.gw.handle({ method: "GET", path: "/v1/admin/activity?limit=1000", headers: { authorization: "Bearer admin-test" }, body: "" });
    const allKinds = (JSON.parse(all.body).activity as { kind: string }[]).map((a) => a.kind);
    for (const k of ["wallet-registered", "sms-sent"]) assert.ok(allKinds.includes(k), k);
    const other = rig.gw.registerMerchant({ name: "Other" });
    const denied = await rig.gw.handle({ method: "GET", path: "/v1/merchants/" + merchant.merchantId + "/activity", headers: { authorization: "Bearer " + other.apiKey }, body: "" });
    assert.equal(denied.status, 404);
  });

  it("logs a refused link request and its connection, though the request changed nothing", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 2);
    const forged = new SoftTerminal({ terminalId: terms[1].terminalId, privateKey: terms[0].privateKey, linkPublicKey: rig.gw.linkPublicKey, send: terms[0].send });
    await assert.rejects(forged.hello());
    assert.equal(rig.gw.connections().length, 1);
    assert.equal(rig.gw.connections()[0].terminalId, terms[1].terminalId);
    assert.ok(rig.gw.activity().some((a) => a.kind === "link-refused" && a.terminalId === terms[1].terminalId));
    assert.equal(rig.gw.terminal(terms[1].terminalId)!.linkSeq, 0);
  });
});

describe("gateway: bad requests", function () {
  this.timeout(60000);

  it("answers each bad request with a clear 4xx {error, message} and changes nothing", async () => {
    const s = await startGatewayServer({ port: 0, host: "127.0.0.1", dbPath: testDb(), gateway: { adminToken: "adm", autoFlush: false, webhooks: new FakeWebhooks() } });
    try {
      const gw = s.gateway;
      const a = gw.registerMerchant({ name: "A" });
      const b = gw.registerMerchant({ name: "B" });
      const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: gw.linkPublicKey, send: () => Promise.reject(new Error("unused")) });
      const tid = gw.registerTerminal({ merchantId: a.merchantId, publicKey: probe.publicKey }).terminalId;
      const w = new SoftWallet();
      gw.registerWallet({ publicKey: w.publicKey, capMinor: 1000, balanceMinor: 1010 });
      const invoice = toBase64(new SoftTerminal({ terminalId: tid, privateKey: probe.privateKey, linkPublicKey: gw.linkPublicKey, send: probe.send }).invoice(1, 500));
      const before = counts(gw);
      const walletPath = "/v1/wallets/" + w.walletId + "/sync";
      const goodSync = JSON.stringify({ time: Date.now(), spent: [] });
      const cases: [string, string, { body?: string; token?: string; headers?: Record<string, string> }, number, string][] = [
        ["GET", "/nowhere", {}, 404, "NOT_FOUND"],
        ["GET", "/v1/merchants", { token: "adm" }, 405, "METHOD"],
        ["POST", "/v1/merchants", { body: JSON.stringify({ name: "X" }) }, 401, "UNAUTHENTICATED"],
        ["POST", "/v1/merchants", { token: "wrong", body: JSON.stringify({ name: "X" }) }, 403, "FORBIDDEN"],
        ["POST", "/v1/merchants", { token: "adm", body: "{not json" }, 400, "BAD_JSON"],
        ["POST", "/v1/merchants", { token: "adm", body: "[1,2]" }, 400, "BAD_JSON"],
        ["POST", "/v1/merchants", { token: "adm", body: JSON.stringify({ name: "" }) }, 400, "BAD_NAME"],
        ["POST", "/v1/merchants", { token: "adm", body: JSON.stringify({ name: "X", webhookUrl: "ftp://x" }) }, 400, "BAD_WEBHOOK"],
        ["POST", "/v1/merchants", { token: "adm", body: JSON.stringify({ name: "X", merchantId: a.merchantId }) }, 409, "MERCHANT_EXISTS"],
        ["POST", "/v1/merchants", { token: "adm", body: JSON.stringify({ name: "X", limits: { perTxMinor: -1 } }) }, 400, "BAD_LIMITS"],
        ["POST", "/v1/wallets", { token: "adm", body: JSON.stringify({ publicKey: "zz", capMinor: 5 }) }, 400, "BAD_PUBLICKEY"],
        ["POST", "/v1/wallets", { token: "adm", body: JSON.stringify({ publicKey: hexOf(new SoftWallet().publicKey), capMinor: 5, phone: "0151" }) }, 400, "BAD_PHONE"],
        ["POST", "/v1/wallets", { token: "adm", body: JSON.stringify({ publicKey: hexOf(w.publicKey), capMinor: 5 }) }, 409, "WALLET_EXISTS"],
        ["POST", "/v1/merchants/" + a.merchantId + "/terminals", { token: b.apiKey, body: JSON.stringify({ publicKey: hexOf(new SoftWallet().publicKey) }) }, 404, "UNKNOWN_MERCHANT"],
        ["POST", "/v1/merchants/" + a.merchantId + "/terminals", { token: a.apiKey, body: JSON.stringify({ publicKey: "00".repeat(64) }) }, 400, "BAD_PUBLIC_KEY"],
        ["POST", "/v1/merchants/" + a.merchantId + "/terminals", { token: a.apiKey, body: JSON.stringify({ publicKey: hexOf(new SoftWallet().publicKey), terminalId: tid }) }, 409, "TERMINAL_EXISTS"],
        ["PUT", "/v1/merchants/" + a.merchantId + "/settings", { token: a.apiKey, body: JSON.stringify({ limits: { maxDaysOffline: "x" } }) }, 400, "BAD_LIMITS"],
        ["GET", "/v1/merchants/" + a.merchantId + "/ledger", { token: b.apiKey }, 404, "UNKNOWN_MERCHANT"],
        ["POST", "/v1/invoices/pay", { body: JSON.stringify({ invoice: "!!", method: "card" }) }, 400, "BAD_INVOICE"],
        ["POST", "/v1/invoices/pay", { body: JSON.stringify({ invoice, method: "cash" }) }, 400, "BAD_METHOD"],
        ["POST", "/v1/invoices/pay", { body: JSON.stringify({ invoice, method: "card", card: { number: "4242424242424242", expiry: "13/40", cvc: "1" } }) }, 400, "CARD_INVALID"],
        ["POST", "/v1/invoices/pay", { body: JSON.stringify({ invoice, method: "card", card: { number: "4242424242424242", expiry: "01/20", cvc: "123" } }) }, 402, "CARD_EXPIRED"],
        ["POST", walletPath, { body: goodSync }, 401, "UNAUTHENTICATED"],
        ["POST", walletPath, { body: goodSync, headers: { "x-wallet-signature": w.signRequest("POST", walletPath, goodSync.replace("[]", "[ ]")) } }, 401, "BAD_SIGNATURE"],
        ["POST", walletPath, { body: JSON.stringify({ time: 5, spent: "x" }), headers: { "x-wallet-signature": w.signRequest("POST", walletPath, JSON.stringify({ time: 5, spent: "x" })) } }, 400, "BAD_REPORT"],
        ["POST", "/v1/wallets/0000000000000000/sync", { body: goodSync }, 404, "UNKNOWN_WALLET"],
        ["POST", "/v1/admin/clock", { token: "adm", body: JSON.stringify({ advanceMs: 1 }) }, 409, "CLOCK_FIXED"],
        ["POST", "/v1/t/" + tid + "/hello", { body: "not a sealed request", headers: { "content-type": "text/plain" } }, 400, ""],
        ["POST", "/v1/t/99999/hello", { body: "x", headers: { "content-type": "text/plain" } }, 404, "UNKNOWN_TERMINAL"],
        ["POST", "/v1/t/" + tid + "/reboot", { body: "x", headers: { "content-type": "text/plain" } }, 404, "UNKNOWN_OP"],
        ["POST", "/v1/merchants", { token: "adm", body: "x".repeat((1 << 20) + 10) }, 413, "BODY_TOO_LARGE"],
        ["POST", "/v1/merchants", { token: "adm", body: JSON.stringify({ name: "X" }), headers: { "content-type": "text/plain" } }, 415, "UNSUPPORTED_MEDIA_TYPE"],
        ["GET", "/v1/health", { headers: { "x-padding": "x".repeat(20000) } }, 431, ""],
      ];
      for (const [method, path, o, status, code] of cases) {
        const r = await request(s.url, method, path, o);
        const what = method + " " + path + " " + (o.body ?? "").slice(0, 80);
        if (status === 400 && !code) assert.ok(r.status >= 400 && r.status < 500, what + " -> " + r.status);
        else assert.equal(r.status, status, what + " -> " + r.body.slice(0, 200));
        if (status === 431) continue; // Node's own answer: no body (docs/gateway-api.yaml, HeadersTooLarge)
        if (code) assert.equal(r.json.error, code, what);
        assert.equal(typeof r.json.message, "string", what + ": a message");
        assert.ok((r.json.message as string).length > 5, what);
        assert.deepEqual(counts(gw), before, what + " changed something");
      }
    } finally {
      await s.close();
    }
  });

  it("rolls a whole upload back when the database fails part-way: nothing entered, the link seq unchanged; the resend enters each once", async () => {
    let failAt = 3;
    const wrap = (st: GatewayStore): GatewayStore =>
      new Proxy(st, {
        get(target, k) {
          const v = Reflect.get(target, k, target);
          if (k === "insertLedger") return (row: Parameters<GatewayStore["insertLedger"]>[0]) => {
            if (--failAt === 0) throw new Error("disk I/O error");
            return target.insertLedger(row);
          };
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const rig = makeRig(":memory:");
    rig.gw.close();
    rig.gw = new Gateway({ store: wrap(testStore(":memory:")), clock: rig.clock, sms: rig.sms, webhooks: rig.hooks, issuer: rig.issuer, autoFlush: false, adminToken: "admin-test" });
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig);
    const t = terms[0];
    const ids = [10, 20, 30].map((x) => hexOf(t.record(t.walletPayment(w, x)).entry.subarray(1, 9)));
    const before = counts(rig.gw);
    await assert.rejects(t.uploadBatch(8), (e: Error & { status?: number }) => e.status === 500);
    assert.deepEqual(counts(rig.gw), before, "nothing half-applied");
    assert.equal(rig.gw.ledger().length, 0);
    assert.equal(t.pending.length, 3);
    await t.uploadAll();
    assert.deepEqual(rig.gw.ledger().map((l) => l.txId), ids);
  });

  it("rolls back a wallet payment of an invoice when the database fails after the debit: balance and invoice as before", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const w = newWallet(rig, 1000, "+4915100000001", 5000);
    const store = rig.gw.store as SqlStore;
    const real = store.insertLedger.bind(store);
    store.insertLedger = () => {
      throw new Error("disk full");
    };
    const path = "/v1/invoices/pay";
    const body = JSON.stringify({ invoice: toBase64(terms[0].invoice(1, 1200)), method: "wallet", walletId: w.walletId, time: Date.now() });
    const r = await rig.gw.handle({ method: "POST", path, headers: { "x-wallet-signature": w.signRequest("POST", path, body) }, body });
    assert.equal(r.status, 500);
    assert.equal(rig.gw.walletBalances(w.walletId).available, 5000);
    assert.equal(rig.gw.wallet(w.walletId)!.lastReqTime, 0);
    assert.equal(rig.gw.invoices(1).length, 0);
    store.insertLedger = real;
    const again = await rig.gw.handle({ method: "POST", path, headers: { "x-wallet-signature": w.signRequest("POST", path, body) }, body });
    assert.equal(again.status, 200, again.body);
    assert.equal(rig.gw.walletBalances(w.walletId).available, 3800);
  });
});
