/**
 * Self-test cases of the protocol that run on the device: the published vectors (docs/protocol-vectors.json, as
 * generated constants) decode to their fields and re-encode to the same bytes, QR text, Base45, UTR, the sealed
 * envelope and BLE framing round-trip, and damaged input is refused. Signatures need the secure element and are
 * checked by test/protocol/vectors.test.ts instead.
 */
import type { CryptoBackend } from "../../hal/crypto.ts";
import { base45Decode, base45Encode } from "../../protocol/codec/base45.ts";
import { fromHex, toHex } from "../../protocol/codec/hex.ts";
import { FRAME_TIMEOUT_MS, Reassembler, toFrames } from "../../protocol/ble-frames.ts";
import { parseUtr, utr } from "../../protocol/ids.ts";
import * as M from "../../protocol/messages.ts";
import { fromQrText, toQrText } from "../../protocol/qr.ts";
import { seal, unseal } from "../../protocol/seal.ts";
import { BASE45, LINK, MESSAGES, SEALS, UTRS } from "./protocol-vectors.ts";
import type { Case } from "./runner.ts";
import { expectEqual } from "./runner.ts";

/** Fields as one string, keys sorted, byte arrays as hex, nested objects in braces: `a=1;b=00ff;c={...}`. */
export function canonical(o: any): string {
  const keys = Object.keys(o).sort();
  let s = "";
  for (let i = 0; i < keys.length; i++) {
    const v = o[keys[i]];
    let t: string;
    if (typeof v === "object" && v !== null) t = typeof v.length === "number" ? toHex(v) : "{" + canonical(v) + "}";
    else t = String(v);
    s += (i ? ";" : "") + keys[i] + "=" + t;
  }
  return s;
}

function h(s: string): Uint8Array {
  return fromHex(s) as Uint8Array;
}

/** Decodes any message by its type byte; null when malformed. */
function decode(b: Uint8Array): object | null {
  switch (b.length > 1 ? b[1] : -1) {
    case M.MsgType.Allowance:
      return M.decodeAllowance(b);
    case M.MsgType.TerminalCert:
      return M.decodeTerminalCert(b);
    case M.MsgType.Request:
      return M.decodeRequest(b);
    case M.MsgType.Payment:
      return M.decodePayment(b);
    case M.MsgType.Receipt:
      return M.decodeReceipt(b);
    case M.MsgType.Invoice:
      return M.decodeInvoice(b);
    case M.MsgType.PaidConfirmation:
      return M.decodePaid(b);
    case M.MsgType.Order:
      return M.decodeOrder(b);
    case M.MsgType.Refund:
      return M.decodeRefund(b);
  }
  return null;
}

function encode(t: number, f: any): Uint8Array {
  switch (t) {
    case M.MsgType.Allowance:
      return M.encodeAllowance(f);
    case M.MsgType.TerminalCert:
      return M.encodeTerminalCert(f);
    case M.MsgType.Request:
      return M.encodeRequest(f);
    case M.MsgType.Payment:
      return M.encodePayment(f);
    case M.MsgType.Receipt:
      return M.encodeReceipt(f);
    case M.MsgType.Invoice:
      return M.encodeInvoice(f);
    case M.MsgType.PaidConfirmation:
      return M.encodePaid(f);
    case M.MsgType.Order:
      return M.encodeOrder(f);
  }
  return M.encodeRefund(f);
}

function vector(name: string): Uint8Array {
  for (let i = 0; i < MESSAGES.length; i++) if (MESSAGES[i][0] === name) return h(MESSAGES[i][1]);
  return new Uint8Array(0);
}

export function protocolCases(c: CryptoBackend): Case[] {
  const cases: Case[] = [];
  MESSAGES.forEach((v) => {
    cases.push({
      name: "protocol decodes " + v[0],
      run: () => {
        const f = decode(h(v[1]));
        return f ? expectEqual(canonical(f), v[2]) : "did not decode";
      },
    });
    cases.push({
      name: "protocol re-encodes " + v[0],
      run: () => {
        const b = h(v[1]);
        const f = decode(b);
        return f ? expectEqual(toHex(encode(b[1], f)), v[1]) : "did not decode";
      },
    });
  });
  cases.push({
    name: "protocol refuses a truncated, extended or retyped message",
    run: () => {
      for (let i = 0; i < MESSAGES.length; i++) {
        const b = h(MESSAGES[i][1]);
        if (decode(b.subarray(0, b.length - 1))) return MESSAGES[i][0] + " truncated decoded";
        const longer = new Uint8Array(b.length + 1);
        longer.set(b);
        if (decode(longer)) return MESSAGES[i][0] + " extended decoded";
        const v2 = new Uint8Array(b);
        v2[0] = 2;
        if (decode(v2)) return MESSAGES[i][0] + " version 2 decoded";
      }
      return null;
    },
  });
  cases.push({
    name: "protocol QR text round trip of a payment",
    run: () => {
      const b = vector("Payment");
      const t = toQrText(b);
      const back = fromQrText(t + "\r\n");
      if (t.length !== 311 || t.slice(0, 2) !== "P1") return "text " + t.slice(0, 2) + " length " + t.length;
      return "msg" in back ? expectEqual(toHex(back.msg), toHex(b)) : "refused: " + back.err;
    },
  });
  cases.push({
    name: "protocol QR text refuses another version and a damaged group",
    run: () => {
      const t = toQrText(vector("Request"));
      const v2 = fromQrText("R2" + t.slice(2));
      const bad = fromQrText(t.slice(0, 10) + "a" + t.slice(11));
      return expectEqual(("err" in v2 ? v2.err : "ok") + "," + ("err" in bad ? bad.err : "ok"), "version,format");
    },
  });
  cases.push({
    name: "protocol receipt's paymentHash is SHA-256(payment)[0..8]",
    run: () => expectEqual(toHex(c.sha256(vector("Payment")).subarray(0, 8)), toHex((M.decodeReceipt(vector("Receipt")) as M.Receipt).paymentHash)),
  });
  cases.push({
    name: "protocol base45 vectors",
    run: () => {
      for (let i = 0; i < BASE45.length; i++) {
        if (base45Encode(h(BASE45[i][0])) !== BASE45[i][1]) return "encode " + BASE45[i][0];
        const d = base45Decode(BASE45[i][1]);
        if (!d || toHex(d) !== BASE45[i][0]) return "decode " + BASE45[i][1];
      }
      return null;
    },
  });
  cases.push({
    name: "protocol base45 refuses bad length, alphabet and range",
    run: () => expectEqual([base45Decode("A"), base45Decode("BBa"), base45Decode("GGW"), base45Decode(":;")].join(","), ",,,"),
  });
  cases.push({
    name: "protocol UTR vectors and read-back",
    run: () => {
      for (let i = 0; i < UTRS.length; i++) {
        const t = parseInt(UTRS[i][0], 10);
        const s = parseInt(UTRS[i][1], 10);
        if (utr(t, s) !== UTRS[i][2]) return "utr " + t + "/" + s + " = " + utr(t, s);
        const back = parseUtr(UTRS[i][2].toLowerCase());
        if (!back || back.terminalId !== t || back.seq !== s) return "parse " + UTRS[i][2];
      }
      return null;
    },
  });
  cases.push({
    name: "protocol UTR reads O as 0 and I/L as 1, refuses a wrong check",
    run: () => {
      const u = utr(1, 1); // 0000-0000-0...
      const ok = parseUtr(u.split("0").join("O").split("1").join("l"));
      const last = u.charAt(u.length - 1);
      const wrong = parseUtr(u.slice(0, -1) + (last === "0" ? "1" : "0"));
      return expectEqual((ok ? ok.terminalId + "/" + ok.seq : "null") + "," + wrong, "1/1,null");
    },
  });
  const keys = { keyId: parseInt(LINK[0], 10), enc: h(LINK[1]), mac: h(LINK[2]) };
  SEALS.forEach((v) => {
    cases.push({
      name: "protocol seal vector seq " + v[0],
      run: () => {
        const env = seal(c, keys, parseInt(v[0], 10), h(v[1]));
        if (toHex(env) !== v[2]) return "envelope differs";
        const back = unseal(c, keys, env);
        return "err" in back ? back.err : expectEqual(toHex(back.data) + "/" + back.seq, v[1] + "/" + v[0]);
      },
    });
  });
  cases.push({
    name: "protocol unseal refuses a flipped bit, another key and a short envelope",
    run: () => {
      const env = h(SEALS[1][2]);
      const out: string[] = [];
      const flipped = new Uint8Array(env);
      flipped[10] ^= 1;
      const other = new Uint8Array(env);
      other[1] ^= 1;
      const tries = [flipped, other, env.subarray(0, 37)];
      for (let i = 0; i < tries.length; i++) {
        const r = unseal(c, keys, tries[i]);
        out.push("err" in r ? r.err : "ok");
      }
      return expectEqual(out.join(","), "tag,key,format");
    },
  });
  cases.push({
    name: "protocol BLE frames round trip a payment",
    run: () => {
      const b = vector("Payment");
      const fr = toFrames(b);
      const r = new Reassembler();
      let got: M.Payment | null = null;
      for (let i = 0; i < fr.length; i++) {
        if (fr[i].length > 20) return "frame over 20 bytes";
        const x = r.push(fr[i], i * 10);
        if (x && "err" in x) return x.err;
        if (x && "msg" in x) got = M.decodePayment(x.msg);
      }
      return got ? null : "no payment";
    },
  });
  cases.push({
    name: "protocol BLE refuses a skipped frame, a pause and an oversize length",
    run: () => {
      const fr = toFrames(vector("Payment"));
      const out: string[] = [];
      let r = new Reassembler();
      r.push(fr[0], 0);
      let x = r.push(fr[2], 1);
      out.push(x && "err" in x ? x.err : "none");
      r = new Reassembler();
      r.push(fr[0], 0);
      x = r.push(fr[1], FRAME_TIMEOUT_MS + 1);
      out.push(x && "err" in x ? x.err : "none");
      x = r.push(new Uint8Array([0xc0, 0x02, 0x01, 0]), 0);
      out.push(x && "err" in x ? x.err : "none");
      return expectEqual(out.join(","), "sequence,timeout,length");
    },
  });
  return cases;
}
