import assert from "node:assert/strict";
import { decodeAllowance, decodeTerminalCert } from "../../protocol/messages.ts";
import { verifyMessage } from "../../gateway/issuer.ts";
import { SoftTerminal, SoftWallet, inProcess } from "../helpers/soft-terminal.ts";
import { T0, makeRig, merchantWithTerminals } from "./helpers.ts";

describe("gateway: registration", () => {
  it("registers a terminal and returns a TerminalCert the issuer signed over its key and merchant", () => {
    const rig = makeRig();
    const m = rig.gw.registerMerchant({ name: "Cafe Blue" });
    const term = new SoftTerminal({ terminalId: 0, linkPublicKey: rig.gw.linkPublicKey, send: inProcess(rig.gw) });
    const r = rig.gw.registerTerminal({ merchantId: m.merchantId, publicKey: term.publicKey, terminalId: 7 });
    const cert = decodeTerminalCert(r.cert);
    assert.ok(cert);
    assert.equal(cert.terminalId, 7);
    assert.equal(cert.merchantId, m.merchantId);
    assert.deepEqual(Array.from(cert.terminalPub), Array.from(term.publicKey));
    assert.ok(verifyMessage(rig.issuer.publicKey, r.cert));
  });

  it("registers a wallet and returns an allowance the issuer signed with its cap", () => {
    const rig = makeRig();
    const w = new SoftWallet();
    const r = rig.gw.registerWallet({ publicKey: w.publicKey, capMinor: 5000, phone: "+4915100000001", balanceMinor: 5000 });
    const a = decodeAllowance(r.allowance);
    assert.ok(a);
    assert.equal(a.capMinor, 5000);
    assert.equal(r.walletId, w.walletId);
    assert.ok(verifyMessage(rig.issuer.publicKey, r.allowance));
  });

  it("refuses a terminal key that is not on the curve with a 400 and registers nothing", async () => {
    const rig = makeRig();
    const m = rig.gw.registerMerchant({ name: "A" });
    const res = await rig.gw.handle({
      method: "POST",
      path: "/v1/merchants/" + m.merchantId + "/terminals",
      headers: { authorization: "Bearer " + m.apiKey },
      body: JSON.stringify({ publicKey: "00".repeat(64) }),
    });
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).error, "BAD_PUBLIC_KEY");
    assert.equal(rig.gw.store.listTerminals(m.merchantId).length, 0);
  });

  it("keeps its issuer, link key and books across a restart (close and reopen the database file)", () => {
    const rig = makeRig("/tmp/gw-reg-" + process.pid + "-" + Date.now() + ".db");
    const m = rig.gw.registerMerchant({ name: "Cafe Blue" });
    const link = Buffer.from(rig.gw.linkPublicKey).toString("hex");
    rig.restart();
    assert.equal(Buffer.from(rig.gw.linkPublicKey).toString("hex"), link);
    assert.equal(rig.gw.store.getMerchant(m.merchantId)?.name, "Cafe Blue");
  });
});

describe("gateway: terminal link", () => {
  it("answers hello with its signed time, limits and deny list version, echoing the nonce", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const reply = await terms[0].hello();
    assert.equal(reply.time, T0);
    assert.equal(typeof reply.denyVersion, "number");
    assert.deepEqual(reply.limits, { perTxMinor: 5000, unsyncedMinor: 50000, maxDaysOffline: 3, perWalletMinor: 10000 });
    assert.equal(reply.deny, "");
  });

  it("refuses a replayed request (same seq) with 409 REQ_REPLAY and changes nothing", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    const t = terms[0];
    let captured: { path: string; body: string } | null = null;
    const real = t.send;
    t.send = (r) => {
      captured = r;
      return real(r);
    };
    await t.hello();
    const before = rig.gw.terminal(t.terminalId)!.linkSeq;
    const res = await rig.gw.handle({ method: "POST", path: captured!.path, headers: {}, body: captured!.body });
    assert.equal(res.status, 409);
    assert.equal(JSON.parse(res.body).error, "REQ_REPLAY");
    assert.equal(rig.gw.terminal(t.terminalId)!.linkSeq, before);
  });

  it("refuses a request sealed with another terminal's keys (401 REQ_AUTH)", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 2);
    const [a, b] = terms;
    // a's keys, b's path
    const forged = new SoftTerminal({ terminalId: b.terminalId, privateKey: a.privateKey, linkPublicKey: rig.gw.linkPublicKey, send: inProcess(rig.gw) });
    await assert.rejects(forged.hello(), (e: Error & { code?: string; status?: number }) => e.code === "REQ_AUTH" && e.status === 401);
  });

  it("logs each terminal connection with its address and port", async () => {
    const rig = makeRig();
    const { terms } = merchantWithTerminals(rig, "A", 1);
    await terms[0].hello();
    const c = rig.gw.connections();
    assert.equal(c.length, 1);
    assert.equal(c[0].terminalId, terms[0].terminalId);
    assert.equal(c[0].address, "10.0.0.9");
    assert.equal(c[0].port, 40000);
  });
});
