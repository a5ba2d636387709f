/**
 * Fuzzing the decoders a stranger can reach: QR text (the scanner), binary messages, and BLE frames. Over 100,000
 * mutated and random inputs, from a fixed seed so a failure replays. Every input must end in a result or a reason
 * (reject code, decoder null, frame error), never an exception, and nothing but the untouched payment is accepted.
 * Each input is also held to an oracle written here, apart from the product code: the reject code the QR text's
 * envelope calls for (RFC 9285 Base45 decoded by this file's own decoder), the one decoder the type byte names
 * with an exact round trip, and the message a clean frame sequence must give back.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { base45Encode, BASE45 } from "../../protocol/codec/base45.ts";
import { concat, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { Reassembler, toFrames } from "../../protocol/ble-frames.ts";
import type { CheckContext, Reject } from "../../protocol/check.ts";
import { checkPayment, rejects } from "../../protocol/check.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import type { SecureElement } from "../../hal/secure-element.ts";
import { crypto } from "./helpers.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
const V = JSON.parse(readFileSync("docs/protocol-vectors.json", "utf8"));
const h = (s: string) => fromHex(s) as Uint8Array;
const vec = (name: string) => h(V.messages.find((m: any) => m.name === name).hex);
const PAYMENT = vec("Payment");
const REQUEST = vec("Request");
const MESSAGES: Uint8Array[] = V.messages.map((m: any) => h(m.hex));

/** xorshift32: a fixed, replayable sequence. */
let seed = 0x2545f491;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => rnd(256));

/**
 * A secure element that answers at once: a signature is valid only if it is one of the vectors' genuine
 * (digest, signature, key) triples; about one call in 64 reports a bus error instead.
 */
const GENUINE = new Set<string>();
{
  const p = M.decodePayment(PAYMENT) as M.Payment;
  GENUINE.add(toHex(crypto.sha256(M.signedPart(M.encodeAllowance(p.allowance)))) + toHex(p.allowance.issuerSig) + V.keys.issuer.public);
  GENUINE.add(toHex(crypto.sha256(concat([M.signedPart(PAYMENT), REQUEST]))) + toHex(p.walletSig) + V.keys.wallet.public);
}
let seCalls = 0;
const fastSe: SecureElement = {
  verify: (digest, sig, pub, done) => (++seCalls % 64 === 0 ? done("nack") : done(null, GENUINE.has(toHex(digest) + toHex(sig) + toHex(pub)))),
  info: () => assert.fail("info"),
  random: () => assert.fail("random"),
  sign: () => assert.fail("sign"),
  counter: () => assert.fail("counter"),
  publicKey: () => assert.fail("publicKey"),
  ecdh: () => assert.fail("ecdh"),
};
const ctx: CheckContext = {
  request: REQUEST,
  requestFields: M.decodeRequest(REQUEST),
  today: Math.floor((M.decodeRequest(REQUEST) as M.PaymentRequest).time / 86400),
  issuerKey: (id) => (id === V.keys.issuer.keyId ? h(V.keys.issuer.public) : null),
  ledger: { denied: () => false, lastCounter: () => -1, spentMinor: () => 0 },
  se: fastSe,
  crypto,
};

/** RFC 9285 Base45 decoding, written apart from protocol/codec/base45.ts: the oracle of the QR tests. */
function refBase45(s: string): Uint8Array | null {
  if (s.length % 3 === 1) return null;
  const out: number[] = [];
  for (let i = 0; i < s.length; i += 3) {
    const g = s.slice(i, i + 3).split("").map((ch) => BASE45.indexOf(ch));
    if (g.some((x) => x < 0)) return null;
    const n = g.reduce((acc, x, k) => acc + x * 45 ** k, 0);
    if (g.length === 3) {
      if (n > 65535) return null;
      out.push(n >> 8, n & 255);
    } else {
      if (n > 255) return null;
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}

const QR_LETTERS: { [letter: string]: number } = { R: 0x10, P: 0x11, X: 0x12, I: 0x20, C: 0x21, O: 0x30, F: 0x40 };

/**
 * What checkPayment must answer for a QR text by its envelope alone (docs/protocol.md: letter, version digit,
 * Base45 of a message of that type): "R01" or "R02", or null when the text is a well-formed version-1 payment
 * envelope whose contents decide.
 */
function envelopeOutcome(text: string): string | null {
  const t = text.replace(/[\r\n]+$/, "");
  if (t.length < 4 || !(t[0] in QR_LETTERS)) return "R01";
  if (t[1] !== "1") return t[1] >= "0" && t[1] <= "9" ? "R02" : "R01";
  const b = refBase45(t.slice(2));
  if (!b || b.length < 2 || b[0] !== 1 || b[1] !== QR_LETTERS[t[0]]) return "R01";
  if (t[0] !== "P" || b.length !== 206) return "R01";
  return null;
}

const tally: { [outcome: string]: number } = {};
let inputs = 0;

/** One QR text through fromQrText and checkPayment: exactly one synchronous outcome, a known code or the genuine payment. */
function qrInput(text: string): void {
  inputs++;
  const parsed = fromQrText(text);
  assert.ok(("msg" in parsed && parsed.msg instanceof Uint8Array) || ("err" in parsed && (parsed.err === "format" || parsed.err === "version")));
  const want = envelopeOutcome(text);
  if ("msg" in parsed) {
    const t = text.replace(/[\r\n]+$/, "");
    assert.deepEqual(parsed.msg, refBase45(t.slice(2)), "decoded " + JSON.stringify(text));
  }
  let outcome: string | null = null;
  checkPayment(ctx, text, (err: Reject | null, ok) => {
    assert.equal(outcome, null, "done twice");
    if (err) {
      assert.ok(rejects()[err.code], "unknown code " + err.code);
      outcome = err.code;
    } else {
      assert.equal(toHex(ok!.bytes), toHex(PAYMENT), "accepted a payment that is not the genuine one: " + JSON.stringify(text));
      outcome = "accepted";
    }
  });
  assert.ok(outcome, "no outcome for " + JSON.stringify(text));
  if (want) assert.equal(outcome, want, JSON.stringify(text));
  else if (outcome !== "accepted") assert.notEqual(outcome, "R01", "a well-formed payment envelope read as damaged: " + JSON.stringify(text));
  tally[outcome] = (tally[outcome] || 0) + 1;
}

/** Each decoder with its encoder, its type byte and its fixed length (docs/protocol.md). */
const CODECS: { decode: (b: Uint8Array) => unknown; encode: (x: any) => Uint8Array; type: number; len: number }[] = [
  { decode: M.decodeAllowance, encode: M.encodeAllowance, type: 0x01, len: 140 },
  { decode: M.decodeTerminalCert, encode: M.encodeTerminalCert, type: 0x02, len: 141 },
  { decode: M.decodeRequest, encode: M.encodeRequest, type: 0x10, len: 88 },
  { decode: M.decodePayment, encode: M.encodePayment, type: 0x11, len: 206 },
  { decode: M.decodeReceipt, encode: M.encodeReceipt, type: 0x12, len: 87 },
  { decode: M.decodeInvoice, encode: M.encodeInvoice, type: 0x20, len: 84 },
  { decode: M.decodePaid, encode: M.encodePaid, type: 0x21, len: 94 },
  { decode: M.decodeOrder, encode: M.encodeOrder, type: 0x30, len: 44 },
  { decode: M.decodeRefund, encode: M.encodeRefund, type: 0x40, len: 85 },
];
const decodedAs: { [type: number]: number } = {};

/**
 * One byte string through every decoder: only the decoder its type byte names may take it, only at that type's
 * length and version 1, and what it returns encodes back to the very same bytes (no field lost, moved or changed).
 */
function binaryInput(b: Uint8Array): void {
  inputs++;
  let decoded = 0;
  for (const c of CODECS) {
    const x = c.decode(b);
    if (x === null) continue;
    decoded++;
    assert.ok(b[0] === 1 && b[1] === c.type && b.length === c.len, "decoded a message of another type, version or length");
    assert.equal(toHex(c.encode(x)), toHex(b), "round trip of type " + c.type);
    decodedAs[c.type] = (decodedAs[c.type] || 0) + 1;
  }
  assert.ok(decoded <= 1, "decoded as two types");
}

function mutateBytes(src: Uint8Array): Uint8Array {
  const b = new Uint8Array(src);
  switch (rnd(6)) {
    case 0: {
      const n = 1 + rnd(8);
      for (let i = 0; i < n; i++) b[rnd(b.length)] ^= 1 << rnd(8);
      return b;
    }
    case 1:
      return b.subarray(0, rnd(b.length));
    case 2:
      return concat([b, randomBytes(1 + rnd(40))]);
    case 3:
      b[rnd(b.length)] = rnd(256);
      return b;
    case 4: {
      const i = rnd(b.length);
      return concat([b.subarray(0, i), b.subarray(i + 1)]);
    }
    default:
      return concat([b.subarray(0, 2), randomBytes(b.length - 2)]); // right header, random body
  }
}

const ALPHA = BASE45 + "abcxyz\r\n\t\u00e9\u20ac\u0000";
function mutateText(src: string): string {
  switch (rnd(7)) {
    case 0: {
      const i = rnd(src.length);
      return src.slice(0, i) + BASE45.charAt(rnd(45)) + src.slice(i + 1);
    }
    case 1: {
      const i = rnd(src.length);
      return src.slice(0, i) + ALPHA.charAt(rnd(ALPHA.length)) + src.slice(i + 1);
    }
    case 2:
      return src.slice(0, rnd(src.length + 1));
    case 3:
      return src + Array.from({ length: 1 + rnd(6) }, () => BASE45.charAt(rnd(45))).join("");
    case 4: {
      const i = rnd(src.length);
      return src.slice(0, i) + src.slice(i + 1);
    }
    case 5:
      return src.slice(0, 2) + src.slice(2).split("").reverse().join("");
    default:
      return src + ["\r\n", "\n", "\r", " "][rnd(4)];
  }
}

describe("protocol fuzz: decoders under mutated and random input", function () {
  this.timeout(60000);
  after(() => {
    console.log(`      fuzz: ${inputs} inputs; checkPayment outcomes ${JSON.stringify(tally)}`);
  });

  it("QR text: 40,000 mutations of genuine payment, request and receipt codes", () => {
    const sources = [toQrText(PAYMENT), toQrText(PAYMENT), toQrText(REQUEST), toQrText(vec("Receipt")), toQrText(vec("PaidConfirmation"))];
    for (let i = 0; i < 40000; i++) {
      let t = sources[rnd(sources.length)];
      const n = 1 + rnd(3);
      for (let k = 0; k < n; k++) t = mutateText(t);
      qrInput(t);
    }
    assert.ok(tally.R01 > 1000 && tally.R11 + tally.R10 > 100, JSON.stringify(tally));
  });

  it("QR text: 15,000 random Base45 and random strings, with real and random prefixes", () => {
    const prefixes = ["P1", "P2", "R1", "X1", "Z1", "P", "", "p1", "P9"];
    for (let i = 0; i < 15000; i++) {
      const len = rnd(3) === 0 ? 309 : rnd(400);
      let body = "";
      const alpha = rnd(4) === 0 ? ALPHA : BASE45;
      for (let k = 0; k < len; k++) body += alpha.charAt(rnd(alpha.length));
      qrInput(prefixes[rnd(prefixes.length)] + body);
    }
    assert.ok(tally.R02 > 1000, JSON.stringify(tally)); // "P9..." (and other digits) say: a newer version
  });

  it("binary: 35,000 mutated messages and 10,000 random byte strings to every decoder, then as a P1 code", () => {
    for (let i = 0; i < 35000; i++) {
      const b = mutateBytes(MESSAGES[rnd(MESSAGES.length)]);
      binaryInput(b);
      if (i % 4 === 0) qrInput("P1" + base45Encode(b));
    }
    for (let i = 0; i < 10000; i++) {
      const b = randomBytes(rnd(3) === 0 ? 206 : rnd(300));
      if (rnd(2)) b[0] = 1;
      binaryInput(b);
    }
    // the mutations left many messages whole or changed only in their fields: every type decoded some
    for (const c of CODECS) assert.ok(decodedAs[c.type] > 100, "type " + c.type + ": " + JSON.stringify(decodedAs));
  });

  it("BLE: 12,000 random and damaged frame sequences through the reassembler, messages on to the checks", () => {
    const genuine = toFrames(PAYMENT);
    let frames = 0;
    let messages = 0;
    const errs: { [e: string]: number } = {};
    for (let i = 0; i < 12000; i++) {
      inputs++;
      const r = new Reassembler();
      let seq: Uint8Array[];
      /** The message a clean sequence must give back (frames untouched, no pause over FRAME_TIMEOUT_MS). */
      let expect: Uint8Array | null = null;
      switch (rnd(4)) {
        case 0:
          seq = Array.from({ length: 1 + rnd(30) }, () => randomBytes(rnd(24)));
          break;
        case 1:
          seq = genuine.map((f) => (rnd(8) === 0 ? mutateBytes(f) : f));
          if (seq.every((f, k) => toHex(f) === toHex(genuine[k]))) expect = PAYMENT;
          break;
        case 2: {
          seq = genuine.slice();
          const a = rnd(seq.length);
          const b = rnd(seq.length);
          [seq[a], seq[b]] = [seq[b], seq[a]];
          if (rnd(2)) seq.splice(rnd(seq.length), 1);
          else seq.splice(rnd(seq.length), 0, seq[rnd(seq.length)]);
          break;
        }
        default: {
          const m = randomBytes(1 + rnd(512));
          seq = toFrames(m).concat(rnd(2) ? [randomBytes(1 + rnd(19))] : []);
          expect = m;
        }
      }
      let t = 0;
      let first: Uint8Array | null | undefined;
      let paused = false;
      for (const f of seq) {
        frames++;
        const dt = rnd(10) === 0 ? 1500 + rnd(1500) : rnd(50);
        if (dt > 2000 && first === undefined) paused = true;
        t += dt;
        const out = r.push(f, t);
        if (out !== null && first === undefined) first = "msg" in out ? out.msg : null;
        if (out === null) continue;
        if ("err" in out) {
          assert.ok(["frame", "length", "sequence", "timeout"].includes(out.err), out.err);
          errs[out.err] = (errs[out.err] || 0) + 1;
        } else {
          assert.ok(out.msg.length >= 1 && out.msg.length <= 512);
          messages++;
          binaryInput(out.msg);
          if (out.msg.length > 1 && out.msg[1] === M.MsgType.Payment) qrInput(toQrText(out.msg));
        }
      }
      if (expect && !paused) {
        assert.ok(first, "a clean frame sequence gave no message");
        assert.equal(toHex(first), toHex(expect));
        tally.bleClean = (tally.bleClean || 0) + 1;
      }
    }
    console.log(`      BLE: ${frames} frames, ${messages} messages reassembled, errors ${JSON.stringify(errs)}`);
    assert.ok(messages > 1000 && errs.sequence > 100 && errs.timeout > 100);
    assert.ok(tally.bleClean > 1000, String(tally.bleClean));
  });
});
