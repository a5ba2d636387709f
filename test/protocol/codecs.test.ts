import assert from "node:assert/strict";
import { toHex } from "../../protocol/codec/hex.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";
import { FRAME_TIMEOUT_MS, MAX_MESSAGE, Reassembler, toFrames } from "../../protocol/ble-frames.ts";
import { parseUtr, SEQ_LIMIT, txId, txParts, utr } from "../../protocol/ids.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { seal, unseal } from "../../protocol/seal.ts";
import { crypto } from "./helpers.ts";

const b = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (seed + i * 13) & 255);
const REQUEST: M.PaymentRequest = { terminalId: 0xfedcba98, amountMinor: 0xffffffff, currency: 978, nonce: b(8, 1), time: 1771000000, terminalSig: b(64, 2) };
const ALLOWANCE: M.Allowance = { walletPub: b(64, 3), capMinor: 0xffffff, currency: 65535, expiryDay: 20500, startCounter: 0, issuerKeyId: 255, issuerSig: b(64, 4) };

const CERT: M.TerminalCert = { terminalId: 1, merchantId: 0xffffffff, terminalPub: b(64, 5), expiryDay: 65535, issuerKeyId: 0, issuerSig: b(64, 6) };
const PAYMENT: M.Payment = { allowance: ALLOWANCE, counter: 65535, walletSig: b(64, 7) };
const RECEIPT: M.Receipt = { txId: txId(4242, 17), status: 1, time: 0xffffffff, paymentHash: b(8, 8), terminalSig: b(64, 9) };
const INVOICE: M.Invoice = { terminalId: 7, invoiceNo: 0xffffffff, amountMinor: 1, currency: 978, expires: 1, terminalSig: b(64, 10) };
const PAID: M.PaidConfirmation = { terminalId: 7, invoiceNo: 1, amountMinor: 2, currency: 978, paidAt: 3, method: 3, paymentRef: b(8, 11), issuerKeyId: 1, issuerSig: b(64, 12) };
const ORDER: M.Order = { merchantId: 77, orderRef: "ABCDEFGHIJKL", amountMinor: 5, currency: 978, expires: 9, tag: b(16, 13) };
const REFUND: M.Refund = { txId: txId(1, 2), amountMinor: 3, currency: 978, time: 4, reason: 255, terminalSig: b(64, 14) };

describe("protocol messages", () => {
  const cases: [string, () => Uint8Array, (x: Uint8Array) => unknown, unknown][] = [
    ["Allowance", () => M.encodeAllowance(ALLOWANCE), M.decodeAllowance, ALLOWANCE],
    ["TerminalCert", () => M.encodeTerminalCert(CERT), M.decodeTerminalCert, CERT],
    ["Request", () => M.encodeRequest(REQUEST), M.decodeRequest, REQUEST],
    ["Payment", () => M.encodePayment(PAYMENT), M.decodePayment, PAYMENT],
    ["Receipt", () => M.encodeReceipt(RECEIPT), M.decodeReceipt, RECEIPT],
    ["Invoice", () => M.encodeInvoice(INVOICE), M.decodeInvoice, INVOICE],
    ["PaidConfirmation", () => M.encodePaid(PAID), M.decodePaid, PAID],
    ["Order", () => M.encodeOrder(ORDER), M.decodeOrder, ORDER],
    ["Refund", () => M.encodeRefund(REFUND), M.decodeRefund, REFUND],
  ];
  for (const [name, enc, dec, fields] of cases) {
    it(`${name}: round-trips its fields, at extreme values`, () => assert.deepEqual(dec(enc()), fields));
    it(`${name}: refuses one byte less, one more, another version or another type`, () => {
      const x = enc();
      assert.equal(dec(x.subarray(0, x.length - 1)), null);
      assert.equal(dec(new Uint8Array([...x, 0])), null);
      assert.equal(dec(Uint8Array.from(x, (v, i) => (i === 0 ? 2 : v))), null);
      assert.equal(dec(Uint8Array.from(x, (v, i) => (i === 1 ? v ^ 0x80 : v))), null);
    });
    it(`${name}: ends with its signature/tag exactly at the last byte`, () => {
      const x = enc();
      const f = fields as { [k: string]: Uint8Array };
      const tail = f.issuerSig || f.terminalSig || f.walletSig || f.tag;
      assert.equal(toHex(x.subarray(x.length - tail.length)), toHex(tail));
    });
  }

  it("Order: refuses a reference with a character after the zero padding or a control character", () => {
    const x = M.encodeOrder(ORDER);
    const gap = new Uint8Array(x);
    gap[6 + 3] = 0; // "ORD\0..." then more characters
    assert.equal(M.decodeOrder(gap), null);
    const ctl = new Uint8Array(x);
    ctl[6] = 0x0a;
    assert.equal(M.decodeOrder(ctl), null);
  });

  it("Payment: restores the allowance's header so the issuer's signature covers the same bytes", () => {
    const p = M.decodePayment(M.encodePayment(PAYMENT)) as M.Payment;
    assert.equal(toHex(M.encodeAllowance(p.allowance)), toHex(M.encodeAllowance(ALLOWANCE)));
  });
});

describe("protocol QR text", () => {
  const req = M.encodeRequest(REQUEST);
  it("prefixes the type letter and version digit", () => {
    assert.equal(toQrText(req).slice(0, 2), "R1");
    assert.equal(toQrText(M.encodePayment(PAYMENT)).slice(0, 2), "P1");
    assert.equal(toQrText(M.encodeReceipt(RECEIPT)).slice(0, 2), "X1");
  });
  it("reads back its own text, ignoring the scanner's CR/LF tail", () => {
    const back = fromQrText(toQrText(req) + "\r\n");
    assert.ok("msg" in back);
    assert.equal(toHex(back.msg), toHex(req));
  });
  it("calls another version digit 'version'", () => assert.deepEqual(fromQrText("R9" + toQrText(req).slice(2)), { err: "version" }));
  it("calls an unknown letter 'format'", () => assert.deepEqual(fromQrText("Z1" + toQrText(req).slice(2)), { err: "format" }));
  it("calls a non-digit version 'format'", () => assert.deepEqual(fromQrText("RX" + toQrText(req).slice(2)), { err: "format" }));
  it("calls a letter that does not match the binary type 'format'", () => assert.deepEqual(fromQrText("P1" + toQrText(req).slice(2)), { err: "format" }));
  it("calls a character outside Base45 'format'", () => assert.deepEqual(fromQrText(toQrText(req).slice(0, 5) + "a" + toQrText(req).slice(6)), { err: "format" }));
  it("calls a Base45 group over 65535 'format'", () => assert.deepEqual(fromQrText("R1GGW" + toQrText(req).slice(5)), { err: "format" }));
  it("calls a too-short text 'format'", () => assert.deepEqual(fromQrText("R1"), { err: "format" }));
});

describe("protocol UTR", () => {
  it("shows 12 characters in three groups of four", () => assert.match(utr(4242, 17), /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]{4}$/));
  it("reads back what it shows, at both ends of the range", () => {
    for (const [t, s] of [[0, 0], [2147483647, SEQ_LIMIT - 1], [4242, 17], [1, 0], [0, 1]]) assert.deepEqual(parseUtr(utr(t, s)), { terminalId: t, seq: s });
  });
  it("reads lower case, spaces and no dashes", () => {
    const u = utr(123456789, 1000000);
    assert.deepEqual(parseUtr(" " + u.toLowerCase().replace(/-/g, "") + " "), { terminalId: 123456789, seq: 1000000 });
  });
  it("reads O as 0 and I and L as 1", () => {
    const u = utr(1, 1); // 0000-0000-0...1 + check
    assert.ok(u.includes("0") && u.includes("1"));
    assert.deepEqual(parseUtr(u.replace(/0/g, "O").replace(/1/g, "I")), { terminalId: 1, seq: 1 });
    assert.deepEqual(parseUtr(u.replace(/0/g, "o").replace(/1/g, "l")), { terminalId: 1, seq: 1 });
  });
  it("refuses every single-character change (the check character catches it)", () => {
    const u = utr(4242, 17).replace(/-/g, "");
    const A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for (let i = 0; i < 11; i++) for (const ch of A) if (ch !== u[i]) assert.equal(parseUtr(u.slice(0, i) + ch + u.slice(i + 1)), null, `${i} ${ch}`);
  });
  it("refuses a swap of two neighbouring characters", () => {
    const u = utr(123456789, 1000000).replace(/-/g, "");
    for (let i = 0; i < 10; i++) if (u[i] !== u[i + 1]) assert.equal(parseUtr(u.slice(0, i) + u[i + 1] + u[i] + u.slice(i + 2)), null, String(i));
  });
  it("refuses U and the check symbols inside the number, and a wrong length", () => {
    const u = utr(4242, 17).replace(/-/g, "");
    assert.equal(parseUtr("U" + u.slice(1)), null);
    assert.equal(parseUtr("*" + u.slice(1)), null);
    assert.equal(parseUtr(u.slice(1)), null);
    assert.equal(parseUtr(u + "0"), null);
  });
  it("gives no UTR for a sequence beyond the counter's range", () => assert.equal(utr(1, SEQ_LIMIT), ""));
  it("splits a txId into terminal and sequence", () => assert.deepEqual(txParts(txId(0xfedcba98, 0x12345678)), { terminalId: 0xfedcba98, seq: 0x12345678 }));
});

describe("protocol sealed envelope", () => {
  const keys = { keyId: 7, enc: b(16, 20), mac: b(32, 21) };
  const env = seal(crypto, keys, 42, new TextEncoder().encode("journal upload: 3 records"));
  const flip = (i: number) => Uint8Array.from(env, (v, j) => (j === i ? v ^ 1 : v));
  it("unseals what it sealed, with its sequence number", () => {
    const r = unseal(crypto, keys, env);
    assert.ok("data" in r);
    assert.equal(new TextDecoder().decode(r.data), "journal upload: 3 records");
    assert.equal(r.seq, 42);
  });
  it("refuses a tampered tag", () => assert.deepEqual(unseal(crypto, keys, flip(env.length - 1)), { err: "tag" }));
  it("refuses a tampered ciphertext", () => assert.deepEqual(unseal(crypto, keys, flip(6 + 16 + 3)), { err: "tag" }));
  it("refuses a tampered iv", () => assert.deepEqual(unseal(crypto, keys, flip(6)), { err: "tag" }));
  it("refuses a tampered sequence number", () => assert.deepEqual(unseal(crypto, keys, flip(5)), { err: "tag" }));
  it("refuses another keyId", () => assert.deepEqual(unseal(crypto, keys, flip(1)), { err: "key" }));
  it("refuses another version", () => assert.deepEqual(unseal(crypto, keys, flip(0)), { err: "format" }));
  it("refuses a length that is not whole blocks", () => assert.deepEqual(unseal(crypto, keys, env.subarray(0, env.length - 1)), { err: "format" }));
  it("refuses bad padding even under a valid tag", () => {
    // A sender with the keys who pads wrongly: last block decrypts to ...00.
    const body = new Uint8Array(6 + 16 + 16);
    body.set([1, 7, 0, 0, 0, 1]);
    body.set(b(16, 30), 6);
    body.set(crypto.aesCbcEncrypt(keys.enc, b(16, 30), new Uint8Array(16)), 22);
    const bad = new Uint8Array([...body, ...hmacSha256(crypto, keys.mac, body).subarray(0, 16)]);
    assert.deepEqual(unseal(crypto, keys, bad), { err: "padding" });
  });
  it("uses a different iv for each sequence number", () => {
    const other = seal(crypto, keys, 43, new TextEncoder().encode("journal upload: 3 records"));
    assert.notEqual(toHex(other.subarray(6, 22)), toHex(env.subarray(6, 22)));
  });
});

describe("protocol BLE frames", () => {
  const msg = b(206, 40);
  const frames = toFrames(msg);
  const feed = (r: Reassembler, fs: Uint8Array[], t0 = 0, dt = 10) => fs.map((f, i) => r.push(f, t0 + i * dt));
  it("splits into frames of at most 20 bytes, first and last flagged, sequence counting up", () => {
    assert.ok(frames.every((f) => f.length <= 20 && f.length >= 2));
    assert.equal(frames[0][0] & 0xc0, 0x80);
    assert.equal(frames[frames.length - 1][0] & 0x40, 0x40);
    frames.slice(1).forEach((f, i) => assert.equal(f[0] & 63, (i + 1) & 63));
  });
  it("reassembles in order", () => {
    const out = feed(new Reassembler(), frames);
    assert.equal(toHex((out[out.length - 1] as { msg: Uint8Array }).msg), toHex(msg));
    assert.ok(out.slice(0, -1).every((x) => x === null));
  });
  it("frames a 1-byte message in one frame and a 512-byte one", () => {
    assert.equal(toFrames(new Uint8Array([9])).length, 1);
    const big = b(MAX_MESSAGE, 1);
    const out = feed(new Reassembler(), toFrames(big));
    assert.equal(toHex((out[out.length - 1] as { msg: Uint8Array }).msg), toHex(big));
  });
  it("refuses frames out of order", () => assert.deepEqual(feed(new Reassembler(), [frames[0], frames[2]])[1], { err: "sequence" }));
  it("refuses a gap (a missing frame)", () => assert.deepEqual(feed(new Reassembler(), [frames[0], frames[1], frames[3]])[2], { err: "sequence" }));
  it("refuses a repeated frame", () => assert.deepEqual(feed(new Reassembler(), [frames[0], frames[1], frames[1]])[2], { err: "sequence" }));
  it("refuses a continuation with no first frame", () => assert.deepEqual(new Reassembler().push(frames[1], 0), { err: "sequence" }));
  it("refuses a declared length over 512", () => assert.deepEqual(new Reassembler().push(new Uint8Array([0x80, 0x02, 0x01, 1]), 0), { err: "length" }));
  it("refuses more bytes than declared", () => assert.deepEqual(new Reassembler().push(new Uint8Array([0xc0, 0, 1, 1, 2]), 0), { err: "length" }));
  it("refuses a last frame short of the declared length", () => assert.deepEqual(new Reassembler().push(new Uint8Array([0xc0, 0, 3, 1, 2]), 0), { err: "length" }));
  it("refuses an oversized frame and an empty one", () => {
    assert.deepEqual(new Reassembler().push(new Uint8Array(21).fill(0x80), 0), { err: "frame" });
    assert.deepEqual(new Reassembler().push(new Uint8Array(0), 0), { err: "frame" });
  });
  it("drops a message whose frames pause for more than 2 s", () => {
    const r = new Reassembler();
    r.push(frames[0], 0);
    r.push(frames[1], 100);
    assert.deepEqual(r.push(frames[2], 100 + FRAME_TIMEOUT_MS + 1), { err: "timeout" });
  });
  it("keeps a message whose frames pause exactly 2 s", () => {
    const r = new Reassembler();
    r.push(frames[0], 0);
    assert.equal(r.push(frames[1], FRAME_TIMEOUT_MS), null);
  });
  it("starts a new message cleanly after an error or a timeout", () => {
    const r = new Reassembler();
    r.push(frames[0], 0);
    r.push(frames[2], 1); // error
    const out = feed(r, frames, 5);
    assert.equal(toHex((out[out.length - 1] as { msg: Uint8Array }).msg), toHex(msg));
    r.push(frames[0], 10000);
    const after = feed(r, frames, 10000 + FRAME_TIMEOUT_MS + 1); // a first frame after the pause starts over
    assert.equal(toHex((after[after.length - 1] as { msg: Uint8Array }).msg), toHex(msg));
  });
});
