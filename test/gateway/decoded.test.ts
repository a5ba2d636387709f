/**
 * A payment decoded once per bytes (gateway/decoded.ts): the same answers as decoding it each time (docs/gateway.md,
 * ingest at the limit, fifth pass), for each bytes on its own.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { allowanceOf, paymentOf, paymentWalletId, requestOf, walletSigned } from "../../gateway/decoded.ts";
import { concat } from "../../protocol/codec/hex.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { decodeAllowance, decodePayment, decodeRequest, encodePayment, encodeRequest, signedPart } from "../../protocol/messages.ts";
import { walletIdOf } from "../../protocol/rules.ts";

const crypto = nodeCrypto();

function payment(counter: number): Uint8Array {
  return encodePayment({
    allowance: { walletPub: new Uint8Array(randomBytes(64)), capMinor: 5000, currency: 978, expiryDay: 20800, startCounter: 1, issuerKeyId: 1, issuerSig: new Uint8Array(randomBytes(64)) },
    counter,
    walletSig: new Uint8Array(randomBytes(64)),
  });
}

describe("gateway: a payment decoded once", () => {
  it("answers what decodePayment and walletIdOf answer, for each payment's bytes", () => {
    const a = payment(3);
    const b = payment(4);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(paymentOf(a), decodePayment(a));
      assert.deepEqual(paymentOf(b), decodePayment(b));
      assert.equal(paymentWalletId(crypto, a), walletIdOf(crypto, a.subarray(2, 66)));
      assert.equal(paymentWalletId(crypto, b), walletIdOf(crypto, b.subarray(2, 66)));
    }
    assert.notEqual(paymentWalletId(crypto, a), paymentWalletId(crypto, b));
    // a copy of the bytes is other bytes to the memo, with the same answers
    assert.deepEqual(paymentOf(new Uint8Array(a)), paymentOf(a));
    assert.equal(paymentOf(new Uint8Array(10)), null);
  });
  it("answers what decodeRequest, the allowance made whole and the wallet's signed bytes are, for each bytes", () => {
    const a = payment(7);
    const b = payment(8);
    const q1 = encodeRequest({ terminalId: 5, amountMinor: 250, currency: 978, nonce: new Uint8Array(randomBytes(8)), time: 1000, terminalSig: new Uint8Array(randomBytes(64)) });
    const q2 = encodeRequest({ terminalId: 6, amountMinor: 300, currency: 978, nonce: new Uint8Array(randomBytes(8)), time: 1001, terminalSig: new Uint8Array(randomBytes(64)) });
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(requestOf(q1), decodeRequest(q1));
      assert.deepEqual(requestOf(q2), decodeRequest(q2));
      for (const p of [a, b]) {
        const whole = new Uint8Array(140);
        whole[0] = 1;
        whole[1] = 1;
        whole.set(p.subarray(2, 140), 2);
        assert.deepEqual(allowanceOf(p).whole, whole);
        assert.deepEqual(allowanceOf(p).allowance, decodeAllowance(whole));
        assert.deepEqual(allowanceOf(p).allowance, decodePayment(p)!.allowance);
      }
      // the signed bytes follow the request asked with, not the first one seen
      assert.deepEqual(walletSigned(a, q1), concat([signedPart(a), q1]));
      assert.deepEqual(walletSigned(a, q2), concat([signedPart(a), q2]));
    }
    assert.equal(requestOf(new Uint8Array(5)), null);
  });
});
