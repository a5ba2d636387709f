import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { decodeOrder } from "../../protocol/messages.ts";
import { checkOrderLink, fromBase64Url, isOrderLink, makeOrderLink, parseOrderLink, percentDecode, percentEncode, toBase64Url } from "../../protocol/order-link.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { orderLink, orderMessage, orderQr, StoreError, verifyCallback } from "../../sdk/store.ts";

const c = nodeCrypto();
const KEY = "6f726465722d6b65792d6d65726368616e742d3432";
const key = Buffer.from(KEY, "hex");
const CB = "https://shop.example/orders/7/paid?x=1&y=a b";
const spec = { orderKey: KEY, merchantId: 77001, orderRef: "ORD-7", amountMinor: 2599, expires: 1900000000, callback: "https://shop.example/orders/7/paid?x=1&y=2" };

describe("store hand-off links (protocol/order-link.ts, sdk/store.ts)", () => {
  it("the store library's link is what the terminal's parser reads and the order key vouches for", () => {
    const link = orderLink(spec);
    assert.ok(isOrderLink(link));
    assert.match(link, /^pay-api:\/\/payNow\?order=[A-Za-z0-9_-]{59}&callback=[A-Za-z0-9%._~-]+&tag=[A-Za-z0-9_-]{22}$/);
    const p = parseOrderLink(link);
    assert.ok(p);
    assert.equal(p.callback, spec.callback);
    assert.deepEqual(p.order, orderMessage(spec));
    assert.ok(checkOrderLink(c, key, p));
    const o = decodeOrder(p.order);
    assert.equal(o?.orderRef, "ORD-7");
    assert.equal(o?.amountMinor, 2599);
    // the Order inside keeps its own tag: HMAC-SHA256(order key, 28 bytes)[0..16]
    assert.deepEqual(p.order.subarray(28), new Uint8Array(createHmac("sha256", key).update(p.order.subarray(0, 28)).digest().subarray(0, 16)));
    // protocol's maker and the store library agree byte for byte
    assert.equal(makeOrderLink(c, key, p.order, spec.callback), link);
  });

  it("a changed callback, order or tag is refused by the tag; another merchant's key is refused", () => {
    const p = parseOrderLink(orderLink(spec))!;
    assert.equal(checkOrderLink(c, key, { ...p, callback: "https://evil.example/orders/7/paid?x=1&y=2" }), false);
    const o = new Uint8Array(p.order);
    o[22] ^= 1; // the amount
    assert.equal(checkOrderLink(c, key, { ...p, order: o }), false);
    const t = new Uint8Array(p.tag);
    t[15] ^= 0x80;
    assert.equal(checkOrderLink(c, key, { ...p, tag: t }), false);
    assert.equal(checkOrderLink(c, Buffer.alloc(21, 7), p), false);
  });

  it("malformed links are null: scheme, action, missing, repeated or unknown parameters, bad encodings, bad callbacks", () => {
    const good = orderLink(spec);
    const [, q] = good.split("?");
    const [o, cb, tag] = q.split("&");
    const bad = [
      "pay-api://payLater?" + q,
      "pay-apii://payNow?" + q,
      "pay-api://payNow?" + o + "&" + cb,
      "pay-api://payNow?" + o + "&" + o + "&" + tag,
      "pay-api://payNow?" + o + "&" + cb + "&" + tag + "&x=1",
      "pay-api://payNow?" + o + "&" + cb + "&tag=" + tag.slice(4) + "AA",
      "pay-api://payNow?" + o.slice(0, -2) + "&" + cb + "&" + tag,
      "pay-api://payNow?" + o + "&callback=ftp%3A%2F%2Fx.example%2Fa&" + tag,
      "pay-api://payNow?" + o + "&callback=https%3A%2F%2Fx.example%2Fa%2&" + tag,
      "pay-api://payNow?" + o + "&callback=https%3A%2F%2Fx.example%2F%20a&" + tag,
      "pay-api://payNow?" + o + "&callback=https%3A%2F%2F" + "a".repeat(200) + "&" + tag,
      "pay-api://payNow?" + o.replace("order=", "order=+") + "&" + cb + "&" + tag,
      "pay-api://payNow?order&" + cb + "&" + tag,
    ];
    for (const b of bad) assert.equal(parseOrderLink(b), null, b);
    // parameters in another order, and the scanner's CR LF tail, are fine
    assert.ok(parseOrderLink("pay-api://payNow?" + tag + "&" + o + "&" + cb + "\r\n"));
  });

  it("percent-encoding and base64url round-trip any bytes (RFC 3986 section 2.1, RFC 4648 section 5)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const s = String.fromCharCode(...b);
        assert.equal(percentDecode(percentEncode(s)), s);
        assert.deepEqual(fromBase64Url(toBase64Url(b)), b);
        assert.doesNotMatch(toBase64Url(b), /[+/=]/);
      }),
      { numRuns: 300 },
    );
    assert.equal(percentEncode("a b/c"), "a%20b%2Fc");
    assert.equal(percentDecode("%zz"), undefined);
    assert.equal(percentDecode("%4"), undefined);
    assert.equal(percentDecode("%"), undefined);
    assert.equal(percentDecode("a+b"), "a+b");
  });

  it("the store library refuses what a terminal would refuse, with a reason", () => {
    const t = (f: () => unknown, code: string) => assert.throws(f, (e: unknown) => e instanceof StoreError && e.code === code);
    t(() => orderLink({ ...spec, callback: CB }), "CALLBACK");
    t(() => orderLink({ ...spec, callback: "http://" }), "CALLBACK");
    t(() => orderLink({ ...spec, orderRef: "THIRTEEN-CHRS" }), "REF");
    t(() => orderLink({ ...spec, orderRef: "A B" }), "REF");
    t(() => orderLink({ ...spec, amountMinor: 0 }), "AMOUNT");
    t(() => orderLink({ ...spec, orderKey: "abcd" }), "KEY");
    t(() => orderLink({ ...spec, merchantId: -1 }), "MERCHANT");
    assert.match(orderQr(spec), /^O1[0-9A-Z $%*+\-./:]+$/);
  });

  it("callbacks verify under the merchant's webhook secret, within 5 minutes, with the body unchanged", () => {
    const secret = "ab".repeat(32);
    const body = JSON.stringify({ event: "order.paid", orderRef: "ORD-7" });
    const t = 1800000000000;
    const sig = "t=" + t + ",v1=" + createHmac("sha256", Buffer.from(secret, "hex")).update(t + "." + body).digest("hex");
    assert.equal(verifyCallback({ secret, signature: sig, body, now: t + 1000 }).event, "order.paid");
    const fails = (a: Parameters<typeof verifyCallback>[0], code: string) =>
      assert.throws(() => verifyCallback(a), (e: unknown) => e instanceof StoreError && e.code === code);
    fails({ secret, signature: sig, body: body.replace("ORD-7", "ORD-8"), now: t }, "SIGNATURE");
    fails({ secret: "cd".repeat(32), signature: sig, body, now: t }, "SIGNATURE");
    fails({ secret, signature: undefined, body, now: t }, "SIGNATURE");
    fails({ secret, signature: sig, body, now: t + 6 * 60000 }, "STALE");
  });
});
