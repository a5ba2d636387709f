/** The World's gateway seam: the terminal's HTTP peer, reachability, books, registration during provisioning, claims. */
import assert from "node:assert/strict";
import { decodeTerminalCert } from "../../protocol/messages.ts";
import { World } from "../../sim/world.ts";
import type { FraudClaim, GatewayLike } from "../../sim/world.ts";
import { fixtureBundle } from "../tools/fixture.ts";

/** A gateway stand-in that records what reaches it; it refuses anything it was not built for. */
function fakeGateway(w: World) {
  const seen: { paths: string[]; merchants: unknown[]; terminals: { merchantId: number; terminalId?: number }[]; wallets: number; phones: (string | undefined)[]; claims: FraudClaim[] } = { paths: [], merchants: [], terminals: [], wallets: 0, phones: [], claims: [] };
  const g: GatewayLike = {
    async handle(req) {
      seen.paths.push(req.method + " " + req.path);
      return { status: 200, body: JSON.stringify({ ok: true }) };
    },
    ledger: () => [{ ref: "r1", amountMinor: 1250 }],
    holds: () => [],
    smsOutbox: () => [{ to: "+4915100000000", text: "hi" }],
    flags: () => {
      throw new Error("flags table missing");
    },
    linkPublicKey: new Uint8Array(64).fill(0x11),
    registerMerchant(spec) {
      seen.merchants.push(spec);
      return { merchantId: spec.merchantId };
    },
    registerTerminal(spec) {
      seen.terminals.push({ merchantId: spec.merchantId, terminalId: spec.terminalId });
      const cert = w.issuer.issueTerminalCert({ terminalId: spec.terminalId ?? 1, merchantId: spec.merchantId, terminalPub: spec.publicKey, expiryDay: 30000 });
      return { cert, issuerKeyId: w.issuer.keyId, issuerPublicKey: w.issuer.publicKey };
    },
    registerWallet(spec) {
      seen.wallets++;
      seen.phones.push(spec.phone);
      return { walletId: "w", allowance: w.issuer.issueAllowance({ walletPub: spec.publicKey, capMinor: spec.capMinor, currency: spec.currency ?? 978, expiryDay: 30000, startCounter: 0 }) };
    },
    claimFraud(c) {
      seen.claims.push(c);
      return { status: "disputed" };
    },
  };
  return { g, seen };
}

const exchange = { method: "POST", protocol: "http:", host: "gateway.sim", port: 8080, path: "/v1/t/7/hello", headers: {}, body: "x" };

describe("World and its gateway", function () {
  this.timeout(60000);

  it("sends the terminal's HTTP to the attached gateway, and refuses it while the gateway is unreachable", async () => {
    const w = World.open({ stateDir: null });
    const { g, seen } = fakeGateway(w);
    await assert.rejects(w.host.httpHandler!(exchange), /connection refused/, "no gateway attached yet");
    w.attachGateway(g);
    assert.equal((await w.host.httpHandler!(exchange)).status, 200);
    w.setGatewayReachable(false);
    await assert.rejects(w.host.httpHandler!(exchange), /connection refused/);
    assert.deepEqual(seen.paths, ["POST /v1/t/7/hello"]);
  });

  it("shows the gateway's books, and a book that fails as its error instead of failing the summary", () => {
    const w = World.open({ stateDir: null });
    assert.equal(w.gatewayBooks(), null);
    w.attachGateway(fakeGateway(w).g);
    const b = w.gatewayBooks()!;
    assert.deepEqual(b.ledger, [{ ref: "r1", amountMinor: 1250 }]);
    assert.deepEqual(b.flags, { error: "flags table missing" });
    assert.deepEqual((w.summary().gateway as { sms: unknown }).sms, [{ to: "+4915100000000", text: "hi" }]);
  });

  it("registers the merchant and each wallet with its own E.164 phone number, so the gateway's SMS rules run", async () => {
    const w = World.open({ stateDir: null, bundle: await fixtureBundle() });
    const { g, seen } = fakeGateway(w);
    w.attachGateway(g);
    await w.provision();
    await w.wallet("alice");
    await w.wallet("bob");
    const merchantPhone = (seen.merchants[0] as { phone?: string }).phone;
    const all = [merchantPhone, ...seen.phones];
    assert.equal(all.length, 3);
    for (const p of all) assert.match(p ?? "", /^\+[0-9]{6,15}$/);
    assert.equal(new Set(all).size, 3, "one number each");
  });

  it("provisions with the gateway's link key and a certificate from the gateway's terminal registration", async () => {
    const w = World.open({ stateDir: null, bundle: await fixtureBundle() });
    const { g, seen } = fakeGateway(w);
    w.attachGateway(g);
    await w.provision();
    assert.deepEqual(seen.terminals, [{ merchantId: 42, terminalId: 7 }]);
    assert.equal(seen.merchants.length, 1);
    assert.equal(JSON.parse(w.host.storage.read("cfg.json")!).linkKey, "11".repeat(64));
    const cert = decodeTerminalCert(new Uint8Array(Buffer.from(w.host.storage.read("cert.bin")!, "latin1")))!;
    assert.equal(cert.terminalId, 7);
  });

  it("registers a new wallet at the gateway, and sends a fraud claim there only for a payment the wallet made", async () => {
    const w = World.open({ stateDir: null });
    const { g, seen } = fakeGateway(w);
    w.attachGateway(g);
    await w.wallet("bob", 9000);
    assert.equal(seen.wallets, 1);
    assert.equal(w.walletInfo("bob").capMinor, 9000);
    await assert.rejects(w.claimFraud("bob"), /has made no payment to claim/);
    assert.equal(seen.claims.length, 0);
  });

  it("refuses a fraud claim from a wallet the world does not have", async () => {
    const w = World.open({ stateDir: null });
    await w.wallet("carol");
    await assert.rejects(w.claimFraud("nobody"), /no wallet "nobody"/);
  });
});
