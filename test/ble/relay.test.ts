/**
 * A relay bundle over the encrypted Bluetooth session (docs/protocol.md, "Relayed records"): the terminal module
 * sends it after the Request; the wallet SDK sets it aside, pays, checks the receipt, and keeps the bundle's bytes
 * unchanged in the wallet's state for the gateway.
 */
import assert from "node:assert/strict";
import * as M from "../../protocol/messages.ts";
import { relayKeys, sealRelay } from "../../protocol/relay.ts";
import { toBase64 } from "../../protocol/sync.ts";
import { payOverBle, WalletBleSession } from "../../sdk/ble.ts";
import type { WalletState, WalletStore } from "../../sdk/wallet.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { encodeEntry } from "../../protocol/entry.ts";
import { txId } from "../../protocol/ids.ts";
import { publicKeyOf } from "../../gateway/issuer.ts";
import { allowanceFor, crypto, EUR, jwkOf, NOW_S, testIssuer, testScalar } from "../protocol/helpers.ts";
import type { Terminal } from "./rig.ts";
import { pump, terminal, until } from "./rig.ts";

function signWithSe(t: Terminal, unsigned: Uint8Array): Uint8Array {
  const r = t.rig.run<Uint8Array>((d) => t.rig.se.sign(0, crypto.sha256(M.signedPart(unsigned)), d));
  assert.equal(r.err, null);
  const out = new Uint8Array(unsigned);
  out.set(r.value as Uint8Array, out.length - M.SIG);
  return out;
}

/** Four pending records of terminal 4242 (316-byte wallet payments): the largest bundle, 1,404 bytes. */
function bundle(): Uint8Array {
  const k = relayKeys(crypto, new Uint8Array(32).fill(0x5a));
  const recs = [1, 2, 3, 4].map((seq) => ({
    seq,
    prev: new Uint8Array(16).fill(seq),
    payload: encodeEntry({ kind: 1, txId: txId(4242, 100 + seq), method: 2, request: new Uint8Array(88).fill(seq), payment: new Uint8Array(206).fill(seq), orderRef: "" }),
  }));
  return sealRelay(crypto, k, 4242, recs);
}

class MemStore implements WalletStore {
  s: WalletState | null = null;
  load() {
    return this.s ? (JSON.parse(JSON.stringify(this.s)) as WalletState) : null;
  }
  save(s: WalletState) {
    this.s = JSON.parse(JSON.stringify(s));
  }
}

describe("Bluetooth session: a relay bundle from the terminal", () => {
  it("is set aside while paying, and kept unchanged in the wallet's saved state (1,404 bytes, over the terminal's 512 limit)", async () => {
    const t = terminal();
    const s = new WalletBleSession(t.ble.central(), { now: () => t.rig.clock.uptime(), issuerKeys: { 3: t.issuerPub }, wallClockMs: () => NOW_S * 1000, timeoutMs: 0 });
    const info = await pump(t.rig, s.open());
    const store = new MemStore();
    const wallet = new Wallet({ keyPair: jwkOf(testScalar(50)), allowance: allowanceFor(testIssuer(), publicKeyOf(testScalar(50))), store });
    const b = bundle();
    assert.equal(b.length, 1404);
    const req = signWithSe(t, M.encodeRequest({ terminalId: 4242, amountMinor: 990, currency: EUR, nonce: new Uint8Array(8).fill(3), time: NOW_S, terminalSig: new Uint8Array(64) }));
    assert.equal(t.session.send(req), true);
    assert.equal(t.session.send(b), true, "the bundle right after the request");
    const paying = payOverBle(wallet, s, info);
    await until(t.rig, () => t.received.length === 1);
    const payment = t.received[0];
    const rc = signWithSe(t, M.encodeReceipt({ txId: txId(4242, 7), status: 0, time: NOW_S, paymentHash: crypto.sha256(payment).subarray(0, 8), terminalSig: new Uint8Array(64) }));
    assert.equal(t.session.send(rc), true);
    const out = await pump(t.rig, paying);
    assert.equal(out.receipt.signatureVerified, true);
    assert.equal(out.relayed, 1);
    assert.deepEqual(wallet.relayedBundles().map((x) => Buffer.from(x).toString("hex")), [Buffer.from(b).toString("hex")]);
    assert.deepEqual(store.s!.relayed, [toBase64(b)], "persisted through the wallet's store");
    assert.deepEqual(t.errors, []);
  });

  it("survives a new allowance, is kept once however often it comes, and is let go on request", () => {
    const issuer = testIssuer();
    const pub = publicKeyOf(testScalar(51));
    const wallet = new Wallet({ keyPair: jwkOf(testScalar(51)), allowance: allowanceFor(issuer, pub) });
    const b = bundle();
    wallet.keepRelayed(b);
    wallet.keepRelayed(b);
    assert.equal(wallet.relayedBundles().length, 1);
    wallet.setAllowance(allowanceFor(issuer, pub, { startCounter: 5 }));
    assert.equal(wallet.relayedBundles().length, 1, "a new allowance keeps the bundles to carry");
    wallet.dropRelayed(b);
    assert.equal(wallet.relayedBundles().length, 0);
    assert.throws(() => wallet.keepRelayed(M.encodeRequest({ terminalId: 1, amountMinor: 1, currency: EUR, nonce: new Uint8Array(8), time: 1, terminalSig: new Uint8Array(64) })), /RELAY|relay bundle/);
  });
});
