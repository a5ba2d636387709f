/**
 * Encrypted payment QR codes, protocol version 2 of the QR texts (docs/protocol.md section 3, "Encrypted payment QR").
 *
 *   R2 text = "R2" + Base45( Request (88) | sessionKey (33, SEC1 compressed: 02|03 then X) )
 *   P2 text = "P2" + Base45( walletEph (64, X|Y) | envelope )
 *   envelope = the sealed envelope of seal.ts, keyId 4, seq 1, holding the Payment (206 bytes)
 *   th  = SHA-256( "qr-session v1" | Request (88) | sessionKey (33) | walletEph (64) )
 *   Z   = ECDH(walletEph, session key): the X coordinate (32)
 *   enc = HMAC-SHA256(Z, "qr enc" | th)[0..16], mac = HMAC-SHA256(Z, "qr mac" | th)[0..16]
 *
 * The session key is a key the secure element made (its Session slot); the wallet makes a fresh ephemeral key per
 * payment, so every payment QR is sealed under keys nobody else can derive, and a photo of the customer's screen
 * shows neither amount nor wallet key. A P2 opens only under the request it was made for (th binds the request).
 * R2 is 184 characters (QR version 8 at ECC M), P2 467 (version 13 at ECC M); Base45 is RFC 9285.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { base45Decode, base45Encode } from "./codec/base45.ts";
import { ascii, concat } from "./codec/hex.ts";
import { hmacSha256 } from "./hmac.ts";
import { Len, MsgType, VERSION } from "./messages.ts";
import { type SealKeys, seal, unseal } from "./seal.ts";

// Written as literals in the functions the terminal runs ("qr-session v1", keyId 4, 33, 64, 310): on the device
// every module-level name costs memory at idle. These are for the wallets' code and the tests.
export const QR_VERSION = 2;
export const KEYID_QR = 4;

/** SEC1 compressed form of a P-256 public key X|Y (64 bytes): 02 or 03 (Y even or odd), then X. */
export function compressKey(xy: Uint8Array): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = 2 + (xy[63] & 1);
  out.set(xy.subarray(0, 32), 1);
  return out;
}

/** The R2 text of a signed Request and the session key's public half X|Y. */
export function requestQrText(request: Uint8Array, sessionPub: Uint8Array): string {
  return "R2" + base45Encode(concat([request, compressKey(sessionPub)]));
}

function trim(text: string): string {
  let t = text;
  while (t.length && (t.charCodeAt(t.length - 1) === 13 || t.charCodeAt(t.length - 1) === 10)) t = t.slice(0, -1);
  return t;
}

/** An R2 text's Request and compressed session key, or null when it is not one. */
export function parseRequestQr(text: string): { request: Uint8Array; sessionKey: Uint8Array } | null {
  const t = trim(text);
  if (t.charAt(0) !== "R" || t.charAt(1) !== "" + QR_VERSION) return null;
  const b = base45Decode(t.slice(2));
  if (!b || b.length !== Len.Request + 33 || b[0] !== VERSION || b[1] !== MsgType.Request) return null;
  const k = b[Len.Request];
  if (k !== 2 && k !== 3) return null;
  return { request: b.subarray(0, Len.Request), sessionKey: b.subarray(Len.Request) };
}

/** A P2 text's wallet key and envelope, or null when it is not one (R01 on the terminal). */
export function parsePaymentQr(text: string): { walletEph: Uint8Array; envelope: Uint8Array } | null {
  if (text.charAt(0) !== "P" || text.charAt(1) !== "2") return null;
  // the scanner's CR LF tail is not part of the code
  let n = text.length;
  while (n && (text.charCodeAt(n - 1) === 13 || text.charCodeAt(n - 1) === 10)) n--;
  const b = base45Decode(text.slice(2, n));
  // walletEph (64) and the envelope of a 206-byte Payment: 6 + 16 + 208 + 16
  if (!b || b.length !== 310) return null;
  return { walletEph: b.subarray(0, 64), envelope: b.subarray(64) };
}

/** The transcript th hashes: label | request | compressed session key | wallet key. */
export function qrTranscript(request: Uint8Array, sessionKey: Uint8Array, walletEph: Uint8Array): Uint8Array {
  return concat([ascii("qr-session v1"), request, sessionKey, walletEph]);
}

/** The envelope's keys from the ECDH secret Z and th. */
export function qrKeys(c: CryptoBackend, z: Uint8Array, th: Uint8Array): SealKeys {
  return { keyId: 4, enc: new Uint8Array(hmacSha256(c, z, concat([ascii("qr enc"), th])).subarray(0, 16)), mac: new Uint8Array(hmacSha256(c, z, concat([ascii("qr mac"), th])).subarray(0, 16)) };
}

/**
 * The terminal's side: the Payment inside a P2 envelope, given Z (ECDH of the session slot with walletEph, from
 * the secure element) for the open request. Null when the envelope does not open (damaged, changed, or made for
 * another request or session key).
 */
export function openPaymentQr(c: CryptoBackend, z: Uint8Array, request: Uint8Array, sessionPub: Uint8Array, walletEph: Uint8Array, envelope: Uint8Array): Uint8Array | null {
  const th = c.sha256(qrTranscript(request, compressKey(sessionPub), walletEph));
  const r = unseal(c, qrKeys(c, z, th), envelope);
  if ("err" in r || r.seq !== 1 || r.data.length !== 206 || r.data[1] !== 0x11) return null;
  return r.data;
}

/** The wallet's side with a synchronous backend (tests and vectors; the SDK has its own WebCrypto version). */
export function sealPaymentQr(c: CryptoBackend, z: Uint8Array, request: Uint8Array, sessionKey: Uint8Array, walletEph: Uint8Array, payment: Uint8Array): string {
  const th = c.sha256(qrTranscript(request, sessionKey, walletEph));
  return "P" + QR_VERSION + base45Encode(concat([walletEph, seal(c, qrKeys(c, z, th), 1, payment)]));
}
