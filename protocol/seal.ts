/**
 * The sealed envelope: confidentiality and integrity for everything the terminal sends or receives over Wi-Fi
 * (and Bluetooth once a session key exists), independent of TLS, which Espruino does not check.
 *
 *   envelope = version (1) | keyId (1) | seq (u32) | iv (16) | ciphertext | tag (16)
 *   ciphertext = AES-128-CBC(encKey, iv, plaintext + PKCS#7 padding)
 *   tag = HMAC-SHA256(macKey, version .. ciphertext)[0..16]      (encrypt-then-MAC, separate keys)
 *   iv  = HMAC-SHA256(macKey, "IV" | keyId | seq)[0..16]          (unique per seq, unpredictable without the key)
 *
 * The receiver checks the tag in constant time before decrypting, and rejects a seq it has already accepted.
 */
import type { CryptoBackend } from "../hal/crypto.ts";
import { concat, equalConstantTime } from "./codec/hex.ts";
import { hmacSha256 } from "./hmac.ts";

export const SEAL_VERSION = 1;
const HEAD = 6;
const IV = 16;
const TAG = 16;

export interface SealKeys {
  keyId: number;
  enc: Uint8Array; // 16
  mac: Uint8Array; // 32
}

function head(keyId: number, seq: number): Uint8Array {
  return new Uint8Array([SEAL_VERSION, keyId, (seq >>> 24) & 255, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255]);
}

export function seal(c: CryptoBackend, k: SealKeys, seq: number, plaintext: Uint8Array): Uint8Array {
  const h = head(k.keyId, seq);
  const iv = hmacSha256(c, k.mac, concat([new Uint8Array([0x49, 0x56]), h.subarray(1)])).subarray(0, IV);
  const pad = 16 - (plaintext.length % 16);
  const padded = new Uint8Array(plaintext.length + pad);
  padded.set(plaintext);
  for (let i = plaintext.length; i < padded.length; i++) padded[i] = pad;
  const ct = c.aesCbcEncrypt(k.enc, iv, padded);
  const body = concat([h, iv, ct]);
  return concat([body, hmacSha256(c, k.mac, body).subarray(0, TAG)]);
}

/** The plaintext and its seq, or an error: "format", "key", "tag", "padding". */
export function unseal(c: CryptoBackend, k: SealKeys, env: Uint8Array): { seq: number; data: Uint8Array } | { err: string } {
  if (env.length < HEAD + IV + 16 + TAG || (env.length - HEAD - IV - TAG) % 16) return { err: "format" };
  if (env[0] !== SEAL_VERSION) return { err: "format" };
  if (env[1] !== k.keyId) return { err: "key" };
  const body = env.subarray(0, env.length - TAG);
  const tag = env.subarray(env.length - TAG);
  if (!equalConstantTime(hmacSha256(c, k.mac, body).subarray(0, TAG), tag)) return { err: "tag" };
  const pt = c.aesCbcDecrypt(k.enc, env.subarray(HEAD, HEAD + IV), env.subarray(HEAD + IV, env.length - TAG));
  const pad = pt[pt.length - 1];
  if (pad < 1 || pad > 16) return { err: "padding" };
  for (let i = pt.length - pad; i < pt.length; i++) if (pt[i] !== pad) return { err: "padding" };
  const seq = ((env[2] * 256 + env[3]) * 256 + env[4]) * 256 + env[5];
  // a copy as a Uint8Array: on Espruino a typed array's slice() returns a plain Array
  return { seq, data: new Uint8Array(pt.subarray(0, pt.length - pad)) };
}
