/**
 * Relayed records end to end on the TypeScript side (docs/protocol.md, "Relayed records"): a terminal's pending
 * records, sealed in a bundle, kept by the SDK's wallet, uploaded by the gateway client at sync to a real gateway
 * over HTTP. A phone that never syncs, one that syncs twice, and a tampered bundle.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import { sealRelay } from "../../protocol/relay.ts";
import { fromBase64 } from "../../protocol/sync.ts";
import { startGatewayServer, type GatewayServer } from "../../gateway/server.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { GatewayClient } from "../../sdk/gateway-client.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { SoftTerminal, SoftWallet, overHttp } from "../helpers/soft-terminal.ts";
import { installApiContractHook } from "../helpers/api-contract.ts";

installApiContractHook();

const ADMIN = "admin-relay-test";
const c = nodeCrypto();

async function post(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + ADMIN }, body: JSON.stringify(body) });
  const j = (await r.json()) as Record<string, unknown>;
  assert.ok(r.status < 300, JSON.stringify(j));
  return j;
}

async function get(url: string, path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url + path, { headers: { authorization: "Bearer " + ADMIN } })).json()) as Record<string, unknown>;
}

/** The bundle a terminal hands a phone: its `n` oldest pending records. */
function bundleOf(t: SoftTerminal, n = 4): Uint8Array {
  return sealRelay(c, t.relayKeys, t.terminalId, t.pending.slice(0, n).map((r) => ({ seq: r.seq, prev: /^0+$/.test(r.prev) ? null : (fromHex(r.prev) as Uint8Array), payload: r.entry })));
}

describe("SDK: relayed terminal records, carried by the wallet and uploaded at sync", function () {
  this.timeout(30000);
  let srv: GatewayServer;
  let merchantId: number;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdk-relay-"));
    srv = await startGatewayServer({ port: 0, dbPath: join(dir, "gw.db"), gateway: { adminToken: ADMIN, verifyThreads: 0 } });
    merchantId = (await post(srv.url, "/v1/merchants", { name: "Cafe Relay" })).merchantId as number;
  });
  after(async () => {
    await srv?.close();
  });

  /** A registered terminal with `n` pending payments by a soft payer, and an SDK wallet (the carrier). */
  async function scene(n = 3) {
    const info = (await (await fetch(srv.url + "/v1/info")).json()) as { linkPublicKey: string };
    const probe = new SoftTerminal({ terminalId: 0, linkPublicKey: fromHex(info.linkPublicKey) as Uint8Array, send: () => Promise.reject(new Error("unused")) });
    const reg = await post(srv.url, "/v1/merchants/" + merchantId + "/terminals", { publicKey: toHex(probe.publicKey) });
    const t = new SoftTerminal({ terminalId: reg.terminalId as number, privateKey: probe.privateKey, linkPublicKey: fromHex(reg.linkPublicKey as string) as Uint8Array, send: overHttp(srv.url) });
    const payer = new SoftWallet();
    payer.setAllowance(fromBase64((await post(srv.url, "/v1/wallets", { publicKey: toHex(payer.publicKey), capMinor: 10000, balanceMinor: 50000 })).allowance as string) as Uint8Array);
    const txIds: string[] = [];
    for (let i = 0; i < n; i++) txIds.push(toHex(t.record(t.walletPayment(payer, 100 + i)).entry.subarray(1, 9)));
    const keyPair = await Wallet.generateKey();
    const w = await post(srv.url, "/v1/wallets", { publicKey: toHex(await Wallet.publicKeyOf(keyPair)), capMinor: 5000, balanceMinor: 20000 });
    const wallet = new Wallet({ keyPair, allowance: fromBase64(w.allowance as string) as Uint8Array });
    return { t, wallet, txIds };
  }

  async function ledgerCount(txIds: string[]): Promise<number[]> {
    const l = (await get(srv.url, "/v1/merchants/" + merchantId + "/ledger")).ledger as { txId: string }[];
    return txIds.map((id) => l.filter((x) => x.txId === id).length);
  }

  it("a phone that never syncs: the records stay pending on the terminal, which uploads them itself, each entered once", async () => {
    const { t, wallet, txIds } = await scene();
    wallet.keepRelayed(bundleOf(t));
    // the phone never comes online; the terminal's own sync
    await t.hello();
    const up = await t.uploadBatch(8);
    assert.deepEqual(up.acked, [1, 2, 3]);
    assert.deepEqual(await ledgerCount(txIds), [1, 1, 1]);
    assert.equal(wallet.relayedBundles().length, 1, "still carried: harmless");
  });

  it("a phone that syncs: the client uploads the bundle, lets it go, and the terminal's next upload is acknowledged without entering anything again", async () => {
    const { t, wallet, txIds } = await scene();
    wallet.keepRelayed(bundleOf(t));
    const r = await new GatewayClient(srv.url).sync(wallet);
    assert.deepEqual(r.relayed, [{ terminalId: t.terminalId, acked: [1, 2, 3], rejected: [] }]);
    assert.deepEqual(r.relayRefused, []);
    assert.equal(r.relayPending, 0);
    assert.equal(wallet.relayedBundles().length, 0);
    assert.deepEqual(await ledgerCount(txIds), [1, 1, 1]);
    await t.hello();
    assert.deepEqual((await t.uploadBatch(8)).acked, [1, 2, 3], "the terminal learns they are acknowledged");
    assert.deepEqual(await ledgerCount(txIds), [1, 1, 1]);
  });

  it("a phone that syncs twice (the first answer lost on the way): the bundle is uploaded again and each record is still entered once", async () => {
    const { t, wallet, txIds } = await scene();
    wallet.keepRelayed(bundleOf(t));
    let lose = true;
    const lossy = async (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
      const res = await fetch(url, init);
      if (lose && url.endsWith("/relay")) {
        lose = false;
        await res.text();
        throw new Error("connection reset");
      }
      return res;
    };
    const first = await new GatewayClient(srv.url, { fetch: lossy }).sync(wallet);
    assert.equal(first.relayPending, 1, "kept for the next sync");
    assert.equal(wallet.relayedBundles().length, 1);
    assert.deepEqual(await ledgerCount(txIds), [1, 1, 1], "the gateway entered them on the first upload");
    const second = await new GatewayClient(srv.url).sync(wallet);
    assert.deepEqual(second.relayed[0].acked, [1, 2, 3]);
    assert.equal(wallet.relayedBundles().length, 0);
    assert.deepEqual(await ledgerCount(txIds), [1, 1, 1]);
  });

  it("a tampered bundle: refused (RELAY_AUTH), let go, nothing entered; the wallet's own sync still runs", async () => {
    const { t, wallet, txIds } = await scene();
    const b = bundleOf(t);
    b[b.length - 40] ^= 0x10;
    wallet.keepRelayed(b);
    const r = await new GatewayClient(srv.url).sync(wallet);
    assert.deepEqual(r.relayed, []);
    assert.equal(r.relayRefused.length, 1);
    assert.equal(r.relayRefused[0].code, "RELAY_AUTH");
    assert.equal(wallet.relayedBundles().length, 0);
    assert.deepEqual(await ledgerCount(txIds), [0, 0, 0]);
    assert.equal(typeof r.walletId, "string");
    // the terminal's own upload then enters them, once
    await t.hello();
    await t.uploadAll();
    assert.deepEqual(await ledgerCount(txIds), [1, 1, 1]);
  });
});
