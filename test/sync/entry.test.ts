import assert from "node:assert/strict";
import { walletIdOf } from "../../protocol/check.ts";
import type { Entry } from "../../protocol/entry.ts";
import { decodeEntry, encodeEntry, entryAmount, entryCurrency, entryWalletId } from "../../protocol/entry.ts";
import { txId } from "../../protocol/ids.ts";
import { encodePaid, encodePayment, encodeRefund, encodeRequest } from "../../protocol/messages.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";

const crypto = nodeCrypto();

function fill(n: number, v: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (v + i) & 255;
  return b;
}

const WALLET_PUB = fill(64, 7);
const REQUEST = encodeRequest({ terminalId: 42, amountMinor: 1250, currency: 978, nonce: fill(8, 1), time: 1_700_000_000, terminalSig: fill(64, 9) });
const PAYMENT = encodePayment({
  allowance: { walletPub: WALLET_PUB, capMinor: 10000, currency: 978, expiryDay: 20000, startCounter: 1, issuerKeyId: 1, issuerSig: fill(64, 3) },
  counter: 5,
  walletSig: fill(64, 11),
});
const PAID = encodePaid({ terminalId: 42, invoiceNo: 7, amountMinor: 4999, currency: 840, paidAt: 1_700_000_100, method: 1, paymentRef: fill(8, 2), issuerKeyId: 1, issuerSig: fill(64, 5) });
const REFUND = encodeRefund({ txId: txId(42, 3), amountMinor: 700, currency: 978, time: 1_700_000_200, reason: 2, terminalSig: fill(64, 13) });

const PAYMENT_ENTRY: Entry = { kind: 1, txId: txId(42, 3), method: 1, request: REQUEST, payment: PAYMENT, orderRef: "ORD-12345" };
const PAID_ENTRY: Entry = { kind: 2, txId: txId(42, 4), method: 5, paid: PAID, orderRef: "" };
const REFUND_ENTRY: Entry = { kind: 3, txId: txId(42, 5), refund: REFUND };

describe("journal entries (protocol/entry.ts)", () => {
  it("encodes each kind at its contract length", () => {
    assert.equal(encodeEntry(PAYMENT_ENTRY).length, 316);
    assert.equal(encodeEntry(PAID_ENTRY).length, 116);
    assert.equal(encodeEntry(REFUND_ENTRY).length, 94);
  });

  it("lays a wallet payment out as kind | txId | method | request | payment | orderRef", () => {
    const b = encodeEntry(PAYMENT_ENTRY);
    assert.equal(b[0], 1);
    assert.deepEqual(b.subarray(1, 9), txId(42, 3));
    assert.equal(b[9], 1);
    assert.deepEqual(b.subarray(10, 98), REQUEST);
    assert.deepEqual(b.subarray(98, 304), PAYMENT);
    assert.equal(Buffer.from(b.subarray(304, 313)).toString("latin1"), "ORD-12345");
    assert.deepEqual(b.subarray(313), new Uint8Array(3));
  });

  it("round-trips a wallet payment", () => {
    assert.deepEqual(decodeEntry(encodeEntry(PAYMENT_ENTRY)), PAYMENT_ENTRY);
  });

  it("round-trips a paid invoice with no order reference", () => {
    assert.deepEqual(decodeEntry(encodeEntry(PAID_ENTRY)), PAID_ENTRY);
  });

  it("round-trips a refund", () => {
    assert.deepEqual(decodeEntry(encodeEntry(REFUND_ENTRY)), REFUND_ENTRY);
  });

  it("round-trips a 12-character order reference (no terminating zero)", () => {
    const e: Entry = { ...PAID_ENTRY, orderRef: "ABCDEFGHIJKL" };
    assert.deepEqual(decodeEntry(encodeEntry(e)), e);
  });

  it("reads the amount from the signed message: positive for payments, negative for refunds", () => {
    assert.equal(entryAmount(PAYMENT_ENTRY), 1250);
    assert.equal(entryAmount(PAID_ENTRY), 4999);
    assert.equal(entryAmount(REFUND_ENTRY), -700);
  });

  it("reads the currency from the signed message", () => {
    assert.equal(entryCurrency(PAYMENT_ENTRY), 978);
    assert.equal(entryCurrency(PAID_ENTRY), 840);
    assert.equal(entryCurrency(REFUND_ENTRY), 978);
  });

  it("names the paying wallet as checkPayment does, and no wallet for the other kinds", () => {
    assert.equal(entryWalletId(crypto, PAYMENT_ENTRY), walletIdOf(crypto, WALLET_PUB));
    assert.equal(entryWalletId(crypto, PAID_ENTRY), "");
    assert.equal(entryWalletId(crypto, REFUND_ENTRY), "");
  });

  describe("rejects malformed input with null", () => {
    const good = encodeEntry(PAYMENT_ENTRY);
    function mutated(at: number, v: number, from: Uint8Array = good): Uint8Array {
      const b = new Uint8Array(from);
      b[at] = v;
      return b;
    }

    it("empty and too-short input", () => {
      assert.equal(decodeEntry(new Uint8Array(0)), null);
      assert.equal(decodeEntry(new Uint8Array(8)), null);
    });

    it("an unknown kind", () => {
      assert.equal(decodeEntry(mutated(0, 0)), null);
      assert.equal(decodeEntry(mutated(0, 4)), null);
    });

    it("one byte short or one byte long", () => {
      assert.equal(decodeEntry(good.subarray(0, good.length - 1)), null);
      const long = new Uint8Array(good.length + 1);
      long.set(good);
      assert.equal(decodeEntry(long), null);
    });

    it("a kind whose length belongs to another kind", () => {
      assert.equal(decodeEntry(mutated(0, 2)), null);
      assert.equal(decodeEntry(mutated(0, 1, encodeEntry(REFUND_ENTRY))), null);
    });

    it("a method that does not belong to the kind", () => {
      assert.equal(decodeEntry(mutated(9, 3)), null);
      assert.equal(decodeEntry(mutated(9, 0)), null);
      assert.equal(decodeEntry(mutated(9, 1, encodeEntry(PAID_ENTRY))), null);
      assert.equal(decodeEntry(mutated(9, 6, encodeEntry(PAID_ENTRY))), null);
    });

    it("an embedded message with the wrong type or version", () => {
      assert.equal(decodeEntry(mutated(11, 0x11)), null); // request typed as payment
      assert.equal(decodeEntry(mutated(98, 2)), null); // payment with version 2
      assert.equal(decodeEntry(mutated(11, 0x20, encodeEntry(PAID_ENTRY))), null);
      assert.equal(decodeEntry(mutated(10, 0x10, encodeEntry(REFUND_ENTRY))), null);
    });

    it("an order reference with a control character or text after the padding", () => {
      assert.equal(decodeEntry(mutated(304, 0x0a)), null);
      assert.equal(decodeEntry(mutated(315, 0x41)), null); // "ORD-12345\0\0A"
      assert.equal(decodeEntry(mutated(304, 0x80)), null);
    });

    it("every single-byte truncation of every kind", () => {
      for (const e of [PAYMENT_ENTRY, PAID_ENTRY, REFUND_ENTRY]) {
        const b = encodeEntry(e);
        for (let n = 0; n < b.length; n++) assert.equal(decodeEntry(b.subarray(0, n)), null, "length " + n);
      }
    });
  });

  it("returns copies, not views of the input", () => {
    const b = encodeEntry(REFUND_ENTRY);
    const e = decodeEntry(b);
    assert.ok(e && e.kind === 3);
    b[20] ^= 0xff;
    assert.deepEqual(e.refund, REFUND);
  });
});
