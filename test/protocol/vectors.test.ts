import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { base45Decode, base45Encode } from "../../protocol/codec/base45.ts";
import { concat, fromHex, toHex } from "../../protocol/codec/hex.ts";
import { hmacSha256 } from "../../protocol/hmac.ts";
import { Reassembler, toFrames } from "../../protocol/ble-frames.ts";
import { parseUtr, txId, utr } from "../../protocol/ids.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { seal, unseal } from "../../protocol/seal.ts";
import { protocolCases } from "../../firmware/selftest/protocol.ts";
import { runCases } from "../../firmware/selftest/runner.ts";
import { p256PublicKey, p256VerifyDigest } from "../../sim/peripherals/atecc608.ts";
import { nodeCrypto } from "../../gateway/node-crypto.ts";
import { fieldsToJson, generate, JSON_PATH } from "./make-vectors.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
const V = JSON.parse(readFileSync(JSON_PATH, "utf8"));
const c = nodeCrypto();
const h = (s: string) => fromHex(s) as Uint8Array;
const HEX_FIELDS = ["walletPub", "issuerSig", "terminalPub", "nonce", "terminalSig", "walletSig", "txId", "paymentHash", "paymentRef", "tag"];

/** JSON fields back to the codec's shape: hex strings of byte fields to Uint8Array, nested objects too. */
function fromJson(o: any): any {
  const out: any = {};
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === "object") out[k] = fromJson(v);
    else if (typeof v === "string" && HEX_FIELDS.includes(k)) out[k] = h(v);
    else out[k] = v;
  }
  return out;
}

const CODECS: { [name: string]: { enc: (f: any) => Uint8Array; dec: (b: Uint8Array) => object | null } } = {
  Allowance: { enc: M.encodeAllowance, dec: M.decodeAllowance },
  TerminalCert: { enc: M.encodeTerminalCert, dec: M.decodeTerminalCert },
  Request: { enc: M.encodeRequest, dec: M.decodeRequest },
  Payment: { enc: M.encodePayment, dec: M.decodePayment },
  Receipt: { enc: M.encodeReceipt, dec: M.decodeReceipt },
  Invoice: { enc: M.encodeInvoice, dec: M.decodeInvoice },
  PaidConfirmation: { enc: M.encodePaid, dec: M.decodePaid },
  Order: { enc: M.encodeOrder, dec: M.decodeOrder },
  Refund: { enc: M.encodeRefund, dec: M.decodeRefund },
};
/** Lengths by the field tables of docs/protocol.md (signature included). */
const SPEC_LEN: { [name: string]: number } = { Allowance: 140, TerminalCert: 141, Request: 88, Payment: 206, Receipt: 87, Invoice: 84, PaidConfirmation: 94, Order: 44, Refund: 85 };
const msg = (name: string) => V.messages.find((m: any) => m.name === name);
const pubOf = (who: string) => h(V.keys[who].public);

describe("protocol vectors (docs/protocol-vectors.json)", () => {
  it("cover every message type", () => {
    assert.deepEqual(V.messages.map((m: any) => m.name).sort(), Object.keys(CODECS).sort());
  });

  it("are what the generator makes from the committed file (JSON and device constants in sync)", () => {
    const { json, device } = generate(V);
    assert.deepEqual(json, V);
    assert.equal(device, readFileSync("firmware/selftest/protocol-vectors.ts", "utf8"));
  });

  it("publish public keys that belong to the published test-only private keys", () => {
    for (const who of ["issuer", "terminal", "wallet"]) assert.equal(toHex(p256PublicKey(h(V.keys[who].private))), V.keys[who].public, who);
  });

  for (const name of Object.keys(CODECS)) {
    describe(name, () => {
      it("encodes its fields to its bytes", () => {
        const m = msg(name);
        assert.equal(toHex(CODECS[name].enc(fromJson(m.fields))), m.hex);
      });
      it("decodes its bytes to its fields", () => {
        const m = msg(name);
        const f = CODECS[name].dec(h(m.hex));
        assert.ok(f);
        assert.deepEqual(fieldsToJson(f), m.fields);
      });
      it("has the length and type byte of the spec", () => {
        const m = msg(name);
        assert.equal(h(m.hex).length, m.length);
        assert.equal(m.length, SPEC_LEN[name]);
        assert.equal(m.type, h(m.hex)[1]);
      });
      it("has QR text that reads back to the same bytes (or none, for messages that never travel as QR)", () => {
        const m = msg(name);
        if (name === "Allowance" || name === "TerminalCert") return assert.equal(m.qr, null);
        assert.equal(toQrText(h(m.hex)), m.qr);
        const back = fromQrText(m.qr);
        assert.ok("msg" in back);
        assert.equal(toHex(back.msg), m.hex);
      });
    });
  }

  it("carry issuer signatures that verify (Allowance, TerminalCert, PaidConfirmation)", () => {
    for (const name of ["Allowance", "TerminalCert", "PaidConfirmation"]) {
      const b = h(msg(name).hex);
      assert.equal(p256VerifyDigest(pubOf("issuer"), c.sha256(M.signedPart(b)), b.subarray(b.length - 64)), true, name);
    }
  });

  it("carry terminal signatures that verify (Request, Receipt, Invoice, Refund)", () => {
    for (const name of ["Request", "Receipt", "Invoice", "Refund"]) {
      const b = h(msg(name).hex);
      assert.equal(p256VerifyDigest(pubOf("terminal"), c.sha256(M.signedPart(b)), b.subarray(b.length - 64)), true, name);
    }
  });

  it("carry a wallet signature over the payment body and the whole request", () => {
    const p = h(msg("Payment").hex);
    const digest = c.sha256(concat([M.signedPart(p), h(msg("Request").hex)]));
    assert.equal(p256VerifyDigest(pubOf("wallet"), digest, p.subarray(p.length - 64)), true);
    assert.equal(p256VerifyDigest(pubOf("wallet"), c.sha256(M.signedPart(p)), p.subarray(p.length - 64)), false);
  });

  it("bind the receipt to the payment by SHA-256(payment)[0..8]", () => {
    assert.equal(msg("Receipt").fields.paymentHash, toHex(c.sha256(h(msg("Payment").hex)).subarray(0, 8)));
  });

  it("tag the order with HMAC-SHA256(orderKey, body)[0..16]", () => {
    const b = h(msg("Order").hex);
    assert.equal(toHex(hmacSha256(c, h(V.keys.orderKey), b.subarray(0, 28)).subarray(0, 16)), msg("Order").fields.tag);
  });

  it("give the payment's BLE frames, which reassemble to the payment", () => {
    const m = msg("Payment");
    assert.deepEqual(toFrames(h(m.hex)).map(toHex), m.frames);
    const r = new Reassembler();
    let out: any = null;
    m.frames.forEach((f: string, i: number) => (out = r.push(h(f), i)));
    assert.equal(toHex(out.msg), m.hex);
  });

  it("seal to the published envelopes and unseal back", () => {
    for (const s of V.seal) {
      const keys = { keyId: s.keyId, enc: h(s.enc), mac: h(s.mac) };
      assert.equal(toHex(seal(c, keys, s.seq, h(s.plaintext))), s.envelope);
      const back = unseal(c, keys, h(s.envelope));
      assert.ok("data" in back);
      assert.equal(toHex(back.data), s.plaintext);
      assert.equal(back.seq, s.seq);
    }
  });

  it("give Base45 both ways, including RFC 9285's examples", () => {
    const rfc = Object.fromEntries(V.base45.filter((b: any) => b.ascii).map((b: any) => [b.ascii, b.text]));
    assert.deepEqual(rfc, { AB: "BB8", "Hello!!": "%69 VD92EX0", "base-45": "UJCLQE7W581", "ietf!": "QED8WEX0" });
    for (const b of V.base45) {
      assert.equal(base45Encode(h(b.hex)), b.text);
      assert.equal(toHex(base45Decode(b.text) as Uint8Array), b.hex);
    }
  });

  it("give UTRs and txIds that read back", () => {
    for (const u of V.utr) {
      assert.equal(utr(u.terminalId, u.seq), u.utr);
      assert.equal(toHex(txId(u.terminalId, u.seq)), u.txId);
      assert.deepEqual(parseUtr(u.utr), { terminalId: u.terminalId, seq: u.seq });
    }
  });

  it("pass the on-device protocol self-test cases on Node's crypto", () => {
    const lines: string[] = [];
    const t = runCases(protocolCases(c), (l) => lines.push(l));
    assert.deepEqual(lines.filter((l) => l.startsWith("FAIL")), []);
    assert.ok(t.passed >= 30, "only " + t.passed + " cases");
  });
});
