/**
 * Edges of the codecs and checks that the other protocol tests pass by: range limits of Base45 and hex, the
 * message reader's bounds, order references at the ends of printable ASCII, every method of each journal entry
 * kind, amounts with every byte set, the reject messages, and a request half-present. Each was a fault (a mutant)
 * that every other deterministic test let through (docs/mutation.md).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { base45Decode, base45Encode } from "../../protocol/codec/base45.ts";
import { ascii, equalConstantTime, fromHex, toHex } from "../../protocol/codec/hex.ts";
import type { CheckContext, Reject } from "../../protocol/check.ts";
import { checkPayment, reject, rejects } from "../../protocol/check.ts";
import type { Entry } from "../../protocol/entry.ts";
import { decodeEntry, encodeEntry, entryAmount, entryCurrency } from "../../protocol/entry.ts";
import * as M from "../../protocol/messages.ts";
import { toQrText } from "../../protocol/qr.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import { crypto } from "./helpers.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
const V = JSON.parse(readFileSync("docs/protocol-vectors.json", "utf8"));
const vec = (name: string) => fromHex(V.messages.find((m: any) => m.name === name).hex) as Uint8Array;
const fill = (n: number, v: number) => Uint8Array.from({ length: n }, (_, i) => (v + i) & 255);

describe("protocol edges: Base45 and hex", () => {
  it("Base45 refuses a final pair over 255 (RFC 9285 section 4.2), takes 255 itself", () => {
    assert.equal(base45Decode("::"), undefined); // 44 + 44 * 45 = 2024
    assert.deepEqual(base45Decode(base45Encode(Uint8Array.of(255))), Uint8Array.of(255));
    assert.equal(base45Encode(Uint8Array.of(255)), "U5");
    assert.deepEqual(base45Decode("V5"), undefined); // 31 + 5 * 45 = 256
    assert.deepEqual(base45Decode("AB" + "V5"), undefined);
  });

  it("Base45 decodes odd-length byte strings to the right bytes (the final single byte last)", () => {
    for (const b of [Uint8Array.of(7), Uint8Array.of(1, 2, 3), fill(9, 250)]) assert.deepEqual(base45Decode(base45Encode(b)), b);
  });

  it("hex refuses an odd length and a non-hex digit in either place, and reads upper case", () => {
    assert.equal(fromHex("abc"), undefined);
    assert.equal(fromHex("g0"), undefined);
    assert.equal(fromHex("0g"), undefined);
    assert.equal(fromHex("0102zz"), undefined);
    assert.deepEqual(fromHex("AbcD"), Uint8Array.of(0xab, 0xcd));
    assert.equal(toHex(Uint8Array.of(0, 15, 16, 255)), "000f10ff");
  });

  it("ascii keeps 8 bits of each character", () => {
    assert.deepEqual(ascii("A\u0141z"), Uint8Array.of(0x41, 0x41, 0x7a));
  });

  it("constant-time compare: different lengths are never equal, even with an equal prefix", () => {
    assert.equal(equalConstantTime(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false);
    assert.equal(equalConstantTime(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2)), false);
    assert.equal(equalConstantTime(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)), true);
    assert.equal(equalConstantTime(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)), false);
  });
});

describe("protocol edges: the message reader's bounds", () => {
  it("a read past the end gives 0 or zeros and marks the reader not ok; reads within leave it ok", () => {
    const r = new M.Reader(Uint8Array.of(9, 8, 7));
    assert.equal(r.u8(), 9);
    assert.deepEqual(r.bytes(2), Uint8Array.of(8, 7));
    assert.equal(r.ok, true);
    assert.equal(r.u8(), 0);
    assert.equal(r.ok, false);
    const s = new M.Reader(Uint8Array.of(1, 2));
    assert.deepEqual(s.bytes(3), new Uint8Array(3));
    assert.equal(s.ok, false);
    assert.equal(s.pos, 0, "a short read consumes nothing");
    const t = new M.Reader(Uint8Array.of(1, 2, 3, 4));
    assert.equal(t.u32(), 0x01020304);
    assert.equal(t.ok, true);
  });
});

describe("protocol edges: order references", () => {
  const order = (ref: string): M.Order => ({ merchantId: 77, orderRef: ref, amountMinor: 5, currency: 978, expires: 9, tag: fill(16, 13) });

  it("a short reference is zero-padded and decodes back", () => {
    const x = M.encodeOrder(order("A1"));
    assert.deepEqual(Array.from(x.subarray(6, 18)), [0x41, 0x31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal((M.decodeOrder(x) as M.Order).orderRef, "A1");
  });

  it("takes the ends of printable ASCII (! and ~), refuses space, DEL and an empty reference", () => {
    assert.equal((M.decodeOrder(M.encodeOrder(order("!~"))) as M.Order).orderRef, "!~");
    for (const bad of ["A B", "A\u007f", ""]) assert.equal(M.decodeOrder(M.encodeOrder(order(bad))), null, JSON.stringify(bad));
  });
});

describe("protocol edges: journal entries", () => {
  const REQUEST = M.encodeRequest({ terminalId: 42, amountMinor: 0x12345678, currency: 0x0348, nonce: fill(8, 1), time: 1_700_000_000, terminalSig: fill(64, 9) });
  const PAYMENT = vec("Payment");
  const PAID = M.encodePaid({ terminalId: 42, invoiceNo: 7, amountMinor: 0x01fedcba, currency: 0x0172, paidAt: 1_700_000_100, method: 1, paymentRef: fill(8, 2), issuerKeyId: 1, issuerSig: fill(64, 5) });
  const REFUND = M.encodeRefund({ txId: fill(8, 40), amountMinor: 0x00abcdef, currency: 0x03d2, time: 1_700_000_200, reason: 2, terminalSig: fill(64, 13) });

  it("reads amounts with every byte of the u32 in use", () => {
    assert.equal(entryAmount({ kind: 1, txId: fill(8, 1), method: 1, request: REQUEST, payment: PAYMENT, orderRef: "" }), 0x12345678);
    assert.equal(entryAmount({ kind: 2, txId: fill(8, 1), method: 3, paid: PAID, orderRef: "" }), 0x01fedcba);
    assert.equal(entryAmount({ kind: 3, txId: fill(8, 1), refund: REFUND }), -0x00abcdef);
    assert.equal(entryCurrency({ kind: 1, txId: fill(8, 1), method: 1, request: REQUEST, payment: PAYMENT, orderRef: "" }), 0x0348);
  });

  it("every method of each kind round-trips: 1 and 2 for a wallet payment, 3, 4 and 5 for a paid invoice", () => {
    for (const method of [1, 2]) {
      const e: Entry = { kind: 1, txId: fill(8, 1), method, request: REQUEST, payment: PAYMENT, orderRef: "R-1" };
      assert.deepEqual(decodeEntry(encodeEntry(e)), e, "method " + method);
    }
    for (const method of [3, 4, 5]) {
      const e: Entry = { kind: 2, txId: fill(8, 1), method, paid: PAID, orderRef: "!~" };
      assert.deepEqual(decodeEntry(encodeEntry(e)), e, "method " + method);
    }
    for (const method of [0, 3, 6]) {
      const b = encodeEntry({ kind: 1, txId: fill(8, 1), method: 1, request: REQUEST, payment: PAYMENT, orderRef: "" });
      b[9] = method;
      assert.equal(decodeEntry(b), null, "wallet payment method " + method);
    }
    for (const method of [0, 1, 2, 6]) {
      const b = encodeEntry({ kind: 2, txId: fill(8, 1), method: 3, paid: PAID, orderRef: "" });
      b[9] = method;
      assert.equal(decodeEntry(b), null, "paid invoice method " + method);
    }
  });

  it("a paid invoice with a bad order reference is refused", () => {
    for (const ref of ["A B", "A\u007f"]) {
      const b = encodeEntry({ kind: 2, txId: fill(8, 1), method: 3, paid: PAID, orderRef: ref });
      assert.equal(decodeEntry(b), null, JSON.stringify(ref));
    }
  });

  it("a refund's layout under another kind byte is refused", () => {
    const b = encodeEntry({ kind: 3, txId: fill(8, 1), refund: REFUND });
    for (const kind of [0, 4, 255]) {
      b[0] = kind;
      assert.equal(decodeEntry(b), null, "kind " + kind);
    }
  });

  it("no input at all is refused, not a crash", () => {
    assert.equal(decodeEntry(null as unknown as Uint8Array), null);
    assert.equal(decodeEntry(undefined as unknown as Uint8Array), null);
  });
});

describe("protocol edges: checks", () => {
  it("a reject carries its code and its message, or the code itself when the code is unknown", () => {
    assert.deepEqual(reject("R05"), { code: "R05", message: "Wallet's offline allowance has expired" });
    for (const code of Object.keys(rejects())) assert.equal(reject(code).message, rejects()[code]);
    assert.deepEqual(reject("R99"), { code: "R99", message: "R99" });
  });

  it("a request without its fields, or fields without the request, is no open payment (R03)", () => {
    const se: SecureElement = {
      verify: () => assert.fail("verify"),
      info: () => assert.fail("info"),
      random: () => assert.fail("random"),
      sign: () => assert.fail("sign"),
      counter: () => assert.fail("counter"),
      publicKey: () => assert.fail("publicKey"),
      ecdh: () => assert.fail("ecdh"),
    };
    const REQ = vec("Request");
    const base: CheckContext = {
      request: REQ,
      requestFields: M.decodeRequest(REQ),
      today: 0,
      issuerKey: () => null,
      ledger: { denied: () => false, lastCounter: () => -1, spentMinor: () => 0 },
      se,
      crypto,
    };
    for (const ctx of [{ ...base, requestFields: null }, { ...base, request: null }]) {
      let got: Reject | null = null;
      checkPayment(ctx, toQrText(vec("Payment")), (err) => (got = err));
      assert.equal((got as Reject | null)?.code, "R03");
    }
  });
});
