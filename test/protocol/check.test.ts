import assert from "node:assert/strict";
import { toHex } from "../../protocol/codec/hex.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import { rejects, walletIdOf } from "../../protocol/check.ts";
import { toQrText } from "../../protocol/qr.ts";
import { Issuer, publicKeyOf } from "../../gateway/issuer.ts";
import { Wallet } from "../../sdk/wallet.ts";
import type { SeRig } from "./helpers.ts";
import {
  allowanceFor,
  check,
  codeOf,
  context,
  crypto,
  FakeLedger,
  jwkOf,
  rawPayment,
  seRig,
  testIssuer,
  testScalar,
  TestTerminal,
  TODAY,
  USD,
} from "./helpers.ts";

const WALLET_PRIV = testScalar(2);
const WALLET_PUB = publicKeyOf(WALLET_PRIV);

describe("checkPayment: the terminal's offline checks, on the ATECC608 driver over the emulated part", () => {
  let rig: SeRig;
  let terminal: TestTerminal;
  let issuer: Issuer;
  let allowance: Uint8Array;

  beforeEach(() => {
    rig = seRig();
    terminal = new TestTerminal(rig);
    issuer = testIssuer();
    allowance = allowanceFor(issuer, WALLET_PUB, { capMinor: 10000, startCounter: 5 });
  });

  /** A payment the wallet SDK makes for the request (its first: counter 5). */
  async function sdkPay(request: Uint8Array): Promise<string> {
    const w = new Wallet({ keyPair: jwkOf(WALLET_PRIV), allowance });
    return (await w.pay(toQrText(request))).qr;
  }

  it("accepts a wallet SDK's payment for the open request, naming the wallet", async () => {
    const request = terminal.request(1250);
    const r = check(rig, context({ request, issuer, se: rig.se }), await sdkPay(request));
    assert.ok("ok" in r, "rejected: " + JSON.stringify(r));
    assert.equal(r.ok.walletId, toHex(crypto.sha256(WALLET_PUB).subarray(0, 8)));
    assert.equal(r.ok.walletId, walletIdOf(crypto, WALLET_PUB));
    assert.equal(r.ok.payment.counter, 5);
    assert.equal(r.ok.bytes.length, 206);
  });

  it("asks the ledger about this wallet under this allowance (keyed by its expiry day)", async () => {
    const request = terminal.request(1250);
    const ledger = new FakeLedger();
    check(rig, context({ request, issuer, se: rig.se, ledger }), await sdkPay(request));
    const id = walletIdOf(crypto, WALLET_PUB);
    assert.deepEqual(ledger.asked.sort(), [`denied ${id}`, `lastCounter ${id} ${TODAY + 7}`, `spentMinor ${id} ${TODAY + 7}`]);
  });

  it("R01: a payment code cut short", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), qr.slice(0, 300))), "R01");
  });

  it("R01: another message's QR (a request) shown as a payment", () => {
    const request = terminal.request(1250);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), toQrText(request))), "R01");
  });

  it("R02: a payment from protocol version 2", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), "P2" + qr.slice(2))), "R02");
  });

  it("R03: no request is open on the terminal", async () => {
    const qr = await sdkPay(terminal.request(1250));
    assert.equal(codeOf(check(rig, context({ request: null, issuer, se: rig.se }), qr)), "R03");
  });

  it("R04: the allowance names an issuer key the terminal does not have", async () => {
    const request = terminal.request(1250);
    const other = new Issuer({ keyId: 9, privateKey: testScalar(3) });
    const pay = rawPayment(WALLET_PRIV, allowanceFor(other, WALLET_PUB), 0, request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), toQrText(pay))), "R04");
  });

  it("R05: the allowance expired before today (by the terminal's trusted date)", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, today: TODAY + 8 }), qr)), "R05");
  });

  it("R05 is still fine on the expiry day itself", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, today: TODAY + 7 }), qr)), "accepted");
  });

  it("R06: the request is in another currency than the allowance", () => {
    const request = terminal.request(1250, USD);
    const pay = rawPayment(WALLET_PRIV, allowance, 5, request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), toQrText(pay))), "R06");
  });

  it("R07: the amount plus what this terminal already took from the wallet is over the cap", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    const ledger = new FakeLedger(10000 - 1250 + 1);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, ledger }), qr)), "R07");
  });

  it("R07 allows spending exactly up to the cap", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    const ledger = new FakeLedger(10000 - 1250);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, ledger }), qr)), "accepted");
  });

  it("online (the gateway is asked first), R07 is left to the gateway's A_CAP: over the cap as this terminal counts it is accepted", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    const ledger = new FakeLedger(10000 - 1250 + 1);
    assert.equal(codeOf(check(rig, { ...context({ request, issuer, se: rig.se, ledger }), online: true }, qr)), "accepted");
  });

  it("online, every other check stays: a replayed counter (R08), a denied wallet (R09), a payment for another request (R11)", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    const on = (ledger: FakeLedger, req = request) => ({ ...context({ request: req, issuer, se: rig.se, ledger }), online: true });
    assert.equal(codeOf(check(rig, on(new FakeLedger(10000, 5)), qr)), "R08");
    assert.equal(codeOf(check(rig, on(new FakeLedger(10000, -1, true)), qr)), "R09");
    assert.equal(codeOf(check(rig, on(new FakeLedger(10000), terminal.request(1250)), qr)), "R11");
  });

  it("R08: a counter this terminal has already seen from the wallet (replay)", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, ledger: new FakeLedger(0, 5) }), qr)), "R08");
  });

  it("R08: a counter below the allowance's start counter", () => {
    const request = terminal.request(1250);
    const pay = rawPayment(WALLET_PRIV, allowance, 4, request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), toQrText(pay))), "R08");
  });

  it("R09: the wallet is on the gateway's deny list", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, ledger: new FakeLedger(0, -1, true) }), qr)), "R09");
  });

  it("R10: an allowance signed by another key under the issuer's key number", () => {
    const request = terminal.request(1250);
    const forger = new Issuer({ keyId: issuer.keyId, privateKey: testScalar(4) });
    const pay = rawPayment(WALLET_PRIV, allowanceFor(forger, WALLET_PUB, { capMinor: 999999 }), 0, request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), toQrText(pay))), "R10");
  });

  it("R11: a payment signed for another request (a different nonce)", async () => {
    const shown = terminal.request(1250, undefined, undefined, new Uint8Array(8).fill(1));
    const open = terminal.request(1250, undefined, undefined, new Uint8Array(8).fill(2));
    const qr = await sdkPay(shown);
    assert.equal(codeOf(check(rig, context({ request: open, issuer, se: rig.se }), qr)), "R11");
  });

  it("R11: a payment signed by a key other than the allowance's wallet key", () => {
    const request = terminal.request(1250);
    const pay = rawPayment(testScalar(5), allowance, 5, request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se }), toQrText(pay))), "R11");
  });

  it("R12: the secure element fails the verify (part with its config zone unlocked)", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    const broken = seRig(false);
    assert.equal(codeOf(check(broken, context({ request, issuer, se: broken.se }), qr)), "R12");
  });

  it("R12: the secure element reports a bus error on the second verify", async () => {
    const request = terminal.request(1250);
    const qr = await sdkPay(request);
    let calls = 0;
    const flaky: SecureElement = {
      ...unusedSe(),
      verify: (digest, sig, pub, done) => (++calls === 1 ? rig.se.verify(digest, sig, pub, done) : done("nack")),
    };
    assert.equal(codeOf(check(rig, context({ request, issuer, se: flaky }), qr)), "R12");
    assert.equal(calls, 2);
  });

  it("decides by the first failing check (expired and wrong currency: R05)", () => {
    const request = terminal.request(1250, USD);
    const pay = rawPayment(WALLET_PRIV, allowance, 5, request);
    assert.equal(codeOf(check(rig, context({ request, issuer, se: rig.se, today: TODAY + 30 }), toQrText(pay))), "R05");
  });

  it("has a message for every code R01..R12", () => {
    for (let i = 1; i <= 12; i++) assert.ok(rejects()["R" + String(i).padStart(2, "0")]);
  });
});

/** A secure element whose every call fails the test: only what a test overrides may be used. */
function unusedSe(): SecureElement {
  const no = () => {
    throw new Error("unexpected secure-element call");
  };
  return { info: no, random: no, sign: no, verify: no, counter: no, publicKey: no, ecdh: no };
}
