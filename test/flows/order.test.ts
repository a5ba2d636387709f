import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { isOrderText, orderKeyName, readOrder } from "../../firmware/app/order.ts";
import * as M from "../../protocol/messages.ts";
import { toQrText } from "../../protocol/qr.ts";
import { crypto, EUR, NOW_S, USD } from "../protocol/helpers.ts";

const KEY = new Uint8Array(32).fill(0x5a);
const MERCHANT = 42;
const NOW_MS = NOW_S * 1000;

/** An order as the store's system makes it: the 28-byte body MACed with the order key (Node's HMAC, independent). */
function order(o: Partial<M.Order> = {}, key = KEY): string {
  const unsigned = M.encodeOrder({ merchantId: MERCHANT, orderRef: "ORD-1001", amountMinor: 2599, currency: EUR, expires: NOW_S + 600, tag: new Uint8Array(16), ...o });
  const tag = createHmac("sha256", key).update(unsigned.subarray(0, 28)).digest().subarray(0, 16);
  unsigned.set(tag, 28);
  return toQrText(unsigned);
}

const codeOf = (r: ReturnType<typeof readOrder>) => ("code" in r ? r.code : "ok");

describe("order hand-off: reading an order QR", () => {
  it("fills in order reference and amount from a genuine order", () => {
    const r = readOrder(crypto, order(), KEY, MERCHANT, EUR, NOW_MS);
    assert.deepEqual(r, { orderRef: "ORD-1001", amountMinor: 2599, currency: EUR, expires: NOW_S + 600 });
  });

  it("takes the code with the scanner's CR/LF tail", () => {
    assert.equal(codeOf(readOrder(crypto, order() + "\r\n", KEY, MERCHANT, EUR, NOW_MS)), "ok");
  });

  it("recognises an order code by its letter", () => {
    assert.equal(isOrderText(order()), true);
    assert.equal(isOrderText("P1ABC"), false);
  });

  it("refuses a code that is not an order (O01)", () => {
    assert.equal(codeOf(readOrder(crypto, "HELLO", KEY, MERCHANT, EUR, NOW_MS)), "O01");
  });

  it("refuses when the terminal holds no order key (O02)", () => {
    assert.equal(codeOf(readOrder(crypto, order(), undefined, MERCHANT, EUR, NOW_MS)), "O02");
  });

  it("refuses an order MACed with another key (O03)", () => {
    assert.equal(codeOf(readOrder(crypto, order({}, new Uint8Array(32).fill(1)), KEY, MERCHANT, EUR, NOW_MS)), "O03");
  });

  it("refuses an order whose amount was changed after MACing (O03)", () => {
    const bytes = M.encodeOrder({ merchantId: MERCHANT, orderRef: "ORD-1001", amountMinor: 2599, currency: EUR, expires: NOW_S + 600, tag: new Uint8Array(16) });
    bytes.set(createHmac("sha256", KEY).update(bytes.subarray(0, 28)).digest().subarray(0, 16), 28);
    bytes[21] ^= 1; // amountMinor's low byte
    assert.equal(codeOf(readOrder(crypto, toQrText(bytes), KEY, MERCHANT, EUR, NOW_MS)), "O03");
  });

  it("refuses another merchant's order (O04)", () => {
    assert.equal(codeOf(readOrder(crypto, order({ merchantId: 43 }), KEY, MERCHANT, EUR, NOW_MS)), "O04");
  });

  it("refuses an expired order (O05)", () => {
    assert.equal(codeOf(readOrder(crypto, order({ expires: NOW_S - 1 }), KEY, MERCHANT, EUR, NOW_MS)), "O05");
  });

  it("refuses an order in another currency (O06)", () => {
    assert.equal(codeOf(readOrder(crypto, order({ currency: USD }), KEY, MERCHANT, EUR, NOW_MS)), "O06");
  });

  it("refuses an order of amount zero (O07)", () => {
    assert.equal(codeOf(readOrder(crypto, order({ amountMinor: 0 }), KEY, MERCHANT, EUR, NOW_MS)), "O07");
  });

  it("names the order key's vault entry by merchant", () => {
    assert.equal(orderKeyName(42), "order.42");
  });
});
