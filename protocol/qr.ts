/**
 * The ASCII form of protocol messages for QR codes: a letter naming the message, the protocol version digit, then
 * Base45 of the binary message, all in the QR alphanumeric alphabet. "P1..." is a version-1 payment.
 */
import { base45Decode, base45Encode } from "./codec/base45.ts";
import { MsgType, VERSION } from "./messages.ts";
import { fromBase64, toBase64 } from "./sync.ts";

const LETTERS: { [t: number]: string } = {};
LETTERS[MsgType.Request] = "R";
LETTERS[MsgType.Payment] = "P";
LETTERS[MsgType.Receipt] = "X";
LETTERS[MsgType.Invoice] = "I";
LETTERS[MsgType.PaidConfirmation] = "C";
LETTERS[MsgType.Order] = "O";
LETTERS[MsgType.Refund] = "F";

/** "" for a message that is never shown as a QR code (Allowance, TerminalCert). */
export function toQrText(message: Uint8Array): string {
  const letter = LETTERS[message[1]];
  return letter ? letter + VERSION + base45Encode(message) : "";
}

/** The binary message, or a reason: "format" (not ours / damaged), "version" (a version we do not speak). */
export function fromQrText(text: string): { msg: Uint8Array } | { err: string } {
  let t = text;
  // The scanner's tail or stray spaces at the ends are not part of the code.
  while (t.length && (t.charCodeAt(t.length - 1) === 13 || t.charCodeAt(t.length - 1) === 10)) t = t.slice(0, -1);
  if (t.length < 4) return { err: "format" };
  const letter = t.charAt(0);
  let type = -1;
  for (const k in LETTERS) if (LETTERS[k] === letter) type = parseInt(k, 10);
  if (type < 0) return { err: "format" };
  if (t.charAt(1) !== "" + VERSION) return { err: t.charCodeAt(1) >= 48 && t.charCodeAt(1) <= 57 ? "version" : "format" };
  const b = base45Decode(t.slice(2));
  if (!b || b.length < 2 || b[0] !== VERSION || b[1] !== type) return { err: "format" };
  return { msg: b };
}

/**
 * An invoice's QR text: the gateway's pay page URL with the invoice in its fragment as base64url without padding
 * (RFC 4648 section 5), `<gateway>/pay#<invoice>` (docs/protocol.md): any phone camera opens the pay page, and a
 * wallet that speaks the protocol reads the invoice from the fragment. The fragment never reaches a web server.
 */
export function invoiceUrl(gatewayUrl: string, invoice: Uint8Array): string {
  let base = gatewayUrl;
  while (base.length && base.charAt(base.length - 1) === "/") base = base.slice(0, -1);
  const b = toBase64(invoice);
  let out = "";
  for (let i = 0; i < b.length; i++) {
    const c = b.charAt(i);
    if (c === "=") break;
    out += c === "+" ? "-" : c === "/" ? "_" : c;
  }
  return base + "/pay#" + out;
}

/** The Invoice in a scanned invoice QR: a pay URL's fragment (base64url), or the bare "I1…" text. */
export function invoiceFromText(text: string): { msg: Uint8Array } | { err: string } {
  const hash = text.indexOf("/pay#");
  if (hash < 0) {
    const m = fromQrText(text);
    return "msg" in m && m.msg[1] !== MsgType.Invoice ? { err: "format" } : m;
  }
  let s = text.slice(hash + 5);
  while (s.length && (s.charCodeAt(s.length - 1) === 13 || s.charCodeAt(s.length - 1) === 10)) s = s.slice(0, -1);
  let std = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    std += c === "-" ? "+" : c === "_" ? "/" : c;
  }
  while (std.length % 4) std += "=";
  const b = fromBase64(std);
  if (!b || b.length < 2 || b[0] !== VERSION || b[1] !== MsgType.Invoice) return { err: "format" };
  return { msg: b };
}
