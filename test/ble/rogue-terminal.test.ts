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

describe("the wallet SDK's Bluetooth checks: options, the certificate's dates, what the app shows", () => {
  it("refuses issuer keys that are empty or not 64-byte public keys, and a missing clock, before connecting", () => {
    const t = terminal({}, VICTIM_ID);
    const central = t.ble.central();
    const code = (f: () => unknown) => {
      try {
        f();
        return "accepted";
      } catch (e) {
        return e instanceof BleError ? e.code : String(e);
      }
    };
    assert.equal(code(() => new WalletBleSession(central, appOptions(t, { issuerKeys: {} }))), "NO_ISSUER_KEYS");
    assert.equal(code(() => new WalletBleSession(central, appOptions(t, { issuerKeys: { 3: issuer.publicKey.subarray(0, 32) } }))), "NO_ISSUER_KEYS");
    assert.equal(code(() => new WalletBleSession(central, appOptions(t, { issuerKeys: { 3: "04ab" as unknown as Uint8Array } }))), "NO_ISSUER_KEYS");
    assert.equal(code(() => new WalletBleSession(central, appOptions(t, { wallClockMs: undefined }))), "NO_CLOCK");
    assert.equal(code(() => new WalletBleSession(central, undefined as unknown as WalletBleOptions)), "NO_ISSUER_KEYS");
    assert.equal(code(() => new WalletBleSession(central, appOptions(t))), "accepted");
    assert.equal(t.ble.written.length, 0, "nothing was sent");
  });

  it("refuses a clock that gives no time (NO_CLOCK), rather than skipping the expiry check", async () => {
    const t = terminal({}, VICTIM_ID);
    assert.deepEqual(await attempt(t, ownRequest(t, VICTIM_ID), appOptions(t, { wallClockMs: () => NaN })), refusedWith("NO_CLOCK"));
  });

  it("refuses a certificate under an issuer key ID the wallet does not hold (CERT_UNTRUSTED)", async () => {
    const other = new Issuer({ keyId: 9, privateKey: testScalar(98) });
    const t = terminal({}, ROGUE_ID, (pub) => other.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    assert.deepEqual(await attempt(t, ownRequest(t, ROGUE_ID)), refusedWith("CERT_UNTRUSTED"));
  });

  it("takes the issuer keys when given: a later change to the app's object does not change what is trusted", async () => {
    const t = terminal({}, ROGUE_ID, (pub) => rogueIssuer.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    const keys: Record<number, Uint8Array> = { 3: new Uint8Array(issuer.publicKey) };
    const o = appOptions(t, { issuerKeys: keys });
    const s = new WalletBleSession(t.ble.central(), o);
    keys[3].set(rogueIssuer.publicKey);
    await assert.rejects(pump(t.rig, s.open()), (e: unknown) => e instanceof BleError && e.code === "CERT_UNTRUSTED");
  });

  it("takes a certificate through the end of its expiry day by the app's clock, and not a millisecond later", async () => {
    const endOfDay = (TODAY + 1) * 86400000 - 1;
    const valid = (pub: Uint8Array) => issuer.issueTerminalCert({ terminalId: VICTIM_ID, merchantId: 77, terminalPub: pub, expiryDay: TODAY });
    const a = terminal({}, VICTIM_ID, valid);
    assert.deepEqual(await attempt(a, ownRequest(a, VICTIM_ID), appOptions(a, { wallClockMs: () => endOfDay })), { refused: null, paymentsAtTerminal: 1, spentMinor: AMOUNT });
    const b = terminal({}, VICTIM_ID, valid);
    assert.deepEqual(await attempt(b, ownRequest(b, VICTIM_ID), appOptions(b, { wallClockMs: () => endOfDay + 1 })), refusedWith("CERT_EXPIRED"));
  });

  it("gives the app the certificate's merchant and terminal, and asks before paying: merchant, amount", async () => {
    const t = terminal({}, VICTIM_ID);
    const s = new WalletBleSession(t.ble.central(), appOptions(t));
    const info = await pump(t.rig, s.open());
    assert.deepEqual([info.merchantId, info.terminalId, info.certExpiryDay], [77, VICTIM_ID, 30000]);
    t.session.send(ownRequest(t, VICTIM_ID));
    const asked: unknown[] = [];
    const wallet = customerWallet();
    const paying = payOverBle(wallet, s, info, {
      confirm: (p) => {
        asked.push(p);
        assert.equal(t.received.length, 0, "nothing is sent before the customer confirms");
        return true;
      },
    });
    await until(t.rig, () => t.received.length === 1);
    t.session.send(receiptFor(t, t.received[0]));
    const out = await pump(t.rig, paying);
    assert.deepEqual(asked, [{ merchantId: 77, terminalId: VICTIM_ID, amountMinor: AMOUNT, currency: EUR, time: NOW_S }]);
    assert.deepEqual([out.merchantId, out.terminalId, out.receipt.signatureVerified], [77, VICTIM_ID, true]);
  });

  it("pays nothing when the customer declines (DECLINED)", async () => {
    const t = terminal({}, VICTIM_ID);
    const s = new WalletBleSession(t.ble.central(), appOptions(t));
    const info = await pump(t.rig, s.open());
    t.session.send(ownRequest(t, VICTIM_ID));
    const wallet = customerWallet();
    await assert.rejects(pump(t.rig, payOverBle(wallet, s, info, { confirm: async () => false })), (e: unknown) => e instanceof BleError && e.code === "DECLINED");
    assert.deepEqual([t.received.length, wallet.state().spentMinor], [0, 0]);
  });

  it("refuses to pay over a session that is not open, or with another session's info (STATE)", async () => {
    const a = terminal({}, VICTIM_ID);
    const b = terminal({}, ROGUE_ID, (pub) => issuer.issueTerminalCert({ terminalId: ROGUE_ID, merchantId: ROGUE_MERCHANT, terminalPub: pub, expiryDay: 30000 }));
    const sa = new WalletBleSession(a.ble.central(), appOptions(a));
    await assert.rejects(payOverBle(customerWallet(), sa), (e: unknown) => e instanceof BleError && e.code === "STATE");
    const infoA = await pump(a.rig, sa.open());
    const sb = new WalletBleSession(b.ble.central(), appOptions(b));
    await pump(b.rig, sb.open());
    await assert.rejects(payOverBle(customerWallet(), sb, infoA), (e: unknown) => e instanceof BleError && e.code === "STATE");
  });
});
