/**
 * A rogue terminal in Bluetooth range (security review, item 6: "Bluetooth fails open"). Each attack is a real
 * terminal module (protocol/ble-session.ts on the emulated secure element) that a phone running the wallet SDK
 * (sdk/ble.ts) connects to; the rogue completes the session honestly with its own key, then sends a payment
 * request the wallet must refuse, and answers a payment with a receipt it signs, so the only thing between the
 * customer's money and the rogue is the wallet's checks. An outcome records what the wallet refused (its BleError
 * code, or null), how many payments the terminal received and what the wallet spent.
 *
 * Written first against the SDK that skipped the certificate check without issuer keys and never checked the
 * certificate's expiry, the request's terminal ID or the request's signature: there each attack ended with
 * `refused: null, paymentsAtTerminal: 1, spentMinor: 1250`, the payment made.
 */
import assert from "node:assert/strict";
import * as M from "../../protocol/messages.ts";
import type { WalletBleOptions } from "../../sdk/ble.ts";
import { BleError, payOverBle, WalletBleSession } from "../../sdk/ble.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { Issuer, publicKeyOf, signBody } from "../../gateway/issuer.ts";
import { allowanceFor, crypto, EUR, jwkOf, NOW_S, testIssuer, testScalar, TODAY } from "../protocol/helpers.ts";
import type { Terminal } from "./rig.ts";
import { pump, terminal, until } from "./rig.ts";

const VICTIM_ID = 4242; // the shop the customer stands in
const ROGUE_ID = 5555; // a terminal of another merchant, near enough to be connected to
const ROGUE_MERCHANT = 666;
const AMOUNT = 1250;

/** The issuer the wallet trusts (key ID 3), and one it has never heard of that signs under the same key ID. */
const issuer = testIssuer();
const rogueIssuer = new Issuer({ keyId: 3, privateKey: testScalar(99) });

function signWithSe(t: Terminal, unsigned: Uint8Array): Uint8Array {
  const r = t.rig.run<Uint8Array>((d) => t.rig.se.sign(0, crypto.sha256(M.signedPart(unsigned)), d));
  assert.equal(r.err, null);
  const out = new Uint8Array(unsigned);
  out.set(r.value as Uint8Array, out.length - M.SIG);
  return out;
}

function unsignedRequest(terminalId: number, amountMinor = AMOUNT): Uint8Array {
  return M.encodeRequest({ terminalId, amountMinor, currency: EUR, nonce: new Uint8Array(8).fill(9), time: NOW_S, terminalSig: new Uint8Array(64) });
}

/** A request the terminal signs with its own identity key (in its secure element). */
function ownRequest(t: Terminal, terminalId: number): Uint8Array {
  return signWithSe(t, unsignedRequest(terminalId));
}

/** A request signed by some other key (another terminal's, or anyone's). */
function requestSignedBy(priv: Uint8Array, terminalId: number): Uint8Array {
  const out = unsignedRequest(terminalId);
  out.set(signBody(priv, M.signedPart(out)), out.length - M.SIG);
  return out;
}

function receiptFor(t: Terminal, payment: Uint8Array): Uint8Array {
  const txId = Uint8Array.of(0, 0, 0x15, 0xb3, 0, 0, 0, 1);
  return signWithSe(t, M.encodeReceipt({ txId, status: 0, time: NOW_S, paymentHash: crypto.sha256(payment).subarray(0, 8), terminalSig: new Uint8Array(64) }));
}

function customerWallet(): Wallet {
  return new Wallet({ keyPair: jwkOf(testScalar(50)), allowance: allowanceFor(issuer, publicKeyOf(testScalar(50))) });
}

/** What the wallet app passes: the issuer's keys and its clock (Unix ms), with the test rig's frame clock. */
function appOptions(t: Terminal, over: Partial<WalletBleOptions> = {}): WalletBleOptions {
  const o: Record<string, unknown> = { now: () => t.rig.clock.uptime(), timeoutMs: 0, issuerKeys: { 3: issuer.publicKey }, wallClockMs: () => NOW_S * 1000 };
  for (const k in over) o[k] = (over as Record<string, unknown>)[k];
  return o as unknown as WalletBleOptions;
}

interface Outcome {
  /** The wallet's BleError code, or null when it paid. */
  refused: string | null;
  /** Payment messages the terminal received over the session. */
  paymentsAtTerminal: number;
  /** What the wallet counts as spent. */
  spentMinor: number;
}

/** The customer's phone connects to `t`, opens the session, and pays the request `t` sends. */
async function attempt(t: Terminal, request: Uint8Array, options: WalletBleOptions = appOptions(t)): Promise<Outcome> {
  const wallet = customerWallet();
  let refused: string | null = null;
  try {
    const s = new WalletBleSession(t.ble.central(), options);
    const info = await pump(t.rig, s.open());
    assert.equal(t.session.send(request), true);
    const paying = payOverBle(wallet, s, info);
    let settled = false;
    paying.then(
      () => (settled = true),
      () => (settled = true),
    );
    await until(t.rig, () => settled || t.received.length > 0);
    if (t.received.length) assert.equal(t.session.send(receiptFor(t, t.received[0])), true);
    await pump(t.rig, paying);
  } catch (e) {
    refused = e instanceof BleError ? e.code : "not a BleError: " + String(e);
  }
  return { refused, paymentsAtTerminal: t.received.filter((m) => m[1] === M.MsgType.Payment).length, spentMinor: wallet.state().spentMinor };
}

const refusedWith = (code: string): Outcome => ({ refused: code, paymentsAtTerminal: 0, spentMinor: 0 });

describe("a rogue terminal in Bluetooth range gets no payment (security review item 6)", () => {
  it("control: the genuine terminal, its certificate and its own request are paid (the harness can pay)", async () => {
    const t = terminal({}, VICTIM_ID);
    assert.deepEqual(await attempt(t, ownRequest(t, VICTIM_ID)), { refused: null, paymentsAtTerminal: 1, spentMinor: AMOUNT });
  });

  it("a wallet app that gives no issuer keys refuses to open a session (a self-signed certificate was accepted)", async () => {
    const t = terminal({}, ROGUE_ID, (pub) => rogueIssuer.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    const noKeys = appOptions(t);
    delete (noKeys as { issuerKeys?: unknown }).issuerKeys;
    assert.deepEqual(await attempt(t, ownRequest(t, ROGUE_ID), noKeys), refusedWith("NO_ISSUER_KEYS"));
  });

  it("a wallet app that gives no issuer keys refuses a certificate of an issuer it does not know", async () => {
    const other = new Issuer({ keyId: 9, privateKey: testScalar(98) });
    const t = terminal({}, ROGUE_ID, (pub) => other.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    const noKeys = appOptions(t, { issuerKeys: undefined });
    assert.deepEqual(await attempt(t, ownRequest(t, ROGUE_ID), noKeys), refusedWith("NO_ISSUER_KEYS"));
  });

  it("refuses a certificate that expired before the app's date (signed by the real issuer)", async () => {
    const t = terminal({}, ROGUE_ID, (pub) => issuer.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: TODAY - 1 }));
    assert.deepEqual(await attempt(t, ownRequest(t, ROGUE_ID)), refusedWith("CERT_EXPIRED"));
  });

  it("refuses a request for another shop's terminal from a terminal certified as someone else", async () => {
    // The rogue holds a genuine certificate for its own terminal 5555 and asks for a payment to terminal 4242.
    const t = terminal({}, ROGUE_ID, (pub) => issuer.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    assert.deepEqual(await attempt(t, ownRequest(t, VICTIM_ID)), refusedWith("TERMINAL_MISMATCH"));
  });

  it("refuses the shop's genuine request relayed by a rogue terminal certified as another terminal", async () => {
    // The rogue copies the request the shop's terminal 4242 shows (signed by that terminal's key) and serves it.
    const t = terminal({}, ROGUE_ID, (pub) => issuer.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    assert.deepEqual(await attempt(t, requestSignedBy(testScalar(20), VICTIM_ID)), refusedWith("TERMINAL_MISMATCH"));
  });

  it("refuses a request whose signature is not by the certificate's key", async () => {
    const t = terminal({}, VICTIM_ID);
    assert.deepEqual(await attempt(t, requestSignedBy(testScalar(21), VICTIM_ID)), refusedWith("REQUEST_SIGNATURE"));
  });

  it("refuses a request changed after the terminal signed it (the amount raised)", async () => {
    const t = terminal({}, VICTIM_ID);
    const req = ownRequest(t, VICTIM_ID);
    req[2 + 4 + 3] ^= 0x01; // the amount's low byte: 1250 becomes 1251
    assert.equal(M.decodeRequest(req)!.amountMinor, AMOUNT + 1);
    const out = await attempt(t, req);
    assert.deepEqual(out, refusedWith("REQUEST_SIGNATURE"));
  });
});
