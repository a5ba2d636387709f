/**
 * The ASCII form of protocol messages for QR codes: a letter naming the message, the protocol version digit, then
 * Base45 of the binary message, all in the QR alphanumeric alphabet. "P1..." is a version-1 payment.
 */
import { base45Decode, base45Encode } from "./codec/base45.ts";
import { MsgType, VERSION } from "./messages.ts";

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
