/**
 * The TypeScript SDK's gateway client against a real gateway over HTTP on loopback: a wallet registered by the
 * admin loads an allowance, pays a terminal offline, syncs, claims fraud and pays an invoice online; errors are
 * typed with the gateway's codes.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../../protocol/codec/hex.ts";
import { invoiceUrl } from "../../protocol/qr.ts";
import { fromBase64, toBase64 } from "../../protocol/sync.ts";
import { startGatewayServer, type GatewayServer } from "../../gateway/server.ts";
import { GatewayApiError, GatewayClient, walletIdOfKey } from "../../sdk/gateway-client.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { SoftTerminal, overHttp } from "../helpers/soft-terminal.ts";
import { installApiContractHook } from "../helpers/api-contract.ts";

// the gateway's answers to the client are checked against docs/gateway-api.yaml
installApiContractHook();

const ADMIN = "admin-sdk-test";

async function post(url: string, path: string, body: unknown, token = ADMIN): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + token }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe("SDK gateway client (sdk/gateway-client.ts) against a gateway over HTTP", function () {
  this.timeout(30000);
  let srv: GatewayServer;
  let term: SoftTerminal;
  let wallet: Wallet;
  let gw: GatewayClient;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdk-gw-"));
    srv = await startGatewayServer({ port: 0, dbPath: join(dir, "gw.db"), gateway: { adminToken: ADMIN, verifyThreads: 0 } });
    const m = await post(srv.url, "/v1/merchants", { name: "Cafe SDK" });
    assert.equal(m.status, 201);
    const info = (await (await fetch(srv.url + "/v1/info")).json()) as { linkPublicKey: string };
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: new Uint8Array(Buffer.from(info.linkPublicKey, "hex")), send: () => Promise.reject(new Error("unused")) });
    const t = await post(srv.url, "/v1/merchants/" + m.json.merchantId + "/terminals", { publicKey: toHex(probe.publicKey) });
    assert.equal(t.status, 201);
    const linkPub = new Uint8Array(Buffer.from(t.json.linkPublicKey as string, "hex"));
    term = new SoftTerminal({ terminalId: t.json.terminalId as number, privateKey: probe.privateKey, linkPublicKey: linkPub, send: overHttp(srv.url) });
    const keyPair = await Wallet.generateKey();
    const pub = await Wallet.publicKeyOf(keyPair);
    const w = await post(srv.url, "/v1/wallets", { publicKey: toHex(pub), capMinor: 10000, balanceMinor: 50000, phone: "+491701234567" });
    assert.equal(w.status, 201, JSON.stringify(w.json));
    wallet = new Wallet({ keyPair, allowance: fromBase64(w.json.allowance as string) as Uint8Array });
    gw = new GatewayClient(srv.url);
  });

  after(async () => {
    await srv?.close();
  });

  it("info gives the issuer key a wallet checks terminal certificates against", async () => {
    const i = await gw.info();
    assert.match(i.issuerPublicKey, /^[0-9a-f]{128}$/);
    assert.ok(i.time > 0);
  });

  it("loads a fresh allowance into the wallet (a new issuer signature)", async () => {
    const before = toHex(wallet.allowanceMessage());
    await gw.loadAllowance(wallet, 8000);
    assert.notEqual(toHex(wallet.allowanceMessage()), before);
    assert.equal(wallet.allowance().capMinor, 8000);
  });

  it("syncs what the wallet paid offline: the terminal's held payments are matched, a new allowance comes", async () => {
    const refs: string[] = [];
    for (const amount of [1250, 700]) {
      const request = term.request(amount);
      const out = await wallet.pay(request);
      const txId = term.nextTxId();
      term.record({ kind: 1, txId, method: 1, request, payment: out.bytes, orderRef: "" });
      refs.push(toHex(txId));
    }
    await term.hello();
    await term.uploadAll();
    const before = toHex(wallet.allowanceMessage());
    const r = await gw.sync(wallet);
    assert.equal(r.walletId, await walletIdOfKey(await wallet.publicKeyRaw()));
    assert.equal(r.denied, false);
    assert.equal(r.renewed, true);
    assert.notEqual(toHex(wallet.allowanceMessage()), before);
    assert.equal(r.matched.length, 2, JSON.stringify(r));
    assert.deepEqual(r.unreported, []);
    const txs = (await gw.transactions(wallet)) as { txId: string }[];
    for (const ref of refs) assert.ok(txs.some((t) => t.txId === ref), ref);
  });

  it("claims fraud on a payment the wallet did not report", async () => {
    const request = term.request(300);
    const out = await wallet.pay(request);
    const txId = term.nextTxId();
    term.record({ kind: 1, txId, method: 1, request, payment: out.bytes, orderRef: "" });
    await term.uploadAll();
    const c = await gw.claim(wallet, toHex(txId), "dispute", "not me");
    assert.equal(c.status, "disputed");
    await assert.rejects(gw.claim(wallet, toHex(txId), "dispute"), (e: unknown) => e instanceof GatewayApiError && e.status === 409);
  });

  it("pays a terminal's invoice online from the wallet's balance: the paid confirmation to show the terminal", async () => {
    const inv = term.invoice(9, 1500);
    const paid = await gw.payInvoice(wallet, invoiceUrl(srv.url, inv));
    assert.equal(paid.amountMinor, 1500);
    assert.equal(paid.paid.length, 94);
    assert.match(paid.qr, /^C1/);
    assert.equal(toBase64(paid.paid).length > 0, true);
  });

  it("errors are typed: a replayed time (REPLAY 409), another wallet's key (401), no gateway (NETWORK)", async () => {
    const stale = new GatewayClient(srv.url, { now: () => 1000 });
    await assert.rejects(stale.balance(wallet), (e: unknown) => e instanceof GatewayApiError && e.code === "REPLAY" && e.status === 409);
    const other = new Wallet({ keyPair: await Wallet.generateKey(), allowance: wallet.allowanceMessage() });
    await assert.rejects(gw.balance(other), (e: unknown) => e instanceof GatewayApiError && (e.status === 404 || e.status === 401));
    const down = new GatewayClient("http://127.0.0.1:9", { timeoutMs: 2000 });
    await assert.rejects(down.info(), (e: unknown) => e instanceof GatewayApiError && e.code === "NETWORK" && e.status === 0);
  });
});
