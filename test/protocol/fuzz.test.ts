/**
 * Fuzzing the decoders a stranger can reach: QR text (the scanner), binary messages, and BLE frames. Over 100,000
 * mutated and random inputs, from a fixed seed so a failure replays. Every input must end in a result or a reason
 * (reject code, decoder null, frame error), never an exception, and nothing but the untouched payment is accepted.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { base45Encode, BASE45 } from "../../protocol/codec/base45.ts";
import { concat, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { Reassembler, toFrames } from "../../protocol/ble-frames.ts";
import type { CheckContext, Reject } from "../../protocol/check.ts";
import { checkPayment, REJECTS } from "../../protocol/check.ts";
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
const DECODERS = [M.decodeAllowance, M.decodeTerminalCert, M.decodeRequest, M.decodePayment, M.decodeReceipt, M.decodeInvoice, M.decodePaid, M.decodeOrder, M.decodeRefund];

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

const tally: { [outcome: string]: number } = {};
let inputs = 0;

/** One QR text through fromQrText and checkPayment: exactly one synchronous outcome, a known code or the genuine payment. */
function qrInput(text: string): void {
  inputs++;
  const parsed = fromQrText(text);
  assert.ok(("msg" in parsed && parsed.msg instanceof Uint8Array) || ("err" in parsed && (parsed.err === "format" || parsed.err === "version")));
  let outcome: string | null = null;
  checkPayment(ctx, text, (err: Reject | null, ok) => {
    assert.equal(outcome, null, "done twice");
    if (err) {
      assert.ok(REJECTS[err.code], "unknown code " + err.code);
      outcome = err.code;
    } else {
      assert.equal(toHex(ok!.bytes), toHex(PAYMENT), "accepted a payment that is not the genuine one: " + JSON.stringify(text));
      outcome = "accepted";
    }
  });
  assert.ok(outcome, "no outcome for " + JSON.stringify(text));
  tally[outcome] = (tally[outcome] || 0) + 1;
}

/** One byte string through every decoder: each returns null or fields, the right one only for its own type. */
function binaryInput(b: Uint8Array): void {
  inputs++;
  let decoded = 0;
  for (const d of DECODERS) if (d(b) !== null) decoded++;
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
      switch (rnd(4)) {
        case 0:
          seq = Array.from({ length: 1 + rnd(30) }, () => randomBytes(rnd(24)));
          break;
        case 1:
          seq = genuine.map((f) => (rnd(8) === 0 ? mutateBytes(f) : f));
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
        default:
          seq = toFrames(randomBytes(1 + rnd(512))).concat(rnd(2) ? [randomBytes(1 + rnd(19))] : []);
      }
      let t = 0;
      for (const f of seq) {
        frames++;
        t += rnd(10) === 0 ? 1500 + rnd(1500) : rnd(50);
        const out = r.push(f, t);
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
    }
    console.log(`      BLE: ${frames} frames, ${messages} messages reassembled, errors ${JSON.stringify(errs)}`);
    assert.ok(messages > 1000 && errs.sequence > 100 && errs.timeout > 100);
  });

  it("ran at least 100,000 inputs", () => {
    assert.ok(inputs >= 100000, String(inputs));
  });
});
