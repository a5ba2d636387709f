import assert from "node:assert/strict";
import { createECDH, ECDH, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import qrcode from "qrcode-generator";
import { base45Decode, base45Encode } from "../../protocol/codec/base45.ts";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import * as M from "../../protocol/messages.ts";
import { compressKey, openPaymentQr, parsePaymentQr, parseRequestQr, qrKeys, qrTranscript, requestQrText, sealPaymentQr } from "../../protocol/qr-session.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { decompressP256, sealPaymentForQr } from "../../sdk/qr-session.ts";
import { Wallet } from "../../sdk/wallet.ts";
import { JSON_PATH } from "./make-vectors.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
const V = JSON.parse(readFileSync(JSON_PATH, "utf8"));
const Q = V.qrSession;
const c = nodeCrypto();
const h = (s: string) => fromHex(s) as Uint8Array;
const msg = (name: string) => h(V.messages.find((m: any) => m.name === name).hex);
const REQUEST = msg("Request");
const PAYMENT = msg("Payment");

/** The terminal's side as the firmware does it: ECDH of the session slot's key with the wallet's key, then open. */
function terminalOpens(sessionPriv: Uint8Array, request: Uint8Array, text: string): Uint8Array | null {
  const p = parsePaymentQr(text);
  if (!p) return null;
  const e = createECDH("prime256v1");
  e.setPrivateKey(sessionPriv);
  let z: Uint8Array;
  try {
    z = new Uint8Array(e.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(p.walletEph)])));
  } catch {
    return null; // not a point: the secure element answers an execution error
  }
  return openPaymentQr(c, z, request, new Uint8Array(e.getPublicKey()).subarray(1), p.walletEph, p.envelope);
}

/** Smallest QR version holding `text` in alphanumeric mode at ECC level M. */
function versionAtM(text: string): number {
  for (let v = 1; v <= 40; v++) {
    try {
      const q = qrcode(v as any, "M");
      q.addData(text, "Alphanumeric");
      q.make();
      return v;
    } catch {
      /* too small */
    }
  }
  return -1;
}

describe("encrypted payment QR (protocol/qr-session.ts, docs/protocol.md section 3)", () => {
  it("reproduces the published vector byte for byte: R2 text, th, keys and P2 text", () => {
    const sessionPub = h(Q.sessionPub);
    assert.equal(toHex(compressKey(sessionPub)), Q.sessionKey);
    assert.equal(requestQrText(REQUEST, sessionPub), Q.requestQr);
    const th = c.sha256(qrTranscript(REQUEST, h(Q.sessionKey), h(Q.walletEph)));
    assert.equal(toHex(th), Q.th);
    const k = qrKeys(c, h(Q.z), th);
    assert.equal(toHex(k.enc), Q.enc);
    assert.equal(toHex(k.mac), Q.mac);
    assert.equal(sealPaymentQr(c, h(Q.z), REQUEST, h(Q.sessionKey), h(Q.walletEph), PAYMENT), Q.paymentQr);
    assert.deepEqual(terminalOpens(h(Q.sessionPrivate), REQUEST, Q.paymentQr), PAYMENT);
  });

  it("sizes: R2 is 184 characters (QR version 8-M), P2 467 (version 13-M), both in the alphanumeric set", () => {
    assert.equal(Q.requestQr.length, 184);
    assert.equal(Q.paymentQr.length, 467);
    assert.equal(versionAtM(Q.requestQr), 8);
    assert.equal(versionAtM(Q.paymentQr), 13);
  });

  it("a photo of the P2 code shows neither the payment, the wallet key nor the amount", () => {
    const body = base45Decode(Q.paymentQr.slice(2)) as Uint8Array;
    const hex = toHex(body);
    assert.equal(hex.includes(toHex(PAYMENT.subarray(4, 36))), false, "wallet key in clear");
    assert.equal(hex.includes(toHex(PAYMENT.subarray(140, 206))), false, "signature in clear");
    assert.equal(Q.paymentQr.includes(base45Encode(PAYMENT).slice(0, 30)), false);
  });

  it("the terminal opens only the request it showed, under its own session key, with no byte changed", () => {
    const other = new Uint8Array(REQUEST);
    other[20] ^= 1; // another nonce: another request
    assert.equal(terminalOpens(h(Q.sessionPrivate), other, Q.paymentQr), null);
    assert.equal(terminalOpens(randomBytes(32), REQUEST, Q.paymentQr), null);
    const body = base45Decode(Q.paymentQr.slice(2)) as Uint8Array;
    for (const i of [0, 63, 64, 65, 70, 100, 200, body.length - 1]) {
      const t = new Uint8Array(body);
      t[i] ^= 0x40;
      assert.equal(terminalOpens(h(Q.sessionPrivate), REQUEST, "P2" + base45Encode(t)), null, "byte " + i);
    }
  });

  it("parsers refuse what is not theirs: v1 texts, wrong lengths, a session key that is not compressed", () => {
    assert.equal(parseRequestQr(V.messages.find((m: any) => m.name === "Request").qr), null);
    assert.equal(parsePaymentQr(V.messages.find((m: any) => m.name === "Payment").qr), null);
    assert.equal(parseRequestQr(Q.requestQr.slice(0, -3)), null);
    assert.equal(parsePaymentQr(Q.paymentQr.slice(0, -3)), null);
    const r = base45Decode(Q.requestQr.slice(2)) as Uint8Array;
    const bad = new Uint8Array(r);
    bad[88] = 4;
    assert.equal(parseRequestQr("R2" + base45Encode(bad)), null);
    assert.ok(parseRequestQr(Q.requestQr + "\r\n"), "the scanner's CR LF tail is not part of the code");
    assert.deepEqual(parseRequestQr(Q.requestQr)?.request, REQUEST);
  });

  it("the SDK decompresses P-256 keys as SEC 1 says (both parities), and refuses x off the curve", () => {
    for (let i = 0; i < 20; i++) {
      const e = createECDH("prime256v1");
      e.generateKeys();
      const xy = new Uint8Array(e.getPublicKey()).subarray(1);
      assert.deepEqual(decompressP256(compressKey(xy)), xy);
    }
    // x = 0 .. 39: a point exactly where OpenSSL finds one (x = 1 is not: x^3 - 3x + b is no square mod p)
    let points = 0;
    for (let x = 0; x < 40; x++) {
      const k = new Uint8Array(33);
      k[0] = 2 + (x & 1);
      k[32] = x;
      let openssl = true;
      try {
        ECDH.convertKey(Buffer.from(k), "prime256v1", undefined, undefined, "uncompressed");
      } catch {
        openssl = false;
      }
      const ours = decompressP256(k);
      assert.equal(!!ours, openssl, "x = " + x);
      if (ours) {
        points++;
        assert.deepEqual(ours, new Uint8Array(ECDH.convertKey(Buffer.from(k), "prime256v1", undefined, undefined, "uncompressed") as Buffer).subarray(1));
      }
    }
    assert.ok(points > 5 && points < 35);
    assert.equal(decompressP256(new Uint8Array(33)), null, "prefix 00 is not a compressed key");
  });

  it("the SDK's WebCrypto sealing opens on the terminal's side, fresh keys every time", async () => {
    const a = await sealPaymentForQr(REQUEST, h(Q.sessionKey), PAYMENT);
    const b = await sealPaymentForQr(REQUEST, h(Q.sessionKey), PAYMENT);
    assert.notEqual(a, b, "a new wallet key per payment");
    assert.deepEqual(terminalOpens(h(Q.sessionPrivate), REQUEST, a), PAYMENT);
    assert.deepEqual(terminalOpens(h(Q.sessionPrivate), REQUEST, b), PAYMENT);
  });

  it("Wallet.pay answers an R2 request with an encrypted P2 code and an R1 request with P1", async () => {
    const keyPair = { kty: "EC", crv: "P-256", d: "", x: "", y: "" };
    const e = createECDH("prime256v1");
    e.setPrivateKey(h(V.keys.wallet.private));
    const pub = e.getPublicKey();
    const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
    keyPair.d = b64(h(V.keys.wallet.private));
    keyPair.x = b64(pub.subarray(1, 33));
    keyPair.y = b64(pub.subarray(33));
    const w = new Wallet({ keyPair: keyPair as any, allowance: msg("Allowance") });
    const out = await w.pay(Q.requestQr);
    assert.equal(out.encrypted, true);
    assert.ok(out.qr.startsWith("P2"));
    assert.deepEqual(terminalOpens(h(Q.sessionPrivate), REQUEST, out.qr), out.bytes);
    assert.equal(M.decodePayment(out.bytes)?.counter, out.counter);
    const plain = await w.pay(V.messages.find((m: any) => m.name === "Request").qr);
    assert.equal(plain.encrypted, false);
    assert.ok(plain.qr.startsWith("P1"));
  });
});

describe("wallet API request bytes (protocol/wallet-api.ts)", () => {
  it("are UTF-8 exactly as Node encodes them, surrogate pairs and lone surrogates included", async () => {
    const { utf8, walletRequestBytes } = await import("../../protocol/wallet-api.ts");
    for (const s of ["", "abc", "é", "€ 12,50", "𝄞 clef", "\ud800 lone", "x\udc00", "日本語", "\u007f\u0080\u07ff\u0800\uffff"]) {
      assert.deepEqual(utf8(s), new Uint8Array(Buffer.from(s, "utf8")), JSON.stringify(s));
    }
    assert.equal(Buffer.from(walletRequestBytes("post", "/v1/x", "{}")).toString(), "offline-pay wallet-api v1\nPOST\n/v1/x\n{}");
  });
});
