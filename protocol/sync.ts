/**
 * The terminal <-> gateway link codec (docs/sync.md), shared by the terminal (firmware/sync/) and the reference
 * gateway (gateway/). Pure: no IO, no clock, no state.
 *
 * Keys: Z = ECDH(terminal identity key in the SE slot 0, gateway link key); never stored. linkKeys(Z) gives one
 * key pair per direction (t2g, g2t), each HMAC-SHA256(Z, label)[0..16]. Every message is a sealed envelope
 * (protocol/seal.ts, keyId 1) of an ASCII JSON object, carried as base64 in the HTTP body.
 *
 *   terminal: body = sealRequest(c, keys, seq, { op: "hello", tid: 42, nonce: "…", fw: "1.0.0", … })
 *   gateway:  const r = openRequest(c, keys, body, { lastSeq, op: "hello", tid: 42 }); // r.code on failure
 *             reply = sealReply(c, keys, r.seq, { nonce: r.msg.nonce, time: … })
 *   terminal: const a = openReply(c, keys, reply, { seq, nonce });                   // a.code on failure
 *
 * Replay: the request's seq must be above the last one the gateway accepted from this terminal; the reply is
 * sealed under the request's seq and echoes its nonce, so a reply answers exactly one request.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { ascii } from "./codec/hex.ts";
import { hmacSha256 } from "./hmac.ts";
import type { SealKeys } from "./seal.ts";
import { seal, unseal } from "./seal.ts";

/** keyId of link envelopes (both directions). */
export const LINK_KEY_ID = 1;
/** Hex characters of a request nonce (8 bytes). */
export const NONCE_HEX = 16;
/** Most records in one upload. */
export const MAX_UPLOAD_RECORDS = 32;
/** Largest update chunk a terminal may ask for. */
export const MAX_CHUNK = 4096;

export interface LinkKeys {
  /** Terminal to gateway. */
  t2g: SealKeys;
  /** Gateway to terminal. */
  g2t: SealKeys;
}

/**
 * The two keys of one direction (or one use) from Z: enc = HMAC-SHA256(Z, label + " enc")[0..16], mac likewise with
 * " mac" (docs/sync.md section 1). linkKeys() uses it for "t2g" and "g2t", protocol/relay.ts for "relay".
 */
export function sealKeys(c: CryptoBackend, z: Uint8Array, keyId: number, label: string): SealKeys {
  return {
    keyId: keyId,
    enc: new Uint8Array(hmacSha256(c, z, ascii(label + " enc")).subarray(0, 16)),
    mac: new Uint8Array(hmacSha256(c, z, ascii(label + " mac")).subarray(0, 16)),
  };
}

/** Both directions' keys from the ECDH secret Z (32 bytes). */
export function linkKeys(c: CryptoBackend, z: Uint8Array): LinkKeys {
  return { t2g: sealKeys(c, z, LINK_KEY_ID, "t2g"), g2t: sealKeys(c, z, LINK_KEY_ID, "g2t") };
}

/** `/v1/t/<terminalId decimal>/<op>`: the path of an op, after the gateway URL. */
export function linkPath(tid: number, op: string): string {
  return "/v1/t/" + tid + "/" + op;
}

// ---------------------------------------------------------------- messages

/** A request plaintext: every request has these three, plus the op's own fields (docs/sync.md). */
export interface LinkRequest {
  op: string;
  tid: number;
  nonce: string;
  [field: string]: unknown;
}

/** A reply plaintext: always echoes the request's nonce, plus the op's own fields. */
export interface LinkReply {
  nonce: string;
  [field: string]: unknown;
}

/** What went wrong, with the HTTP status the gateway answers it with (the terminal ignores status). */
export interface LinkError {
  code: string;
  message: string;
  status: number;
}

function fail(code: string, message: string, status: number): LinkError {
  return { code: code, message: message, status: status };
}

export const REQ_BODY = "REQ_BODY";
export const REQ_AUTH = "REQ_AUTH";
export const REQ_REPLAY = "REQ_REPLAY";
export const REQ_FORMAT = "REQ_FORMAT";
export const REQ_MISMATCH = "REQ_MISMATCH";
export const REPLY_AUTH = "REPLY_AUTH";
export const REPLY_REPLAY = "REPLY_REPLAY";
export const REPLY_FORMAT = "REPLY_FORMAT";

/** True for a LinkError (a failed open). */
export function isLinkError(x: unknown): x is LinkError {
  return !!x && typeof (x as LinkError).code === "string" && typeof (x as LinkError).status === "number";
}

// ---------------------------------------------------------------- text

/**
 * JSON as ASCII bytes, the same on Node and on Espruino: anything outside printable ASCII is a \u escape with
 * lower-case hex (Espruino writes \u00E9 where Node writes the character itself).
 */
export function jsonBytes(v: unknown): Uint8Array {
  const s = JSON.stringify(v);
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) {
    const ch = s.charCodeAt(i);
    plain = ch < 0x7f && !(ch === 0x5c && s.charAt(i + 1) === "u");
  }
  if (plain) return ascii(s);
  let t = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c) {
      // an escape: copy it, lower-casing the hex of a \u escape
      const e = s.charAt(i + 1);
      t += "\\" + e;
      i++;
      if (e === "u") {
        t += s.substr(i + 1, 4).toLowerCase();
        i += 4;
      }
    } else if (ch < 0x7f) t += s.charAt(i);
    else t += "\\u" + ("000" + ch.toString(16)).slice(-4);
  }
  return ascii(t);
}

/**
 * Faster stand-ins a host may hand openRequest (the gateway: Node's Buffer, gateway/link.ts); each answers exactly
 * as the portable code here does.
 */
export interface LinkCodec {
  /** As fromBase64. */
  fromBase64(s: string): Uint8Array | undefined;
  /** The bytes as text when every one is at most 0x7e, else null (as parseJsonObject reads them). */
  ascii(b: Uint8Array): string | null;
}

/**
 * A JSON object from ASCII bytes, or null (not JSON, or not an object). `ascii`: a host's faster reading of the bytes
 * as text, with the same answers (LinkCodec).
 */
export function parseJsonObject(b: Uint8Array, ascii?: (b: Uint8Array) => string | null): { [k: string]: unknown } | null {
  let s: string | null = "";
  if (ascii) s = ascii(b);
  else
    for (let i = 0; i < b.length; i++) {
      if (b[i] > 0x7e) return null;
      s += String.fromCharCode(b[i]);
    }
  if (s === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  return v as { [k: string]: unknown };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding (RFC 4648 section 4). */
export function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = b[i] * 65536 + (i + 1 < b.length ? b[i + 1] * 256 : 0) + (i + 2 < b.length ? b[i + 2] : 0);
    s += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63);
    s += i + 1 < b.length ? B64.charAt((n >> 6) & 63) : "=";
    s += i + 2 < b.length ? B64.charAt(n & 63) : "=";
  }
  return s;
}

/** Bytes of standard padded base64, or undefined for anything else (bad length, character, padding, whitespace). */
export function fromBase64(s: string): Uint8Array | undefined {
  if (typeof s !== "string" || s.length % 4) return undefined;
  let pad = 0;
  if (s.length && s.charAt(s.length - 1) === "=") pad = s.charAt(s.length - 2) === "=" ? 2 : 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const ch = s.charAt(i + k);
      let d = B64.indexOf(ch);
      if (ch === "=" && i + k >= s.length - pad) d = 0;
      else if (d < 0 || ch === "") return undefined;
      n = n * 64 + d;
    }
    const bytes = i + 4 < s.length ? 3 : 3 - pad;
    // the bits under the padding must be zero, so every byte string has one encoding
    if (bytes === 1 && n & 0xffff) return undefined;
    if (bytes === 2 && n & 0xff) return undefined;
    out[o++] = (n >> 16) & 255;
    if (bytes > 1) out[o++] = (n >> 8) & 255;
    if (bytes > 2) out[o++] = n & 255;
  }
  return out;
}

function isNonce(v: unknown): boolean {
  if (typeof v !== "string" || v.length !== NONCE_HEX) return false;
  for (let i = 0; i < v.length; i++) if ("0123456789abcdef".indexOf(v.charAt(i)) < 0) return false;
  return true;
}

// ---------------------------------------------------------------- terminal -> gateway

/** The HTTP body of a request: base64 of the t2g envelope of its JSON, under `seq`. */
export function sealRequest(c: CryptoBackend, k: LinkKeys, seq: number, req: LinkRequest): string {
  return toBase64(seal(c, k.t2g, seq, jsonBytes(req)));
}

/**
 * Gateway side: authenticate and read a request body. `lastSeq` is the highest seq already accepted from this
 * terminal (0 for none); `op` and `tid` are what the URL named, and the plaintext must agree. On success the
 * gateway must store `seq` as the new lastSeq before it answers (or acts), and seal its reply under the same seq.
 * `codec`: faster decoders of the host's own, with the same answers (LinkCodec).
 */
export function openRequest(
  c: CryptoBackend,
  k: LinkKeys,
  body: string,
  o: { lastSeq: number; op?: string; tid?: number; codec?: LinkCodec },
): { seq: number; msg: LinkRequest } | LinkError {
  const b64 = typeof body === "string" ? body.trim() : "";
  const env = o.codec ? o.codec.fromBase64(b64) : fromBase64(b64);
  if (!env) return fail(REQ_BODY, "request body is not base64", 400);
  const u = unseal(c, k.t2g, env);
  if ("err" in u) return fail(REQ_AUTH, "request failed authentication (" + u.err + ")", 401);
  if (u.seq <= o.lastSeq) return fail(REQ_REPLAY, "request replayed: seq " + u.seq + " is not above " + o.lastSeq, 409);
  const m = parseJsonObject(u.data, o.codec && o.codec.ascii);
  if (!m || typeof m.op !== "string" || typeof m.tid !== "number" || !isNonce(m.nonce)) {
    return fail(REQ_FORMAT, "request is not a JSON object with op, tid and a 16-hex-digit nonce", 400);
  }
  if ((o.op !== undefined && m.op !== o.op) || (o.tid !== undefined && m.tid !== o.tid)) {
    return fail(REQ_MISMATCH, "request names another op or terminal than its URL", 400);
  }
  return { seq: u.seq, msg: m as LinkRequest };
}

// ---------------------------------------------------------------- gateway -> terminal

/** The HTTP body of a 200 reply: base64 of the g2t envelope of its JSON, under the request's seq. */
export function sealReply(c: CryptoBackend, k: LinkKeys, seq: number, reply: LinkReply): string {
  return toBase64(seal(c, k.g2t, seq, jsonBytes(reply)));
}

/**
 * Terminal side: authenticate and read a 200 reply to the request sent under `seq` with `nonce`. Anything that
 * does not unseal is REPLY_AUTH ("gateway reply failed authentication"); a genuine reply to another request is
 * REPLY_REPLAY; a genuine reply that is not a JSON object is REPLY_FORMAT.
 */
export function openReply(
  c: CryptoBackend,
  k: LinkKeys,
  body: string,
  expect: { seq: number; nonce: string },
): { msg: LinkReply } | LinkError {
  const env = fromBase64(typeof body === "string" ? body.trim() : "");
  const u = env ? unseal(c, k.g2t, env) : { err: "base64" };
  if ("err" in u) return fail(REPLY_AUTH, "gateway reply failed authentication", 0);
  const m = parseJsonObject(u.data);
  if (u.seq !== expect.seq || (m && m.nonce !== expect.nonce)) {
    return fail(REPLY_REPLAY, "gateway reply does not answer this request (replayed)", 0);
  }
  if (!m) return fail(REPLY_FORMAT, "gateway reply is not a JSON object", 0);
  return { msg: m as LinkReply };
}

/**
 * The text of a non-200 reply `{error, message}` for display only (it is not authenticated: never act on it).
 * Cut to `max` printable characters.
 */
export function plainError(status: number, body: string, max: number): string {
  let text = "";
  try {
    const v = JSON.parse(body);
    if (v && typeof v.message === "string") text = v.message;
    else if (v && typeof v.error === "string") text = v.error;
  } catch (e) {
    text = "";
  }
  let out = "";
  for (let i = 0; i < text.length && out.length < max; i++) {
    const ch = text.charCodeAt(i);
    if (ch >= 0x20 && ch < 0x7f) out += text.charAt(i);
  }
  return "HTTP " + status + (out ? ": " + out : "");
}
