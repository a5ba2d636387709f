/**
 * A payment decoded once per bytes (gateway/decoded.ts): the same answers as decoding it each time (docs/gateway.md,
 * ingest at the limit, fifth pass), for each bytes on its own.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { paymentOf, paymentWalletId } from "../../gateway/decoded.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { decodePayment, encodePayment } from "../../protocol/messages.ts";
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
});
