/** HMAC-SHA256 (RFC 2104) over a backend's SHA-256; Espruino's built-in crypto has no HMAC. */
import type { CryptoBackend } from "../hal/crypto.ts";
import { concat } from "./codec/hex.ts";

const BLOCK = 64;

export function hmacSha256(c: CryptoBackend, key: Uint8Array, data: Uint8Array): Uint8Array {
  let k = key.length > BLOCK ? c.sha256(key) : key;
  const ipad = new Uint8Array(BLOCK);
  const opad = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    const b = i < k.length ? k[i] : 0;
    ipad[i] = b ^ 0x36;
    opad[i] = b ^ 0x5c;
  }
  k = c.sha256(concat([ipad, data]));
  return c.sha256(concat([opad, k]));
}
